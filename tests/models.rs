//! Models through a real redis-server with the ONNX backend: storing, reading back, running,
//! persistence (RDB, DUMP/RESTORE, AOF), replication, AI.INFO / AI.CONFIG and INFO MODULES.

mod common;

use std::time::Duration;

use common::fixtures::{numbers, reference, set_one_image, store_onnx};
use common::payload::module_part;
use common::{bulk, golden_dir, is_error, ok_frame, render, unhex, Frame, Server};

fn store_mnist(c: &mut common::Client, key: &str) {
    let reply = store_onnx(c, key, "CPU", &[], &reference("mnist.onnx"));
    assert_eq!(reply, ok_frame("OK"), "{reply:?}");
}

/// Runs mnist on one.raw and returns the predicted digit.
fn predict_one(c: &mut common::Client, model: &str) -> usize {
    set_one_image(c, "img");
    let run = c.cmd(&format!(
        "AI.MODELEXECUTE {model} INPUTS 1 img OUTPUTS 1 digits"
    ));
    assert_eq!(run, ok_frame("OK"), "{run:?}");
    let scores = numbers(&c.cmd("AI.TENSORGET digits VALUES"));
    assert_eq!(scores.len(), 10);
    (0..10)
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .unwrap()
}

fn info_field(c: &mut common::Client, key: &str, field: &str) -> i64 {
    let Frame::Array(items) = c.cmd(&format!("AI.INFO {key}")) else {
        panic!("AI.INFO {key} is not an array");
    };
    let at = items
        .iter()
        .position(|f| *f == Frame::BulkString(field.as_bytes().to_vec()))
        .unwrap_or_else(|| panic!("no {field}"));
    match &items[at + 1] {
        Frame::Integer(n) => *n,
        other => panic!("{field} is {other:?}"),
    }
}

#[test]
fn mnist_reads_the_digit_one_and_counts_runs() {
    let server = Server::start();
    let mut c = server.client();
    store_mnist(&mut c, "mnist");
    assert_eq!(predict_one(&mut c, "mnist"), 1);
    assert_eq!(predict_one(&mut c, "mnist"), 1);
    assert_eq!(info_field(&mut c, "mnist", "calls"), 2);
    assert_eq!(info_field(&mut c, "mnist", "samples"), 2);
    assert_eq!(info_field(&mut c, "mnist", "errors"), 0);
    assert!(info_field(&mut c, "mnist", "duration") > 0);
    // A failing run counts as a call and an error.
    c.cmd("AI.TENSORSET bad FLOAT 1 3 VALUES 1 2 3");
    assert!(is_error(
        &c.cmd("AI.MODELEXECUTE mnist INPUTS 1 bad OUTPUTS 1 o")
    ));
    assert_eq!(info_field(&mut c, "mnist", "calls"), 3);
    assert_eq!(info_field(&mut c, "mnist", "errors"), 1);
    assert_eq!(c.cmd("AI.INFO mnist RESETSTAT"), ok_frame("OK"));
    assert_eq!(info_field(&mut c, "mnist", "calls"), 0);
    // Re-storing gives a fresh record.
    predict_one(&mut c, "mnist");
    store_mnist(&mut c, "mnist");
    assert_eq!(info_field(&mut c, "mnist", "calls"), 0);
    // MODELDEL (and DEL) forget the record.
    assert_eq!(c.cmd("AI.MODELDEL mnist"), ok_frame("OK"));
    assert_eq!(
        render(&c.cmd("AI.INFO mnist")),
        "-ERR cannot find run info for key"
    );
    store_mnist(&mut c, "mnist2");
    assert_eq!(c.cmd("DEL mnist2"), Frame::Integer(1));
    assert_eq!(
        render(&c.cmd("AI.INFO mnist2")),
        "-ERR cannot find run info for key"
    );
}

