//! DUMP/RESTORE of TORCH models and TorchScript scripts (SPEC §10.2) through a real server:
//! - the original RedisAI's DUMP payloads of its TORCH model and script
//!   (tests/golden/dump-payloads.json) restore to the contents rdb-contents.md lists, run, and
//!   DUMP back byte for byte;
//! - script payloads of every encoding version (0 to 4) restore; the functions of v0-v2 scripts
//!   (which have no entry points) and of entry-point-less v3/v4 scripts run in legacy positional
//!   mode from AI.SCRIPTEXECUTE and AI.SCRIPTRUN (`def bar(a, b)`, a `List[Tensor]` parameter),
//!   declared entry points of v3/v4 scripts run with the new signature; each re-DUMPs as v4;
//! - TORCH model payloads of every encoding version restore and run (stored names ignored);
//! - corrupt, future and uncompilable script payloads are refused and the server survives.

mod common;

use common::fixtures::{numbers, reference};
use common::golden_keys::{expected_reads, rdb_contents, read};
use common::payload::{module_part, module_payload, Field, AI_MODEL_TYPE_ID, AI_SCRIPT_TYPE_ID};
use common::{bulk, golden_dir, is_error, ok_frame, render, unhex, Client, Frame, Server};

/// A NUL-terminated string buffer (RedisAI's `StrBuf+NUL`).
fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn restore(c: &mut Client, key: &str, payload: &[u8]) -> Frame {
    c.call(&[
        b"RESTORE".as_slice(),
        key.as_bytes(),
        b"0",
        payload,
        b"REPLACE",
    ])
}

fn setup_inputs(c: &mut Client) {
    for line in [
        "AI.TENSORSET a FLOAT 2 2 VALUES 2 3 2 3",
        "AI.TENSORSET b FLOAT 2 2 VALUES 1 1 1 1",
    ] {
        assert_eq!(c.cmd(line), ok_frame("OK"), "{line}");
    }
}

#[test]
fn redisai_torch_model_and_script_payloads_restore_run_and_dump_back_identically() {
    needs!(
        "redisai_torch_model_and_script_payloads_restore_run_and_dump_back_identically",
        "TORCH"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("dump-payloads.json")).unwrap(),
    )
    .unwrap();
    let server = Server::start();
    let mut c = server.client();
    setup_inputs(&mut c);
    for key in rdb_contents()
        .iter()
        .filter(|k| ["m_torch", "s_script"].contains(&k.name.as_str()))
    {
        let payload = unhex(json[&key.name]["hex"].as_str().unwrap());
        assert_eq!(restore(&mut c, &key.name, &payload), ok_frame("OK"));
        for (command, expected) in expected_reads(key) {
            assert_eq!(read(&mut c, &command), expected, "{}", command.join(" "));
        }
        assert_eq!(
            module_part(&bulk(&c.call(&["DUMP", &key.name]))),
            module_part(&payload),
            "DUMP of {} differs from RedisAI's",
            key.name
        );
    }
    assert_eq!(
        bulk(&c.cmd("AI.MODELGET m_torch BLOB")),
        reference("pt-minimal.pt")
    );
    for (command, output, expected) in [
        (
            "AI.MODELEXECUTE m_torch INPUTS 2 a b OUTPUTS 1 o1",
            "o1",
            [3.0, 4.0, 3.0, 4.0],
        ),
        (
            "AI.SCRIPTEXECUTE s_script bar INPUTS 2 a b OUTPUTS 1 o2",
            "o2",
            [3.0, 4.0, 3.0, 4.0],
        ),
        (
            "AI.SCRIPTEXECUTE s_script scale INPUTS 1 a ARGS 1 2 OUTPUTS 1 o3",
            "o3",
            [4.0, 6.0, 4.0, 6.0],
        ),
    ] {
        assert_eq!(c.cmd(command), ok_frame("OK"), "{command}");
        let values = numbers(&c.call(&["AI.TENSORGET", output, "VALUES"]));
        assert_eq!(values, expected, "{command}");
    }
    assert_eq!(
        render(&c.cmd("AI._SCRIPTSCAN")),
        "*[*[$b's_script', $b'st1']]"
    );
}

/// Positional (legacy) functions, as RedisAI's old_script.txt has them, and one entry point.
const LEGACY_SOURCE: &str = "\
def bar(a, b):
    return a + b

def bar_variadic(a, args: List[Tensor]):
    return args[0] + args[1]

def ep(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0])
";

/// The fields of a script value of encoding version `encver` (SPEC §10.2).
fn script_fields(encver: u64, tag: &str) -> Vec<Vec<u8>> {
    let mut fields = vec![cstr("CPU")];
    fields.push(match encver {
        0 => cstr(tag),
        _ => tag.as_bytes().to_vec(),
    });
    fields.push(cstr(LEGACY_SOURCE));
    fields
}

