//! Replays every tensor request/reply pair captured from the original RedisAI module
//! (tests/golden/transcripts.md) against the module and compares the replies byte for byte.
//!
//! One deliberate difference: RedisAI on Redis 7.0 printed arity errors with the lower-case
//! command name; this module always prints the upper-case name (SPEC §1.3), so expected arity
//! lines are compared with the name upper-cased.

mod common;

use common::{golden_dir, parse_py_bytes, render, Server};

/// One `> command` / reply pair.
struct Pair {
    line: usize,
    command: Vec<Vec<u8>>,
    reply: String,
}

/// Splits a transcript command line into arguments; `b'..'` tokens are Python bytes literals.
fn tokenize(line: &str) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        if chars[i] == 'b' && matches!(chars.get(i + 1), Some('\'') | Some('"')) {
            let quote = chars[i + 1];
            i += 2;
            while chars[i] != quote {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            let literal: String = chars[start..i].iter().collect();
            args.push(parse_py_bytes(&literal));
        } else {
            while i < chars.len() && chars[i] != ' ' {
                i += 1;
            }
            args.push(chars[start..i].iter().collect::<String>().into_bytes());
        }
    }
    args
}

/// The pairs of the transcript up to the first section that needs a model backend.
fn tensor_pairs() -> Vec<Pair> {
    let text =
        std::fs::read_to_string(golden_dir().join("transcripts.md")).expect("transcripts.md");
    let mut pairs = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.starts_with("## AI.MODELSTORE") {
            break;
        }
        if let Some(command) = line.strip_prefix("> ") {
            let (_, reply) = lines.next().expect("a reply follows every command");
            pairs.push(Pair {
                line: n + 1,
                command: tokenize(command),
                reply: reply.to_string(),
            });
        }
    }
    pairs
}

fn expected_reply(reply: &str) -> String {
    const ARITY: &str = "-ERR wrong number of arguments for '";
    match reply
        .strip_prefix(ARITY)
        .and_then(|rest| rest.split_once('\''))
    {
        Some((name, tail)) => format!("{ARITY}{}'{tail}", name.to_uppercase()),
        None => reply.to_string(),
    }
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
            let cmd: Vec<String> = pair
                .command
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            failures.push(format!(
                "line {}: {}\n  expected {expected}\n  got      {got}",
                pair.line,
                cmd.join(" ")
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
