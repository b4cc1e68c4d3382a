//! The C API for other modules (RedisAI's low-level API, version 1; `include/redisai.h`), used
//! from C: a test module of our own (tests/llapi/llapi_test.c), compiled here with the system C
//! compiler (`$CC`, else `cc`) and loaded next to the module in a real redis-server. Its
//! commands call every exported function and check RedisAI's return values, error codes and
//! texts; these tests check what they reply and what the server then holds.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::fixtures::{onnx, store_onnx};
use common::{have_backends, ok_frame, render, Client, Frame, Server};

/// The test module, built once per test binary.
fn test_module() -> &'static PathBuf {
    static MODULE: OnceLock<PathBuf> = OnceLock::new();
    MODULE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::temp_dir().join(format!("redisai-llapi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("build dir");
        let out = dir.join("llapi_test.so");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args([
                "-shared", "-fPIC", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread",
            ])
            .arg("-I")
            .arg(root.join("include"))
            .arg("-o")
            .arg(&out)
            .arg(root.join("tests/llapi/llapi_test.c"))
            .status()
            .unwrap_or_else(|e| panic!("run {cc}: {e}"));
        assert!(status.success(), "{cc} failed to build the test module");
        out
    })
}

fn server() -> Server {
    let module = test_module().to_string_lossy().into_owned();
    Server::with(&["THREADS_PER_QUEUE", "4"], &["--loadmodule", &module])
}

/// The doubles of a reply (RESP2 bulk strings).
fn numbers(frame: &Frame) -> Vec<f64> {
    match frame {
        Frame::Array(items) => items
            .iter()
            .map(|i| {
                String::from_utf8_lossy(&common::bulk(i))
                    .parse()
                    .expect("a double")
            })
            .collect(),
        other => panic!("expected an array of doubles, got {}", render(other)),
    }
}

/// AI.INFO of a key as (field, rendered value) pairs.
fn info(c: &mut Client, key: &str) -> Vec<(String, String)> {
    let Frame::Array(items) = c.call(&["AI.INFO", key]) else {
        panic!("AI.INFO {key}")
    };
    items
        .chunks(2)
        .map(|p| {
            (
                String::from_utf8_lossy(&common::bulk(&p[0])).into_owned(),
                render(&p[1]),
            )
        })
        .collect()
}

fn field(info: &[(String, String)], name: &str) -> String {
    info.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} in {info:?}"))
}

fn ok(c: &mut Client, line: &str) {
    let reply = c.cmd(line);
    assert_eq!(reply, ok_frame("OK"), "{line}: {}", render(&reply));
}

/// A model `m` (y = 2x, batch dim) and an input `x` = [[1, 2, 3]].
fn with_model(c: &mut Client) {
    let reply = store_onnx(c, "m", "CPU", &[], &onnx("batch_mul2.onnx"));
    assert_eq!(reply, ok_frame("OK"));
    ok(c, "AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
}

#[test]
fn errors_and_tensors_through_the_c_api() {
    let server = server();
    let mut c = server.client();
    ok(&mut c, "LLAPITEST.BASIC");
    ok(&mut c, "LLAPITEST.TENSORS");

    // A tensor made in C and stored with RedisModule_ModuleTypeSetValue is a keyspace tensor.
    ok(&mut c, "LLAPITEST.STORE_TENSOR t");
    assert_eq!(render(&c.cmd("TYPE t")), "+AI_TENSOR");
    assert_eq!(
        render(&c.cmd("AI.TENSORGET t META VALUES")),
        "*[$b'dtype', $b'FLOAT', $b'shape', *[:2, :2], $b'values', *[$b'1.5', $b'2.5', $b'3.5', $b'4.5']]"
    );
    // And a keyspace tensor is a valid handle in C.
    ok(&mut c, "AI.TENSORSET k INT16 3 VALUES 7 8 9");
    assert_eq!(
        render(&c.cmd("LLAPITEST.READ_TENSOR k")),
        "*[*[:3], *[$b'7', $b'8', $b'9']]"
    );
    // Overwritten, deleted, copied: the keyspace's reference comes and goes as usual.
    ok(&mut c, "LLAPITEST.STORE_TENSOR k");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET k VALUES")),
        vec![1.5, 2.5, 3.5, 4.5]
    );
    assert_eq!(c.cmd("COPY k k2"), Frame::Integer(1));
    assert_eq!(c.cmd("DEL k t"), Frame::Integer(2));
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET k2 VALUES")),
        vec![1.5, 2.5, 3.5, 4.5]
    );
    ok(&mut c, "SET s v");
    assert_eq!(
        render(&c.cmd("LLAPITEST.STORE_TENSOR s")),
        "-WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    ok(&mut c, "LLAPITEST.KEYSPACE_ERRORS nothing s");
}

