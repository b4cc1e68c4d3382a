//! Bad-input storms over the model, script, run, DAG, AI.INFO and AI.CONFIG commands:
//! - random commands made of the grammars' own keywords, numbers, keys, garbage, truncated model
//!   blobs (ONNX and TORCH) and broken TorchScript sources;
//! - structured script and TORCH commands (AI.SCRIPTSTORE/SCRIPTSET with random TorchScript-ish
//!   sources, AI.SCRIPTEXECUTE/SCRIPTRUN with random scopes, counts, inputs and args against a
//!   stored script whose functions call Redis and models, script ops in DAGs, TORCH models from
//!   garbage, truncated and corrupted archives), each mutated at random (truncated, an argument
//!   dropped, replaced or repeated).
//!
//! Every reply must be an error or a well-formed answer, the server must stay up without a
//! contained panic, and keys the storms never name (a tensor, a string, ONNX and TORCH models and
//! a script) must stay exactly as they were and still run. `BAD_INPUT_SEED` picks the seed,
//! `BAD_INPUT_COUNT` the number of commands (4000 and 3000; `make fuzz` sends 100,000).

mod common;
#[path = "bad_input_models/script_gen.rs"]
mod script_gen;

use std::time::Duration;

use common::fixtures::{reference, set_one_image, store_model};
use common::torch::store_script;
use common::{is_error, ok_frame, py_bytes_repr, render, Client, Frame, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use script_gen::{torch_blobs, torchscript_source, ScriptGen};

const COMMANDS: [&str; 20] = [
    "AI.SCRIPTSTORE",
    "AI.SCRIPTSET",
    "AI.SCRIPTGET",
    "AI.SCRIPTDEL",
    "AI.SCRIPTEXECUTE",
    "AI.SCRIPTRUN",
    "AI._SCRIPTSCAN",
    "AI.MODELSTORE",
    "AI.MODELSET",
    "AI.MODELGET",
    "AI.MODELDEL",
    "AI.MODELEXECUTE",
    "AI.MODELRUN",
    "AI._MODELSCAN",
    "AI.INFO",
    "AI.CONFIG",
    "AI.DAGEXECUTE",
    "AI.DAGEXECUTE_RO",
    "AI.DAGRUN",
    "AI.DAGRUN_RO",
];

const WORDS: [&str; 52] = [
    "ENTRY_POINTS",
    "SOURCE",
    "KEYS",
    "ARGS",
    "$",
    "bar",
    "scale",
    "SCRIPT",
    "ONNX",
    "TF",
    "TORCH",
    "TFLITE",
    "FOO",
    "CPU",
    "GPU",
    "GPU:1",
    "cpu:3",
    "CPU:",
    "TAG",
    "BATCHSIZE",
    "MINBATCHSIZE",
    "MINBATCHTIMEOUT",
    "INPUTS",
    "OUTPUTS",
    "BLOB",
    "META",
    "TIMEOUT",
    "LOAD",
    "PERSIST",
    "ROUTING",
    "|>",
    "|>",
    "|>",
    "AI.TENSORSET",
    "AI.TENSORGET",
    "AI.MODELEXECUTE",
    "AI.MODELRUN",
    "AI.SCRIPTEXECUTE",
    "AI.SCRIPTRUN",
    "FLOAT",
    "INT32",
    "STRING",
    "VALUES",
    "RESETSTAT",
    "GET",
    "MODEL_CHUNK_SIZE",
    "LOADBACKEND",
    "BACKENDSPATH",
    "SET",
    "",
    "2.0",
    "1.5",
];

const NUMBERS: [&str; 12] = [
    "0",
    "1",
    "1",
    "2",
    "2",
    "3",
    "4",
    "-1",
    "100",
    "99999999999999999999",
    "9223372036854775807",
    "0x10",
];

/// Keys the storm may name (their values may change).
const KEYS: [&str; 10] = [
    "mnist", "iris_m", "img", "iris", "t", "out", "plain", "nokey", "s", "pt",
];

/// Whether random arguments (which may land where a key goes) may hold a NUL byte: keys are
/// binary (see `keys_with_a_nul_byte_are_ordinary_keys`).
const NUL_IN_RANDOM_ARGUMENTS: bool = true;

/// A random byte for an argument (see [`NUL_IN_RANDOM_ARGUMENTS`]).
pub fn random_byte(rng: &mut StdRng) -> u8 {
    loop {
        let byte: u8 = rng.random();
        if byte != 0 || NUL_IN_RANDOM_ARGUMENTS {
            return byte;
        }
    }
}

struct Gen {
    rng: StdRng,
    blobs: Vec<Vec<u8>>,
    sources: Vec<Vec<u8>>,
}

impl Gen {
    fn token(&mut self) -> Vec<u8> {
        match self.rng.random_range(0..10) {
            0..=3 => WORDS[self.rng.random_range(0..WORDS.len())]
                .as_bytes()
                .to_vec(),
            4..=5 => NUMBERS[self.rng.random_range(0..NUMBERS.len())]
                .as_bytes()
                .to_vec(),
            6..=8 => KEYS[self.rng.random_range(0..KEYS.len())]
                .as_bytes()
                .to_vec(),
            _ => {
                let n = self.rng.random_range(0..12);
                (0..n).map(|_| random_byte(&mut self.rng)).collect()
            }
        }
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let name = COMMANDS[self.rng.random_range(0..COMMANDS.len())];
        let mut args = vec![name.as_bytes().to_vec()];
        let n = self.rng.random_range(0..16);
        for _ in 0..n {
            args.push(self.token());
        }
        // Stores often end with BLOB and a (broken) model.
        if name.starts_with("AI.MODELS") && self.rng.random_bool(0.7) {
            args.push(b"BLOB".to_vec());
            let blob = self.blobs[self.rng.random_range(0..self.blobs.len())].clone();
            args.push(blob);
        }
        // Script stores often end with SOURCE and a (broken) script.
        if name.starts_with("AI.SCRIPTS") && self.rng.random_bool(0.7) {
            args.push(b"SOURCE".to_vec());
            let source = self.sources[self.rng.random_range(0..self.sources.len())].clone();
            args.push(source);
        }
        args
    }
}

/// Broken model blobs: garbage and every kind of truncation of real models.
fn broken_blobs() -> Vec<Vec<u8>> {
    let mut blobs = vec![
        Vec::new(),
        b"not a model".to_vec(),
        vec![0u8; 100],
        vec![0xffu8; 33],
    ];
    for model in [
        reference("mnist.onnx"),
        reference("linear_iris.onnx"),
        reference("pt-minimal.pt"),
    ] {
        for cut in [
            1,
            2,
            7,
            50,
            model.len() / 3,
            model.len() / 2,
            model.len() - 3,
        ] {
            blobs.push(model[..cut].to_vec());
        }
    }
    blobs
}

/// The storms' stored script (`s`, `guard_script`): functions that add, scale, concatenate,
/// call Redis on their declared keys (writing only k1 or k2) and run models, nothing that loops
/// or allocates by an argument.
const SCRIPT: &str = "\
def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def scale(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0])

def cat(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.cat(tensors, int(args[0]))

def note(tensors: List[Tensor], keys: List[str], args: List[str]):
    if keys[0] == 'k1' or keys[0] == 'k2':
        redis.execute('SET', keys[0], args[0])
    return tensors[0]

def get(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.tensor(int(str(redis.execute('GET', keys[0]))))

def two(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0], tensors[0] * 2]

def model(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], tensors, int(args[0]))

def legacy(a, b: List[Tensor]):
    return a
";

/// Entry points of [`SCRIPT`] (`legacy` runs positionally).
const ENTRY_POINTS: [&str; 7] = ["bar", "scale", "cat", "note", "get", "two", "model"];

/// Stores the storms' keys: those they may name and the `guard_*` ones they never name.
fn setup(c: &mut Client) {
    let mnist = reference("mnist.onnx");
    let iris = reference("linear_iris.onnx");
    let pt = reference("pt-minimal.pt");
    for (key, backend, blob) in [
        ("mnist", "ONNX", &mnist),
        ("iris_m", "ONNX", &iris),
        ("guard_model", "ONNX", &iris),
        ("pt", "TORCH", &pt),
        ("guard_torch", "TORCH", &pt),
    ] {
        let reply = store_model(c, key, backend, "CPU", &[], blob);
        assert_eq!(reply, ok_frame("OK"), "{key}");
    }
    store_script(c, "s", &ENTRY_POINTS, SCRIPT);
    store_script(c, "guard_script", &ENTRY_POINTS, SCRIPT);
    set_one_image(c, "img");
    for line in [
        "AI.TENSORSET iris FLOAT 1 4 VALUES 5.1 3.5 1.4 0.2",
        "AI.TENSORSET t FLOAT 2 2 VALUES 1 2 3 4",
        "AI.TENSORSET guard_tensor INT32 2 VALUES 7 8",
        "AI.TENSORSET guard_ab FLOAT 2 2 VALUES 2 3 2 3",
        "SET guard_plain v",
        "SET plain v",
    ] {
        assert_eq!(c.cmd(line), ok_frame("OK"), "{line}");
    }
}

/// The keys the storms never name (`guard_*`), which must not change.
fn snapshot(c: &mut Client) -> Vec<String> {
    vec![
        render(&c.cmd("AI.MODELGET guard_model META BLOB")),
        render(&c.cmd("AI.MODELGET guard_torch META BLOB")),
        render(&c.cmd("AI.SCRIPTGET guard_script")),
        render(&c.cmd("AI.TENSORGET guard_tensor META BLOB")),
        render(&c.cmd("AI.TENSORGET guard_ab META BLOB")),
        render(&c.cmd("GET guard_plain")),
    ]
}

/// After a storm: the server is up, the guards are unchanged and still run, nothing panicked.
fn check_after_storm(server: &mut Server, c: &mut Client, before: &[String], seed: u64) {
    assert!(server.alive(), "seed {seed}: server died");
    // The storm may have set a small MODEL_CHUNK_SIZE, which splits MODELGET's BLOB reply.
    c.cmd("AI.CONFIG MODEL_CHUNK_SIZE 536870912");
    assert_eq!(
        snapshot(c),
        before,
        "seed {seed}: a key the storm never named changed"
    );
    for (command, output, values) in [
        (
            "AI.MODELEXECUTE guard_torch INPUTS 2 guard_ab guard_ab OUTPUTS 1 guard_o1",
            "guard_o1",
            "*[$b'4', $b'6', $b'4', $b'6']",
        ),
        (
            "AI.SCRIPTEXECUTE guard_script bar INPUTS 2 guard_ab guard_ab OUTPUTS 1 guard_o2",
            "guard_o2",
            "*[$b'4', $b'6', $b'4', $b'6']",
        ),
        (
            "AI.DAGEXECUTE LOAD 1 guard_ab PERSIST 1 guard_o3 |> \
             AI.SCRIPTEXECUTE guard_script scale INPUTS 1 guard_ab ARGS 1 2 OUTPUTS 1 x |> \
             AI.MODELEXECUTE guard_torch INPUTS 2 x guard_ab OUTPUTS 1 guard_o3",
            "guard_o3",
            "*[$b'6', $b'9', $b'6', $b'9']",
        ),
    ] {
        let reply = c.cmd(command);
        assert!(!is_error(&reply), "seed {seed}: {command}: {reply:?}");
        let got = render(&c.cmd(&format!("AI.TENSORGET {output} VALUES")));
        assert_eq!(got, values, "seed {seed}: {command}");
    }
    let run = c.cmd("AI.MODELEXECUTE guard_model INPUTS 1 iris OUTPUTS 1 o TIMEOUT 5000");
    assert!(
        !is_error(&run) || render(&run).contains("tensor key is empty"),
        "{run:?}"
    );
    std::thread::sleep(Duration::from_millis(10));
    let log = server.log();
    assert!(
        !log.contains("panicked") && !log.contains("internal error"),
        "seed {seed}: {log}"
    );
}

fn seed_and_count(default_seed: u64, default_count: usize) -> (u64, usize) {
    let env = |name| std::env::var(name).ok().and_then(|s| s.parse().ok());
    let seed = env("BAD_INPUT_SEED").unwrap_or(default_seed);
    let count = env("BAD_INPUT_COUNT").map_or(default_count, |n| n as usize);
    (seed, count)
}

/// Sends `count` commands from `next`; every reply must be an error without a contained panic or
/// any answer; returns the number of errors.
fn storm(c: &mut Client, seed: u64, count: usize, mut next: impl FnMut() -> Vec<Vec<u8>>) -> usize {
    let mut errors = 0;
    for i in 0..count {
        let args = next();
        let reply = c.call(&args);
        let shown = || {
            let show = |a: &Vec<u8>| match a.len() {
                0..=200 => py_bytes_repr(a),
                n => format!("{}..({n} bytes)", py_bytes_repr(&a[..200])),
            };
            args.iter().map(show).collect::<Vec<_>>().join(" ")
        };
        if let Frame::Error(text) = &reply {
            errors += 1;
            assert!(
                !text.contains("internal error") && !text.contains("panicked"),
                "seed {seed} (BAD_INPUT_SEED), command #{i}: {}\n-{text}",
                shown()
            );
        }
        if i % 100 == 99 {
            let pong = c.cmd("PING");
            assert_eq!(
                pong,
                ok_frame("PONG"),
                "seed {seed}, after #{i}: {}",
                shown()
            );
        }
    }
    errors
}

#[test]
fn random_model_and_dag_commands_never_hurt_the_server() {
    needs!(
        "random_model_and_dag_commands_never_hurt_the_server",
        "TF",
        "TFLITE",
        "TORCH"
    );
    let (seed, count) = seed_and_count(0x0dde_c0de, 4000);
    let mut server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    let before = snapshot(&mut c);
    let mut rng = StdRng::seed_from_u64(seed);
    let sources = (0..64).map(|_| torchscript_source(&mut rng)).collect();
    let mut gen = Gen {
        rng,
        blobs: broken_blobs(),
        sources,
    };
    let errors = storm(&mut c, seed, count, || gen.command());
    assert!(
        errors * 4 > count * 3,
        "the storm should be mostly errors ({errors} of {count})"
    );
    check_after_storm(&mut server, &mut c, &before, seed);
}

#[test]
fn random_script_and_torch_commands_never_hurt_the_server() {
    needs!(
        "random_script_and_torch_commands_never_hurt_the_server",
        "TORCH"
    );
    let (seed, count) = seed_and_count(0x5c41_97ed, 3000);
    let mut server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    for line in [
        "AI.TENSORSET a FLOAT 2 2 VALUES 1 2 3 4",
        "AI.TENSORSET i INT32 3 VALUES 1 2 3",
        "AI.TENSORSET str STRING 2 VALUES x y",
    ] {
        assert_eq!(c.cmd(line), ok_frame("OK"), "{line}");
    }
    let before = snapshot(&mut c);
    let mut rng = StdRng::seed_from_u64(seed);
    let blobs = torch_blobs(&mut rng);
    let mut gen = ScriptGen { rng, blobs };
    let errors = storm(&mut c, seed, count, || gen.command());
    assert!(
        errors * 2 > count,
        "mostly errors expected ({errors} of {count})"
    );
    check_after_storm(&mut server, &mut c, &before, seed);
}

/// Redis keys are binary: a key with a NUL byte works like any other in every position
/// (script, model, input, output, DAG LOAD/PERSIST, a key a script passes to a model).
#[test]
fn keys_with_a_nul_byte_are_ordinary_keys() {
    needs!(
        "keys_with_a_nul_byte_are_ordinary_keys",
        "TF",
        "TFLITE",
        "TORCH"
    );
    let mut server = Server::start();
    let mut c = server.client();
    let pt = reference("pt-minimal.pt");
    let reply = store_model(&mut c, "\0m", "TORCH", "CPU", &[], &pt);
    assert_eq!(reply, ok_frame("OK"));
    store_script(&mut c, "\0s", &ENTRY_POINTS, SCRIPT);
    for (command, expected) in [
        ("AI.TENSORSET \0t FLOAT 2 2 VALUES 1 2 3 4", "+OK"),
        ("AI.MODELEXECUTE \0m INPUTS 2 \0t \0t OUTPUTS 1 \0o", "+OK"),
        ("AI.TENSORGET \0o VALUES", "*[$b'2', $b'4', $b'6', $b'8']"),
        (
            "AI.SCRIPTEXECUTE \0s bar INPUTS 2 \0t \0o OUTPUTS 1 \0o2",
            "+OK",
        ),
        ("AI.TENSORGET \0o2 VALUES", "*[$b'3', $b'6', $b'9', $b'12']"),
        ("AI.SCRIPTRUN \0s bar INPUTS \0t \0t OUTPUTS \0o3", "+OK"),
        ("AI.TENSORGET \0o3 VALUES", "*[$b'2', $b'4', $b'6', $b'8']"),
        (
            "AI.SCRIPTEXECUTE \0s model KEYS 1 \0m INPUTS 2 \0t \0t ARGS 1 1 OUTPUTS 1 \0o4",
            "+OK",
        ),
        ("AI.TENSORGET \0o4 VALUES", "*[$b'2', $b'4', $b'6', $b'8']"),
        (
            "AI.DAGEXECUTE LOAD 1 \0t PERSIST 1 \0d |> \
             AI.MODELEXECUTE \0m INPUTS 2 \0t \0t OUTPUTS 1 x |> \
             AI.SCRIPTEXECUTE \0s bar INPUTS 2 x \0t OUTPUTS 1 \0d",
            "*[+OK, +OK]",
        ),
        ("AI.TENSORGET \0d VALUES", "*[$b'3', $b'6', $b'9', $b'12']"),
        (
            "AI.SCRIPTGET \0s META",
            "*[$b'device', $b'CPU', $b'tag', $b'', $b'Entry Points', *[$b'bar', $b'scale', \
             $b'cat', $b'note', $b'get', $b'two', $b'model']]",
        ),
        ("AI.SCRIPTDEL \0s", "+OK"),
        ("AI.MODELDEL \0m", "+OK"),
    ] {
        assert_eq!(render(&c.cmd(command)), expected, "{command:?}");
    }
    assert!(server.alive());
    assert!(!server.log().contains("internal error"), "{}", server.log());
}

#[test]
fn error_texts_keep_their_bytes_and_log_lines_are_not_formats() {
    let mut server = Server::start();
    let mut c = server.client();
    c.cmd("AI.TENSORSET x FLOAT 1 VALUES 1");
    // Non-ASCII tokens echoed in an error come back as they were sent (invalid UTF-8 shown as
    // U+FFFD); U+0100 once truncated to a NUL byte and crashed the server.
    for (token, shown) in [("é", "é"), ("Ā", "Ā"), ("€", "€")] {
        let reply = c.call(&[
            "AI.DAGEXECUTE",
            "LOAD",
            "1",
            "x",
            token,
            "|>",
            "AI.TENSORGET",
            "x",
        ]);
        assert_eq!(
            render(&reply),
            format!("-ERR Invalid DAG command. Unexpected argument:  {shown}")
        );
    }
    let reply = c.call(&[
        b"AI.DAGEXECUTE".as_slice(),
        b"LOAD",
        b"1",
        b"x",
        b"\xfd",
        b"|>",
        b"AI.TENSORGET",
        b"x",
    ]);
    assert_eq!(
        render(&reply),
        "-ERR Invalid DAG command. Unexpected argument:  \u{fffd}"
    );
    // A path full of printf directives reaches the log as text.
    let reply = c.call(&["AI.CONFIG", "LOADBACKEND", "TF", "/x/%s%s%s%n%n%p.so"]);
    assert_eq!(render(&reply), "-ERR error loading backend");
    assert!(server.alive());
    assert!(server.log().contains("/x/%s%s%s%n%n%p.so"));
}
