//! Model execution through a real redis-server and the ONNX backend: every dtype, several inputs
//! and outputs, strings, auto-batching, TIMEOUT and the kill switch, the safety of clients and
//! keys changing while a run is in flight, MULTI/Lua refusal, and bad model blobs.

mod common;

use std::time::{Duration, Instant};

use common::fixtures::{f32_blob, numbers, onnx, reference, store_onnx};
use common::{bulk, is_error, ok_frame, render, Client, Frame, Server};

fn store(c: &mut Client, key: &str, blob: &[u8], options: &[&str]) -> Frame {
    store_onnx(c, key, "CPU", options, blob)
}

#[test]
fn every_dtype_round_trips_through_an_identity_model() {
    let server = Server::start();
    let mut c = server.client();
    let cases = [
        ("FLOAT", "1.5 -2 3 4.25 5 6"),
        ("DOUBLE", "1.5 -2 3 4.25 5 6"),
        // (RedisAI refuses negative VALUES for signed integers; BLOB carries them below.)
        ("INT8", "1 2 3 0 5 127"),
        ("INT16", "1 2 3 0 5 32767"),
        ("INT32", "1 2 3 0 5 2147483647"),
        ("INT64", "1 2 3 0 5 9223372036854775807"),
        ("UINT8", "1 2 3 0 5 255"),
        ("UINT16", "1 2 3 0 5 65535"),
        ("BOOL", "1 0 1 1 0 0"),
        ("STRING", "a bb ccc dddd e f"),
    ];
    for (dtype, values) in cases {
        let blob = onnx(&format!("identity_{dtype}.onnx"));
        assert_eq!(store(&mut c, "id", &blob, &[]), ok_frame("OK"), "{dtype}");
        let set = c.cmd(&format!("AI.TENSORSET x {dtype} 2 3 VALUES {values}"));
        assert_eq!(set, ok_frame("OK"), "{dtype}");
        let run = c.cmd("AI.MODELEXECUTE id INPUTS 1 x OUTPUTS 1 y");
        assert_eq!(run, ok_frame("OK"), "{dtype}: {run:?}");
        assert_eq!(
            render(&c.cmd("AI.TENSORGET y META BLOB")),
            render(&c.cmd("AI.TENSORGET x META BLOB")),
            "{dtype}"
        );
    }
    // Negative integers, through BLOB.
    let blob = onnx("identity_INT64.onnx");
    store(&mut c, "id", &blob, &[]);
    let data: Vec<u8> = [-1i64, i64::MIN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    c.call(&[
        b"AI.TENSORSET".as_slice(),
        b"x",
        b"INT64",
        b"1",
        b"2",
        b"BLOB",
        &data,
    ]);
    assert_eq!(
        c.cmd("AI.MODELEXECUTE id INPUTS 1 x OUTPUTS 1 y"),
        ok_frame("OK")
    );
    assert_eq!(bulk(&c.cmd("AI.TENSORGET y BLOB")), data);
}

#[test]
fn two_inputs_two_outputs_and_strings() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        store(&mut c, "m", &onnx("two_in_two_out.onnx"), &[]),
        ok_frame("OK")
    );
    assert_eq!(
        render(&c.cmd("AI.MODELGET m META")),
        "*[$b'backend', $b'ONNX', $b'device', $b'CPU', $b'tag', $b'', $b'batchsize', :0, \
         $b'minbatchsize', :0, $b'inputs', *[$b'a', $b'b'], $b'outputs', *[$b'sum', $b'prod'], \
         $b'minbatchtimeout', :0]"
    );
    c.cmd("AI.TENSORSET a FLOAT 2 2 VALUES 1 2 3 4");
    c.cmd("AI.TENSORSET b FLOAT 2 2 VALUES 5 6 7 8");
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 2 s p"),
        ok_frame("OK")
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET s VALUES")),
        vec![6.0, 8.0, 10.0, 12.0]
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET p VALUES")),
        vec![5.0, 12.0, 21.0, 32.0]
    );
    // Inputs are bound by position.
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 2 b a OUTPUTS 2 s p"),
        ok_frame("OK")
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET s VALUES")),
        vec![6.0, 8.0, 10.0, 12.0]
    );

    assert_eq!(
        store(&mut c, "up", &onnx("string_upper.onnx"), &[]),
        ok_frame("OK")
    );
    c.cmd("AI.TENSORSET words STRING 2 VALUES redis Ai");
    assert_eq!(
        c.cmd("AI.MODELEXECUTE up INPUTS 1 words OUTPUTS 1 loud"),
        ok_frame("OK")
    );
    assert_eq!(
        render(&c.cmd("AI.TENSORGET loud META VALUES")),
        "*[$b'dtype', $b'STRING', $b'shape', *[:2], $b'values', *[$b'REDIS', $b'AI']]"
    );
}

