//! Persistence of AI_TENSOR values through a real redis-server: RESTORE of the DUMP payloads the
//! original RedisAI wrote (byte-identical DUMP back), hand-built payloads of the old encoding
//! versions 0-3, DEBUG RELOAD, SAVE + restart, AOF rewrite + restart (with and without the RDB
//! preamble), COPY, MEMORY USAGE and corrupt payloads.

mod common;

use common::payload::{module_part, module_payload, Field, AI_TENSOR_TYPE_ID};
use common::{bulk, golden_dir, render, unhex, Frame, Server};

const OK: &str = "+OK";

/// One tensor per dtype, plus a 0-d tensor, a zero-filled one and a STRING tensor from VALUES.
const TENSORS: &[&str] = &[
    "AI.TENSORSET t_float FLOAT 2 2 VALUES 1.5 -2 3.25 1e39",
    "AI.TENSORSET t_double DOUBLE 3 VALUES 0.1 -1.7976931348623157e308 inf",
    "AI.TENSORSET t_int8 INT8 2 VALUES 0 127",
    "AI.TENSORSET t_int16 INT16 2 VALUES 1000 32767",
    "AI.TENSORSET t_int32 INT32 1 2 1 VALUES 7 2147483647",
    "AI.TENSORSET t_int64 INT64 1 VALUES 9223372036854775807",
    "AI.TENSORSET t_uint8 UINT8 4 VALUES 0 1 200 255",
    "AI.TENSORSET t_uint16 UINT16 2 VALUES 40000 65535",
    "AI.TENSORSET t_bool BOOL 3 VALUES 1 0 1",
    "AI.TENSORSET t_string STRING 3 VALUES alpha b gamma",
    "AI.TENSORSET t_scalar FLOAT VALUES 3.5",
    "AI.TENSORSET t_zeros INT32 5",
    "AI.TENSORSET t_strzero STRING 2",
];

fn populate(server: &Server) -> Vec<(String, String)> {
    let mut c = server.client();
    TENSORS
        .iter()
        .map(|line| {
            assert_eq!(render(&c.cmd(line)), OK, "{line}");
            let key = line.split(' ').nth(1).unwrap().to_string();
            (key.clone(), snapshot(server, &key))
        })
        .collect()
}

/// Everything a client can read of a tensor key.
fn snapshot(server: &Server, key: &str) -> String {
    let mut c = server.client();
    let meta_blob = render(&c.call(&["AI.TENSORGET", key, "META", "BLOB"]));
    let values = render(&c.call(&["AI.TENSORGET", key, "VALUES"]));
    let kind = render(&c.call(&["TYPE", key]));
    format!("{kind} {meta_blob} {values}")
}

fn assert_unchanged(server: &Server, expected: &[(String, String)]) {
    for (key, snap) in expected {
        assert_eq!(&snapshot(server, key), snap, "{key}");
    }
}

#[test]
fn debug_reload_and_save_restart_keep_every_tensor() {
    let mut server = Server::start();
    let expected = populate(&server);
    assert!(
        expected[0]
            .1
            .starts_with("+AI_TENSOR *[$b'dtype', $b'FLOAT'"),
        "{}",
        expected[0].1
    );
    assert_eq!(render(&server.client().cmd("DEBUG RELOAD")), OK);
    assert_unchanged(&server, &expected);
    assert_eq!(render(&server.client().cmd("SAVE")), OK);
    server.restart("NOSAVE", &[]);
    assert_eq!(
        render(&server.client().cmd("DBSIZE")),
        format!(":{}", TENSORS.len())
    );
    assert_unchanged(&server, &expected);
}

fn aof_round_trip(preamble: &str) {
    let flags = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
    let mut server = Server::with(&[], &flags);
    let expected = populate(&server);
    let mut c = server.client();
    assert!(render(&c.cmd("BGREWRITEAOF")).starts_with('+'));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let info = bulk(&c.cmd("INFO persistence"));
        let info = String::from_utf8_lossy(&info);
        if info.contains("aof_rewrite_in_progress:0")
            && info.contains("aof_rewrite_scheduled:0")
            && info.contains("aof_last_bgrewrite_status:ok")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "AOF rewrite did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if preamble == "no" {
        let base = base_aof(&server);
        assert!(
            base.windows(14).any(|w| w == b"\r\nAI.TENSORSET"),
            "no AI.TENSORSET in the rewritten AOF"
        );
    }
    // Keys written after the rewrite land in the incremental file.
    assert_eq!(render(&c.cmd("AI.TENSORSET after FLOAT 1 VALUES 2")), OK);
    drop(c);
    server.restart("NOSAVE", &flags);
    assert_unchanged(&server, &expected);
    assert_eq!(
        render(&server.client().cmd("AI.TENSORGET after VALUES")),
        "*[$b'2']"
    );
}

