//! The TF and TFLITE backends through a real redis-server: the reference models' known answers,
//! the original's TF DUMP payload and AOF model line, persistence and bad graphs.

mod common;

use std::time::Duration;

use common::fixtures::{numbers, reference, store_model};
use common::payload::module_part;
use common::{bulk, golden_dir, is_error, ok_frame, render, unhex, Client, Frame, Server};

fn store_graph(c: &mut Client, key: &str, extra: &[&str]) -> Frame {
    let blob = reference("graph.pb");
    let mut args: Vec<&[u8]> = vec![b"AI.MODELSTORE", key.as_bytes(), b"TF", b"CPU"];
    args.extend(extra.iter().map(|a| a.as_bytes()));
    args.extend([
        &b"INPUTS"[..],
        b"2",
        b"a",
        b"b",
        b"OUTPUTS",
        b"1",
        b"mul",
        b"BLOB",
    ]);
    args.push(&blob);
    c.call(&args)
}

#[test]
fn the_tf_reference_graph_multiplies_and_reports_its_nodes() {
    needs!(
        "the_tf_reference_graph_multiplies_and_reports_its_nodes",
        "TF"
    );
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(store_graph(&mut c, "m", &["TAG", "v1"]), ok_frame("OK"));
    assert_eq!(
        render(&c.cmd("AI.MODELGET m META")),
        "*[$b'backend', $b'TF', $b'device', $b'CPU', $b'tag', $b'v1', $b'batchsize', :0, \
         $b'minbatchsize', :0, $b'inputs', *[$b'a', $b'b'], $b'outputs', *[$b'mul'], \
         $b'minbatchtimeout', :0]"
    );
    c.cmd("AI.TENSORSET a FLOAT 2 2 VALUES 2 3 2 3");
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 2 a a OUTPUTS 1 c"),
        ok_frame("OK")
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET c VALUES")),
        vec![4.0, 9.0, 4.0, 9.0]
    );
    // The deprecated forms.
    let blob = reference("graph.pb");
    let set = c.call(&[
        b"AI.MODELSET".as_slice(),
        b"old",
        b"TF",
        b"CPU",
        b"INPUTS",
        b"a",
        b"b",
        b"OUTPUTS",
        b"mul",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(set, ok_frame("OK"));
    assert_eq!(
        c.cmd("AI.MODELRUN old INPUTS a a OUTPUTS o"),
        ok_frame("OK")
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET o VALUES")),
        vec![4.0, 9.0, 4.0, 9.0]
    );
    // Errors are TF's own, one-lined; none of them hurts the server.
    let garbage = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"g",
        b"TF",
        b"CPU",
        b"INPUTS",
        b"1",
        b"a",
        b"OUTPUTS",
        b"1",
        b"mul",
        b"BLOB",
        b"garbage",
    ]);
    assert!(is_error(&garbage), "{garbage:?}");
    let blob = reference("graph.pb");
    let wrong_out = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"w",
        b"TF",
        b"CPU",
        b"INPUTS",
        b"2",
        b"a",
        b"b",
        b"OUTPUTS",
        b"1",
        b"nosuch",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(
        render(&wrong_out),
        "-ERR Output node named \"nosuch\" not found in TF graph"
    );
    let wrong_in = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"w",
        b"TF",
        b"CPU",
        b"INPUTS",
        b"2",
        b"a",
        b"nosuch",
        b"OUTPUTS",
        b"1",
        b"mul",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(
        render(&wrong_in),
        "-ERR Input node named \"nosuch\" not found in TF graph."
    );
    c.cmd("AI.TENSORSET i3 FLOAT 3 VALUES 1 2 3");
    let shape = render(&c.cmd("AI.MODELEXECUTE m INPUTS 2 a i3 OUTPUTS 1 c"));
    assert!(
        shape.starts_with("-Incompatible shapes: [2,2] vs. [3]"),
        "{shape}"
    );
    assert!(!shape.contains('\n'));
    let gpu = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"w",
        b"TF",
        b"GPU",
        b"INPUTS",
        b"2",
        b"a",
        b"b",
        b"OUTPUTS",
        b"1",
        b"mul",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(render(&gpu), "-ERR GPU requested but TF couldn't find CUDA");
    let info = String::from_utf8(bulk(&c.cmd("INFO MODULES"))).unwrap();
    assert!(info.contains("ai_TensorFlow_version:2.21.0"), "{info}");
}

