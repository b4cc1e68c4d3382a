//! Shared helpers of the TORCH backend tests: every test goes through the plugin ABI, loading the
//! built `libredisai_torch.so` with the host's `Plugin::load` (libtorch is found on the library
//! path cargo sets for tests). Models are built from TorchScript source by the plugin's own
//! `module_from_source`, besides RedisAI's reference `pt-minimal.pt`.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, OnceLock};

use redisai_backend_api::host::{LoadedModel, Plugin};
use redisai_backend_api::host_script::LoadedScript;
use redisai_backend_api::{
    BackendConfig, Device, ModelOptions, Reply, ScriptCall, ScriptHost, TensorRef,
};
use redisai_core::Tensor;

#[path = "../../../test_support.rs"]
mod support;

pub use support::*;

pub const TORCH_VERSION: &str = env!("TORCH_VERSION");

/// The allocation limit the tests load the backend with (BACKEND_ALLOCATION_LIMIT).
pub const ALLOCATION_LIMIT: u64 = 256 * 1024 * 1024;

/// What libtorch registered before the plugin applied its sandbox in this process, and archives
/// built then from source the sandbox would refuse to compile (see `unsandboxed_archive`).
pub struct BeforeSandbox {
    pub operators: Vec<String>,
    pub archives: Vec<(&'static str, Result<Vec<u8>, String>)>,
}

/// Sources of archives that must be built before the sandbox exists (they use what it removes).
pub const UNSANDBOXED_SOURCES: &[(&str, &str)] = &[
    (
        "from_file",
        "def forward(self, x):\n    return torch.from_file('/etc/hostname', False, 4, dtype=0)\n",
    ),
    (
        "save_on_load",
        "def __getstate__(self):\n    return (1,)\n\
         def __setstate__(self, state: Tuple[int]):\n    \
             torch.save(torch.zeros(1), '/tmp/redisai-torch-sandbox-setstate')\n\
         def forward(self, x):\n    return x\n",
    ),
];

fn before_sandbox() -> &'static BeforeSandbox {
    static BEFORE: OnceLock<BeforeSandbox> = OnceLock::new();
    BEFORE.get_or_init(|| BeforeSandbox {
        operators: redisai_torch::registered_operators(),
        archives: UNSANDBOXED_SOURCES
            .iter()
            .map(|&(name, source)| (name, redisai_torch::module_from_source(source)))
            .collect(),
    })
}

/// The operators registered before the sandbox removed any.
pub fn operators_before_sandbox() -> &'static [String] {
    &before_sandbox().operators
}