#[test]
fn modelget_blob_is_chunked_by_model_chunk_size() {
    let server = Server::start();
    let mut c = server.client();
    let blob = reference("linear_iris.onnx");
    assert_eq!(blob.len(), 277);
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"m",
        b"ONNX",
        b"CPU",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(bulk(&c.cmd("AI.MODELGET m BLOB")), blob);
    let chunks = |c: &mut common::Client| match c.cmd("AI.MODELGET m BLOB") {
        Frame::Array(parts) => parts.iter().map(bulk).collect::<Vec<_>>(),
        other => panic!("expected chunks, got {other:?}"),
    };
    assert_eq!(c.cmd("AI.CONFIG MODEL_CHUNK_SIZE 100"), ok_frame("OK"));
    let parts = chunks(&mut c);
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 100, 77]
    );
    assert_eq!(parts.concat(), blob);
    // An exact multiple ends with an empty chunk (RedisAI's rule).
    c.cmd("AI.CONFIG MODEL_CHUNK_SIZE 277");
    assert_eq!(
        chunks(&mut c).iter().map(Vec::len).collect::<Vec<_>>(),
        vec![277, 0]
    );
    // Chunked BLOB arguments are joined.
    let (a, b) = blob.split_at(100);
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"m2",
        b"ONNX",
        b"CPU",
        b"BLOB",
        a,
        b,
    ]);
    c.cmd("AI.CONFIG MODEL_CHUNK_SIZE 1000");
    assert_eq!(bulk(&c.cmd("AI.MODELGET m2 BLOB")), blob);
}

/// META and BLOB of a model, for comparisons across reloads.
fn snapshot(c: &mut common::Client, key: &str) -> String {
    render(&c.cmd(&format!("AI.MODELGET {key} META BLOB")))
}

fn iris_output(c: &mut common::Client, model: &str) -> String {
    c.cmd("AI.TENSORSET iris FLOAT 1 4 VALUES 5.1 3.5 1.4 0.2");
    assert_eq!(
        c.cmd(&format!(
            "AI.MODELEXECUTE {model} INPUTS 1 iris OUTPUTS 1 out"
        )),
        ok_frame("OK")
    );
    render(&c.cmd("AI.TENSORGET out VALUES"))
}