fn script_payload(encver: u64, tag: &str, entry_points: &[&str]) -> Vec<u8> {
    use Field::*;
    let strings = script_fields(encver, tag);
    let names: Vec<Vec<u8>> = entry_points.iter().map(|e| cstr(e)).collect();
    let mut fields: Vec<Field> = strings.iter().map(|s| S(s)).collect();
    if encver >= 3 {
        fields.push(U(entry_points.len() as u64));
        fields.extend(names.iter().map(|n| S(n)));
    }
    module_payload(AI_SCRIPT_TYPE_ID, encver, &fields)
}

/// Legacy-mode runs: (command, output, a = [2 3 2 3] and b = [1 1 1 1] give).
const LEGACY_RUNS: [(&str, &str, [f64; 4]); 4] = [
    (
        "AI.SCRIPTEXECUTE {k} bar INPUTS 2 a b OUTPUTS 1 o1",
        "o1",
        [3.0, 4.0, 3.0, 4.0],
    ),
    (
        "AI.SCRIPTRUN {k} bar INPUTS a b OUTPUTS o2",
        "o2",
        [3.0, 4.0, 3.0, 4.0],
    ),
    // `$` starts the variadic list: bar_variadic(a, [b, a]).
    (
        "AI.SCRIPTRUN {k} bar_variadic INPUTS a $ b a OUTPUTS o3",
        "o3",
        [3.0, 4.0, 3.0, 4.0],
    ),
    // A List[Tensor] parameter swallows the remaining inputs: bar_variadic(a, [b, b]).
    (
        "AI.SCRIPTEXECUTE {k} bar_variadic INPUTS 3 a b b OUTPUTS 1 o4",
        "o4",
        [2.0, 2.0, 2.0, 2.0],
    ),
];

#[test]
fn script_payloads_of_every_encoding_version_restore_and_run() {
    needs!(
        "script_payloads_of_every_encoding_version_restore_and_run",
        "TORCH"
    );
    let server = Server::start();
    let mut c = server.client();
    setup_inputs(&mut c);
    // (encver, entry points): v0-v2 have none; v3/v4 with and without.
    let cases: [(u64, &[&str]); 7] = [
        (0, &[]),
        (1, &[]),
        (2, &[]),
        (3, &[]),
        (3, &["ep"]),
        (4, &[]),
        (4, &["ep"]),
    ];
    for (encver, entry_points) in cases {
        let key = format!("s{encver}_{}", entry_points.len());
        let tag = format!("TORCH_SCRIPT_V{encver}");
        let payload = script_payload(encver, &tag, entry_points);
        let case = format!("v{encver} with {entry_points:?}");
        assert_eq!(restore(&mut c, &key, &payload), ok_frame("OK"), "{case}");
        let names: Vec<String> = entry_points.iter().map(|e| format!("$b'{e}'")).collect();
        assert_eq!(
            render(&c.call(&["AI.SCRIPTGET", &key, "META"])),
            format!(
                "*[$b'device', $b'CPU', $b'tag', $b'{tag}', $b'Entry Points', *[{}]]",
                names.join(", ")
            ),
            "{case}"
        );
        assert_eq!(
            bulk(&c.call(&["AI.SCRIPTGET", &key, "SOURCE"])),
            LEGACY_SOURCE.as_bytes(),
            "{case}"
        );
        for (command, output, expected) in LEGACY_RUNS {
            let command = command.replace("{k}", &key);
            assert_eq!(c.cmd(&command), ok_frame("OK"), "{case}: {command}");
            let values = numbers(&c.call(&["AI.TENSORGET", output, "VALUES"]));
            assert_eq!(values, expected, "{case}: {command}");
            c.call(&["DEL", output]);
        }
        // The declared entry point runs with the new signature (KEYS/ARGS passed).
        if !entry_points.is_empty() {
            let command = format!("AI.SCRIPTEXECUTE {key} ep INPUTS 1 a ARGS 1 3 OUTPUTS 1 o5");
            assert_eq!(c.cmd(&command), ok_frame("OK"), "{case}");
            let values = numbers(&c.cmd("AI.TENSORGET o5 VALUES"));
            assert_eq!(values, [6.0, 9.0, 6.0, 9.0], "{case}");
        }
        // Saved again as v4, it restores to the same script.
        let dumped = bulk(&c.call(&["DUMP", &key]));
        assert_eq!(
            dumped[1..10],
            module_payload(AI_SCRIPT_TYPE_ID, 4, &[])[1..10],
            "{case}: re-saved as v4"
        );
        let copy = format!("{key}_v4");
        assert_eq!(restore(&mut c, &copy, &dumped), ok_frame("OK"), "{case}");
        assert_eq!(
            c.call(&["AI.SCRIPTGET", &copy]),
            c.call(&["AI.SCRIPTGET", &key]),
            "{case}"
        );
    }
}