/// An archive of `UNSANDBOXED_SOURCES`, built before the plugin was loaded.
pub fn unsandboxed_archive(name: &str) -> Vec<u8> {
    let (_, archive) = before_sandbox()
        .archives
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no archive {name}"));
    archive.clone().unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Loads the backend (once per process), with one intra-op and one inter-op thread.
pub fn plugin() -> Arc<Plugin> {
    static PLUGIN: OnceLock<Arc<Plugin>> = OnceLock::new();
    Arc::clone(PLUGIN.get_or_init(|| {
        // What the sandbox will remove must be looked at (and used) first.
        before_sandbox();
        let config = BackendConfig {
            library_path: built_library("libredisai_torch.so"),
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

pub fn options(device_name: &str) -> ModelOptions {
    ModelOptions {
        device: if device_name.to_ascii_uppercase().starts_with("GPU") {
            Device::Gpu(0)
        } else {
            Device::Cpu
        },
        device_name: device_name.into(),
        batchsize: 0,
        inputs: Vec::new(),
        outputs: Vec::new(),
    }
}

/// A model of RedisAI's reference set (tests/golden/models).
pub fn reference_model(name: &str) -> Vec<u8> {
    let path = workspace().join("tests/golden/models").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A TorchScript archive whose module methods `source` defines.
pub fn archive(source: &str) -> Vec<u8> {
    redisai_torch::module_from_source(source).unwrap_or_else(|e| panic!("{e}"))
}

/// `archive` with its serialized code edited: `from` replaced by `to` in every source file of
/// the zip (the debug records, which only map code to the original source, are dropped). Makes
/// archives whose code no TorchScript compiler here would emit, as an attacker can.
pub fn edited_archive(archive: &[u8], from: &str, to: &str) -> Vec<u8> {
    use std::io::{Cursor, Read, Write};
    let mut reader = zip::ZipArchive::new(Cursor::new(archive)).expect("a zip archive");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .with_alignment(64);
    let mut replaced = false;
    for i in 0..reader.len() {
        let mut entry = reader.by_index(i).expect("an entry");
        let name = entry.name().to_string();
        if name.ends_with(".debug_pkl") {
            continue;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        if name.ends_with(".py") {
            let text = String::from_utf8(data).expect("code is text");
            replaced |= text.contains(from);
            data = text.replace(from, to).into_bytes();
        }
        out.start_file(name, stored).expect("start entry");
        out.write_all(&data).expect("write entry");
    }
    assert!(replaced, "{from:?} is not in the archive's code");
    out.finish().expect("finish zip").into_inner()
}

pub fn try_store(blob: &[u8]) -> Result<LoadedModel, String> {
    plugin().create_model(blob, &options("CPU"))
}

pub fn store(blob: &[u8]) -> LoadedModel {
    try_store(blob).unwrap_or_else(|e| panic!("model refused: {e}"))
}

pub fn try_script(source: &str, entry_points: &[&str]) -> Result<LoadedScript, String> {
    let entries: Vec<String> = entry_points.iter().map(|s| s.to_string()).collect();
    plugin().create_script(source.as_bytes(), &entries, &options("CPU"))
}

pub fn script(source: &str, entry_points: &[&str]) -> LoadedScript {
    try_script(source, entry_points).unwrap_or_else(|e| panic!("script refused: {e}"))
}

/// A host double: records Redis calls and answers them from a table; runs "models" by adding 1
/// to every FLOAT element of their first input.
#[derive(Default)]
pub struct FakeHost {
    pub calls: Mutex<Vec<Vec<Vec<u8>>>>,
    pub replies: Mutex<Vec<Reply>>,
}

impl ScriptHost for FakeHost {
    fn redis_call(&self, argv: &[&[u8]]) -> Reply {
        self.calls
            .lock()
            .unwrap()
            .push(argv.iter().map(|a| a.to_vec()).collect());
        let mut replies = self.replies.lock().unwrap();
        if replies.is_empty() {
            Reply::Nil
        } else {
            replies.remove(0)
        }
    }

    fn model_execute(
        &self,
        key: &[u8],
        inputs: &[TensorRef<'_>],
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        if key != b"plus_one" {
            return Err("ERR model key is empty".into());
        }
        let first = inputs.first().ok_or("ERR no input")?;
        let data: Vec<u8> = first
            .data
            .chunks_exact(4)
            .flat_map(|c| (f32::from_le_bytes(c.try_into().unwrap()) + 1.0).to_le_bytes())
            .collect();
        let t = Tensor::from_parts(first.dtype, first.shape.to_vec(), data)
            .map_err(|e| e.to_string())?;
        Ok(vec![Some(t); n_outputs])
    }
}

/// Calls an entry point with tensors, keys and args.
pub fn call(
    script: &LoadedScript,
    host: &FakeHost,
    function: &str,
    inputs: &[&Tensor],
    keys: &[&str],
    args: &[&str],
    n_outputs: usize,
) -> Result<Vec<Option<Tensor>>, String> {
    let call = ScriptCall {
        function,
        entry_point: true,
        inputs: inputs.iter().map(|t| TensorRef::from(*t)).collect(),
        keys: keys.iter().map(|k| k.as_bytes()).collect(),
        args: args.iter().map(|a| a.as_bytes()).collect(),
    };
    script.run(&call, host, n_outputs)
}

/// Calls a function positionally (legacy mode).
pub fn call_legacy(
    script: &LoadedScript,
    function: &str,
    inputs: &[&Tensor],
    n_outputs: usize,
) -> Result<Vec<Option<Tensor>>, String> {
    let call = ScriptCall {
        function,
        entry_point: false,
        inputs: inputs.iter().map(|t| TensorRef::from(*t)).collect(),
        keys: Vec::new(),
        args: Vec::new(),
    };
    script.run(&call, &FakeHost::default(), n_outputs)
}
