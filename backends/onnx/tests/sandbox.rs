//! The ONNX sandbox through the plugin ABI: operators of domains ONNX Runtime does not ship are
//! refused at store time (model-local functions are not), and an allocation over the
//! allocation limit fails the run before any memory is taken, whatever size the input asks for.

mod common;

use common::*;
use redisai_backend_api::sandbox::{allocation_refused, forbidden_operator, CodeKind};
use redisai_backend_api::DType;

#[test]
fn operators_of_unknown_domains_are_refused() {
    let plugin = plugin(5000, 0);
    let Some(blob) = fixture("custom_domain.onnx") else {
        return;
    };
    let err = plugin.create_model(&blob, &cpu()).unwrap_err();
    assert_eq!(
        err,
        forbidden_operator(CodeKind::Model, "com.example.io:ReadFile")
    );
}

#[test]
fn model_local_functions_are_allowed() {
    let plugin = plugin(5000, 0);
    let Some(blob) = fixture("local_function.onnx") else {
        return;
    };
    let model = store(&plugin, &blob);
    let x = tensor(DType::Float, &[2], &["1", "2"]);
    let out = run(&model, &[&x]).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [2.0, 4.0]);
}

#[test]
fn an_allocation_over_the_limit_fails_the_run_before_taking_memory() {
    let plugin = plugin(5000, 0);
    let Some(blob) = fixture("constant_of_shape.onnx") else {
        return;
    };
    let model = store(&plugin, &blob);
    let small = tensor(DType::Int64, &[1], &["3"]);
    let out = run(&model, &[&small]).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [0.0; 3]);
    // 4 TB (the kernel would hand it out and the host would run out of memory filling it), and
    // then just over the limit.
    for elements in [1_000_000_000_000u64, ALLOCATION_LIMIT / 4 + 16] {
        let shape = tensor(DType::Int64, &[1], &[&elements.to_string()]);
        let err = run(&model, &[&shape]).unwrap_err();
        assert_eq!(err, allocation_refused(elements * 4, ALLOCATION_LIMIT));
    }
    // The backend still runs.
    assert!(run(&model, &[&small]).is_ok());
}
