//! `AI.MODELSTORE ... WARMUP <n> BLOB ...` and the MODEL_WARMUP module argument through a real
//! server: the warm-up runs on zeros of the declared input shapes before the model is stored,
//! is not counted in AI.INFO, fails the store when it cannot run (and leaves the key as it was),
//! and never allocates what a hostile model declares.

mod common;

use common::fixtures::{numbers, onnx, reference, store_model, store_onnx};
use common::torch::torch_model;
use common::{field_pairs, have_backends, integer, ok_frame, rss, Client, Frame, Server};

fn error(frame: &Frame) -> String {
    match frame {
        Frame::Error(e) => e.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn calls(c: &mut Client, key: &str) -> i64 {
    let info = field_pairs(&c.call(&["AI.INFO", key]));
    let (_, calls) = info.iter().find(|(k, _)| k == "calls").expect("calls");
    integer(calls)
}

#[test]
fn warmup_runs_before_the_store_and_is_not_counted() {
    let server = Server::start();
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    assert_eq!(
        store_onnx(&mut c, "m", "CPU", &["WARMUP", "3"], &mnist),
        ok_frame("OK")
    );
    assert!(
        server.log().contains("model m: 3 warm-up runs in"),
        "{}",
        server.log()
    );
    assert_eq!(calls(&mut c, "m"), 0);
    // Open dimensions (d0, d1) are warmed with 1; the model then runs as usual.
    assert_eq!(
        store_onnx(
            &mut c,
            "id",
            "CPU",
            &["WARMUP", "1"],
            &onnx("identity_FLOAT.onnx")
        ),
        ok_frame("OK")
    );
    assert_eq!(c.cmd("AI.TENSORSET x FLOAT 1 2 VALUES 1 2"), ok_frame("OK"));
    assert_eq!(
        c.cmd("AI.MODELEXECUTE id INPUTS 1 x OUTPUTS 1 y"),
        ok_frame("OK")
    );
    assert_eq!(numbers(&c.cmd("AI.TENSORGET y VALUES")), [1.0, 2.0]);
    assert_eq!(calls(&mut c, "id"), 1);
    // WARMUP 0 runs nothing; the option is not persisted or shown.
    assert_eq!(
        store_onnx(&mut c, "z", "CPU", &["TAG", "t", "WARMUP", "0"], &mnist),
        ok_frame("OK")
    );
    assert!(!server.log().contains("model z:"));
    let meta = field_pairs(&c.cmd("AI.MODELGET z META"));
    assert!(meta.iter().all(|(k, _)| k != "warmup"), "{meta:?}");
}

#[test]
fn a_warmup_that_cannot_run_fails_the_store_and_leaves_the_key() {
    let server = Server::start();
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    assert_eq!(
        store_onnx(&mut c, "m", "CPU", &["TAG", "old"], &mnist),
        ok_frame("OK")
    );
    // Zeros are not a shape Reshape can take: the backend's own reason follows.
    let reply = store_onnx(
        &mut c,
        "m",
        "CPU",
        &["WARMUP", "1"],
        &onnx("reshape_to.onnx"),
    );
    let text = error(&reply);
    assert!(text.starts_with("ERR WARMUP failed: "), "{text}");
    assert!(text.contains("Reshape"), "{text}");
    let meta = field_pairs(&c.cmd("AI.MODELGET m META"));
    let (_, tag) = meta.iter().find(|(k, _)| k == "tag").expect("a tag");
    assert_eq!(tag, &Frame::BulkString(b"old".to_vec()));
    // Without WARMUP the same model stores and runs.
    assert_eq!(
        store_onnx(&mut c, "r", "CPU", &[], &onnx("reshape_to.onnx")),
        ok_frame("OK")
    );
    // Bad counts are refused before anything is built.
    for bad in ["-1", "x", "1001"] {
        assert_eq!(
            error(&store_onnx(&mut c, "m2", "CPU", &["WARMUP", bad], &mnist)),
            "ERR Invalid argument for WARMUP",
            "{bad}"
        );
    }
    assert_eq!(integer(&c.cmd("EXISTS m2")), 0);
}

#[test]
fn a_declared_input_of_40_gb_is_refused_without_allocating_it() {
    let server = Server::start();
    let mut c = server.client();
    let before = rss(&mut c);
    let reply = store_onnx(
        &mut c,
        "huge",
        "CPU",
        &["WARMUP", "1"],
        &onnx("huge_input.onnx"),
    );
    assert_eq!(
        error(&reply),
        "ERR WARMUP failed: input x of shape [100000, 100000] exceeds the maximum of 536870912 \
         bytes (proto-max-bulk-len)"
    );
    assert!(rss(&mut c) < before + 64 * 1024 * 1024);
    assert_eq!(integer(&c.cmd("EXISTS huge")), 0);
}

#[test]
fn inputs_within_the_limit_one_by_one_are_bounded_together() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(c.cmd("CONFIG SET proto-max-bulk-len 1mb"), ok_frame("OK"));
    let blob = onnx("two_big_inputs.onnx");
    let want = "ERR WARMUP failed: the inputs' zeros exceed the maximum of 1048576 bytes \
                together (proto-max-bulk-len)";
    // The module reads proto-max-bulk-len from the server's cron, about once a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = store_onnx(&mut c, "two", "CPU", &["WARMUP", "1"], &blob);
        if matches!(&reply, Frame::Error(e) if e == want) {
            break;
        }
        assert_eq!(reply, ok_frame("OK"), "before the limit applies");
        assert_eq!(c.cmd("AI.MODELDEL two"), ok_frame("OK"));
        assert!(
            std::time::Instant::now() < deadline,
            "the limit never applied"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(integer(&c.cmd("EXISTS two")), 0);
}

#[test]
fn the_module_default_warms_what_it_can_and_stores_the_rest() {
    let server = Server::with(&["MODEL_WARMUP", "2"], &[]);
    let mut c = server.client();
    assert_eq!(
        store_onnx(&mut c, "m", "CPU", &[], &reference("mnist.onnx")),
        ok_frame("OK")
    );
    assert!(server.log().contains("model m: 2 warm-up runs in"));
    // A default warm-up that fails is logged; the model is stored all the same.
    assert_eq!(
        store_onnx(&mut c, "r", "CPU", &[], &onnx("reshape_to.onnx")),
        ok_frame("OK")
    );
    assert!(
        server
            .log()
            .contains("model r: not warmed up: ERR WARMUP failed:"),
        "{}",
        server.log()
    );
    // RDB loading warms the models it builds.
    assert_eq!(c.cmd("DEBUG RELOAD"), ok_frame("OK"));
    assert_eq!(
        server.log().matches("model m: 2 warm-up runs in").count(),
        2
    );
    let info = String::from_utf8(common::bulk(&c.cmd("INFO MODULES"))).unwrap();
    assert!(info.contains("ai_model_warmup:2"), "{info}");
}

#[test]
fn models_without_declared_shapes_refuse_an_explicit_warmup() {
    if !have_backends(
        "models_without_declared_shapes_refuse_an_explicit_warmup",
        &["TORCH"],
    ) {
        return;
    }
    let server = Server::with(&["MODEL_WARMUP", "1"], &[]);
    let mut c = server.client();
    let pt = torch_model("def forward(self, a):\n    return a + a\n");
    assert_eq!(
        error(&store_model(
            &mut c,
            "pt",
            "TORCH",
            "CPU",
            &["WARMUP", "1"],
            &pt
        )),
        "ERR WARMUP failed: input a of this TORCH model declares no shape"
    );
    // The default skips it (logged) and stores the model.
    assert_eq!(
        store_model(&mut c, "pt", "TORCH", "CPU", &[], &pt),
        ok_frame("OK")
    );
    assert!(server.log().contains("model pt: not warmed up"));
}

#[test]
fn tflite_models_declare_their_shapes() {
    if !have_backends("tflite_models_declare_their_shapes", &["TFLITE"]) {
        return;
    }
    let server = Server::start();
    let mut c = server.client();
    let tflite = reference("mnist_model_quant.tflite");
    assert_eq!(
        store_model(&mut c, "lite", "TFLITE", "CPU", &["WARMUP", "2"], &tflite),
        ok_frame("OK")
    );
    assert!(server.log().contains("model lite: 2 warm-up runs in"));
}
