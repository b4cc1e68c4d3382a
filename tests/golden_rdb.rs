//! The RDB file the original RedisAI 1.2.7 saved with one key of every kind
//! (tests/golden/redisai-1.2.7-all-types.rdb: 13 tensors of all ten dtypes, an ONNX, a TF and a
//! TORCH model and a TorchScript script), through a real server. Its contents are taken from
//! tests/golden/rdb-contents.md, which the test parses (and checks against the DUMP payloads of
//! the same keys):
//! - loaded at start-up, all 17 keys read back exactly as the original served them (TYPE,
//!   TENSORGET META BLOB and VALUES, MODELGET META and the BLOB's length and digest, SCRIPTGET),
//!   the scan lists and run statistics exist, and the TF and TORCH models and the script's four
//!   entry points run, alone and in a DAG;
//! - SAVEd by this module and loaded again, everything reads the same and runs the same;
//! - a replica attached to a master started on that file gets the 17 keys by full sync and runs
//!   the TORCH model in a read-only DAG.

mod common;

use std::time::{Duration, Instant};

use common::golden_keys::{assert_golden_keys, differences, rdb_contents, Contents, GoldenKey};
use common::{bulk, golden_dir, ok_frame, render, unhex, Client, Frame, Server};
use serde_json::Value;

const GOLDEN_RDB: &str = "redisai-1.2.7-all-types.rdb";

/// Commands run on the golden keys and the reply each must get, in order (x is set first).
/// The ONNX model is not run: its MINBATCHSIZE 2 makes a lone request wait for a batch.
const RUNS: [(&str, &str); 17] = [
    // Run statistics exist from the load on, empty.
    (
        "AI.INFO s_script",
        "*[$b'key', $b's_script', $b'type', $b'SCRIPT', $b'backend', $b'TORCH', $b'device', \
         $b'CPU', $b'tag', $b'st1', $b'duration', :0, $b'samples', :-1, $b'calls', :0, \
         $b'errors', :0]",
    ),
    (
        "AI.INFO m_torch",
        "*[$b'key', $b'm_torch', $b'type', $b'MODEL', $b'backend', $b'TORCH', $b'device', \
         $b'CPU', $b'tag', $b'', $b'duration', :0, $b'samples', :0, $b'calls', :0, \
         $b'errors', :0]",
    ),
    ("AI._SCRIPTSCAN", "*[*[$b's_script', $b'st1']]"),
    ("AI.TENSORSET x FLOAT 2 2 VALUES 1 2 3 4", "+OK"),
    // pt-minimal.pt: a + b.
    (
        "AI.MODELEXECUTE m_torch INPUTS 2 x x OUTPUTS 1 o_torch",
        "+OK",
    ),
    (
        "AI.TENSORGET o_torch VALUES",
        "*[$b'2', $b'4', $b'6', $b'8']",
    ),
    // graph.pb: a * b, with t_float = [1.5, -2, 3.25, 0].
    (
        "AI.MODELEXECUTE m_tf INPUTS 2 t_float x OUTPUTS 1 o_tf",
        "+OK",
    ),
    (
        "AI.TENSORGET o_tf VALUES",
        "*[$b'1.5', $b'-4', $b'9.75', $b'0']",
    ),
    // The script's four entry points.
    (
        "AI.SCRIPTEXECUTE s_script bar INPUTS 2 t_float x OUTPUTS 1 o_bar",
        "+OK",
    ),
    (
        "AI.TENSORGET o_bar VALUES",
        "*[$b'2.5', $b'0', $b'6.25', $b'4']",
    ),
    (
        "AI.SCRIPTEXECUTE s_script bar_variadic INPUTS 2 t_float x OUTPUTS 1 o_var",
        "+OK",
    ),
    (
        "AI.TENSORGET o_var VALUES",
        "*[$b'1.5', $b'-4', $b'9.75', $b'0']",
    ),
    (
        "AI.SCRIPTEXECUTE s_script scale INPUTS 1 x ARGS 1 3 OUTPUTS 1 o_scale",
        "+OK",
    ),
    (
        "AI.TENSORGET o_scale VALUES",
        "*[$b'3', $b'6', $b'9', $b'12']",
    ),
    (
        "AI.SCRIPTEXECUTE s_script two_out INPUTS 2 t_float x OUTPUTS 2 o_sum o_diff",
        "+OK",
    ),
    (
        "AI.TENSORGET o_diff VALUES",
        "*[$b'0.5', $b'-4', $b'0.25', $b'-4']",
    ),
    // Script and models together in a DAG: (x + x) * x, then a + b.
    (
        "AI.DAGEXECUTE LOAD 1 x PERSIST 1 o_dag |> \
         AI.SCRIPTEXECUTE s_script bar INPUTS 2 x x OUTPUTS 1 y |> \
         AI.MODELEXECUTE m_tf INPUTS 2 y x OUTPUTS 1 z |> \
         AI.MODELEXECUTE m_torch INPUTS 2 z x OUTPUTS 1 o_dag |> AI.TENSORGET o_dag VALUES",
        "*[+OK, +OK, +OK, *[$b'3', $b'10', $b'21', $b'36']]",
    ),
];

