//! AI.TENSORSET / AI.TENSORGET cases beyond the golden transcripts, as a table of exact replies:
//! validation order, case-insensitivity, strtod-style numbers, STRING terminators, size limits,
//! and that a failed command leaves the key as it was.

mod common;

use common::{bulk, render, Server};

/// (command arguments, exact rendered reply)
fn table() -> Vec<(Vec<&'static [u8]>, &'static str)> {
    const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value";
    vec![
        (vec![b"SET", b"plain", b"x"], "+OK"),
        // Arity comes first, then WRONGTYPE, then everything else.
        (
            vec![b"AI.TENSORSET", b"plain", b"FOO"],
            "-ERR wrong number of arguments for 'AI.TENSORSET' command",
        ),
        (vec![b"AI.TENSORSET", b"plain", b"FOO", b"1"], WRONGTYPE),
        (vec![b"AI.TENSORGET", b"plain", b"FOO"], WRONGTYPE),
        (
            vec![b"AI.TENSORGET", b"missing", b"FOO"],
            "-ERR tensor key is empty or in a different shard",
        ),
        (
            vec![b"AI.TENSORGET", b"a", b"b", b"c", b"d"],
            "-ERR wrong number of arguments for 'AI.TENSORGET' command",
        ),
        // Keywords and dtypes are case-insensitive.
        (
            vec![b"ai.tensorset", b"t", b"uInt8", b"2", b"blob", b"\x01\x02"],
            "+OK",
        ),
        (
            vec![b"AI.TENSORGET", b"t", b"Values", b"meta"],
            "*[$b'dtype', $b'UINT8', $b'shape', *[:2], $b'values', *[:1, :2]]",
        ),
        // strtod syntax for FLOAT/DOUBLE, strict integers elsewhere.
        (
            vec![
                b"AI.TENSORSET",
                b"f",
                b"DOUBLE",
                b"5",
                b"VALUES",
                b"+1",
                b".5",
                b"0x10",
                b"1e-310",
                b"-INF",
            ],
            "+OK",
        ),
        (
            vec![b"AI.TENSORGET", b"f", b"VALUES"],
            "*[$b'1', $b'0.5', $b'16', $b'9.9999999999999694e-311', $b'-inf']",
        ),
        (
            vec![b"AI.TENSORSET", b"f", b"DOUBLE", b"1", b"VALUES", b" 1"],
            "-ERR invalid value",
        ),
        (
            vec![b"AI.TENSORSET", b"f", b"DOUBLE", b"1", b"VALUES", b"1e-400"],
            "-ERR invalid value",
        ),
        (
            vec![b"AI.TENSORSET", b"i", b"INT32", b"1", b"VALUES", b"+1"],
            "-ERR invalid value",
        ),
        (
            vec![b"AI.TENSORSET", b"i", b"INT32", b"1", b"VALUES", b"01"],
            "-ERR invalid value",
        ),
        (
            vec![b"AI.TENSORSET", b"i", b"INT32", b"+1", b"VALUES", b"1"],
            "-ERR invalid or negative value found in tensor shape",
        ),
        // A failed TENSORSET leaves the existing tensor untouched.
        (
            vec![b"AI.TENSORSET", b"f", b"FLOAT", b"1", b"VALUES", b"x"],
            "-ERR invalid value",
        ),
        (
            vec![b"AI.TENSORGET", b"f", b"META"],
            "*[$b'dtype', $b'DOUBLE', $b'shape', *[:5]]",
        ),
        // STRING elements: one trailing NUL is a terminator, a lone NUL is the empty string.
        (
            vec![
                b"AI.TENSORSET",
                b"s",
                b"STRING",
                b"3",
                b"VALUES",
                b"a\0",
                b"\0",
                b"\xff\xfe",
            ],
            "+OK",
        ),
        (
            vec![b"AI.TENSORGET", b"s", b"VALUES"],
            "*[$b'a', $b'', $b'\\xff\\xfe']",
        ),
        (
            vec![b"AI.TENSORGET", b"s", b"BLOB"],
            "$b'a\\x00\\x00\\xff\\xfe\\x00'",
        ),
        (
            vec![b"AI.TENSORSET", b"s", b"STRING", b"1", b"VALUES", b"a\0\0"],
            "-ERR C-string value contains null character",
        ),
        // Every byte of a BOOL blob is checked (RedisAI skipped the last one).
        (
            vec![b"AI.TENSORSET", b"b", b"BOOL", b"2", b"BLOB", b"\x01\x02"],
            "-ERR BOOL tensor elements must be 0 or 1",
        ),
        // Shapes too large to hold are refused, never allocated.
        (
            vec![b"AI.TENSORSET", b"big", b"UINT8", b"1000000", b"1000000"],
            "-ERR tensor size exceeds the maximum of 536870912 bytes (proto-max-bulk-len)",
        ),
        (
            vec![
                b"AI.TENSORSET",
                b"big",
                b"INT64",
                b"4294967296",
                b"4294967296",
            ],
            "-ERR tensor size exceeds the maximum of 536870912 bytes (proto-max-bulk-len)",
        ),
        (
            vec![
                b"AI.TENSORSET",
                b"big",
                b"INT64",
                b"4294967296",
                b"4294967296",
                b"BLOB",
                b"x",
            ],
            "-ERR data length does not match tensor shape and type",
        ),
        (
            vec![
                b"AI.TENSORSET",
                b"big",
                b"INT64",
                b"9223372036854775807",
                b"VALUES",
                b"1",
            ],
            "-ERR wrong number of values was given in 'AI.TENSORSET' command",
        ),
        (vec![b"EXISTS", b"big", b"b", b"i"], ":0"),
        (
            vec![b"CONFIG", b"SET", b"proto-max-bulk-len", b"1048576"],
            "+OK",
        ),
        (
            vec![b"AI.TENSORSET", b"big", b"UINT8", b"2048", b"1024"],
            "-ERR tensor size exceeds the maximum of 1048576 bytes (proto-max-bulk-len)",
        ),
        (
            vec![b"AI.TENSORSET", b"big", b"UINT8", b"1024", b"1024"],
            "+OK",
        ),
        (
            vec![b"AI.TENSORGET", b"big", b"META"],
            "*[$b'dtype', $b'UINT8', $b'shape', *[:1024, :1024]]",
        ),
    ]
}

