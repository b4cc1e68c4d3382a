//! The script storm's generator: random TorchScript-ish sources, structured script and TORCH
//! commands (mutated at random), and broken TORCH archives.

use rand::rngs::StdRng;
use rand::Rng;

use super::common::fixtures::reference;
use super::common::torch::torch_model;
use super::{random_byte, ENTRY_POINTS};

/// Pieces of TorchScript: signatures, statements and expressions, some wrong.
#[rustfmt::skip]
const SIGNATURES: [&str; 7] = [
    "(tensors: List[Tensor], keys: List[str], args: List[str]):", "(a, b):", "(x: Tensor):",
    "(tensors: List[Tensor], keys: List[str], args: List[Tensor]):", "(a: List[Tensor]):", "():",
    "(tensors: List[Tensor], keys: List[str]):",
];
#[rustfmt::skip]
const STATEMENTS: [&str; 10] = [
    "return {e}", "x = {e}\n    return x", "if {e}:\n        return {e}\n    return {e}",
    "for i in range(3):\n        pass\n    return {e}", "redis.execute('GET', keys[0])\n    return {e}",
    "return [{e}, {e}]", "return ({e}, {e})", "raise Exception('boom')", "return redis.asList({e})",
    "return redisAI.model_execute(keys[0], tensors, 1)",
];
#[rustfmt::skip]
const EXPRESSIONS: [&str; 14] = [
    "tensors[0] + tensors[1]", "a + b", "x", "torch.zeros(2)", "tensors[0] * int(args[0])",
    "torch.tensor(1)", "keys[0]", "args", "tensors[7]", "None", "1.5", "'text'",
    "redis.execute('SET', keys[0], args[0])", "torch.cat(tensors, 0)",
];
const NAMES: [&str; 6] = ["bar", "scale", "f", "ep", "helper", "nosuch"];

/// A random TorchScript-ish source: one to three functions of random pieces, then often broken
/// (truncated, a byte changed, junk inserted, no final newline).
pub fn torchscript_source(rng: &mut StdRng) -> Vec<u8> {
    fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
        items[rng.random_range(0..items.len())]
    }
    let mut text = String::new();
    for _ in 0..rng.random_range(1..=3) {
        let name = pick(rng, &NAMES);
        let sig = pick(rng, &SIGNATURES);
        let mut body = pick(rng, &STATEMENTS).to_string();
        while body.contains("{e}") {
            body = body.replacen("{e}", pick(rng, &EXPRESSIONS), 1);
        }
        text.push_str(&format!("def {name}{sig}\n    {body}\n\n"));
    }
    let mut bytes = text.into_bytes();
    match rng.random_range(0..8) {
        0 => bytes.truncate(rng.random_range(0..=bytes.len())),
        1 => {
            let at = rng.random_range(0..bytes.len());
            bytes[at] = rng.random();
        }
        2 => {
            let at = rng.random_range(0..=bytes.len());
            let junk = [
                b"\0".as_slice(),
                b"\xff\xfe",
                b":",
                b"    ",
                b"\t",
                b"(",
                b"\"\"\"",
            ];
            bytes.splice(
                at..at,
                junk[rng.random_range(0..junk.len())].iter().copied(),
            );
        }
        3 => {
            while bytes.last() == Some(&b'\n') {
                bytes.pop();
            }
        }
        _ => {}
    }
    bytes
}

/// Structured script and TORCH commands, then mutated.
pub struct ScriptGen {
    pub rng: StdRng,
    pub blobs: Vec<Vec<u8>>,
}