/// Keys the runs create: x and the outputs.
const CREATED: [&str; 9] = [
    "x", "o_torch", "o_tf", "o_bar", "o_var", "o_scale", "o_sum", "o_diff", "o_dag",
];

fn golden_rdb() -> Vec<u8> {
    std::fs::read(golden_dir().join(GOLDEN_RDB)).expect("the golden RDB")
}

/// A server that loads the golden RDB at start-up (as its `dump.rdb`).
fn server_on_golden_rdb(extra: &[&str]) -> Server {
    Server::with_files(&[], extra, &[("dump.rdb", &golden_rdb())])
}

fn run_all(c: &mut Client, when: &str) {
    for (command, expected) in RUNS {
        let got = render(&c.cmd(command));
        assert_eq!(got, expected, "{when}: {command}");
    }
}

fn dbsize(c: &mut Client) -> i64 {
    match c.cmd("DBSIZE") {
        Frame::Integer(n) => n,
        other => panic!("DBSIZE: {other:?}"),
    }
}

/// What dump-payloads.json records as a key's contents, in the shape of [`Contents`].
fn contents_from_json(kind: &str, c: &Value) -> Contents {
    let s = |v: &Value| v.as_str().expect("a string").to_string();
    let strings = |v: &Value| v.as_array().expect("a list").iter().map(s).collect();
    let int = |v: &Value| v.as_i64().expect("an integer");
    match kind {
        "AI_TENSOR" => Contents::Tensor {
            dtype: s(&c["dtype"]),
            shape: c["shape"].as_array().unwrap().iter().map(int).collect(),
            values: c["values"].as_array().unwrap().clone(),
            blob: unhex(c["blob_hex"].as_str().unwrap()),
        },
        "AI__MODEL" => Contents::Model {
            backend: s(&c["backend"]),
            device: s(&c["device"]),
            tag: s(&c["tag"]),
            batchsize: int(&c["batchsize"]),
            minbatchsize: int(&c["minbatchsize"]),
            minbatchtimeout: int(&c["minbatchtimeout"]),
            inputs: strings(&c["inputs"]),
            outputs: strings(&c["outputs"]),
            blob_len: int(&c["blob_len"]) as usize,
            blob_sha256: s(&c["blob_sha256"]),
        },
        _ => Contents::Script {
            device: s(&c["device"]),
            tag: s(&c["tag"]),
            entry_points: strings(&c["Entry Points"]),
            source: s(&c["source"]),
        },
    }
}

#[test]
fn the_parsed_description_agrees_with_the_dump_payloads() {
    let keys = rdb_contents();
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("dump-payloads.json")).unwrap(),
    )
    .unwrap();
    let json = json.as_object().unwrap();
    assert_eq!(keys.len(), 17);
    assert_eq!(json.len(), 17);
    for key in &keys {
        let entry = &json[&key.name];
        assert_eq!(
            entry["type"].as_str(),
            Some(key.kind.as_str()),
            "{}",
            key.name
        );
        let recorded = contents_from_json(&key.kind, &entry["contents"]);
        assert_eq!(key.contents, recorded, "{}", key.name);
    }
    let kinds = |k: &str| keys.iter().filter(|g| g.kind == k).count();
    assert_eq!(
        (kinds("AI_TENSOR"), kinds("AI__MODEL"), kinds("AI_SCRIPT")),
        (13, 3, 1)
    );
}

