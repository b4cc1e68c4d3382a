//! DAG pipelines through a real redis-server and the ONNX backend (SPEC §3.16, §3.17, §7).

mod common;

use std::time::{Duration, Instant};

use common::fixtures::{f32_blob, numbers, onnx, store_onnx};
use common::{is_error, ok_frame, render, Client, Frame, Server};

fn store(c: &mut Client, key: &str, blob: &[u8], device: &str) {
    let reply = store_onnx(c, key, device, &[], blob);
    assert_eq!(reply, ok_frame("OK"), "{reply:?}");
}

#[test]
fn a_pipeline_sets_runs_twice_and_gets_in_one_round_trip() {
    let server = Server::start();
    let mut c = server.client();
    store(&mut c, "mul2", &onnx("batch_mul2.onnx"), "CPU");
    let reply = c.cmd(
        "AI.DAGEXECUTE ROUTING x |> AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3 \
         |> AI.MODELEXECUTE mul2 INPUTS 1 x OUTPUTS 1 y \
         |> AI.MODELEXECUTE mul2 INPUTS 1 y OUTPUTS 1 z |> AI.TENSORGET z VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, +OK, +OK, *[$b'4', $b'8', $b'12']]");
    // DAG-local tensors are not written.
    assert_eq!(c.cmd("EXISTS x y z"), Frame::Integer(0));
    // The same with the deprecated AI.DAGRUN and AI.MODELRUN.
    let reply = c.cmd(
        "AI.DAGRUN |> AI.TENSORSET x FLOAT 1 3 VALUES 1 1 1 \
         |> AI.MODELRUN mul2 INPUTS x OUTPUTS y |> AI.TENSORGET y VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, +OK, *[$b'2', $b'2', $b'2']]");
    assert!(render(&c.cmd("AI.INFO mul2")).contains("$b'calls', :3"));
}

#[test]
fn load_reads_keys_and_persist_writes_only_the_final_versions() {
    let server = Server::start();
    let mut c = server.client();
    store(&mut c, "mul2", &onnx("batch_mul2.onnx"), "CPU");
    c.cmd("AI.TENSORSET in FLOAT 1 3 VALUES 1 2 3");
    let reply = c.cmd(
        "AI.DAGEXECUTE LOAD 1 in PERSIST 2 out in |> AI.MODELEXECUTE mul2 INPUTS 1 in OUTPUTS 1 in \
         |> AI.MODELEXECUTE mul2 INPUTS 1 in OUTPUTS 1 out |> AI.TENSORGET in VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, +OK, *[$b'2', $b'4', $b'6']]");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET in VALUES")),
        vec![2.0, 4.0, 6.0]
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET out VALUES")),
        vec![4.0, 8.0, 12.0]
    );
    // A PERSIST key of another type: all persisting is refused, one extra error element.
    c.cmd("SET plain v");
    let reply = c.cmd(
        "AI.DAGEXECUTE PERSIST 2 fresh plain |> AI.TENSORSET fresh FLOAT 1 VALUES 1 \
         |> AI.TENSORSET plain FLOAT 1 VALUES 2",
    );
    assert_eq!(
        render(&reply),
        "*[+OK, +OK, -WRONGTYPE Operation against a key holding the wrong kind of value]"
    );
    assert_eq!(c.cmd("EXISTS fresh"), Frame::Integer(0));
}

#[test]
fn a_failing_op_leaves_na_for_what_depends_on_it_and_persists_nothing() {
    let server = Server::start();
    let mut c = server.client();
    store(&mut c, "mul2", &onnx("batch_mul2.onnx"), "CPU");
    c.cmd("AI.TENSORSET good FLOAT 1 3 VALUES 1 1 1");
    c.cmd("AI.TENSORSET bad INT32 1 3 VALUES 1 1 1");
    let reply = render(&c.cmd(
        "AI.DAGEXECUTE LOAD 2 good bad PERSIST 1 out |> AI.MODELEXECUTE mul2 INPUTS 1 bad OUTPUTS 1 t \
         |> AI.MODELEXECUTE mul2 INPUTS 1 t OUTPUTS 1 out |> AI.TENSORGET out VALUES \
         |> AI.TENSORGET good VALUES",
    ));
    assert!(reply.starts_with("*[-"), "{reply}");
    assert!(reply.contains("Unexpected input data type"), "{reply}");
    assert!(
        reply.ends_with(", +NA, +NA, *[$b'1', $b'1', $b'1']]"),
        "{reply}"
    );
    assert_eq!(c.cmd("EXISTS out t"), Frame::Integer(0));
}

