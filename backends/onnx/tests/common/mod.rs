//! Shared helpers of the ONNX backend tests: every test goes through the plugin ABI, loading the
//! built `libredisai_onnxruntime.so` with the host's `Plugin::load`, laid out as it is installed
//! (`<dir>/redisai_onnxruntime.so` + `<dir>/lib/libonnxruntime.so.<version>`).
//!
//! A backend is loaded once per process (ONNX Runtime has one environment per process), so each
//! test binary loads it once, with the configuration its tests need.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use redisai_backend_api::host::{LoadedModel, Plugin};
use redisai_backend_api::{BackendConfig, Device, ModelOptions};

#[path = "../../../test_support.rs"]
mod support;

pub use support::*;

pub const ONNXRUNTIME_VERSION: &str = env!("ONNXRUNTIME_VERSION");

/// The ONNX Runtime library: `$ORT_DYLIB_PATH`, else the project-local install of
/// scripts/install_onnxruntime.sh.
pub fn ort_library() -> PathBuf {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let path = workspace().join(format!(
        ".build/onnxruntime/onnxruntime/capi/libonnxruntime.so.{ONNXRUNTIME_VERSION}"
    ));
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh (it installs ONNX Runtime from PyPI into .build/) \
         or set ORT_DYLIB_PATH",
        path.display()
    );
    path
}

/// The plugin laid out as `make build` installs it, with symbolic links in a temporary directory
/// (kept until the plugin is loaded; a loaded library needs its files no more); or
/// `$REDISAI_ONNX_PLUGIN`, an installed plugin to test instead (e.g.
/// `dist/backends/redisai_onnxruntime/redisai_onnxruntime.so`).
fn install_plugin() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Some(path) = std::env::var_os("REDISAI_ONNX_PLUGIN").filter(|p| !p.is_empty()) {
        return (PathBuf::from(path), None);
    }
    let built = built_library("libredisai_onnxruntime.so");
    let dir = tempfile::Builder::new()
        .prefix("redisai-onnx-test")
        .tempdir()
        .expect("temp dir");
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let so = dir.path().join("redisai_onnxruntime.so");
    std::os::unix::fs::symlink(built.canonicalize().unwrap(), &so).unwrap();
    std::os::unix::fs::symlink(
        ort_library().canonicalize().unwrap(),
        lib.join(format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}")),
    )
    .unwrap();
    (so, Some(dir))
}

/// The allocation limit every test binary loads the backend with (BACKEND_ALLOCATION_LIMIT).
pub const ALLOCATION_LIMIT: u64 = 256 * 1024 * 1024;

/// Loads the backend (once per process) with the given kill-switch timeout and memory limit.
pub fn plugin(timeout_ms: u64, memory_limit_mb: u64) -> Arc<Plugin> {
    static PLUGIN: OnceLock<(u64, u64, Arc<Plugin>)> = OnceLock::new();
    let (t, m, plugin) = PLUGIN.get_or_init(|| {
        let (library_path, _layout) = install_plugin();
        let config = BackendConfig {
            library_path,
            intra_op_parallelism: 1,
            inter_op_parallelism: 1,
            model_execution_timeout_ms: timeout_ms,
            backend_memory_limit_mb: memory_limit_mb,
            allocation_limit_bytes: ALLOCATION_LIMIT,
            allowed_operators: Vec::new(),
        };
        let plugin = Plugin::load(&config).unwrap_or_else(|e| panic!("load failed: {e}"));
        (timeout_ms, memory_limit_mb, plugin)
    });
    assert_eq!(
        (*t, *m),
        (timeout_ms, memory_limit_mb),
        "one configuration per test binary"
    );
    Arc::clone(plugin)
}

/// A model of RedisAI's reference set (tests/golden/models).
pub fn reference_model(name: &str) -> Vec<u8> {
    let path = workspace().join("tests/golden/models").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The directory of the generated fixtures (tests/fixtures/make_onnx_models.py), generated on
/// first use; `None` (the test then says why it is skipped) only when Python or the `onnx`
/// package is missing.
pub fn fixtures() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = workspace();
        let out = root.join("target/fixtures/onnx");
        let venv = root.join(".venv/bin/python");
        let python = if venv.exists() {
            venv
        } else {
            PathBuf::from("python3")
        };
        let run = Command::new(&python)
            .arg(root.join("tests/fixtures/make_onnx_models.py"))
            .arg(&out)
            .output();
        match run {
            Ok(o) if o.status.success() => Some(out),
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr);
                if stderr.contains("No module named") {
                    eprintln!(
                        "SKIPPED: the onnx/numpy Python packages are missing ({}); \
                         run scripts/setup.sh",
                        python.display()
                    );
                    None
                } else {
                    panic!("make_onnx_models.py failed: {stderr}");
                }
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED: cannot run {}: {e}; run scripts/setup.sh",
                    python.display()
                );
                None
            }
        }
    })
    .clone()
}

/// A generated fixture's bytes, or `None` when fixtures cannot be generated here.
pub fn fixture(name: &str) -> Option<Vec<u8>> {
    let path = fixtures()?.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
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

pub fn store(plugin: &Arc<Plugin>, blob: &[u8]) -> LoadedModel {
    plugin
        .create_model(blob, &cpu())
        .unwrap_or_else(|e| panic!("model refused: {e}"))
}
