//! Bad-input storm over the model, run, DAG, AI.INFO and AI.CONFIG commands: random commands made
//! of the grammars' own keywords, numbers, keys, garbage and truncated model blobs. Every reply
//! must be an error or a well-formed answer, the server must stay up without a contained panic,
//! and keys the storm never names must stay exactly as they were. `BAD_INPUT_SEED` picks the seed,
//! `BAD_INPUT_COUNT` the number of commands (4000; `make fuzz` sends 100,000).

mod common;

use std::time::Duration;

use common::fixtures::{reference, set_one_image, store_onnx};
use common::{is_error, ok_frame, py_bytes_repr, render, Client, Frame, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const COMMANDS: [&str; 13] = [
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

const WORDS: [&str; 44] = [
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
const KEYS: [&str; 8] = [
    "mnist", "iris_m", "img", "iris", "t", "out", "plain", "nokey",
];

struct Gen {
    rng: StdRng,
    blobs: Vec<Vec<u8>>,
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
                (0..n).map(|_| self.rng.random::<u8>()).collect()
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
    for model in [reference("mnist.onnx"), reference("linear_iris.onnx")] {
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

/// The keys the storm never names (`guard_*`), which must not change.
fn snapshot(c: &mut Client) -> Vec<String> {
    vec![
        render(&c.cmd("AI.MODELGET guard_model META BLOB")),
        render(&c.cmd("AI.TENSORGET guard_tensor META BLOB")),
        render(&c.cmd("GET guard_plain")),
    ]
}

#[test]
fn random_model_and_dag_commands_never_hurt_the_server() {
    let seed: u64 = std::env::var("BAD_INPUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0dde_c0de);
    let mut server = Server::start();
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    let iris = reference("linear_iris.onnx");
    for (key, blob) in [("mnist", &mnist), ("iris_m", &iris), ("guard_model", &iris)] {
        assert_eq!(store_onnx(&mut c, key, "CPU", &[], blob), ok_frame("OK"));
    }
    set_one_image(&mut c, "img");
    c.cmd("AI.TENSORSET iris FLOAT 1 4 VALUES 5.1 3.5 1.4 0.2");
    c.cmd("AI.TENSORSET guard_tensor INT32 2 VALUES 7 8");
    c.cmd("SET guard_plain v");
    c.cmd("SET plain v");
    let before = snapshot(&mut c);
    let mut gen = Gen {
        rng: StdRng::seed_from_u64(seed),
        blobs: broken_blobs(),
    };
    let count: usize = std::env::var("BAD_INPUT_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    let mut errors = 0;
    for i in 0..count {
        let args = gen.command();
        let reply = c.call(&args);
        let shown = || {
            args.iter()
                .map(|a| py_bytes_repr(a))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if let Frame::Error(text) = &reply {
            errors += 1;
            assert!(
                !text.contains("internal error") && !text.contains("panicked"),
                "seed {seed} (BAD_INPUT_SEED), command #{i}: {}\n-{text}",
                shown()
            );
        }
        if i % 200 == 199 {
            assert_eq!(
                c.cmd("PING"),
                ok_frame("PONG"),
                "seed {seed}, after #{i}: {}",
                shown()
            );
        }
    }
    assert!(
        errors > 3000,
        "the storm should be mostly errors ({errors})"
    );
    assert!(server.alive(), "seed {seed}: server died");
    assert_eq!(
        snapshot(&mut c),
        before,
        "seed {seed}: a key the storm never named changed"
    );
    // The models still work.
    c.cmd("AI.CONFIG MODEL_CHUNK_SIZE 536870912");
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
