//! Replays the model, DAG, AI.INFO and AI.CONFIG pairs of the golden transcripts that involve the ONNX
//! backend (or no backend at all) and compares the replies byte for byte.
//!
//! Pairs that need the TF or TORCH backends (their models, or their own error texts) are left to
//! those backends' tests; durations in AI.INFO are run-dependent and masked; BACKENDSPATH is this
//! installation's; ONNX Runtime's own messages are compared modulo the wording changes of the
//! runtime version (RUNTIME_WORDING).

mod common;

use common::golden::{all_pairs, expected_reply, Pair};
use common::{module_path, render, Server};

/// Sections replayed here.
const SECTIONS: [&str; 7] = [
    "AI.MODELSTORE / MODELGET / MODELDEL / MODELEXECUTE / _MODELSCAN",
    "AI.MODELEXECUTE (success)",
    "AI.MODELSTORE / MODELGET / MODELEXECUTE / MODELDEL errors",
    "AI.DAGEXECUTE / AI.DAGEXECUTE_RO",
    "DAG errors (failing middle op, bad syntax)",
    "AI.INFO and AI.INFO RESETSTAT",
    "AI.CONFIG",
];

/// Keys of TF/TORCH models and scripts in the transcript, and the outputs of their runs.
const OTHER_BACKEND_KEYS: [&str; 14] = [
    "m_tf", "m_torch", "m_chunks", "m_tf_mb", "m_old", "m_old2", "s1", "oc", "od", "och", "omb",
    "o_old", "dag_out", "never",
];

/// Messages whose wording changed between ONNX Runtime 1.11 (the golden capture) and the
/// runtime this module ships: (new, old).
const RUNTIME_WORDING: [(&str, &str); 1] = [(
    "Please fix either the inputs/outputs or the model.",
    "Please fix either the inputs or the model.",
)];

/// Why a pair is not replayed here, if it is not.
fn skip_reason(p: &Pair) -> Option<&'static str> {
    if p.command
        .iter()
        .any(|a| OTHER_BACKEND_KEYS.iter().any(|k| a == k.as_bytes()))
    {
        return Some("uses a TF or TORCH model or script");
    }
    let is_config = p.command[0].eq_ignore_ascii_case(b"AI.CONFIG");
    let grammar_error = [
        "-ERR INPUTS not specified for TF",
        "-ERR OUTPUTS not specified for TF",
    ]
    .contains(&p.reply.as_str());
    if (p.has("TF") || p.has("TORCH")) && !is_config && !grammar_error {
        return Some("needs the TF or TORCH backend");
    }
    if p.has("AI._MODELSCAN") {
        return Some("lists TF and TORCH models too (checked in tests/models.rs)");
    }
    None
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
fn onnx_model_transcripts_match_byte_for_byte() {
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
        let mut results: Vec<(&Pair, String)> = Vec::new();
        if let Some(next) = selected.get(i + 1).filter(|n| n.second_connection) {
            second.send(&next.command);
            std::thread::sleep(std::time::Duration::from_millis(50));
            client.send(&p.command);
            results.push((p, render(&client.read())));
            results.push((next, render(&second.read())));
            i += 2;
        } else {
            results.push((p, render(&client.call(&p.command))));
            i += 1;
        }
        for (pair, got) in results {
            replayed += 1;
            let mut expected =
                expected_reply(&pair.reply).replace("<REDACTED_PATH>", &backends_path);
            let mut got = got;
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

/// The RESP commands of an AOF file.
fn aof_commands(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut commands = Vec::new();
    let mut rest = bytes;
    let line = |rest: &mut &[u8]| -> String {
        let end = rest.windows(2).position(|w| w == b"\r\n").expect("CRLF");
        let text = String::from_utf8(rest[..end].to_vec()).expect("header");
        *rest = &rest[end + 2..];
        text
    };
    while !rest.is_empty() {
        let n: usize = line(&mut rest)[1..].parse().expect("array length");
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            let len: usize = line(&mut rest)[1..].parse().expect("bulk length");
            args.push(rest[..len].to_vec());
            rest = &rest[len + 2..];
        }
        commands.push(args);
    }
    commands
}

/// The model line of the AOF the original module rewrote: this module's grammar accepts it as
/// is, and only the TF backend is missing here (its replay proper is a TF backend test).
#[test]
fn the_golden_aof_model_line_is_accepted_up_to_the_backend() {
    let aof = std::fs::read(common::golden_dir().join("aof-rewrite-example.aof")).unwrap();
    let commands = aof_commands(&aof);
    let model = commands
        .iter()
        .find(|c| c[0] == b"AI.MODELSTORE")
        .expect("a model line");
    assert_eq!(model[2], b"TF");
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(render(&c.call(model)), "-ERR Could not load backend");
    // The tensor line replays exactly.
    let tensor = commands
        .iter()
        .find(|c| c[0] == b"AI.TENSORSET")
        .expect("a tensor line");
    assert_eq!(render(&c.call(tensor)), "+OK");
}
