//! AI__MODEL values of every encoding version RedisAI wrote (SPEC §10.2), restored through a
//! real server: v0 (1.0.x), v1 (no MINBATCHTIMEOUT), v2/v3 (chunked blob) and RedisAI's own v4.

mod common;

use common::fixtures::reference;
use common::payload::{module_payload, Field, AI_MODEL_TYPE_ID};
use common::{bulk, is_error, ok_frame, render, Server};

/// A NUL-terminated string buffer (RedisAI's `StrBuf+NUL`).
fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

const META: &str = "*[$b'backend', $b'ONNX', $b'device', $b'CPU', $b'tag', $b'iris', \
    $b'batchsize', :2, $b'minbatchsize', :1, $b'inputs', *[$b'float_input'], \
    $b'outputs', *[$b'variable'], $b'minbatchtimeout', :";

#[test]
fn every_model_encoding_version_restores_and_runs() {
    use Field::*;
    let server = Server::start();
    let mut c = server.client();
    let blob = reference("linear_iris.onnx");
    let (device, input, output) = (cstr("CPU"), cstr("float_input"), cstr("variable"));
    // The stored names are ignored on load for ONNX (the backend reports them): give stale ones.
    let stale = cstr("stale");
    let (head, tail) = blob.split_at(100);
    let tag0 = cstr("iris");
    let v0 = vec![
        U(3),
        S(&device),
        S(&tag0),
        U(2),
        U(1),
        U(1),
        S(&stale),
        U(1),
        S(&output),
        S(&blob),
    ];
    let v1 = vec![
        U(3),
        S(&device),
        S(b"iris"),
        U(2),
        U(1),
        U(1),
        S(&input),
        U(1),
        S(&output),
        U(blob.len() as u64),
        U(1),
        S(&blob),
    ];
    let v23 = |encver| {
        let fields = vec![
            U(3),
            S(&device),
            S(b"iris"),
            U(2),
            U(1),
            U(7),
            U(1),
            S(&input),
            U(1),
            S(&stale),
            U(blob.len() as u64),
            U(2),
            S(head),
            S(tail),
        ];
        (encver, fields)
    };
    let cases = vec![(0, v0), (1, v1), v23(2), v23(3)];
    for (encver, fields) in cases {
        let key = format!("m{encver}");
        let payload = module_payload(AI_MODEL_TYPE_ID, encver, &fields);
        let reply = c.call(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &payload]);
        assert_eq!(reply, ok_frame("OK"), "v{encver}: {reply:?}");
        let timeout = if encver >= 2 { 7 } else { 0 };
        assert_eq!(
            render(&c.cmd(&format!("AI.MODELGET {key} META"))),
            format!("{META}{timeout}]"),
            "v{encver}"
        );
        assert_eq!(
            bulk(&c.cmd(&format!("AI.MODELGET {key} BLOB"))),
            blob,
            "v{encver}"
        );
        c.cmd("AI.TENSORSET iris FLOAT 1 4 VALUES 5.1 3.5 1.4 0.2");
        let run = c.cmd(&format!(
            "AI.MODELEXECUTE {key} INPUTS 1 iris OUTPUTS 1 out"
        ));
        assert_eq!(run, ok_frame("OK"), "v{encver}");
        assert_eq!(
            render(&c.cmd("AI.TENSORGET out VALUES")),
            "*[$b'-0.090524077415466309']"
        );
        // Saved again as v4 (DUMP + RESTORE under another key) it reads the same.
        let dumped = bulk(&c.cmd(&format!("DUMP {key}")));
        assert_eq!(
            dumped[1..10],
            module_payload(AI_MODEL_TYPE_ID, 4, &[])[1..10]
        );
        let copy = format!("{key}_v4");
        assert_eq!(
            c.call(&[b"RESTORE".as_slice(), copy.as_bytes(), b"0", &dumped]),
            ok_frame("OK")
        );
        assert_eq!(
            render(&c.cmd(&format!("AI.MODELGET {copy} META"))),
            format!("{META}{timeout}]")
        );
    }
}

#[test]
fn corrupt_and_future_model_payloads_are_refused() {
    use Field::*;
    let server = Server::start();
    let mut c = server.client();
    let blob = reference("linear_iris.onnx");
    /// A v4 record of an option-less model: backend code, declared blob length and chunks.
    fn v4(backend: u64, blob_len: u64, chunks: Vec<Field<'_>>) -> Vec<Field<'_>> {
        use Field::*;
        let mut fields = vec![
            U(backend),
            S(b"CPU\0"),
            S(b""),
            U(0),
            U(0),
            U(0),
            U(0),
            U(0),
        ];
        fields.push(U(blob_len));
        fields.push(U(chunks.len() as u64));
        fields.extend(chunks);
        fields
    }
    let bad: Vec<(u64, Vec<Field>)> = vec![
        // encver 5 does not exist yet.
        (5, v4(3, 277, vec![S(&blob)])),
        // Unknown backend code.
        (4, v4(9, 277, vec![S(&blob)])),
        // Chunks that do not add up to the blob length.
        (4, v4(3, 999, vec![S(&blob)])),
        // Truncated: a chunk is announced but missing.
        (4, {
            let mut f = v4(3, 277, vec![S(&blob)]);
            f.pop();
            f
        }),
        // A blob that is not a model.
        (4, v4(3, 3, vec![S(b"abc")])),
        // A backend without a plugin here.
        (4, v4(0, 277, vec![S(&blob)])),
    ];
    for (i, (encver, fields)) in bad.iter().enumerate() {
        let payload = module_payload(AI_MODEL_TYPE_ID, *encver, fields);
        let reply = c.call(&[b"RESTORE".as_slice(), b"m", b"0", &payload]);
        assert!(is_error(&reply), "case {i} restored: {reply:?}");
    }
    assert_eq!(c.cmd("EXISTS m"), common::Frame::Integer(0));
    assert_eq!(
        render(&c.cmd("AI.INFO m")),
        "-ERR cannot find run info for key"
    );
}