#[test]
fn the_golden_rdb_loads_whole_runs_and_survives_our_save() {
    needs!(
        "the_golden_rdb_loads_whole_runs_and_survives_our_save",
        "TF",
        "TORCH"
    );
    let keys = rdb_contents();
    let mut server = server_on_golden_rdb(&[]);
    let mut c = server.client();
    assert_eq!(dbsize(&mut c), 17);
    assert_golden_keys(&mut c, &keys, "after loading RedisAI's RDB");
    let models = match c.cmd("AI._MODELSCAN") {
        Frame::Array(items) => {
            let mut rows: Vec<String> = items.iter().map(render).collect();
            rows.sort();
            rows
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        models,
        [
            "*[$b'm_onnx', $b'iris:v1']",
            "*[$b'm_tf', $b'']",
            "*[$b'm_torch', $b'']"
        ]
    );
    run_all(&mut c, "after loading RedisAI's RDB");
    let outputs: Vec<Frame> = CREATED
        .iter()
        .map(|k| c.call(&["AI.TENSORGET", k, "META", "BLOB"]))
        .collect();
    assert_eq!(dbsize(&mut c), 17 + CREATED.len() as i64);
    // Saved by this module (RDB of its own), loaded again.
    assert_eq!(c.cmd("SAVE"), ok_frame("OK"));
    let saved = std::fs::read(server.dir().join("dump.rdb")).unwrap();
    assert_ne!(saved, golden_rdb(), "SAVE did not write a new file");
    drop(c);
    server.restart("NOSAVE", &[]);
    let mut c = server.client();
    assert_eq!(dbsize(&mut c), 17 + CREATED.len() as i64);
    assert_golden_keys(&mut c, &keys, "after SAVE and restart");
    for (key, before) in CREATED.iter().zip(&outputs) {
        assert_eq!(
            &c.call(&["AI.TENSORGET", key, "META", "BLOB"]),
            before,
            "{key}"
        );
    }
    run_all(&mut c, "after SAVE and restart");
    // A second round trip through our own file changes nothing either.
    assert_eq!(c.cmd("DEBUG RELOAD"), ok_frame("OK"));
    assert_golden_keys(&mut c, &keys, "after DEBUG RELOAD");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_replica_of_a_master_on_the_golden_rdb_gets_every_key() {
    needs!(
        "a_replica_of_a_master_on_the_golden_rdb_gets_every_key",
        "TF",
        "TORCH"
    );
    let keys: Vec<GoldenKey> = rdb_contents();
    let port = free_port();
    let master = server_on_golden_rdb(&["--port", &port.to_string()]);
    let replica = Server::start();
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&format!("REPLICAOF 127.0.0.1 {port}")),
        ok_frame("OK")
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let diffs = differences(&mut r, &keys);
        if diffs.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never got the golden keys:\n{}",
            diffs.join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(dbsize(&mut r), 17);
    let info = String::from_utf8(bulk(&r.cmd("INFO replication"))).unwrap();
    assert!(info.contains("master_link_status:up"), "{info}");
    // The replica rebuilt the TORCH model and the script from the stream.
    let ro = r.cmd(
        "AI.DAGEXECUTE_RO LOAD 1 t_float |> \
         AI.MODELEXECUTE m_torch INPUTS 2 t_float t_float OUTPUTS 1 y |> AI.TENSORGET y VALUES",
    );
    assert_eq!(render(&ro), "*[+OK, *[$b'3', $b'-4', $b'6.5', $b'0']]");
    assert_eq!(
        render(&r.cmd("AI._SCRIPTSCAN")),
        "*[*[$b's_script', $b'st1']]"
    );
    // The master still serves the same and can be written to; the replica follows.
    let mut m = master.client();
    assert_eq!(
        m.cmd("AI.SCRIPTEXECUTE s_script scale INPUTS 1 t_int32 ARGS 1 1 OUTPUTS 1 copy"),
        ok_frame("OK")
    );
    let expected = m.cmd("AI.TENSORGET copy META BLOB");
    let deadline = Instant::now() + Duration::from_secs(30);
    while r.cmd("AI.TENSORGET copy META BLOB") != expected {
        assert!(Instant::now() < deadline, "the output never replicated");
        std::thread::sleep(Duration::from_millis(50));
    }
}