#[test]
fn a_sequence_output_is_left_unwritten() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        store(&mut c, "lr", &reference("logreg_iris.onnx"), &[]),
        ok_frame("OK")
    );
    c.cmd("AI.TENSORSET iris FLOAT 1 4 VALUES 5.1 3.5 1.4 0.2");
    assert_eq!(
        c.cmd("AI.MODELEXECUTE lr INPUTS 1 iris OUTPUTS 2 label probs"),
        ok_frame("OK")
    );
    assert_eq!(
        render(&c.cmd("AI.TENSORGET label META VALUES")),
        "*[$b'dtype', $b'INT64', $b'shape', *[:1], $b'values', *[:0]]"
    );
    assert_eq!(c.cmd("EXISTS probs"), Frame::Integer(0));
}

/// Sends `AI.MODELEXECUTE` on a fresh connection and returns it, to read the reply later.
fn execute_async(server: &Server, line: &str) -> Client {
    let mut c = server.client();
    let args: Vec<&str> = line.split(' ').collect();
    c.send(&args);
    c
}

#[test]
fn concurrent_requests_are_batched_and_each_gets_its_rows() {
    let server = Server::start();
    let mut c = server.client();
    let blob = onnx("batch_mul2.onnx");
    let opts = ["BATCHSIZE", "4", "MINBATCHSIZE", "3"];
    assert_eq!(store(&mut c, "m", &blob, &opts), ok_frame("OK"));
    for (i, key) in ["x1", "x2", "x3"].iter().enumerate() {
        let v = i as f32 + 1.0;
        let data = f32_blob(&[v, v, v]);
        c.call(&[
            b"AI.TENSORSET".as_slice(),
            key.as_bytes(),
            b"FLOAT",
            b"1",
            b"3",
            b"BLOB",
            &data,
        ]);
    }
    // MINBATCHSIZE 3: the first two wait for the third.
    let mut first = execute_async(&server, "AI.MODELEXECUTE m INPUTS 1 x1 OUTPUTS 1 y1");
    let mut second = execute_async(&server, "AI.MODELEXECUTE m INPUTS 1 x2 OUTPUTS 1 y2");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        c.cmd("EXISTS y1 y2"),
        Frame::Integer(0),
        "ran before the batch was full"
    );
    let mut third = execute_async(&server, "AI.MODELEXECUTE m INPUTS 1 x3 OUTPUTS 1 y3");
    for client in [&mut first, &mut second, &mut third] {
        assert_eq!(client.read(), ok_frame("OK"));
    }
    for (i, key) in ["y1", "y2", "y3"].iter().enumerate() {
        let v = 2.0 * (i as f64 + 1.0);
        assert_eq!(
            render(&c.cmd(&format!("AI.TENSORGET {key} META"))),
            "*[$b'dtype', $b'FLOAT', $b'shape', *[:1, :3]]"
        );
        assert_eq!(
            numbers(&c.cmd(&format!("AI.TENSORGET {key} VALUES"))),
            vec![v; 3]
        );
    }
    assert!(render(&c.cmd("AI.INFO m")).contains("$b'calls', :3"));
    assert!(render(&c.cmd("AI.INFO m")).contains("$b'samples', :3"));
}

