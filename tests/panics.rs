//! A panic inside a backend never crosses the plugin ABI nor kills a worker: it becomes an error
//! reply, and the server, its workers and the other models carry on. The panicking backend is the
//! workspace's test plugin (backends/testing), loaded into the otherwise unused TORCH slot.

mod common;

use std::path::PathBuf;

use common::{ok_frame, render, Server};

/// The test plugin, built by `cargo test --workspace` (and `make test`).
fn test_plugin() -> PathBuf {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/debug/libredisai_test_backend.so");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p redisai-test-backend` (make test does)",
        path.display()
    );
    path
}

#[test]
fn backend_panics_become_error_replies() {
    // The test plugin lives in target/, outside BACKENDSPATH.
    let mut server = Server::with(&["UNRESTRICTED_LOADBACKEND", "yes"], &[]);
    let mut c = server.client();
    let plugin = test_plugin();
    let load = c.call(&[
        "AI.CONFIG",
        "LOADBACKEND",
        "TORCH",
        plugin.to_str().unwrap(),
    ]);
    assert_eq!(load, ok_frame("OK"));
    // A panic while creating a model.
    let reply = render(&c.cmd("AI.MODELSTORE m TORCH CPU BLOB panic"));
    assert!(
        reply.starts_with("-ERR backend panicked: the test backend was asked to panic"),
        "{reply}"
    );
    assert_eq!(c.cmd("EXISTS m"), common::Frame::Integer(0));
    // A panic while running, alone and inside a DAG; the worker survives both.
    assert_eq!(
        c.cmd("AI.MODELSTORE m TORCH CPU BLOB identity"),
        ok_frame("OK")
    );
    c.cmd("AI.TENSORSET bad FLOAT 2 VALUES -1 2");
    c.cmd("AI.TENSORSET good FLOAT 2 VALUES 1 2");
    for _ in 0..3 {
        let reply = render(&c.cmd("AI.MODELEXECUTE m INPUTS 1 bad OUTPUTS 1 out"));
        assert!(reply.starts_with("-ERR backend panicked"), "{reply}");
        assert_eq!(
            c.cmd("AI.MODELEXECUTE m INPUTS 1 good OUTPUTS 1 out"),
            ok_frame("OK")
        );
    }
    let dag = render(&c.cmd(
        "AI.DAGEXECUTE LOAD 2 bad good |> AI.MODELEXECUTE m INPUTS 1 bad OUTPUTS 1 a \
         |> AI.MODELEXECUTE m INPUTS 1 good OUTPUTS 1 b |> AI.TENSORGET a VALUES",
    ));
    assert!(dag.starts_with("*[-ERR backend panicked"), "{dag}");
    assert!(dag.ends_with(", +NA]"), "{dag}");
    assert!(render(&c.cmd("AI.INFO m")).contains("$b'errors', :4"));
    assert_eq!(render(&c.cmd("AI.TENSORGET out VALUES")), "*[$b'1', $b'2']");
    assert!(server.alive());
}