fn base_aof(server: &Server) -> Vec<u8> {
    let dir = server.dir().join("appendonlydir");
    let base = std::fs::read_dir(&dir)
        .expect("appendonlydir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().contains(".base."))
        .expect("a base AOF file");
    std::fs::read(base.path()).unwrap()
}

#[test]
fn aof_rewrite_without_preamble_replays() {
    aof_round_trip("no");
}

#[test]
fn aof_rewrite_with_rdb_preamble_replays() {
    aof_round_trip("yes");
}

#[test]
fn aof_tensor_command_matches_redisai() {
    let golden = std::fs::read(golden_dir().join("aof-rewrite-example.aof")).unwrap();
    let expected: &[u8] =
        b"*6\r\n$12\r\nAI.TENSORSET\r\n$8\r\na_tensor\r\n$5\r\nFLOAT\r\n$1\r\n2\r\n$4\r\nBLOB\r\n$8\r\n\x00\x00\x80?\x00\x00\x00@\r\n";
    assert!(
        golden.windows(expected.len()).any(|w| w == expected),
        "RedisAI's AOF holds this command"
    );
    let flags = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let server = Server::with(&[], &flags);
    let mut c = server.client();
    assert_eq!(
        render(&c.cmd("AI.TENSORSET a_tensor FLOAT 2 VALUES 1 2")),
        OK
    );
    c.cmd("BGREWRITEAOF");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !base_aof(&server)
        .windows(expected.len())
        .any(|w| w == expected)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "rewritten AOF lacks {:?}",
            String::from_utf8_lossy(expected)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn redisai_dump_payloads_restore_and_dump_back_identically() {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("dump-payloads.json")).unwrap(),
    )
    .unwrap();
    let server = Server::start();
    let mut c = server.client();
    let mut checked = 0;
    for (key, entry) in json.as_object().unwrap() {
        if entry["type"] != "AI_TENSOR" {
            continue;
        }
        let payload = unhex(entry["hex"].as_str().unwrap());
        assert_eq!(
            render(&c.call(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &payload])),
            OK,
            "{key}"
        );
        let contents = &entry["contents"];
        let reply = c.call(&["AI.TENSORGET", key, "META", "BLOB"]);
        let Frame::Array(fields) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(
            bulk(&fields[1]),
            contents["dtype"].as_str().unwrap().as_bytes(),
            "{key}"
        );
        let shape: Vec<i64> = contents["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_i64().unwrap())
            .collect();
        assert_eq!(
            fields[3],
            Frame::Array(shape.into_iter().map(Frame::Integer).collect()),
            "{key}"
        );
        assert_eq!(
            bulk(&fields[5]),
            unhex(contents["blob_hex"].as_str().unwrap()),
            "{key}"
        );
        let values: Vec<Frame> = contents["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| match v {
                serde_json::Value::Number(n) => Frame::Integer(n.as_i64().unwrap()),
                serde_json::Value::String(s) => Frame::BulkString(s.as_bytes().to_vec()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            c.call(&["AI.TENSORGET", key, "VALUES"]),
            Frame::Array(values),
            "{key}"
        );
        assert_eq!(
            module_part(&bulk(&c.call(&["DUMP", key]))),
            module_part(&payload),
            "DUMP of {key} differs from RedisAI's"
        );
        checked += 1;
    }
    assert_eq!(checked, 13);
}

/// A DUMP payload of an AI_TENSOR value of encoding version `encver` made of `fields`.
fn payload(encver: u64, fields: &[Field]) -> Vec<u8> {
    module_payload(AI_TENSOR_TYPE_ID, encver, fields)
}

#[test]
fn payload_builder_matches_redisai() {
    use Field::*;
    let blob = unhex("0000c03f000000c00000504000000000");
    let golden = unhex("0781008fd310d48e44040202022002020202020205100000c03f000000c00000504000000000000a00f4125064d6ad1a49");
    assert_eq!(
        payload(4, &[U(2), U(32), U(2), U(2), U(2), S(&blob)]),
        golden
    );
}

#[test]
fn old_encoding_versions_restore() {
    use Field::*;
    let server = Server::start();
    let mut c = server.client();
    let floats = unhex("0000c03f000000c00000504000000000");
    for encver in 0..=3 {
        // device CPU(1), id 0, bits, code, lanes, ndim, shape, strides, byte offset, data
        let p = payload(
            encver,
            &[
                U(1),
                U(0),
                U(32),
                U(2),
                U(1),
                U(2),
                U(2),
                U(2),
                U(2),
                U(1),
                U(0),
                S(&floats),
            ],
        );
        let key = format!("old{encver}");
        assert_eq!(
            render(&c.call(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &p])),
            OK,
            "v{encver}"
        );
        assert_eq!(
            render(&c.call(&["AI.TENSORGET", &key, "META", "VALUES"])),
            "*[$b'dtype', $b'FLOAT', $b'shape', *[:2, :2], $b'values', *[$b'1.5', $b'-2', $b'3.25', $b'0']]"
        );
        let i16s = unhex("0080ffff");
        let p = payload(
            encver,
            &[
                U(1),
                U(0),
                U(16),
                U(0),
                U(1),
                U(1),
                U(2),
                U(1),
                U(0),
                S(&i16s),
            ],
        );
        assert_eq!(
            render(&c.call(&[b"RESTORE".as_slice(), b"i16", b"0", &p, b"REPLACE"])),
            OK
        );
        assert_eq!(render(&c.cmd("AI.TENSORGET i16 VALUES")), "*[:-32768, :-1]");
        // Re-saved as version 4: the DUMP restores as the same tensor.
        let dumped = bulk(&c.call(&["DUMP", &key]));
        assert_eq!(
            dumped[1..10],
            [0x81, 0x00, 0x8f, 0xd3, 0x10, 0xd4, 0x8e, 0x44, 0x04]
        );
    }
}