#[test]
fn models_survive_debug_reload_restart_and_aof_rewrite() {
    let mut server = Server::with(&[], &["--appendonly", "no"]);
    let mut c = server.client();
    let blob = reference("linear_iris.onnx");
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"m",
        b"ONNX",
        b"CPU:1",
        b"TAG",
        b"v1",
        b"BATCHSIZE",
        b"8",
        b"MINBATCHSIZE",
        b"2",
        b"MINBATCHTIMEOUT",
        b"5",
        b"BLOB",
        &blob,
    ]);
    store_mnist(&mut c, "mnist");
    let before = snapshot(&mut c, "m");
    assert_eq!(iris_output(&mut c, "m"), "*[$b'-0.090524077415466309']");
    assert_eq!(c.cmd("DEBUG RELOAD"), ok_frame("OK"));
    assert_eq!(snapshot(&mut c, "m"), before);
    assert_eq!(
        info_field(&mut c, "m", "calls"),
        0,
        "a reloaded model has a fresh record"
    );
    assert_eq!(iris_output(&mut c, "m"), "*[$b'-0.090524077415466309']");
    assert_eq!(predict_one(&mut c, "mnist"), 1);
    drop(c);
    server.restart("SAVE", &["--appendonly", "no"]);
    let mut c = server.client();
    assert_eq!(snapshot(&mut c, "m"), before);
    assert_eq!(predict_one(&mut c, "mnist"), 1);
    // AOF without the RDB preamble: the model is rewritten as AI.MODELSTORE and replayed.
    // Switching AOF on at run time rewrites the dataset into the base AOF.
    let aof = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    assert_eq!(c.cmd("CONFIG SET aof-use-rdb-preamble no"), ok_frame("OK"));
    assert_eq!(c.cmd("CONFIG SET appendonly yes"), ok_frame("OK"));
    let needle = b"AI.MODELSTORE\r\n$1\r\nm\r\n$4\r\nONNX\r\n$5\r\nCPU:1\r\n$3\r\nTAG\r\n$2\r\nv1\r\n$9\r\nBATCHSIZE\r\n$1\r\n8\r\n$12\r\nMINBATCHSIZE\r\n$1\r\n2\r\n$15\r\nMINBATCHTIMEOUT\r\n$1\r\n5\r\n$4\r\nBLOB\r\n$277\r\n";
    let rewritten = |dir: &std::path::Path| {
        std::fs::read_dir(dir.join("appendonlydir"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".base.aof"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .any(|base| base.windows(needle.len()).any(|w| w == needle))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !rewritten(server.dir()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no AI.MODELSTORE in the base AOF"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(c);
    server.restart("NOSAVE", &aof);
    let mut c = server.client();
    assert_eq!(snapshot(&mut c, "m"), before);
    assert_eq!(predict_one(&mut c, "mnist"), 1);
}

#[test]
fn the_golden_onnx_dump_payload_restores() {
    let server = Server::start();
    let mut c = server.client();
    let payloads: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("dump-payloads.json")).unwrap(),
    )
    .unwrap();
    let payload = unhex(payloads["m_onnx"]["hex"].as_str().unwrap());
    let reply = c.call(&[b"RESTORE".as_slice(), b"m_onnx", b"0", &payload]);
    assert_eq!(reply, ok_frame("OK"));
    assert_eq!(
        render(&c.cmd("AI.MODELGET m_onnx META")),
        "*[$b'backend', $b'ONNX', $b'device', $b'CPU', $b'tag', $b'iris:v1', $b'batchsize', :4, \
         $b'minbatchsize', :2, $b'inputs', *[$b'float_input'], $b'outputs', *[$b'variable'], \
         $b'minbatchtimeout', :0]"
    );
    assert_eq!(
        bulk(&c.cmd("AI.MODELGET m_onnx BLOB")),
        reference("linear_iris.onnx")
    );
    assert_eq!(c.cmd("TYPE m_onnx"), ok_frame("AI__MODEL"));
    // Our DUMP is RedisAI's, byte for byte (the module's part; the server writes its trailer).
    assert_eq!(
        module_part(&bulk(&c.cmd("DUMP m_onnx"))),
        module_part(&payload)
    );
    assert_eq!(info_field(&mut c, "m_onnx", "calls"), 0);
    assert_eq!(
        render(&c.cmd("AI._MODELSCAN")),
        "*[*[$b'm_onnx', $b'iris:v1']]"
    );
}

#[test]
fn outputs_and_models_replicate() {
    let port = free_port();
    let master = Server::with(&[], &["--port", &port.to_string()]);
    let replica = Server::start();
    let mut m = master.client();
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&format!("REPLICAOF 127.0.0.1 {port}")),
        ok_frame("OK")
    );
    store_mnist(&mut m, "mnist");
    assert_eq!(predict_one(&mut m, "mnist"), 1);
    m.cmd("AI.TENSORSET iris FLOAT 1 4 VALUES 5.1 3.5 1.4 0.2");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = r.cmd("AI.TENSORGET digits BLOB");
        if !is_error(&got) {
            assert_eq!(got, m.cmd("AI.TENSORGET digits BLOB"), "byte for byte");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "output never replicated"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(snapshot(&mut r, "mnist"), snapshot(&mut m, "mnist"));
    // MODELDEL replicates too.
    assert_eq!(m.cmd("AI.MODELDEL mnist"), ok_frame("OK"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while r.cmd("EXISTS mnist") != Frame::Integer(0) {
        assert!(
            std::time::Instant::now() < deadline,
            "MODELDEL never replicated"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn config_and_info_modules_follow_the_backends() {
    // Some loads below open files outside BACKENDSPATH on purpose (tests/security.rs checks the
    // refusal).
    let mut server = Server::with(&["UNRESTRICTED_LOADBACKEND", "yes"], &[]);
    let mut c = server.client();
    let info = |c: &mut common::Client| String::from_utf8(bulk(&c.cmd("INFO MODULES"))).unwrap();
    let before = info(&mut c);
    assert!(!before.contains("ai_onnxruntime_version"), "{before}");
    assert!(
        before.contains("ai_queue_CPU_bthread_n1_used_cpu_total:"),
        "{before}"
    );
    store_mnist(&mut c, "mnist");
    predict_one(&mut c, "mnist");
    let after = info(&mut c);
    for field in [
        "ai_onnxruntime_version:1.31.1",
        "ai_onnxruntime_memory:",
        "ai_onnxruntime_memory_access_num:",
        "ai_onnxruntime_maximum_run_sessions_number:1",
    ] {
        assert!(after.contains(field), "{field} missing in\n{after}");
    }
    // A second load of a loaded backend is refused, as RedisAI does.
    assert_eq!(
        render(&c.cmd("AI.CONFIG LOADBACKEND ONNX redisai_onnxruntime/redisai_onnxruntime.so")),
        "-ERR error loading backend"
    );
    // A device queue is created on demand and reported.
    let blob = reference("linear_iris.onnx");
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"m",
        b"ONNX",
        b"cpu:7",
        b"BLOB",
        &blob,
    ]);
    assert!(info(&mut c).contains("ai_queue_CPU:7_bthread_n1_used_cpu_total:"));
    assert_eq!(iris_output(&mut c, "m"), "*[$b'-0.090524077415466309']");
    // BACKENDSPATH is stored verbatim; a relative LOADBACKEND resolves under it.
    assert_eq!(c.cmd("AI.CONFIG BACKENDSPATH /nonexistent"), ok_frame("OK"));
    assert_eq!(bulk(&c.cmd("AI.CONFIG GET BACKENDSPATH")), b"/nonexistent");
    assert_eq!(
        render(&c.cmd("AI.CONFIG LOADBACKEND TORCH redisai_torch/redisai_torch.so")),
        "-ERR error loading backend"
    );
    assert!(server
        .log()
        .contains("/nonexistent/redisai_torch/redisai_torch.so"));
    // A lazy load that fails: the client gets RedisAI's reply, the log says why.
    let reply = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"tf",
        b"TF",
        b"CPU",
        b"INPUTS",
        b"1",
        b"a",
        b"OUTPUTS",
        b"1",
        b"b",
        b"BLOB",
        b"x",
    ]);
    assert_eq!(render(&reply), "-ERR Could not load backend");
    let reply = c.call(&[
        "AI.SCRIPTSTORE",
        "s",
        "CPU",
        "ENTRY_POINTS",
        "1",
        "f",
        "SOURCE",
        "def f(a):\n  return a\n",
    ]);
    assert_eq!(render(&reply), "-ERR Could not load backend");
    let log = server.log();
    assert!(log.contains("backend TF: could not load backend: /nonexistent/redisai_tensorflow/redisai_tensorflow.so"), "{log}");
    assert!(
        log.contains(
            "backend TORCH: could not load backend: /nonexistent/redisai_torch/redisai_torch.so"
        ),
        "{log}"
    );
    // A file that is not a shared object, and a shared object that is not a backend.
    let garbage = server.dir().join("garbage.so");
    std::fs::write(&garbage, b"\x7fELF but not really").unwrap();
    for path in [garbage.to_str().unwrap(), "/lib/x86_64-linux-gnu/libc.so.6"] {
        let reply = c.call(&["AI.CONFIG", "LOADBACKEND", "TFLITE", path]);
        assert_eq!(render(&reply), "-ERR error loading backend", "{path}");
    }
    assert!(server.log().contains("not a RedisAI backend"));
    assert!(server.alive());
}

#[test]
fn storing_a_model_over_another_type_is_wrongtype_and_keeps_the_value() {
    // (The original RedisAI crashed here.)
    let server = Server::start();
    let mut c = server.client();
    c.cmd("SET plain v");
    let blob = reference("linear_iris.onnx");
    let reply = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"plain",
        b"ONNX",
        b"CPU",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(
        render(&reply),
        "-WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(bulk(&c.cmd("GET plain")), b"v");
    assert_eq!(
        render(&c.cmd("AI.INFO plain")),
        "-ERR cannot find run info for key"
    );
}

#[test]
fn the_onnx_module_argument_loads_the_backend_at_start() {
    let server = Server::with(&["ONNX", "redisai_onnxruntime/redisai_onnxruntime.so"], &[]);
    let mut c = server.client();
    let info = String::from_utf8(bulk(&c.cmd("INFO MODULES"))).unwrap();
    assert!(info.contains("ai_onnxruntime_version:"), "{info}");
    store_mnist(&mut c, "mnist");
    assert_eq!(predict_one(&mut c, "mnist"), 1);
    // A backend argument that cannot be loaded refuses the module.
    let refused = Server::try_with(&["ONNX", "nosuch/nosuch.so"]);
    let log = refused.err().expect("the load must fail");
    assert!(
        log.contains("ERR error processing argument: ONNX nosuch/nosuch.so"),
        "{log}"
    );
}

#[test]
fn modelscan_lists_models_and_tags() {
    let server = Server::start();
    let mut c = server.client();
    let blob = reference("linear_iris.onnx");
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"a",
        b"ONNX",
        b"CPU",
        b"TAG",
        b"x:1",
        b"BLOB",
        &blob,
    ]);
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"b",
        b"ONNX",
        b"CPU",
        b"BLOB",
        &blob,
    ]);
    let Frame::Array(entries) = c.cmd("AI._MODELSCAN") else {
        panic!("not an array")
    };
    let mut got: Vec<String> = entries.iter().map(render).collect();
    got.sort();
    assert_eq!(got, vec!["*[$b'a', $b'x:1']", "*[$b'b', $b'']"]);
    assert!(server.log().contains("MODELSCAN is experimental"));
}