#[test]
fn minbatchtimeout_runs_a_partial_batch_and_shapes_that_differ_run_apart() {
    let server = Server::start();
    let mut c = server.client();
    let blob = onnx("batch_mul2.onnx");
    let opts = [
        "BATCHSIZE",
        "4",
        "MINBATCHSIZE",
        "2",
        "MINBATCHTIMEOUT",
        "200",
    ];
    assert_eq!(store(&mut c, "m", &blob, &opts), ok_frame("OK"));
    c.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    let started = Instant::now();
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y"),
        ok_frame("OK")
    );
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET y VALUES")),
        vec![2.0, 4.0, 6.0]
    );
    // BATCHSIZE 2: a request of 3 rows is never merged into a batch, and a batch never exceeds
    // BATCHSIZE (the original could).
    let opts = ["BATCHSIZE", "2"];
    assert_eq!(store(&mut c, "b2", &blob, &opts), ok_frame("OK"));
    c.cmd("AI.TENSORSET big FLOAT 3 3 VALUES 1 1 1 2 2 2 3 3 3");
    let mut clients: Vec<Client> = (0..6)
        .map(|i| {
            let x = if i % 2 == 0 { "x" } else { "big" };
            execute_async(
                &server,
                &format!("AI.MODELEXECUTE b2 INPUTS 1 {x} OUTPUTS 1 o{i}"),
            )
        })
        .collect();
    for client in &mut clients {
        assert_eq!(client.read(), ok_frame("OK"));
    }
    for i in 0..6 {
        let rows = if i % 2 == 0 { 1 } else { 3 };
        assert_eq!(
            render(&c.cmd(&format!("AI.TENSORGET o{i} META"))),
            format!("*[$b'dtype', $b'FLOAT', $b'shape', *[:{rows}, :3]]")
        );
    }
}

#[test]
fn a_request_held_for_a_batch_still_gets_its_timeout() {
    let server = Server::start();
    let mut c = server.client();
    let opts = ["BATCHSIZE", "4", "MINBATCHSIZE", "2"];
    assert_eq!(
        store(&mut c, "m", &onnx("batch_mul2.onnx"), &opts),
        ok_frame("OK")
    );
    c.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    let started = Instant::now();
    let reply = c.cmd("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y TIMEOUT 100");
    assert_eq!(reply, ok_frame("TIMEDOUT"));
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(c.cmd("EXISTS y"), Frame::Integer(0));
}

fn loop_server() -> Server {
    Server::with(&["MODEL_EXECUTION_TIMEOUT", "1000"], &[])
}

#[test]
fn the_kill_switch_ends_a_runaway_model_and_timeout_expires_queued_requests() {
    let server = loop_server();
    let mut c = server.client();
    assert_eq!(
        store(&mut c, "spin", &onnx("loop_forever.onnx"), &[]),
        ok_frame("OK")
    );
    assert_eq!(
        store(&mut c, "m", &onnx("batch_mul2.onnx"), &[]),
        ok_frame("OK")
    );
    c.cmd("AI.TENSORSET one FLOAT 1 VALUES 1");
    c.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    let started = Instant::now();
    let mut runaway = execute_async(&server, "AI.MODELEXECUTE spin INPUTS 1 one OUTPUTS 1 never");
    std::thread::sleep(Duration::from_millis(100));
    // Queued behind the runaway model on the one CPU worker: TIMEOUT passes before it is picked.
    let mut queued = execute_async(
        &server,
        "AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y TIMEOUT 50",
    );
    let reply = render(&runaway.read());
    assert!(
        reply.contains("Exiting due to terminate flag being set to true"),
        "{reply}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(queued.read(), ok_frame("TIMEDOUT"));
    assert_eq!(c.cmd("EXISTS never y"), Frame::Integer(0));
    assert!(render(&c.cmd("AI.INFO spin")).contains("$b'errors', :1"));
    // The server is fine and the model can run again.
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y TIMEOUT 5000"),
        ok_frame("OK")
    );
}