#[test]
fn exact_replies() {
    let server = Server::start();
    let mut c = server.client();
    for (args, expected) in table() {
        assert_eq!(
            render(&c.call(&args)),
            expected,
            "{:?}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn large_blob_round_trips() {
    let server = Server::start();
    let mut c = server.client();
    let data: Vec<u8> = (0..4 * 512 * 512).map(|i: u32| (i % 251) as u8).collect();
    let set: [&[u8]; 7] = [
        b"AI.TENSORSET",
        b"img",
        b"FLOAT",
        b"1",
        b"512",
        b"512",
        b"BLOB",
    ];
    let mut args: Vec<&[u8]> = set.to_vec();
    args.push(&data);
    assert_eq!(render(&c.call(&args)), "+OK");
    assert_eq!(bulk(&c.cmd("AI.TENSORGET img BLOB")), data);
    let common::Frame::Array(values) = c.cmd("AI.TENSORGET img VALUES") else {
        panic!("VALUES")
    };
    assert_eq!(values.len(), 512 * 512);
}

#[test]
fn string_tensors_cost_their_bytes_only() {
    let server = Server::start();
    let mut c = server.client();
    // One million empty strings: the data is one NUL each; no per-element offsets are kept.
    let blob = vec![0u8; 1 << 20];
    let args: [&[u8]; 6] = [b"AI.TENSORSET", b"s", b"STRING", b"1048576", b"BLOB", &blob];
    assert_eq!(render(&c.call(&args)), "+OK");
    let common::Frame::Integer(usage) = c.cmd("MEMORY USAGE s") else {
        panic!("MEMORY USAGE")
    };
    assert!(usage < 2 << 20, "{usage} bytes for a 1 MiB STRING tensor");
    assert_eq!(render(&c.cmd("DEBUG RELOAD")), "+OK");
    assert_eq!(bulk(&c.cmd("AI.TENSORGET s BLOB")), blob);
    let common::Frame::Array(values) = c.cmd("AI.TENSORGET s VALUES") else {
        panic!("VALUES")
    };
    assert_eq!(values.len(), 1 << 20);
}

/// Overwriting a tensor replaces it in place, with the semantics of a fresh value: the TTL is
/// gone (as RedisAI, which deleted the key first), WATCH sees the change, and a copy that still
/// shares the old tensor keeps it.
#[test]
fn overwriting_a_tensor() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(render(&c.cmd("AI.TENSORSET t FLOAT 2 VALUES 1 2")), "+OK");
    assert_eq!(render(&c.cmd("EXPIRE t 1000")), ":1");
    assert_eq!(render(&c.cmd("COPY t t2")), ":1");
    assert_eq!(render(&c.cmd("AI.TENSORSET t FLOAT 2 VALUES 3 4.5")), "+OK");
    assert_eq!(render(&c.cmd("TTL t")), ":-1");
    assert_eq!(render(&c.cmd("AI.TENSORGET t VALUES")), "*[$b'3', $b'4.5']");
    assert_eq!(render(&c.cmd("AI.TENSORGET t2 VALUES")), "*[$b'1', $b'2']");

    let mut watcher = server.client();
    assert_eq!(render(&watcher.cmd("WATCH t")), "+OK");
    assert_eq!(render(&c.cmd("AI.TENSORSET t INT8 1 VALUES 7")), "+OK");
    assert_eq!(render(&watcher.cmd("MULTI")), "+OK");
    assert_eq!(render(&watcher.cmd("GET x")), "+QUEUED");
    assert_eq!(render(&watcher.cmd("EXEC")), "$nil");
    assert_eq!(render(&c.cmd("AI.TENSORGET t VALUES")), "*[:7]");

    assert_eq!(render(&c.cmd("SET s x")), "+OK");
    assert_eq!(
        render(&c.cmd("AI.TENSORSET s FLOAT 1 VALUES 1")),
        "-WRONGTYPE Operation against a key holding the wrong kind of value"
    );
}

/// RESP2 clients get FLOAT and DOUBLE values as `%.17g` bulk strings (formatted by the module),
/// RESP3 clients as doubles (formatted by the server: Redis 7.0 with `%.17g`, Redis 8 and
/// Valkey 8 with the shortest text that reads back as the same double).
#[test]
fn values_in_resp3_are_doubles() {
    use std::io::{Read, Write};
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        render(&c.cmd("AI.TENSORSET t DOUBLE 3 VALUES 1 0.1 -2.5e-7")),
        "+OK"
    );
    assert_eq!(
        render(&c.cmd("AI.TENSORGET t VALUES")),
        "*[$b'1', $b'0.10000000000000001', $b'-2.4999999999999999e-07']"
    );
    let expected: &[u8] = match common::server_kind(&mut c) {
        ("redis", 7, 0) => b"*3\r\n,1\r\n,0.10000000000000001\r\n,-2.4999999999999999e-07\r\n",
        // Redis 8.2.3 and Valkey 8.0.1 seen here.
        _ => b"*3\r\n,1\r\n,0.1\r\n,-2.5e-7\r\n",
    };
    let mut raw = std::os::unix::net::UnixStream::connect(server.socket()).expect("connect");
    raw.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    raw.write_all(b"HELLO 3\r\nAI.TENSORGET t VALUES\r\nPING\r\n")
        .expect("send");
    // Everything up to PING's reply: HELLO's map, then the tensor's array.
    let mut received = Vec::new();
    while !received.ends_with(b"+PONG\r\n") {
        let mut chunk = [0u8; 4096];
        let n = raw
            .read(&mut chunk)
            .unwrap_or_else(|e| panic!("{e}; got {}", String::from_utf8_lossy(&received)));
        assert!(n > 0, "closed; got {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&chunk[..n]);
    }
    let tail = &received[..received.len() - b"+PONG\r\n".len()];
    assert!(
        tail.ends_with(expected),
        "expected {} at the end of {}",
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(&received)
    );
}