#[test]
fn corrupt_payloads_are_refused_and_the_server_survives() {
    use Field::*;
    let mut server = Server::start();
    let mut c = server.client();
    let bad: Vec<Vec<u8>> = vec![
        payload(4, &[U(2), U(32), U(2), U(2), U(2), S(&[0; 15])]), // data too short
        payload(4, &[U(9), U(32), U(1), U(1), S(&[0; 4])]),        // unknown dtype
        payload(4, &[U(2), U(32), U(u64::MAX), U(1), S(&[0; 4])]), // negative rank
        payload(4, &[U(7), U(8), U(1), U(2), S(b"a\0b\0"), U(0), U(1)]), // bad string offsets
        payload(4, &[U(7), U(8), U(1), U(u64::MAX >> 1), S(b"a\0")]), // huge string count
        payload(
            2,
            &[
                U(2),
                U(0),
                U(32),
                U(2),
                U(1),
                U(1),
                U(1),
                U(1),
                U(0),
                S(&[0; 4]),
            ],
        ), // GPU device
        payload(4, &[U(2), U(32)]),                                // truncated
        payload(5, &[U(2), U(32), U(0), S(&[0; 4])]),              // future version
    ];
    for (i, p) in bad.iter().enumerate() {
        let reply = render(&c.call(&[b"RESTORE".as_slice(), b"bad", b"0", p]));
        assert!(reply.starts_with("-ERR"), "payload {i}: {reply}");
    }
    assert_eq!(render(&c.cmd("EXISTS bad")), ":0");
    assert!(server.alive());
}

#[test]
fn copy_memory_usage_type_and_delete() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        render(&c.cmd("AI.TENSORSET src FLOAT 1000 VALUES 1 2")),
        "-ERR wrong number of values was given in 'AI.TENSORSET' command"
    );
    assert_eq!(render(&c.cmd("AI.TENSORSET src UINT8 1000")), OK);
    let Frame::Integer(usage) = c.cmd("MEMORY USAGE src") else {
        panic!("MEMORY USAGE")
    };
    assert!((1000..4000).contains(&usage), "{usage}");
    assert_eq!(render(&c.cmd("COPY src dst")), ":1");
    assert_eq!(
        c.cmd("AI.TENSORGET dst META BLOB"),
        c.cmd("AI.TENSORGET src META BLOB")
    );
    assert_eq!(render(&c.cmd("TYPE dst")), "+AI_TENSOR");
    assert_eq!(render(&c.cmd("DEL src dst")), ":2");
    assert_eq!(
        render(&c.cmd("AI.TENSORGET dst")),
        "-ERR tensor key is empty or in a different shard"
    );
    // Overwriting keeps the type; TENSORSET inside MULTI works (it does not block).
    assert_eq!(render(&c.cmd("MULTI")), OK);
    assert_eq!(render(&c.cmd("AI.TENSORSET m INT8 1 VALUES 5")), "+QUEUED");
    assert_eq!(render(&c.cmd("AI.TENSORGET m VALUES")), "+QUEUED");
    assert_eq!(render(&c.cmd("EXEC")), "*[+OK, *[:5]]");
    let script = "return redis.call('AI.TENSORGET', KEYS[1], 'VALUES')";
    assert_eq!(render(&c.call(&["EVAL", script, "1", "m"])), "*[:5]");
}