#[test]
fn disconnects_deletes_flushes_and_overwrites_during_a_run_are_safe() {
    let mut server = loop_server();
    let mut c = server.client();
    let spin = onnx("loop_forever.onnx");
    c.cmd("AI.TENSORSET one FLOAT 1 VALUES 1");
    // A client that goes away while blocked: nothing is written, the server carries on.
    store(&mut c, "spin", &spin, &[]);
    drop(execute_async(
        &server,
        "AI.MODELEXECUTE spin INPUTS 1 one OUTPUTS 1 gone",
    ));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(c.cmd("EXISTS gone"), Frame::Integer(0));
    assert!(server.alive());
    // MODELDEL while the model runs.
    let mut runner = execute_async(&server, "AI.MODELEXECUTE spin INPUTS 1 one OUTPUTS 1 o");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.cmd("AI.MODELDEL spin"), ok_frame("OK"));
    assert!(is_error(&runner.read()));
    // Overwritten while it runs: the run finishes with the old model, the key has the new one.
    store(&mut c, "spin", &spin, &[]);
    let mut runner = execute_async(&server, "AI.MODELEXECUTE spin INPUTS 1 one OUTPUTS 1 o");
    std::thread::sleep(Duration::from_millis(100));
    let iris = reference("linear_iris.onnx");
    assert_eq!(store(&mut c, "spin", &iris, &[]), ok_frame("OK"));
    assert!(is_error(&runner.read()));
    assert_eq!(bulk(&c.cmd("AI.MODELGET spin BLOB")), iris);
    // FLUSHALL while a model runs.
    store(&mut c, "spin2", &spin, &[]);
    let mut runner = execute_async(&server, "AI.MODELEXECUTE spin2 INPUTS 1 one OUTPUTS 1 o");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.cmd("FLUSHALL"), ok_frame("OK"));
    assert!(is_error(&runner.read()));
    assert_eq!(c.cmd("DBSIZE"), Frame::Integer(0));
    assert!(server.alive());
}

#[test]
fn blocking_commands_are_refused_in_multi_and_lua() {
    let server = Server::start();
    let mut c = server.client();
    store(&mut c, "m", &onnx("batch_mul2.onnx"), &[]);
    c.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    assert_eq!(c.cmd("MULTI"), ok_frame("OK"));
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y"),
        ok_frame("QUEUED")
    );
    assert_eq!(c.cmd("AI.TENSORSET z FLOAT 1 VALUES 1"), ok_frame("QUEUED"));
    assert_eq!(
        render(&c.cmd("EXEC")),
        "*[-ERR Cannot run RedisAI command within a transaction or a LUA script, +OK]"
    );
    let lua = c.call(&[
        "EVAL",
        "return redis.pcall('AI.MODELEXECUTE', 'm', 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'y')",
        "0",
    ]);
    assert_eq!(
        render(&lua),
        "-ERR Cannot run RedisAI command within a transaction or a LUA script"
    );
    assert_eq!(c.cmd("EXISTS y"), Frame::Integer(0));
}

#[test]
fn garbage_truncated_and_hostile_models_are_refused() {
    let server = Server::with(&["BACKEND_MEMORY_LIMIT", "1"], &[]);
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    let mut blobs: Vec<Vec<u8>> = vec![b"not a model".to_vec(), vec![0; 4096], vec![0xff; 7]];
    for cut in [1, 10, 100, 1000, mnist.len() / 2, mnist.len() - 1] {
        blobs.push(mnist[..cut].to_vec());
    }
    for (i, blob) in blobs.iter().enumerate() {
        let reply = store(&mut c, "bad", blob, &[]);
        assert!(is_error(&reply), "blob {i} was accepted: {reply:?}");
    }
    assert_eq!(c.cmd("EXISTS bad"), Frame::Integer(0));
    // A model whose initializer lives in a file next to it is refused (no file is read).
    let reply = render(&store(&mut c, "ext", &onnx("external_data.onnx"), &[]));
    assert!(reply.starts_with('-'), "{reply}");
    assert_eq!(c.cmd("EXISTS ext"), Frame::Integer(0));
    // BACKEND_MEMORY_LIMIT 1 (MB): a model that needs more is refused, cleanly.
    let reply = render(&store(&mut c, "big", &onnx("big_weights.onnx"), &[]));
    assert!(
        reply.contains("Onnxruntime memory limit exceeded"),
        "{reply}"
    );
    // GPU on a machine without CUDA.
    let reply = store_onnx(&mut c, "g", "GPU:1", &[], &mnist);
    assert_eq!(
        render(&reply),
        "-ERR GPU requested but ONNX couldn't find CUDA"
    );
    assert!(server.log().lines().all(|l| !l.contains("panicked")));
}