#[test]
fn models_through_the_c_api() {
    let server = server();
    let mut c = server.client();
    with_model(&mut c);

    // ModelRun on the calling thread: alone, then two contexts as one batch (checked in C).
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.MODEL_SYNC m x")),
        vec![2.0, 4.0, 6.0]
    );
    // ModelRunAsync: a run without inputs fails (its callback sees EMODELRUN), then a good one.
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.MODEL_ASYNC m x")),
        vec![2.0, 4.0, 6.0]
    );
    let stats = info(&mut c, "m");
    // Runs from C count as AI.MODELEXECUTE runs do: the sync ones (one alone, two batched; the
    // one with a NULL input never ran) and the async ones (one failed).
    assert_eq!(field(&stats, "calls"), ":5", "{stats:?}");
    assert_eq!(field(&stats, "errors"), ":1", "{stats:?}");
    assert_eq!(field(&stats, "samples"), ":4", "{stats:?}");

    // ModelCreate: stored from C, it is a model like any other.
    let blob = onnx("batch_mul2.onnx");
    let create = |c: &mut Client, key: &str, backend: &str, blob: &[u8]| {
        c.call(&[
            &b"LLAPITEST.MODEL_CREATE"[..],
            key.as_bytes(),
            backend.as_bytes(),
            blob,
        ])
    };
    assert_eq!(create(&mut c, "mc", "3", &blob), ok_frame("OK"));
    assert_eq!(
        render(&c.cmd("AI.MODELGET mc META")),
        "*[$b'backend', $b'ONNX', $b'device', $b'CPU', $b'tag', $b'from-c', $b'batchsize', :0, \
         $b'minbatchsize', :0, $b'inputs', *[$b'x'], $b'outputs', *[$b'y'], $b'minbatchtimeout', :0]"
    );
    ok(&mut c, "AI.MODELEXECUTE mc INPUTS 1 x OUTPUTS 1 y");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET y VALUES")),
        vec![2.0, 4.0, 6.0]
    );
    assert_eq!(
        render(&create(&mut c, "bad", "99", &blob)),
        "*[:11, $b'ERR Unsupported backend']"
    );
    let reply = render(&create(&mut c, "bad", "3", b"not a model"));
    assert!(reply.starts_with("*[:3, $b'"), "{reply}");
    assert_eq!(c.cmd("EXISTS bad"), Frame::Integer(0));

    // The DAG builder: its errors (checked in C), then a run with two outputs, freed by its
    // own callback.
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.DAG m x")),
        vec![2.0, 4.0, 6.0, 2.0, 2.0, 2.0]
    );
    // A failing op fails the DAG with the op's own error, as AI.MODELEXECUTE reports it.
    ok(&mut c, "AI.TENSORSET i8 INT8 2");
    let expected = render(&c.cmd("AI.MODELEXECUTE m INPUTS 1 i8 OUTPUTS 1 y8"));
    assert!(expected.starts_with('-'), "{expected}");
    assert_eq!(render(&c.cmd("LLAPITEST.DAG_ERROR m")), expected);
    // Nothing a C run does writes keys.
    assert_eq!(c.cmd("EXISTS out twos"), Frame::Integer(0));
}