#[test]
fn the_tflite_quantized_mnist_reads_the_digit_one() {
    needs!("the_tflite_quantized_mnist_reads_the_digit_one", "TFLITE");
    let server = Server::start();
    let mut c = server.client();
    let model = reference("mnist_model_quant.tflite");
    let reply = store_model(&mut c, "q", "TFLITE", "CPU", &[], &model);
    assert_eq!(reply, ok_frame("OK"), "{reply:?}");
    common::fixtures::set_one_image(&mut c, "img");
    let run = c.cmd("AI.MODELEXECUTE q INPUTS 1 img OUTPUTS 2 digit probability");
    assert_eq!(run, ok_frame("OK"), "{run:?}");
    let digit = numbers(&c.cmd("AI.TENSORGET digit VALUES"));
    assert_eq!(digit[0], 1.0, "{digit:?}");
    let info = String::from_utf8(bulk(&c.cmd("INFO MODULES"))).unwrap();
    assert!(info.contains("ai_TensorFlowLite_version:NA"), "{info}");
    // A broken flatbuffer is an error, not a crash.
    let reply = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"bad",
        b"TFLITE",
        b"CPU",
        b"BLOB",
        &model[..1000],
    ]);
    assert!(is_error(&reply));
    assert_eq!(c.cmd("PING"), ok_frame("PONG"));
}

#[test]
fn tf_and_tflite_models_survive_reload_restart_and_aof() {
    needs!(
        "tf_and_tflite_models_survive_reload_restart_and_aof",
        "TF",
        "TFLITE"
    );
    let mut server = Server::start();
    let mut c = server.client();
    assert_eq!(
        store_graph(&mut c, "m", &["BATCHSIZE", "4"]),
        ok_frame("OK")
    );
    let model = reference("mnist_model_quant.tflite");
    let reply = store_model(&mut c, "q", "TFLITE", "CPU", &[], &model);
    assert_eq!(reply, ok_frame("OK"), "{reply:?}");
    let snapshot = |c: &mut Client| {
        (
            render(&c.cmd("AI.MODELGET m META BLOB")),
            render(&c.cmd("AI.MODELGET q META BLOB")),
        )
    };
    let before = snapshot(&mut c);
    assert_eq!(c.cmd("DEBUG RELOAD"), ok_frame("OK"));
    assert_eq!(snapshot(&mut c), before);
    assert_eq!(c.cmd("CONFIG SET aof-use-rdb-preamble no"), ok_frame("OK"));
    assert_eq!(c.cmd("CONFIG SET appendonly yes"), ok_frame("OK"));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let info = String::from_utf8(bulk(&c.cmd("INFO persistence"))).unwrap();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "AOF rewrite never finished"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(c);
    server.restart(
        "NOSAVE",
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    );
    let mut c = server.client();
    assert_eq!(snapshot(&mut c), before);
    c.cmd("AI.TENSORSET a FLOAT 2 2 VALUES 2 3 2 3");
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 2 a a OUTPUTS 1 c"),
        ok_frame("OK")
    );
}

#[test]
fn the_golden_tf_payload_and_aof_model_line_load() {
    needs!("the_golden_tf_payload_and_aof_model_line_load", "TF");
    let server = Server::start();
    let mut c = server.client();
    let payloads: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("dump-payloads.json")).unwrap(),
    )
    .unwrap();
    let payload = unhex(payloads["m_tf"]["hex"].as_str().unwrap());
    assert_eq!(
        c.call(&[b"RESTORE".as_slice(), b"m_tf", b"0", &payload]),
        ok_frame("OK")
    );
    assert_eq!(
        render(&c.cmd("AI.MODELGET m_tf META")),
        "*[$b'backend', $b'TF', $b'device', $b'CPU', $b'tag', $b'', $b'batchsize', :0, \
         $b'minbatchsize', :0, $b'inputs', *[$b'a', $b'b'], $b'outputs', *[$b'mul'], \
         $b'minbatchtimeout', :0]"
    );
    assert_eq!(bulk(&c.cmd("AI.MODELGET m_tf BLOB")), reference("graph.pb"));
    assert_eq!(
        module_part(&bulk(&c.cmd("DUMP m_tf"))),
        module_part(&payload)
    );
    // The model line of the AOF the original rewrote replays.
    let aof = std::fs::read(golden_dir().join("aof-rewrite-example.aof")).unwrap();
    let start = aof.windows(13).position(|w| w == b"AI.MODELSTORE").unwrap();
    let header = aof[..start].iter().rposition(|&b| b == b'*').unwrap();
    let mut rest = &aof[header..];
    let line = |rest: &mut &[u8]| -> String {
        let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let text = String::from_utf8(rest[..end].to_vec()).unwrap();
        *rest = &rest[end + 2..];
        text
    };
    let n: usize = line(&mut rest)[1..].parse().unwrap();
    let mut args = Vec::new();
    for _ in 0..n {
        let len: usize = line(&mut rest)[1..].parse().unwrap();
        args.push(rest[..len].to_vec());
        rest = &rest[len + 2..];
    }
    assert_eq!(c.call(&args), ok_frame("OK"));
    assert_eq!(
        render(&c.cmd("AI.MODELGET a_model META")),
        "*[$b'backend', $b'TF', $b'device', $b'CPU', $b'tag', $b'v1', $b'batchsize', :0, \
         $b'minbatchsize', :0, $b'inputs', *[$b'a', $b'b'], $b'outputs', *[$b'mul'], \
         $b'minbatchtimeout', :0]"
    );
}
