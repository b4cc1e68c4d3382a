//! BACKEND_MEMORY_LIMIT: allocations of CPU sessions beyond the limit fail with RedisAI's text,
//! at run time as such and at store time behind ONNX Runtime's initialization prefix; the
//! backend keeps working for what fits.

mod common;

use common::*;
use redisai_backend_api::DType;

/// 1 MB = 1,000,000 bytes.
const LIMIT_MB: u64 = 1;
const LIMIT_TEXT: &str = "Onnxruntime memory limit exceeded, memory allocation failed.";

fn memory_in_use(plugin: &redisai_backend_api::host::Plugin) -> u64 {
    let info = plugin.info();
    assert_eq!(info[1].0, "onnxruntime_memory");
    info[1].1.parse().unwrap()
}

#[test]
fn allocations_over_the_limit_fail() {
    let plugin = plugin(5000, LIMIT_MB);
    let (Some(big_run), Some(big_weights), Some(small)) = (
        fixture("big_memory.onnx"),
        fixture("big_weights.onnx"),
        fixture("identity_FLOAT.onnx"),
    ) else {
        return;
    };

    // 2 MB of weights, prepacked at store time, do not fit.
    let err = plugin.create_model(&big_weights, &cpu()).unwrap_err();
    assert_eq!(
        err,
        format!("Exception during initialization: {LIMIT_TEXT}")
    );

    // A run that needs 16 MB fails; the model stays usable for what fits.
    let model = store(&plugin, &big_run);
    let x = tensor(DType::Float, &[1], &["3"]);
    let calls = |p: &redisai_backend_api::host::Plugin| p.info()[2].1.parse::<u64>().unwrap();
    let before = calls(&plugin);
    assert_eq!(run(&model, &[&x]).unwrap_err(), LIMIT_TEXT);
    assert_eq!(run(&model, &[&x]).unwrap_err(), LIMIT_TEXT);
    // Refused allocations are not calls that allocated anything.
    assert_eq!(calls(&plugin), before);

    let identity = store(&plugin, &small);
    let input = tensor(DType::Float, &[2, 2], &["1", "2", "3", "4"]);
    let out = run(&identity, &[&input]).unwrap();
    assert_eq!(out[0].as_ref().unwrap(), &input);

    // Nothing is left held by the failed attempts beyond the live models.
    assert!(memory_in_use(&plugin) < LIMIT_MB * 1_000_000);
}
