//! Shared helpers of the TFLite backend tests: every test goes through the plugin ABI, loading the
//! built `libredisai_tflite.so` with the host's `Plugin::load` (the backend needs no native
//! library next to it).

#![allow(dead_code)]

pub mod builder;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use redisai_backend_api::host::{LoadedModel, Plugin};
use redisai_backend_api::{BackendConfig, DType, Device, ModelOptions};
use redisai_core::Tensor;

#[path = "../../../test_support.rs"]
mod support;

pub use support::*;

/// The built plugin, or `$REDISAI_TFLITE_PLUGIN` (an installed one to test instead, e.g.
/// `dist/backends/redisai_tflite/redisai_tflite.so`).
fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("REDISAI_TFLITE_PLUGIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    built_library("libredisai_tflite.so")
}

/// Loads the backend (once per process).
pub fn plugin() -> Arc<Plugin> {
    static PLUGIN: OnceLock<Arc<Plugin>> = OnceLock::new();
    Arc::clone(PLUGIN.get_or_init(|| {
        let config = BackendConfig {
            library_path: plugin_path(),
            allocation_limit_bytes: ALLOCATION_LIMIT,
            ..Default::default()
        };
        Plugin::load(&config).unwrap_or_else(|e| panic!("load failed: {e}"))
    }))
}

/// The allocation limit the tests load the backend with (BACKEND_ALLOCATION_LIMIT).
pub const ALLOCATION_LIMIT: u64 = 64 * 1024 * 1024;

/// A model of RedisAI's reference set (tests/golden/models).
pub fn reference_model(name: &str) -> Vec<u8> {
    let path = workspace().join("tests/golden/models").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn cpu() -> ModelOptions {
    device(Device::Cpu, "CPU")
}

pub fn device(device: Device, name: &str) -> ModelOptions {
    ModelOptions {
        device,
        device_name: name.into(),
        batchsize: 0,
        inputs: Vec::new(),
        outputs: Vec::new(),
    }
}

pub fn store(blob: &[u8]) -> LoadedModel {
    plugin()
        .create_model(blob, &cpu())
        .unwrap_or_else(|e| panic!("model refused: {e}"))
}

/// A FLOAT tensor of the given values.
pub fn floats(shape: &[i64], values: &[f32]) -> Tensor {
    Tensor::from_blob(DType::Float, shape.to_vec(), &builder::f32_bytes(values)).unwrap()
}

/// RedisAI's `one.raw` (a handwritten 1) as its clients store it: FLOAT 1 1 28 28.
pub fn one_image() -> Tensor {
    Tensor::from_blob(
        DType::Float,
        vec![1, 1, 28, 28],
        &reference_model("one.raw"),
    )
    .unwrap()
}

/// Runs a model whose outputs are all tensors.
pub fn run_ok(model: &LoadedModel, inputs: &[&Tensor]) -> Vec<Tensor> {
    run(model, inputs)
        .unwrap_or_else(|e| panic!("run failed: {e}"))
        .into_iter()
        .map(|t| t.expect("a tensor output"))
        .collect()
}

pub fn i32s(t: &Tensor) -> Vec<i32> {
    t.data()
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

pub fn i64s(t: &Tensor) -> Vec<i64> {
    t.data()
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// The index of the largest value.
pub fn argmax(values: &[f32]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap()
}
