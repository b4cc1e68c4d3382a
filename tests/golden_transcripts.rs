//! Replays every tensor request/reply pair captured from the original RedisAI module
//! (tests/golden/transcripts.md) against the module and compares the replies byte for byte.
//!
//! One deliberate difference: RedisAI on Redis 7.0 printed arity errors with the lower-case
//! command name; this module always prints the upper-case name (SPEC §1.3), so expected arity
//! lines are compared with the name upper-cased.

mod common;

use common::golden::{all_pairs, expected_reply, tokenize, Pair};
use common::{render, Server};

/// The pairs of the transcript before the first section that needs a model backend.
fn tensor_pairs() -> Vec<Pair> {
    all_pairs()
        .into_iter()
        .take_while(|p| !p.section.starts_with("AI.MODELSTORE"))
        .collect()
}

#[test]
fn tensor_transcripts_match_byte_for_byte() {
    let pairs = tensor_pairs();
    assert!(
        pairs.len() > 150,
        "only {} tensor pairs parsed",
        pairs.len()
    );
    let server = Server::start();
    let mut client = server.client();
    let mut failures = Vec::new();
    for pair in &pairs {
        let got = render(&client.call(&pair.command));
        let expected = expected_reply(&pair.reply);
        if got != expected {
            failures.push(format!(
                "line {}: {}\n  expected {expected}\n  got      {got}",
                pair.line,
                pair.text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} pairs differ:\n{}",
        failures.len(),
        pairs.len(),
        failures.join("\n")
    );
}

#[test]
fn tokenizer_reads_python_literals() {
    let args = tokenize(r"AI.TENSORSET k STRING 2 VALUES b'h\xc3\xa9llo' b'w o r l d' b'it\'s'");
    assert_eq!(args[5], "héllo".as_bytes());
    assert_eq!(args[6], b"w o r l d");
    assert_eq!(args[7], b"it's");
    assert_eq!(
        expected_reply("-ERR wrong number of arguments for 'ai.tensorget' command"),
        "-ERR wrong number of arguments for 'AI.TENSORGET' command"
    );
}