#[test]
fn scripts_through_the_c_api() {
    if !have_backends("scripts_through_the_c_api", &["TORCH"]) {
        return;
    }
    let server = server();
    let mut c = server.client();
    ok(&mut c, "AI.TENSORSET a FLOAT 2 2 VALUES 2 3 2 3");
    ok(&mut c, "AI.TENSORSET b FLOAT 2 2 VALUES 2 3 2 3");
    let source = "def bar(a, b):\n    return a + b\n";
    assert_eq!(
        c.call(&["LLAPITEST.SCRIPT_CREATE", "s", source]),
        ok_frame("OK")
    );
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.SCRIPT_SYNC s bar a b")),
        vec![4.0, 6.0, 4.0, 6.0]
    );
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.SCRIPT_ASYNC s bar a b")),
        vec![4.0, 6.0, 4.0, 6.0]
    );
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.SCRIPT_DAG s bar a b")),
        vec![4.0, 6.0, 4.0, 6.0]
    );
    let reply = render(&c.cmd("LLAPITEST.SCRIPT_DAG s no_function a b"));
    assert!(reply.starts_with('-'), "{reply}");
    let reply = render(&c.call(&["LLAPITEST.SCRIPT_CREATE", "bad", "def bar(a:\n"]));
    assert!(reply.starts_with("*[:9, $b'"), "{reply}");
    // A stored script, run from C: AI.INFO counts the async runs (a failing one, a good one).
    let stored = c.call(&["AI.SCRIPTSTORE", "ss", "CPU", "ENTRY_POINTS", "1", "bar", "SOURCE", "def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + tensors[1]\n"]);
    assert_eq!(stored, ok_frame("OK"));
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.SCRIPT_ASYNC ss bar a b")),
        vec![4.0, 6.0, 4.0, 6.0]
    );
    let stats = info(&mut c, "ss");
    assert_eq!(
        (field(&stats, "calls"), field(&stats, "errors")),
        (":2".into(), ":1".into())
    );
}

#[test]
fn the_c_api_works_from_many_threads() {
    let server = server();
    let mut c = server.client();
    with_model(&mut c);
    // Clients run the model meanwhile, and the key is replaced under the threads' feet.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = server.client();
    let stop_load = std::sync::Arc::clone(&stop);
    let loader = std::thread::spawn(move || {
        let mut n = 0;
        while !stop_load.load(std::sync::atomic::Ordering::Relaxed) {
            assert_eq!(
                load.cmd("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 z"),
                ok_frame("OK")
            );
            n += 1;
        }
        n
    });
    let reply = c.cmd("LLAPITEST.THREADS m x 8 40");
    let mut other = server.client();
    assert_eq!(
        store_onnx(&mut other, "m", "CPU", &[], &onnx("batch_mul2.onnx")),
        ok_frame("OK")
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(loader.join().expect("loader") > 0);
    assert_eq!(numbers(&reply), vec![320.0, 0.0], "runs done, failures");
    // Again, with the model replaced before the threads start.
    assert_eq!(
        numbers(&c.cmd("LLAPITEST.THREADS m x 4 10")),
        vec![40.0, 0.0]
    );
}

#[test]
fn an_async_run_whose_client_disconnected() {
    let mut server = server();
    let mut c = server.client();
    with_model(&mut c);
    {
        let mut gone = server.client();
        gone.send(&["LLAPITEST.ASYNC_DISCONNECT", "m", "x"]);
        // The connection closes before the run even starts (300 ms later).
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.cmd("LLAPITEST.COMPLETED") != Frame::Integer(1) {
        assert!(Instant::now() < deadline, "the late run never completed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.alive());
    let clients = String::from_utf8_lossy(&common::bulk(&c.cmd("INFO clients"))).into_owned();
    assert!(clients.contains("blocked_clients:0"), "{clients}");
    // And a client that stays gets its answer.
    assert_eq!(render(&c.cmd("LLAPITEST.ASYNC_DISCONNECT m x")), "+DONE");
    assert_eq!(c.cmd("LLAPITEST.COMPLETED"), Frame::Integer(2));
    let _ = writeln!(std::io::stderr(), "async run after disconnect: completed");
}
