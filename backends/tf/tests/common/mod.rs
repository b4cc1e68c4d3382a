//! Shared helpers of the TF backend tests: every test goes through the plugin ABI, loading the
//! built `libredisai_tensorflow.so` with the host's `Plugin::load`, laid out as `make build`
//! installs it (`<dir>/redisai_tensorflow.so` + `<dir>/lib/libtensorflow_cc.so.2` and
//! `libtensorflow_framework.so.2`).
//!
//! A backend is loaded once per process, so each test binary loads it once. The test graphs are
//! built in Rust (`graphdef`), besides RedisAI's reference `graph.pb`.

#![allow(dead_code)]

pub mod graphdef;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use redisai_backend_api::host::{LoadedModel, Plugin};
use redisai_backend_api::{BackendConfig, Device, ModelOptions};
use redisai_core::Tensor;

#[path = "../../../test_support.rs"]
mod support;

pub use support::*;

pub const TENSORFLOW_VERSION: &str = env!("TENSORFLOW_VERSION");

pub const LIBRARIES: [&str; 2] = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"];

/// The directory of TensorFlow's libraries: `$TENSORFLOW_LIB_DIR`, else the project-local
/// install of scripts/install_tensorflow.sh (what build.rs links against).
pub fn tensorflow_lib_dir() -> PathBuf {
    match std::env::var_os("TENSORFLOW_LIB_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => workspace().join(".build/tensorflow/tensorflow"),
    }
}

/// The plugin as cargo built it.
pub fn built_plugin() -> PathBuf {
    built_library("libredisai_tensorflow.so")
}

/// The plugin laid out as `make build` installs it, with symbolic links in a temporary directory
/// (kept until the plugin is loaded); or `$REDISAI_TF_PLUGIN`, an installed plugin to test
/// instead (e.g. `dist/backends/redisai_tensorflow/redisai_tensorflow.so`).
fn install_plugin() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Some(path) = std::env::var_os("REDISAI_TF_PLUGIN").filter(|p| !p.is_empty()) {
        return (PathBuf::from(path), None);
    }
    let dir = tempfile::Builder::new()
        .prefix("redisai-tf-test")
        .tempdir()
        .expect("temp dir");
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let so = dir.path().join("redisai_tensorflow.so");
    std::os::unix::fs::symlink(built_plugin().canonicalize().unwrap(), &so).unwrap();
    for file in LIBRARIES {
        let target = tensorflow_lib_dir().join(file);
        std::os::unix::fs::symlink(target.canonicalize().unwrap(), lib.join(file)).unwrap();
    }
    (so, Some(dir))
}

/// The allocation limit the tests load the backend with (BACKEND_ALLOCATION_LIMIT).
pub const ALLOCATION_LIMIT: u64 = 256 * 1024 * 1024;

/// Loads the backend (once per process), with one intra-op and one inter-op thread.
pub fn plugin() -> Arc<Plugin> {
    static PLUGIN: OnceLock<Arc<Plugin>> = OnceLock::new();
    Arc::clone(PLUGIN.get_or_init(|| {
        let (library_path, _layout) = install_plugin();
        let config = BackendConfig {
            library_path,
            intra_op_parallelism: 1,
            inter_op_parallelism: 1,
            model_execution_timeout_ms: 5000,
            backend_memory_limit_mb: 0,
            allocation_limit_bytes: ALLOCATION_LIMIT,
            allowed_operators: Vec::new(),
        };
        Plugin::load(&config).unwrap_or_else(|e| panic!("load failed: {e}"))
    }))
}

/// A model of RedisAI's reference set (tests/golden/models).
pub fn reference_model(name: &str) -> Vec<u8> {
    let path = workspace().join("tests/golden/models").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Store options of a TF model with the given node names.
pub fn options(device: Device, inputs: &[&str], outputs: &[&str]) -> ModelOptions {
    ModelOptions {
        device,
        device_name: match device {
            Device::Cpu => "CPU".into(),
            Device::Gpu(0) => "GPU".into(),
            Device::Gpu(n) => format!("GPU:{n}"),
        },
        batchsize: 0,
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
    }
}

/// Stores a graph on the CPU, or gives the error reply.
pub fn try_store(graph: &[u8], inputs: &[&str], outputs: &[&str]) -> Result<LoadedModel, String> {
    plugin().create_model(graph, &options(Device::Cpu, inputs, outputs))
}

pub fn store(graph: &[u8], inputs: &[&str], outputs: &[&str]) -> LoadedModel {
    try_store(graph, inputs, outputs).unwrap_or_else(|e| panic!("model refused: {e}"))
}

/// The reference graph: `mul = a * b` (FLOAT placeholders of any shape), `c = Identity(mul)`.
pub fn reference_graph(outputs: &[&str]) -> LoadedModel {
    store(&reference_model("graph.pb"), &["a", "b"], outputs)
}

/// Runs a model and returns its only output.
pub fn run_one(model: &LoadedModel, inputs: &[&Tensor]) -> Tensor {
    let mut out = run(model, inputs).unwrap_or_else(|e| panic!("run failed: {e}"));
    assert_eq!(out.len(), 1);
    out.remove(0).expect("a tensor")
}