#[test]
fn timeout_replies_timedout_and_writes_nothing() {
    let server = Server::with(&["MODEL_EXECUTION_TIMEOUT", "1000"], &[]);
    let mut c = server.client();
    store(&mut c, "spin", &onnx("loop_forever.onnx"), "CPU");
    store(&mut c, "mul2", &onnx("batch_mul2.onnx"), "CPU");
    c.cmd("AI.TENSORSET one FLOAT 1 VALUES 1");
    let mut busy = server.client();
    busy.send(&[
        "AI.MODELEXECUTE",
        "spin",
        "INPUTS",
        "1",
        "one",
        "OUTPUTS",
        "1",
        "never",
    ]);
    std::thread::sleep(Duration::from_millis(100));
    let reply = c.cmd(
        "AI.DAGEXECUTE PERSIST 1 out TIMEOUT 50 |> AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3 \
         |> AI.MODELEXECUTE mul2 INPUTS 1 x OUTPUTS 1 out",
    );
    assert_eq!(reply, ok_frame("TIMEDOUT"));
    assert!(is_error(&busy.read()));
    assert_eq!(c.cmd("EXISTS out"), Frame::Integer(0));
    // TIMEOUT 0 (accepted for DAGs, as RedisAI) means no timeout.
    let reply = c.cmd(
        "AI.DAGEXECUTE PERSIST 1 out TIMEOUT 0 |> AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3 \
         |> AI.MODELEXECUTE mul2 INPUTS 1 x OUTPUTS 1 out",
    );
    assert_eq!(render(&reply), "*[+OK, +OK]");
}

#[test]
fn independent_ops_on_different_devices_run_concurrently() {
    let server = Server::with(&["MODEL_EXECUTION_TIMEOUT", "1000"], &[]);
    let mut c = server.client();
    let spin = onnx("loop_forever.onnx");
    store(&mut c, "spin_a", &spin, "CPU");
    store(&mut c, "spin_b", &spin, "CPU:1");
    c.cmd("AI.TENSORSET one FLOAT 1 VALUES 1");
    let started = Instant::now();
    let reply = render(&c.cmd(
        "AI.DAGEXECUTE LOAD 1 one |> AI.MODELEXECUTE spin_a INPUTS 1 one OUTPUTS 1 a \
         |> AI.MODELEXECUTE spin_b INPUTS 1 one OUTPUTS 1 b",
    ));
    let elapsed = started.elapsed();
    // Both ran until the kill switch stopped them, side by side (one after the other: 2 s).
    assert_eq!(
        reply.matches("Exiting due to terminate flag").count(),
        2,
        "{reply}"
    );
    assert!(elapsed < Duration::from_millis(1800), "{elapsed:?}");
}

#[test]
fn many_clients_running_dags_on_shared_models_get_their_own_results() {
    let server = Server::with(&["THREADS_PER_QUEUE", "2"], &[]);
    let mut c = server.client();
    store(&mut c, "mul2", &onnx("batch_mul2.onnx"), "CPU");
    let reply = store_onnx(
        &mut c,
        "mul2b",
        "CPU",
        &["BATCHSIZE", "8"],
        &onnx("batch_mul2.onnx"),
    );
    assert_eq!(reply, ok_frame("OK"));
    let socket = server.socket();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut c = Client::try_connect(&socket).unwrap();
                for i in 0..40 {
                    let v = (t * 1000 + i) as f32;
                    let data = f32_blob(&[v, v + 1.0, v + 2.0]);
                    let model = if i % 2 == 0 { "mul2" } else { "mul2b" };
                    let args: Vec<&[u8]> = vec![
                        b"AI.DAGEXECUTE",
                        b"ROUTING",
                        b"x",
                        b"|>",
                        b"AI.TENSORSET",
                        b"x",
                        b"FLOAT",
                        b"1",
                        b"3",
                        b"BLOB",
                        &data,
                        b"|>",
                        b"AI.MODELEXECUTE",
                        model.as_bytes(),
                        b"INPUTS",
                        b"1",
                        b"x",
                        b"OUTPUTS",
                        b"1",
                        b"y",
                        b"|>",
                        b"AI.TENSORGET",
                        b"y",
                        b"BLOB",
                    ];
                    let reply = c.call(&args);
                    let want = f32_blob(&[2.0 * v, 2.0 * (v + 1.0), 2.0 * (v + 2.0)]);
                    assert_eq!(
                        reply,
                        Frame::Array(vec![
                            ok_frame("OK"),
                            ok_frame("OK"),
                            Frame::BulkString(want)
                        ])
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client saw a wrong result");
    }
}

#[test]
fn read_only_dags_run_on_a_replica_and_cannot_persist() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master = Server::with(&[], &["--port", &port.to_string()]);
    let replica = Server::start();
    let mut m = master.client();
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&format!("REPLICAOF 127.0.0.1 {port}")),
        ok_frame("OK")
    );
    store(&mut m, "mul2", &onnx("batch_mul2.onnx"), "CPU");
    m.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    let deadline = Instant::now() + Duration::from_secs(20);
    while r.cmd("EXISTS mul2 x") != Frame::Integer(2) {
        assert!(Instant::now() < deadline, "never replicated");
        std::thread::sleep(Duration::from_millis(50));
    }
    let reply = r.cmd(
        "AI.DAGEXECUTE_RO LOAD 1 x |> AI.MODELEXECUTE mul2 INPUTS 1 x OUTPUTS 1 y |> AI.TENSORGET y VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, *[$b'2', $b'4', $b'6']]");
    assert_eq!(
        render(&r.cmd("AI.DAGEXECUTE_RO PERSIST 1 y |> AI.TENSORSET y FLOAT 1 VALUES 1")),
        "-ERR PERSIST cannot be specified in a read-only DAG"
    );
    // Writing DAGs are the replica's to refuse.
    let reply = render(&r.cmd("AI.DAGEXECUTE PERSIST 1 y |> AI.TENSORSET y FLOAT 1 VALUES 1"));
    assert!(reply.starts_with("-READONLY"), "{reply}");
}