#[test]
fn torch_model_payloads_of_every_encoding_version_restore_and_run() {
    needs!(
        "torch_model_payloads_of_every_encoding_version_restore_and_run",
        "TORCH"
    );
    use Field::*;
    let server = Server::start();
    let mut c = server.client();
    setup_inputs(&mut c);
    let blob = reference("pt-minimal.pt");
    let (head, tail) = blob.split_at(700);
    let (device, stale) = (cstr("CPU"), cstr("stale"));
    let len = blob.len() as u64;
    // The stored input/output names are ignored on load: the backend reports a, b and "".
    // backend TORCH, device, tag, batch, minbatch, [minbatchtimeout,] inputs, outputs, blob
    #[rustfmt::skip]
    let cases: Vec<(u64, Vec<Field>)> = vec![
        (0, vec![U(2), S(&device), S(b"PT_V0\0"), U(0), U(0), U(0), U(0), S(&blob)]),
        (1, vec![U(2), S(&device), S(b"PT_V1"), U(0), U(0), U(1), S(&stale), U(0), U(len), U(1),
                 S(&blob)]),
        (2, vec![U(2), S(&device), S(b"PT_V2"), U(0), U(0), U(0), U(0), U(0), U(len), U(2),
                 S(head), S(tail)]),
        (3, vec![U(2), S(&device), S(b"PT_V3"), U(0), U(0), U(0), U(0), U(1), S(b"\0"), U(len),
                 U(1), S(&blob)]),
        (4, vec![U(2), S(&device), S(b"PT_V4"), U(2), U(0), U(0), U(2), S(b"a\0"), S(b"b\0"), U(1),
                 S(b"\0"), U(len), U(2), S(head), S(tail)]),
    ];
    for (encver, fields) in cases {
        let key = format!("pt{encver}");
        let payload = module_payload(AI_MODEL_TYPE_ID, encver, &fields);
        assert_eq!(restore(&mut c, &key, &payload), ok_frame("OK"), "v{encver}");
        let batch = if encver == 4 { 2 } else { 0 };
        assert_eq!(
            render(&c.call(&["AI.MODELGET", &key, "META"])),
            format!(
                "*[$b'backend', $b'TORCH', $b'device', $b'CPU', $b'tag', $b'PT_V{encver}', \
                 $b'batchsize', :{batch}, $b'minbatchsize', :0, $b'inputs', *[$b'a', $b'b'], \
                 $b'outputs', *[$b''], $b'minbatchtimeout', :0]"
            ),
            "v{encver}"
        );
        assert_eq!(bulk(&c.call(&["AI.MODELGET", &key, "BLOB"])), blob);
        let run = format!("AI.MODELEXECUTE {key} INPUTS 2 a b OUTPUTS 1 out");
        assert_eq!(c.cmd(&run), ok_frame("OK"), "v{encver}");
        assert_eq!(
            numbers(&c.cmd("AI.TENSORGET out VALUES")),
            [3.0, 4.0, 3.0, 4.0]
        );
        let dumped = bulk(&c.call(&["DUMP", &key]));
        assert_eq!(
            dumped[1..10],
            module_payload(AI_MODEL_TYPE_ID, 4, &[])[1..10],
            "v{encver}: re-saved as v4"
        );
    }
}

#[test]
fn corrupt_future_and_uncompilable_script_payloads_are_refused() {
    use Field::*;
    let mut server = Server::start();
    let mut c = server.client();
    let (device, source) = (cstr("CPU"), cstr(LEGACY_SOURCE));
    #[rustfmt::skip]
    let cases: Vec<(&str, u64, Vec<Field>)> = vec![
        ("a future version", 5, vec![S(&device), S(b""), S(&source), U(0)]),
        ("no source", 4, vec![S(&device), S(b"")]),
        ("entry points announced, missing", 4,
         vec![S(&device), S(b""), S(&source), U(2), S(b"ep\0")]),
        ("a number instead of the source", 2, vec![S(&device), S(b""), U(7)]),
        ("source that does not compile", 2, vec![S(&device), S(b""), S(b"def bar(:\n\0")]),
        ("garbage source", 1, vec![S(&device), S(b""), S(b"\xff\xfe\x00\x01")]),
        ("an entry point not in the source", 4,
         vec![S(&device), S(b""), S(&source), U(1), S(b"nosuch\0")]),
        ("an entry point of the old signature", 3,
         vec![S(&device), S(b""), S(&source), U(1), S(b"bar\0")]),
    ];
    for (what, encver, fields) in &cases {
        let payload = module_payload(AI_SCRIPT_TYPE_ID, *encver, fields);
        let reply = restore(&mut c, "bad", &payload);
        assert!(is_error(&reply), "{what}: {}", render(&reply));
    }
    assert_eq!(render(&c.cmd("EXISTS bad")), ":0");
    assert_eq!(render(&c.cmd("AI._SCRIPTSCAN")), "*[]");
    assert!(server.alive());
}
