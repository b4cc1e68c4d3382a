//! ACL key patterns applied to the AI commands, through a real redis-server (Redis 7.0 ACLs).
//!
//! A user restricted to `~allowed:*` (`ACL SETUSER alice on >pw ~allowed:* +@all`), logged in on
//! its own connection, proves that:
//! - every key the AI commands report to Redis is checked against the pattern: AI.TENSORSET,
//!   AI.TENSORGET, AI.MODELSTORE, AI.MODELGET, AI.MODELDEL, AI.INFO on a key outside it;
//!   AI.MODELEXECUTE / AI.MODELRUN with the model, an input or an output outside it; AI.DAGEXECUTE
//!   (and _RO, and AI.DAGRUN) with a LOAD key, a PERSIST key, the ROUTING key or the model key
//!   of an op outside it — all are refused with the same `-NOPERM` reply Redis gives a plain GET
//!   of such a key, before the command runs;
//! - refused commands change nothing (no key written, overwritten or deleted) and are logged in
//!   ACL LOG with reason `key` and the offending key;
//! - the same commands inside the pattern work, e.g. a DAG that LOADs `allowed:x` and PERSISTs
//!   `allowed:y` running a model stored at `allowed:m`, while DAG-local tensor names (not keys)
//!   need no permission.

mod common;

use common::fixtures::{f32_blob, numbers, onnx, store_onnx};
use common::{ok_frame, render, Client, Frame, Server};

/// The stable part of Redis's refusal of a key outside the user's patterns.
const NOPERM: &str = "-NOPERM ";

fn ok(c: &mut Client, line: &str) {
    let reply = c.cmd(line);
    assert_eq!(reply, ok_frame("OK"), "{line}: {}", render(&reply));
}

/// A connection logged in as `alice`, allowed keys matching `allowed:*` only.
fn alice(server: &Server) -> Client {
    let mut admin = server.client();
    ok(&mut admin, "ACL SETUSER alice on >pw ~allowed:* +@all");
    let mut c = server.client();
    ok(&mut c, "AUTH alice pw");
    assert_eq!(render(&c.cmd("ACL WHOAMI")), "$b'alice'");
    c
}

#[test]
fn keys_outside_the_pattern_are_refused_and_left_unchanged() {
    let server = Server::start();
    let mut admin = server.client();
    let blob = onnx("batch_mul2.onnx");
    for key in ["allowed:m", "other:m"] {
        let reply = store_onnx(&mut admin, key, "CPU", &[], &blob);
        assert_eq!(reply, ok_frame("OK"), "{}", render(&reply));
    }
    ok(&mut admin, "AI.TENSORSET allowed:x FLOAT 1 3 VALUES 1 2 3");
    ok(&mut admin, "AI.TENSORSET other:x FLOAT 1 3 VALUES 4 5 6");
    ok(&mut admin, "AI.TENSORSET other:y FLOAT 1 VALUES 9");
    let mut c = alice(&server);

    // What Redis itself answers for a key outside the pattern.
    let refusal = render(&c.cmd("GET other:x"));
    eprintln!("observed: {refusal}");
    assert!(refusal.starts_with(NOPERM), "{refusal}");

    let refused = [
        // Single-key commands.
        "AI.TENSORSET other:x FLOAT 1 VALUES 0",
        "AI.TENSORSET other:new FLOAT 1 VALUES 0",
        "AI.TENSORGET other:x VALUES",
        "AI.MODELGET other:m META",
        "AI.MODELGET other:m BLOB",
        "AI.MODELDEL other:m",
        "AI.INFO other:m",
        // MODELEXECUTE: model, input or output outside the pattern.
        "AI.MODELEXECUTE other:m INPUTS 1 allowed:x OUTPUTS 1 allowed:out",
        "AI.MODELEXECUTE allowed:m INPUTS 1 other:x OUTPUTS 1 allowed:out",
        "AI.MODELEXECUTE allowed:m INPUTS 1 allowed:x OUTPUTS 1 other:y",
        "AI.MODELEXECUTE allowed:m INPUTS 1 allowed:x OUTPUTS 1 other:new",
        "AI.MODELRUN allowed:m INPUTS other:x OUTPUTS allowed:out",
        "AI.MODELRUN allowed:m INPUTS allowed:x OUTPUTS other:y",
        // DAGs: a LOAD key, a PERSIST key, the ROUTING key or an op's model key outside it.
        "AI.DAGEXECUTE LOAD 1 other:x |> AI.TENSORGET other:x VALUES",
        "AI.DAGEXECUTE LOAD 1 allowed:x PERSIST 1 other:y \
         |> AI.MODELEXECUTE allowed:m INPUTS 1 allowed:x OUTPUTS 1 other:y",
        "AI.DAGEXECUTE PERSIST 1 other:new |> AI.TENSORSET other:new FLOAT 1 VALUES 0",
        "AI.DAGEXECUTE ROUTING other:m |> AI.TENSORSET a FLOAT 1 VALUES 0 |> AI.TENSORGET a VALUES",
        "AI.DAGEXECUTE ROUTING allowed:m |> AI.TENSORSET a FLOAT 1 3 VALUES 1 2 3 \
         |> AI.MODELEXECUTE other:m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES",
        "AI.DAGEXECUTE LOAD 1 allowed:x PERSIST 1 allowed:out \
         |> AI.MODELEXECUTE other:m INPUTS 1 allowed:x OUTPUTS 1 allowed:out",
        "AI.DAGEXECUTE_RO LOAD 1 other:x |> AI.TENSORGET other:x VALUES",
        "AI.DAGEXECUTE_RO ROUTING allowed:m |> AI.TENSORSET a FLOAT 1 3 VALUES 1 2 3 \
         |> AI.MODELEXECUTE other:m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES",
        "AI.DAGRUN LOAD 1 other:x |> AI.TENSORGET other:x VALUES",
        "AI.DAGRUN |> AI.TENSORSET a FLOAT 1 3 VALUES 1 2 3 \
         |> AI.MODELRUN other:m INPUTS a OUTPUTS b |> AI.TENSORGET b VALUES",
    ];
    for line in refused {
        assert_eq!(render(&c.cmd(line)), refusal, "{line}");
    }
    let reply = store_onnx(&mut c, "other:m2", "CPU", &[], &blob);
    assert_eq!(render(&reply), refusal, "AI.MODELSTORE other:m2");
    let reply = store_onnx(&mut c, "other:m", "CPU", &["TAG", "mine"], &blob);
    assert_eq!(render(&reply), refusal, "AI.MODELSTORE other:m");

    // The refusal happened before the command ran: ACL LOG names the key.
    let log = render(&admin.cmd("ACL LOG 1"));
    assert!(log.contains("$b'reason', $b'key'"), "{log}");
    assert!(log.contains("$b'object', $b'other:m'"), "{log}");
    assert!(log.contains("$b'username', $b'alice'"), "{log}");

    // Nothing changed: no new keys, no overwritten tensor, no deleted or replaced model.
    assert_eq!(
        admin.cmd("EXISTS other:new other:m2 allowed:out a b"),
        Frame::Integer(0)
    );
    assert_eq!(
        numbers(&admin.cmd("AI.TENSORGET other:x VALUES")),
        vec![4.0, 5.0, 6.0]
    );
    assert_eq!(
        numbers(&admin.cmd("AI.TENSORGET other:y VALUES")),
        vec![9.0]
    );
    let meta = render(&admin.cmd("AI.MODELGET other:m META"));
    assert!(meta.contains("$b'tag', $b''"), "{meta}");
    assert_eq!(admin.cmd("DBSIZE"), Frame::Integer(5));
    // No refused run reached the models.
    for key in ["allowed:m", "other:m"] {
        let info = render(&admin.call(&["AI.INFO", key]));
        assert!(info.contains("$b'calls', :0"), "{info}");
    }
}

