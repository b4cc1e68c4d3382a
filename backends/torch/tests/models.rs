//! TorchScript models through the plugin ABI: RedisAI's reference pt-minimal.pt, signatures,
//! tuple and list outputs, every dtype the TORCH backend maps, concurrent runs, and errors.

mod common;

use std::sync::Arc;

use common::*;
use redisai_backend_api::DType;

#[test]
fn version_and_info_fields() {
    let plugin = plugin();
    assert!(
        plugin.version().starts_with(TORCH_VERSION),
        "{}",
        plugin.version()
    );
    let info = plugin.info();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].0, "Torch_version");
    assert!(plugin.has_scripts());
}

#[test]
fn reference_model_adds() {
    let model = store(&reference_model("pt-minimal.pt"));
    assert_eq!(model.inputs(), ["a", "b"]);
    assert_eq!(model.outputs(), [""]);
    let a = tensor(DType::Float, &[2, 2], &["2", "3", "2", "3"]);
    let b = tensor(DType::Float, &[2, 2], &["2", "3", "2", "3"]);
    let out = run(&model, &[&a, &b]).unwrap();
    let t = out[0].as_ref().unwrap();
    assert_eq!(t.dtype(), DType::Float);
    assert_eq!(t.shape(), [2, 2]);
    assert_eq!(f32s(t), [4.0, 6.0, 4.0, 6.0]);
}

#[test]
fn runtime_errors_are_torchscript_messages() {
    let model = store(&reference_model("pt-minimal.pt"));
    let a = tensor(DType::Float, &[2, 2], &["2", "3", "2", "3"]);
    let c = tensor(DType::Float, &[3], &["1", "2", "3"]);
    let err = run(&model, &[&a, &c]).unwrap_err();
    assert!(
        err.contains("The size of tensor a (2) must match the size of tensor b (3)"),
        "{err}"
    );
    assert!(!err.contains("frame #"), "no C++ backtrace: {err}");
    let err = run(&model, &[&a]).unwrap_err();
    assert_eq!(err, "ERR Expected 2 inputs but got 1");
}

#[test]
fn garbage_is_refused_cleanly() {
    for blob in [&b"garbage"[..], b"", b"PK\x03\x04 not really a zip"] {
        let err = try_store(blob).unwrap_err();
        assert!(
            err.contains("PytorchStreamReader") || !err.is_empty(),
            "{err}"
        );
        assert!(!err.contains("frame #"), "{err}");
    }
    // A truncated archive.
    let blob = reference_model("pt-minimal.pt");
    assert!(try_store(&blob[..blob.len() / 2]).is_err());
}

#[test]
fn tuple_and_list_outputs_are_flattened() {
    let model = store(&archive(
        "def forward(self, a, b):\n    return a + b, a - b, a * b\n",
    ));
    assert_eq!(model.inputs(), ["a", "b"]);
    assert_eq!(model.outputs(), ["", "", ""]);
    let a = tensor(DType::Float, &[2], &["5", "7"]);
    let b = tensor(DType::Float, &[2], &["1", "2"]);
    let out = run(&model, &[&a, &b]).unwrap();
    let got: Vec<Vec<f32>> = out.iter().map(|t| f32s(t.as_ref().unwrap())).collect();
    assert_eq!(got, [vec![6.0, 9.0], vec![4.0, 5.0], vec![5.0, 14.0]]);

    // A list result: one declared output, the first element.
    let model = store(&archive(
        "def forward(self, a):\n    return [a + 1, a + 2]\n",
    ));
    assert_eq!(model.outputs(), [""]);
    let out = run(&model, &[&a]).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [6.0, 8.0]);
}

#[test]
fn every_mapped_dtype_round_trips() {
    let model = store(&archive("def forward(self, a):\n    return a\n"));
    let cases: [(DType, &[&str]); 8] = [
        (DType::Float, &["1.5", "-2"]),
        (DType::Double, &["1.25", "3"]),
        (DType::Int8, &["3", "4"]),
        (DType::Int16, &["300", "4"]),
        (DType::Int32, &["70000", "4"]),
        (DType::Int64, &["5000000000", "4"]),
        (DType::Uint8, &["200", "4"]),
        (DType::Bool, &["1", "0"]),
    ];
    for (dtype, values) in cases {
        let t = tensor(dtype, &[2, 1], values);
        let out = run(&model, &[&t]).unwrap();
        let got = out[0].as_ref().unwrap();
        assert_eq!(got, &t, "{dtype:?}");
    }
    for dtype in [DType::Uint16, DType::String] {
        let values: &[&str] = if dtype == DType::String {
            &["a"]
        } else {
            &["1"]
        };
        let t = tensor(dtype, &[1], values);
        let err = run(&model, &[&t]).unwrap_err();
        assert!(err.starts_with("ERR TORCH does not support"), "{err}");
    }
}

#[test]
fn integer_models_compute_exactly() {
    let model = store(&archive("def forward(self, a, b):\n    return a * b + 1\n"));
    let a = tensor(DType::Int64, &[3], &["2", "3", "4"]);
    let b = tensor(DType::Int64, &[3], &["10", "20", "30"]);
    let out = run(&model, &[&a, &b]).unwrap();
    assert_eq!(
        out[0].as_ref().unwrap(),
        &tensor(DType::Int64, &[3], &["21", "61", "121"])
    );
}

#[test]
fn non_tensor_outputs_are_errors() {
    let model = store(&archive("def forward(self, a):\n    return 3\n"));
    let a = tensor(DType::Float, &[1], &["1"]);
    let err = run(&model, &[&a]).unwrap_err();
    assert_eq!(err, "ERR Model returned a non-tensor output");
}

#[test]
fn concurrent_runs_share_one_model() {
    let model = Arc::new(store(&reference_model("pt-minimal.pt")));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let model = Arc::clone(&model);
            std::thread::spawn(move || {
                let v = i.to_string();
                let a = tensor(DType::Float, &[1], &[&v]);
                for _ in 0..50 {
                    let out = run(&model, &[&a, &a]).unwrap();
                    assert_eq!(f32s(out[0].as_ref().unwrap()), [2.0 * i as f32]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn devices() {
    assert_eq!(
        plugin()
            .create_model(&reference_model("pt-minimal.pt"), &options("XPU"))
            .unwrap_err(),
        "ERR unsupported device"
    );
    // No CUDA in the CPU build of libtorch.
    let err = plugin()
        .create_model(&reference_model("pt-minimal.pt"), &options("GPU:0"))
        .unwrap_err();
    assert!(err.contains("GPU"), "{err}");
    assert!(plugin()
        .create_model(&reference_model("pt-minimal.pt"), &options("cpu:3"))
        .is_ok());
}