/// Keys the script storm may name: scripts, models, tensors of several dtypes, a string; each
/// list holds the keys of one position, the likely ones repeated.
const SCRIPT_KEYS: [&str; 12] = [
    "s", "s", "s", "s", "s", "s", "s", "s", "s2", "pt", "a", "nokey",
];
const STORE_KEYS: [&str; 5] = ["s2", "s2", "s3", "plain", "a"];
const INPUT_KEYS: [&str; 10] = ["a", "a", "a", "a", "i", "i", "str", "o1", "nokey", "plain"];
const DECLARED_KEYS: [&str; 6] = ["k1", "k2", "pt", "pt", "a", "nokey"];
const OUTPUT_KEYS: [&str; 7] = ["o1", "o1", "o2", "o2", "a", "plain", "s"];
const DEVICES: [&str; 6] = ["CPU", "cpu", "CPU:0", "GPU", "GPU:99", ""];
const ARGS: [&str; 10] = [
    "0",
    "1",
    "2",
    "-1",
    "3",
    "9223372036854775807",
    "99999999999999999999",
    "x",
    "",
    "1.5",
];

impl ScriptGen {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    fn some(&mut self, items: &[&str], max: usize) -> Vec<Vec<u8>> {
        let n = self.rng.random_range(0..=max);
        (0..n)
            .map(|_| self.pick(items).as_bytes().to_vec())
            .collect()
    }

    /// `n` then the items; the count is off now and then.
    fn counted(&mut self, items: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let n = match self.rng.random_range(0..10) {
            0 => self.pick(&["-1", "0", "x", "", "99"]).to_string(),
            1 => (items.len() + 1).to_string(),
            _ => items.len().to_string(),
        };
        [vec![n.into_bytes()], items].concat()
    }

    fn word(&mut self, word: &str) -> Vec<u8> {
        match self.rng.random_range(0..20) {
            0 => word.to_lowercase().into_bytes(),
            1 => self
                .pick(&["KEYS", "INPUTS", "ARGS", "OUTPUTS", "TIMEOUT", "$", "|>"])
                .into(),
            _ => word.as_bytes().to_vec(),
        }
    }

    /// A call of one of the stored script's functions as it expects to be called (with random
    /// tensors and arguments): `KEYS`/`INPUTS`/`ARGS`/`OUTPUTS` as (scope, count of items).
    fn well_formed_call(&mut self) -> Vec<Vec<u8>> {
        #[rustfmt::skip]
        const CALLS: [(&str, [(&str, usize); 4]); 8] = [
            ("bar", [("KEYS", 0), ("INPUTS", 2), ("ARGS", 0), ("OUTPUTS", 1)]),
            ("scale", [("KEYS", 0), ("INPUTS", 1), ("ARGS", 1), ("OUTPUTS", 1)]),
            ("cat", [("KEYS", 0), ("INPUTS", 3), ("ARGS", 1), ("OUTPUTS", 1)]),
            ("note", [("KEYS", 1), ("INPUTS", 1), ("ARGS", 1), ("OUTPUTS", 1)]),
            ("get", [("KEYS", 1), ("INPUTS", 0), ("ARGS", 0), ("OUTPUTS", 1)]),
            ("two", [("KEYS", 0), ("INPUTS", 1), ("ARGS", 0), ("OUTPUTS", 2)]),
            ("model", [("KEYS", 1), ("INPUTS", 2), ("ARGS", 1), ("OUTPUTS", 1)]),
            ("legacy", [("KEYS", 0), ("INPUTS", 3), ("ARGS", 0), ("OUTPUTS", 1)]),
        ];
        let (func, scopes) = CALLS[self.rng.random_range(0..CALLS.len())];
        let mut args = vec![b"AI.SCRIPTEXECUTE".to_vec(), b"s".to_vec(), func.into()];
        for (scope, n) in scopes {
            let items: &[&str] = match scope {
                "KEYS" if func == "model" => &["pt", "pt", "pt2", "nokey"],
                "KEYS" => &["k1", "k2", "k1", "pt"],
                "INPUTS" => &INPUT_KEYS,
                "ARGS" => &ARGS,
                _ => &["o1", "o2", "o1", "o2", "a"],
            };
            if n > 0 {
                args.extend([scope.into(), n.to_string().into_bytes()]);
                args.extend((0..n).map(|_| self.pick(items).as_bytes().to_vec()));
            }
        }
        args
    }

