//! Replays the model, DAG, AI.INFO and AI.CONFIG pairs of the golden transcripts that involve the
//! ONNX, TF and TORCH backends and scripts (or no backend at all) and compares the replies byte
//! for byte.
//!
//! The TORCH model and script pairs are replayed too (libtorch's errors without the C++ stack
//! dump the original appended). The original had no TFLITE backend loaded, so its TFLITE pair is
//! skipped; durations in AI.INFO are run-dependent and masked; BACKENDSPATH is this
//! installation's; the runtimes' own messages are compared modulo the wording changes of their
//! versions (RUNTIME_WORDING).

mod common;

use common::golden::{all_pairs, expected_reply, Pair};
use common::{module_path, render, Frame, Server};
use sha2::{Digest, Sha256};

/// Sections replayed here.
const SECTIONS: [&str; 10] = [
    "AI.MODELSTORE / MODELGET / MODELDEL / MODELEXECUTE / _MODELSCAN",
    "AI.MODELEXECUTE (success)",
    "AI.MODELSTORE / MODELGET / MODELEXECUTE / MODELDEL errors",
    "AI.DAGEXECUTE / AI.DAGEXECUTE_RO",
    "DAG errors (failing middle op, bad syntax)",
    "Deprecated aliases (AI.MODELSET / AI.MODELRUN / AI.SCRIPTSET / AI.SCRIPTRUN / AI.DAGRUN)",
    "AI.INFO and AI.INFO RESETSTAT",
    "AI.CONFIG",
    "AI.SCRIPTSTORE / SCRIPTGET / SCRIPTEXECUTE / SCRIPTDEL",
    "Script errors",
];

/// Messages whose wording changed between ONNX Runtime 1.11 / libtorch 1.11 (the golden capture)
/// and the
/// runtimes this module ships: (new, old).
const RUNTIME_WORDING: [(&str, &str); 2] = [
    (
        "Please fix either the inputs/outputs or the model.",
        "Please fix either the inputs or the model.",
    ),
    // libtorch 2.x explains a bad archive at length.
    (
        "not a ZIP archive. This is an internal miniz error. If you are seeing this error, there \
         is a high likelihood that your checkpoint file is corrupted. This can happen if the \
         checkpoint was not saved properly, was transferred incorrectly, or the file was \
         modified after saving.",
        "not a ZIP archive",
    ),
];

/// Why a pair is not replayed here, if it is not.
fn skip_reason(p: &Pair) -> Option<&'static str> {
    if p.has("TFLITE") && p.command[0].eq_ignore_ascii_case(b"AI.MODELSTORE") {
        return Some("the original had no TFLITE backend");
    }
    if p.has("AI._MODELSCAN") {
        return Some("lists TORCH models too (checked in tests/models.rs)");
    }
    if p.text() == "AI.INFO m_tf" && p.reply.contains(":3") {
        return Some("its counts include runs of script DAGs");
    }
    None
}

/// The transcript's notation of a large bulk string: `$<N bytes sha256=HEX>`.
fn digest(bytes: &[u8]) -> String {
    let hash: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("$<{} bytes sha256={hash}>", bytes.len())
}

/// libtorch errors without the C++ stack dump the original appended to them (`Exception raised
/// from ... frame #0: ...`): this module replies the message only.
fn without_backtrace(reply: &str) -> String {
    match reply.split_once(" Exception raised from ") {
        Some((message, _)) if reply.contains(" frame #0: ") => message.to_string(),
        _ => reply.to_string(),
    }
}

/// Masks the run-dependent `duration` of an AI.INFO reply.
fn mask_duration(reply: &str) -> String {
    match reply.split_once("$b'duration', :") {
        Some((head, tail)) => {
            let rest = tail.split_once(',').map(|(_, r)| r).unwrap_or("");
            format!("{head}$b'duration', :<us>,{rest}")
        }
        None => reply.to_string(),
    }
}

#[test]
fn model_transcripts_match_byte_for_byte() {
    needs!("model_transcripts_match_byte_for_byte", "TF", "TORCH");
    let pairs = all_pairs();
    let server = Server::start();
    let mut client = server.client();
    let mut second = server.client();
    // The tensor sections first: they create the keys the model sections use.
    for p in pairs
        .iter()
        .take_while(|p| !p.section.starts_with("AI.MODELSTORE"))
    {
        client.call(&p.command);
    }
    let backends_path = module_path()
        .parent()
        .expect("module dir")
        .join("backends")
        .to_string_lossy()
        .into_owned();
    let selected: Vec<&Pair> = pairs
        .iter()
        .filter(|p| SECTIONS.contains(&p.section.as_str()))
        .collect();
    let mut failures = Vec::new();
    let mut replayed = 0;
    let mut i = 0;
    while i < selected.len() {
        let p = selected[i];
        if skip_reason(p).is_some() {
            i += 1;
            continue;
        }
        // Batching: the second connection sends first, then this one; both are answered once
        // the batch is formed.
        let mut results: Vec<(&Pair, Frame)> = Vec::new();
        if let Some(next) = selected.get(i + 1).filter(|n| n.second_connection) {
            second.send(&next.command);
            std::thread::sleep(std::time::Duration::from_millis(50));
            client.send(&p.command);
            results.push((p, client.read()));
            results.push((next, second.read()));
            i += 2;
        } else {
            results.push((p, client.call(&p.command)));
            i += 1;
        }
        for (pair, frame) in results {
            replayed += 1;
            let mut expected =
                expected_reply(&pair.reply).replace("<REDACTED_PATH>", &backends_path);
            expected = without_backtrace(&expected);
            let mut got = match &frame {
                // Large bulks are recorded by size and digest.
                Frame::BulkString(b) if expected.starts_with("$<") => digest(b),
                other => render(other),
            };
            for (new, old) in RUNTIME_WORDING {
                got = got.replace(new, old);
            }
            if pair.command[0].eq_ignore_ascii_case(b"AI.INFO") {
                expected = mask_duration(&expected);
                got = mask_duration(&got);
            }
            if got != expected {
                failures.push(format!(
                    "line {}: {}\n  expected {expected}\n  got      {got}",
                    pair.line,
                    pair.text().chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(replayed > 60, "only {replayed} pairs replayed");
    assert!(
        failures.is_empty(),
        "{} of {replayed} pairs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