#[test]
fn the_same_commands_inside_the_pattern_work() {
    let server = Server::start();
    let mut admin = server.client();
    let blob = onnx("batch_mul2.onnx");
    let reply = store_onnx(&mut admin, "allowed:m", "CPU", &[], &blob);
    assert_eq!(reply, ok_frame("OK"), "{}", render(&reply));
    let mut c = alice(&server);

    // Alice's own model and tensors.
    let reply = store_onnx(&mut c, "allowed:own", "CPU", &["TAG", "alice"], &blob);
    assert_eq!(reply, ok_frame("OK"), "{}", render(&reply));
    let meta = render(&c.cmd("AI.MODELGET allowed:own META"));
    assert!(meta.contains("$b'tag', $b'alice'"), "{meta}");
    let args: [&[u8]; 7] = [
        b"AI.TENSORSET",
        b"allowed:x",
        b"FLOAT",
        b"1",
        b"3",
        b"BLOB",
        &f32_blob(&[1.0, 2.0, 3.0]),
    ];
    assert_eq!(c.call(&args), ok_frame("OK"));
    ok(
        &mut c,
        "AI.MODELEXECUTE allowed:own INPUTS 1 allowed:x OUTPUTS 1 allowed:out",
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET allowed:out VALUES")),
        vec![2.0, 4.0, 6.0]
    );
    ok(
        &mut c,
        "AI.MODELRUN allowed:m INPUTS allowed:out OUTPUTS allowed:out",
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET allowed:out VALUES")),
        vec![4.0, 8.0, 12.0]
    );

    // A DAG that LOADs allowed:x and PERSISTs allowed:y, running the model at allowed:m; the
    // DAG-local tensor `t` is not a key and needs no permission.
    let reply = c.cmd(
        "AI.DAGEXECUTE LOAD 1 allowed:x PERSIST 1 allowed:y \
         |> AI.MODELEXECUTE allowed:m INPUTS 1 allowed:x OUTPUTS 1 t \
         |> AI.MODELEXECUTE allowed:m INPUTS 1 t OUTPUTS 1 allowed:y |> AI.TENSORGET t VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, +OK, *[$b'2', $b'4', $b'6']]");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET allowed:y VALUES")),
        vec![4.0, 8.0, 12.0]
    );
    let reply = c.cmd(
        "AI.DAGEXECUTE ROUTING allowed:m |> AI.TENSORSET a FLOAT 1 3 VALUES 5 6 7 \
         |> AI.MODELEXECUTE allowed:m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, +OK, *[$b'10', $b'12', $b'14']]");
    let reply = c.cmd(
        "AI.DAGEXECUTE_RO LOAD 1 allowed:y |> AI.MODELEXECUTE allowed:m INPUTS 1 allowed:y \
         OUTPUTS 1 z |> AI.TENSORGET z VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, *[$b'8', $b'16', $b'24']]");
    let reply = c.cmd(
        "AI.DAGRUN LOAD 1 allowed:x |> AI.MODELRUN allowed:m INPUTS allowed:x OUTPUTS z \
         |> AI.TENSORGET z VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, *[$b'2', $b'4', $b'6']]");
    let info = render(&c.cmd("AI.INFO allowed:m"));
    assert!(info.contains("$b'calls', :6"), "{info}");
    ok(&mut c, "AI.MODELDEL allowed:own");
    // Only alice's keys were written (DAG-local names t, a, b, z are not keys).
    assert_eq!(
        admin.cmd("EXISTS allowed:m allowed:x allowed:out allowed:y"),
        Frame::Integer(4)
    );
    assert_eq!(admin.cmd("DBSIZE"), Frame::Integer(4));
}