#[test]
fn key_positions_are_reported_for_cluster_and_acl() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        render(&c.cmd("COMMAND GETKEYS AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 1 c TIMEOUT 9")),
        "*[$b'm', $b'a', $b'b', $b'c']"
    );
    assert_eq!(
        render(&c.cmd("COMMAND GETKEYS AI.MODELRUN m INPUTS a OUTPUTS c")),
        "*[$b'm', $b'a', $b'c']"
    );
    // A malformed command reports only its model key (TIMEOUT in the wrong place: 1000 is no
    // input count), so a cluster answers the command's own error, not CROSSSLOT.
    assert_eq!(
        render(&c.cmd(
            "COMMAND GETKEYS AI.MODELEXECUTE m{1} TIMEOUT 1000 INPUTS 2 a{1} b{1} OUTPUTS 1 c{1}"
        )),
        "*[$b'm{1}']"
    );
    assert_eq!(
        render(&c.cmd("COMMAND GETKEYS AI.MODELRUN m INPUTS a b c")),
        "*[$b'm']"
    );
    // The key-position request ran nothing.
    assert_eq!(c.cmd("EXISTS c"), Frame::Integer(0));
}

#[test]
fn parallelism_settings_reach_the_backend_and_the_queues() {
    let args = [
        "THREADS_PER_QUEUE",
        "2",
        "INTRA_OP_PARALLELISM",
        "1",
        "INTER_OP_PARALLELISM",
        "2",
    ];
    let server = Server::with(&args, &[]);
    let mut c = server.client();
    store_mnist(&mut c, "mnist");
    // Several clients at once on the two CPU workers.
    let mut clients: Vec<common::Client> = (0..8).map(|_| server.client()).collect();
    set_one_image(&mut c, "img");
    for (i, client) in clients.iter_mut().enumerate() {
        client.send(&[
            "AI.MODELEXECUTE",
            "mnist",
            "INPUTS",
            "1",
            "img",
            "OUTPUTS",
            "1",
            &format!("o{i}"),
        ]);
    }
    for client in &mut clients {
        assert_eq!(client.read(), ok_frame("OK"));
    }
    assert_eq!(info_field(&mut c, "mnist", "calls"), 8);
    let info = String::from_utf8(bulk(&c.cmd("INFO MODULES"))).unwrap();
    for field in [
        "ai_threads_per_queue:2",
        "ai_intra_op_parallelism:1",
        "ai_inter_op_parallelism:2",
        "ai_onnxruntime_maximum_run_sessions_number:2",
        "ai_queue_CPU_bthread_n2_used_cpu_total:",
    ] {
        assert!(info.contains(field), "{field} missing in\n{info}");
    }
}
