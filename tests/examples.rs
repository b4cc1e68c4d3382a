//! The runnable examples of examples/ (docs/embeddings.md), run as a user would: the Python
//! scripts with redis-py against a real Redis 8 (vector sets) with the module, checked by what
//! they print.

mod common;

use std::process::Command;

use common::embeddings::redis8;
use common::{venv_python, Server};

fn run_example(name: &str) -> String {
    let server = Server::with_binary(
        &redis8(),
        &["ONNX", "redisai_onnxruntime/redisai_onnxruntime.so"],
        &[],
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/").to_string() + name;
    let out = Command::new(venv_python())
        .arg(&script)
        .arg("--socket")
        .arg(server.socket())
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn semantic_cache_answers_paraphrases_from_the_cache() {
    let out = run_example("semantic_cache.py");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].starts_with("miss") && lines[1].starts_with("miss"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("hit")
            && lines[2].ends_with("'Open Settings, then Security, then Reset password.'"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("hit") && lines[3].ends_with("'Paris.'"),
        "{out}"
    );
    assert!(
        lines[4].starts_with("miss"),
        "an unrelated prompt misses: {out}"
    );
}

#[test]
fn rag_retrieves_the_relevant_document_first() {
    let out = run_example("rag.py");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12, "{out}");
    let first = |question: &str| {
        let at = lines.iter().position(|l| *l == question).expect(question);
        lines[at + 1].to_string()
    };
    assert!(
        first("Where is the Eiffel Tower?")
            .ends_with("The Eiffel Tower is in Paris and was completed in 1889."),
        "{out}"
    );
    assert!(
        first("How do I search embeddings?").contains("Vector sets store embeddings"),
        "{out}"
    );
    assert!(
        first("What is the tallest mountain?").contains("Mount Everest"),
        "{out}"
    );
}