#[test]
fn key_positions_and_multi_refusal() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        render(&c.cmd(
            "COMMAND GETKEYS AI.DAGEXECUTE LOAD 1 a PERSIST 1 b ROUTING r |> \
             AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES"
        )),
        "*[$b'a', $b'b', $b'r', $b'm']"
    );
    c.cmd("MULTI");
    c.cmd("AI.DAGEXECUTE ROUTING x |> AI.TENSORSET x FLOAT 1 VALUES 1");
    assert_eq!(
        render(&c.cmd("EXEC")),
        "*[-ERR Cannot run RedisAI command within a transaction or a LUA script]"
    );
}

#[test]
fn redis_cluster_routes_dags_by_their_keys() {
    let server = Server::with(
        &[],
        &[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ],
    );
    let mut c = server.client();
    assert_eq!(c.cmd("CLUSTER ADDSLOTSRANGE 0 16383"), ok_frame("OK"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&common::bulk(&c.cmd("CLUSTER INFO")))
        .contains("cluster_state:ok")
    {
        assert!(Instant::now() < deadline, "cluster never became ok");
        std::thread::sleep(Duration::from_millis(50));
    }
    store(&mut c, "{t}mul2", &onnx("batch_mul2.onnx"), "CPU");
    c.cmd("AI.TENSORSET {t}x FLOAT 1 3 VALUES 1 2 3");
    c.cmd("AI.TENSORSET other FLOAT 1 3 VALUES 1 2 3");
    // Keys of one slot (hash tags) run; keys of two slots are refused by Redis itself.
    let reply = c.cmd(
        "AI.DAGEXECUTE LOAD 1 {t}x PERSIST 1 {t}y |> AI.MODELEXECUTE {t}mul2 INPUTS 1 {t}x OUTPUTS 1 {t}y",
    );
    assert_eq!(render(&reply), "*[+OK]");
    let reply = c.cmd(
        "AI.DAGEXECUTE LOAD 1 other PERSIST 1 {t}y |> AI.MODELEXECUTE {t}mul2 INPUTS 1 other OUTPUTS 1 {t}y",
    );
    assert_eq!(
        render(&reply),
        "-CROSSSLOT Keys in request don't hash to the same slot"
    );
    let reply = c.cmd("AI.MODELEXECUTE {t}mul2 INPUTS 1 other OUTPUTS 1 {t}z");
    assert_eq!(
        render(&reply),
        "-CROSSSLOT Keys in request don't hash to the same slot"
    );
    // A keyless DAG is routed by ROUTING; its local tensor names are not keys.
    let reply = c.cmd(
        "AI.DAGEXECUTE ROUTING {t} |> AI.TENSORSET a FLOAT 1 3 VALUES 1 1 1 \
         |> AI.MODELEXECUTE {t}mul2 INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES",
    );
    assert_eq!(render(&reply), "*[+OK, +OK, *[$b'2', $b'2', $b'2']]");
}
