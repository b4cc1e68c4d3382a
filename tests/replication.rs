//! Replication and AOF of every type this release has (tensors of all dtypes, ONNX/TF/TFLITE
//! models): a replica attached after the data exists gets all of it by full sync, then follows
//! the master's writes (stores, deletes, execution outputs as AI.TENSORSET); an AOF with the RDB
//! preamble brings everything back after a restart.

mod common;

use std::time::{Duration, Instant};

use common::fixtures::{onnx, reference, set_one_image, store_model, store_onnx};
use common::{bulk, ok_frame, render, Client, Frame, Server};

/// Every key with a description that must be equal on both sides (META + data).
fn state(c: &mut Client) -> Vec<(String, String)> {
    let keys = match c.cmd("KEYS *") {
        Frame::Array(keys) => keys,
        // e.g. -LOADING while a replica loads the master's RDB.
        other => return vec![("KEYS".into(), render(&other))],
    };
    let mut keys: Vec<String> = keys
        .iter()
        .map(|k| String::from_utf8(bulk(k)).unwrap())
        .collect();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let kind = render(&c.cmd(&format!("TYPE {k}")));
            let value = match kind.as_str() {
                "+AI_TENSOR" => render(&c.cmd(&format!("AI.TENSORGET {k} META BLOB"))),
                "+AI__MODEL" => render(&c.cmd(&format!("AI.MODELGET {k} META BLOB"))),
                _ => render(&c.cmd(&format!("DUMP {k}"))),
            };
            (k, value)
        })
        .collect()
}

fn populate(c: &mut Client) {
    for (dtype, values) in [
        ("FLOAT", "1.5 2"),
        ("DOUBLE", "1.5 2"),
        ("INT8", "1 2"),
        ("INT16", "1 2"),
        ("INT32", "1 2"),
        ("INT64", "1 2"),
        ("UINT8", "1 2"),
        ("UINT16", "1 2"),
        ("BOOL", "1 0"),
        ("STRING", "a bc"),
    ] {
        let reply = c.cmd(&format!("AI.TENSORSET t_{dtype} {dtype} 2 VALUES {values}"));
        assert_eq!(reply, ok_frame("OK"), "{dtype}");
    }
    assert_eq!(
        store_onnx(c, "m_onnx", "CPU", &["TAG", "v1"], &reference("mnist.onnx")),
        ok_frame("OK")
    );
    let graph = reference("graph.pb");
    let io = ["INPUTS", "2", "a", "b", "OUTPUTS", "1", "mul"];
    assert_eq!(
        store_model(c, "m_tf", "TF", "CPU", &io, &graph),
        ok_frame("OK")
    );
    let tflite = reference("mnist_model_quant.tflite");
    assert_eq!(
        store_model(c, "m_tflite", "TFLITE", "CPU", &[], &tflite),
        ok_frame("OK")
    );
    set_one_image(c, "img");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_late_replica_gets_everything_then_follows_writes_and_outputs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master = Server::with(&[], &["--port", &port.to_string()]);
    let mut m = master.client();
    populate(&mut m);
    let replica = Server::start();
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&format!("REPLICAOF 127.0.0.1 {port}")),
        ok_frame("OK")
    );
    let expected = state(&mut m);
    wait_until("full sync", || state(&mut r) == expected);
    // Then writes: an execution's outputs, a DAG's PERSIST, a delete, a new model.
    assert_eq!(
        m.cmd("AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 scores"),
        ok_frame("OK")
    );
    let dag = m.cmd(
        "AI.DAGEXECUTE LOAD 1 t_FLOAT PERSIST 1 prod |> \
         AI.MODELEXECUTE m_tf INPUTS 2 t_FLOAT t_FLOAT OUTPUTS 1 prod",
    );
    assert_eq!(render(&dag), "*[+OK]");
    assert_eq!(m.cmd("AI.MODELDEL m_tflite"), ok_frame("OK"));
    assert_eq!(
        store_onnx(&mut m, "m_new", "CPU:1", &[], &onnx("batch_mul2.onnx")),
        ok_frame("OK")
    );
    let expected = state(&mut m);
    wait_until("replication of writes", || state(&mut r) == expected);
    assert_eq!(
        render(&r.cmd("AI.TENSORGET prod VALUES")),
        "*[$b'2.25', $b'4']"
    );
    // The replica rebuilt the models: read-only DAGs run there.
    let ro = r.cmd("AI.DAGEXECUTE_RO LOAD 1 img |> AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 s |> AI.TENSORGET s BLOB");
    assert_eq!(
        ro,
        Frame::Array(vec![ok_frame("OK"), m.cmd("AI.TENSORGET scores BLOB")])
    );
}

#[test]
fn an_aof_with_the_rdb_preamble_brings_every_type_back() {
    let mut server = Server::start();
    let mut c = server.client();
    populate(&mut c);
    let expected = state(&mut c);
    assert_eq!(c.cmd("CONFIG SET aof-use-rdb-preamble yes"), ok_frame("OK"));
    assert_eq!(c.cmd("CONFIG SET appendonly yes"), ok_frame("OK"));
    wait_until("the AOF rewrite", || {
        let info = String::from_utf8(bulk(&c.cmd("INFO persistence"))).unwrap();
        info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
    });
    // A write after the rewrite goes to the incremental file and comes back too.
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 scores"),
        ok_frame("OK")
    );
    let expected_after = state(&mut c);
    assert_ne!(expected, expected_after);
    drop(c);
    server.restart(
        "NOSAVE",
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"],
    );
    let mut c = server.client();
    assert_eq!(state(&mut c), expected_after);
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 again"),
        ok_frame("OK")
    );
    assert_eq!(
        bulk(&c.cmd("AI.TENSORGET again BLOB")),
        bulk(&c.cmd("AI.TENSORGET scores BLOB"))
    );
}