    /// The scopes of an AI.SCRIPTEXECUTE (in any order), and TIMEOUT when standalone.
    fn script_execute(&mut self, in_dag: bool) -> Vec<Vec<u8>> {
        if self.rng.random_bool(0.6) {
            let mut args = self.well_formed_call();
            if !in_dag && self.rng.random_bool(0.1) {
                args.extend([b"TIMEOUT".to_vec(), self.pick(&["1", "1000"]).into()]);
            }
            return args;
        }
        let mut args = vec![b"AI.SCRIPTEXECUTE".to_vec(), self.pick(&SCRIPT_KEYS).into()];
        let func = self.pick(&[&ENTRY_POINTS[..], &["legacy", "nosuch", ""]].concat());
        args.push(func.into());
        let mut scopes = Vec::new();
        for (word, items) in [
            ("KEYS", &DECLARED_KEYS[..]),
            ("INPUTS", &INPUT_KEYS[..]),
            ("ARGS", &ARGS[..]),
            ("OUTPUTS", &OUTPUT_KEYS[..]),
        ] {
            if self.rng.random_bool(0.7) {
                let items = self.some(items, 4);
                scopes.push([vec![self.word(word)], self.counted(items)].concat());
            }
        }
        if !scopes.is_empty() && self.rng.random_bool(0.2) {
            let by = self.rng.random_range(0..scopes.len());
            scopes.rotate_left(by);
        }
        args.extend(scopes.concat());
        if !in_dag && self.rng.random_bool(0.2) {
            args.push(b"TIMEOUT".to_vec());
            args.push(self.pick(&["1", "1000", "0", "-5", "x"]).into());
        }
        args
    }

    pub fn command(&mut self) -> Vec<Vec<u8>> {
        let mut args = match self.rng.random_range(0..12) {
            0 | 1 => {
                let mut args = vec![b"AI.SCRIPTSTORE".to_vec(), self.pick(&STORE_KEYS).into()];
                args.push(self.pick(&DEVICES).into());
                if self.rng.random_bool(0.3) {
                    args.extend([b"TAG".to_vec(), b"t".to_vec()]);
                }
                args.push(self.word("ENTRY_POINTS"));
                let names = self.some(&[&NAMES[..], &ENTRY_POINTS[..]].concat(), 3);
                args.extend(self.counted(names));
                args.extend([self.word("SOURCE"), torchscript_source(&mut self.rng)]);
                args
            }
            2 => {
                let mut args = vec![b"AI.SCRIPTSET".to_vec(), self.pick(&STORE_KEYS).into()];
                args.push(self.pick(&DEVICES).into());
                args.extend([self.word("SOURCE"), torchscript_source(&mut self.rng)]);
                args
            }
            3..=5 => self.script_execute(false),
            6 => {
                let mut args = vec![b"AI.SCRIPTRUN".to_vec(), self.pick(&SCRIPT_KEYS).into()];
                args.push(self.pick(&["bar", "legacy", "two", "nosuch"]).into());
                args.push(self.word("INPUTS"));
                args.extend(self.some(&INPUT_KEYS, 3));
                if self.rng.random_bool(0.3) {
                    args.push(b"$".to_vec());
                    args.extend(self.some(&INPUT_KEYS, 3));
                }
                args.push(self.word("OUTPUTS"));
                args.extend(self.some(&["o1", "o2"], 2));
                args
            }
            7 | 8 => {
                let kind = self.pick(&["AI.DAGEXECUTE", "AI.DAGRUN", "AI.DAGEXECUTE_RO"]);
                let mut args = vec![kind.as_bytes().to_vec()];
                if self.rng.random_bool(0.8) {
                    let loads = self.some(&["a", "i", "str", "nokey"], 2);
                    args.push(b"LOAD".to_vec());
                    args.extend(self.counted(loads));
                }
                if self.rng.random_bool(0.4) {
                    args.extend([b"PERSIST".to_vec(), b"1".to_vec(), b"o1".to_vec()]);
                }
                for _ in 0..self.rng.random_range(1..=3) {
                    args.push(b"|>".to_vec());
                    args.extend(match self.rng.random_range(0..4) {
                        0 => vec![b"AI.TENSORGET".to_vec(), b"o1".to_vec(), b"VALUES".to_vec()],
                        1 => [
                            "AI.MODELEXECUTE",
                            "pt",
                            "INPUTS",
                            "2",
                            "a",
                            "a",
                            "OUTPUTS",
                            "1",
                            "o1",
                        ]
                        .map(|w| w.as_bytes().to_vec())
                        .to_vec(),
                        _ => self.script_execute(true),
                    });
                }
                args
            }
            9 => {
                let blob = self.blobs[self.rng.random_range(0..self.blobs.len())].clone();
                let key = self.pick(&["pt", "pt2", "pt2", "a"]);
                let mut args: Vec<Vec<u8>> =
                    ["AI.MODELSTORE", key, "TORCH"].map(Into::into).to_vec();
                args.push(self.pick(&DEVICES).into());
                // No MINBATCHSIZE: a lone request would wait for a batch for ever.
                if self.rng.random_bool(0.3) {
                    let options = self.some(&["BATCHSIZE", "2", "4", "TAG", "x"], 4);
                    args.extend(options);
                }
                args.extend([b"BLOB".to_vec(), blob]);
                args
            }
            10 => {
                let inputs = self.some(&INPUT_KEYS, 3);
                let mut args = vec![
                    b"AI.MODELEXECUTE".to_vec(),
                    self.pick(&["pt", "pt2", "s"]).into(),
                ];
                args.extend([[vec![b"INPUTS".to_vec()], self.counted(inputs)].concat()].concat());
                args.extend(["OUTPUTS", "1", "o1"].map(Into::into));
                args
            }
            _ => {
                let name =
                    self.pick(&["AI.SCRIPTGET", "AI.SCRIPTDEL", "AI._SCRIPTSCAN", "AI.INFO"]);
                let mut args = vec![name.as_bytes().to_vec()];
                // The stored script `s` is read, never deleted.
                let keys = match name {
                    "AI.SCRIPTDEL" => &STORE_KEYS[..],
                    _ => &SCRIPT_KEYS[..],
                };
                args.extend(self.some(&[keys, &["META", "SOURCE", "RESETSTAT"]].concat(), 3));
                args
            }
        };
        // Mutations: truncated, an argument dropped, replaced by junk or repeated.
        if args.len() > 1 && self.rng.random_bool(0.2) {
            let at = self.rng.random_range(1..args.len());
            match self.rng.random_range(0..4) {
                0 => args.truncate(at),
                1 => drop(args.remove(at)),
                2 => {
                    args[at] = (0..self.rng.random_range(0..8))
                        .map(|_| random_byte(&mut self.rng))
                        .collect()
                }
                _ => args.insert(at, args[at].clone()),
            }
        }
        args
    }
}

/// TORCH archives that are not models: garbage, truncated and corrupted archives, and a few
/// good ones (the reference model and models built from source).
pub fn torch_blobs(rng: &mut StdRng) -> Vec<Vec<u8>> {
    let pt = reference("pt-minimal.pt");
    let built = torch_model("def forward(self, a, b):\n    return a * b, a - b\n");
    let mut blobs = vec![
        Vec::new(),
        b"PK\x03\x04".to_vec(),
        vec![0; 64],
        b"def forward(self, a):\n    return a\n".to_vec(),
        pt.clone(),
        built.clone(),
    ];
    for model in [&pt, &built] {
        for cut in [
            1,
            30,
            100,
            model.len() / 2,
            model.len() - 22,
            model.len() - 1,
        ] {
            blobs.push(model[..cut].to_vec());
        }
        for _ in 0..6 {
            let mut bad = model.clone();
            let at = rng.random_range(0..bad.len());
            bad[at] ^= 1 << rng.random_range(0..8);
            blobs.push(bad);
        }
    }
    blobs
}
