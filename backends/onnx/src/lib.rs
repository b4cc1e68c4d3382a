//! The ONNX Runtime backend of the RedisAI module, a plugin (`redisai_onnxruntime.so`) loaded
//! through the ABI of `redisai-backend-api`.
//!
//! The runtime itself is ONNX Runtime's shared library from the `onnxruntime` PyPI wheel,
//! installed beside the plugin as `lib/libonnxruntime.so.<version>` and loaded at init through
//! `ort` (load-dynamic). Error texts sent to clients are ONNX Runtime's own messages.
//!
//! - [`allocator`]: the counting allocator of CPU sessions (INFO fields, BACKEND_MEMORY_LIMIT);
//! - [`watchdog`]: the MODEL_EXECUTION_TIMEOUT kill switch;
//! - [`external_data`]: refuses models with external initializers;
//! - [`domains`]: refuses operators of domains ONNX Runtime does not ship (the sandbox policy);
//! - `model`: sessions and runs; `tensors`: conversions of inputs and outputs.

pub mod allocator;
pub mod domains;
pub mod external_data;
mod model;
mod proto;
mod tensors;
pub mod watchdog;

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ort::environment::{Environment, GlobalThreadPoolOptions, ThreadManager};
use redisai_backend_api::plugin::BackendPlugin;
use redisai_backend_api::{BackendConfig, Device, ModelBlob, ModelOptions};

pub use model::OnnxModel;

/// The ONNX Runtime version this plugin is built for (`scripts/versions.env`).
pub const ONNXRUNTIME_VERSION: &str = env!("ONNXRUNTIME_VERSION");

/// Environment variable naming the runtime library to load instead of the installed one.
pub const DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// The error text of a GPU model when the runtime has no CUDA execution provider.
pub const NO_CUDA: &str = "ERR GPU requested but ONNX couldn't find CUDA";

/// What every model of the backend shares.
pub(crate) struct Runtime {
    env: Environment,
    watchdog: watchdog::Watchdog,
}

/// The ONNX backend.
pub struct OnnxBackend {
    runtime: Arc<Runtime>,
    version: String,
}

/// The runtime library to load: `$ORT_DYLIB_PATH` when set, else the one installed in the
/// plugin's `lib/` directory.
pub fn runtime_library(config: &BackendConfig) -> PathBuf {
    match std::env::var_os(DYLIB_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => config
            .lib_dir()
            .join(format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}")),
    }
}

/// The version string of the runtime library at `path` (`OrtGetApiBase()->GetVersionString()`).
fn runtime_version(path: &Path) -> Result<String, String> {
    // SAFETY: the library is ONNX Runtime, already loaded by `ort::init_from` (this only takes
    // another reference to it); its initialisers have run.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| e.to_string())?;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release.
    let get_base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
        unsafe { library.get(b"OrtGetApiBase\0") }.map_err(|e| e.to_string())?;
    // SAFETY: the API base is a static table of the library, which stays loaded (ort holds it).
    let version = unsafe {
        let base = get_base();
        if base.is_null() {
            return Err("OrtGetApiBase returned null".into());
        }
        CStr::from_ptr(((*base).GetVersionString)())
    };
    Ok(version.to_string_lossy().into_owned())
}

/// The environment's thread pools, which every session of every model shares (sessions get no
/// pools of their own): INTRA_OP_PARALLELISM and INTER_OP_PARALLELISM size them when above 0,
/// else ONNX Runtime's defaults (about one intra-op thread per core). So the backend's threads do
/// not grow with the number of models or of sessions.
fn thread_pools(config: &BackendConfig) -> Result<GlobalThreadPoolOptions, String> {
    let mut pools = GlobalThreadPoolOptions::default()
        .with_thread_manager(NamedThreads::default())
        .map_err(|e| e.message().to_string())?;
    if config.intra_op_parallelism > 0 {
        pools = pools
            .with_intra_threads(config.intra_op_parallelism as usize)
            .map_err(|e| e.message().to_string())?;
    }
    if config.inter_op_parallelism > 0 {
        pools = pools
            .with_inter_threads(config.inter_op_parallelism as usize)
            .map_err(|e| e.message().to_string())?;
    }
    Ok(pools)
}

/// Spawns ONNX Runtime's pool threads as `ai-onnx-<n>`: without it they would carry the name of
/// whichever thread loaded the backend (a loader thread when the first model loads it lazily),
/// and `top -H` would show a loader spinning.
#[derive(Default)]
struct NamedThreads {
    spawned: std::sync::atomic::AtomicUsize,
}

impl ThreadManager for NamedThreads {
    type Thread = std::thread::JoinHandle<()>;

    fn create(&self, work: impl FnOnce() + Send + 'static) -> ort::Result<Self::Thread> {
        let n = self
            .spawned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        std::thread::Builder::new()
            .name(format!("ai-onnx-{n}"))
            // The operating system's default for a thread, which ONNX Runtime's own would get.
            .stack_size(8 << 20)
            .spawn(work)
            .map_err(|e| ort::Error::new(format!("cannot start an ONNX Runtime thread: {e}")))
    }

    fn join(thread: Self::Thread) -> ort::Result<()> {
        let _ = thread.join();
        Ok(())
    }
}

impl BackendPlugin for OnnxBackend {
    type Model = OnnxModel;

    fn init(config: &BackendConfig) -> Result<Self, String> {
        let library = runtime_library(config);
        let env = ort::init_from(&library)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", library.display()))?
            .with_name("redisai")
            .with_telemetry(false)
            .with_global_thread_pool(thread_pools(config)?)
            .build()
            .map_err(|e| e.message().to_string())?;
        let limit = config.backend_memory_limit_mb.saturating_mul(1_000_000);
        allocator::register(&env, limit)?;
        allocator::set_allocation_limit(config.allocation_limit_bytes);
        domains::set_allow_list(&config.allowed_operators);
        let version = runtime_version(&library)?;
        Ok(OnnxBackend {
            runtime: Arc::new(Runtime {
                env,
                watchdog: watchdog::Watchdog::new(config.model_execution_timeout_ms),
            }),
            version,
        })
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn set_allocation_limit(&self, bytes: u64) {
        allocator::set_allocation_limit(bytes)
    }

    fn info(&self) -> Vec<(String, String)> {
        vec![
            ("onnxruntime_version".into(), self.version.clone()),
            (
                "onnxruntime_memory".into(),
                allocator::memory_in_use().to_string(),
            ),
            (
                "onnxruntime_memory_access_num".into(),
                allocator::access_count().to_string(),
            ),
        ]
    }

    fn create_model(&self, blob: &[u8], options: &ModelOptions) -> Result<OnnxModel, String> {
        self.create_model_shared(blob.into(), options)
    }

    /// Keeps the host's blob (no copy): more sessions of the model are built from it on demand.
    fn create_model_shared(
        &self,
        blob: ModelBlob,
        options: &ModelOptions,
    ) -> Result<OnnxModel, String> {
        if matches!(options.device, Device::Gpu(_)) && !OnnxModel::cuda_available() {
            return Err(NO_CUDA.into());
        }
        if external_data::model_has_external_data(&blob) {
            return Err(external_data::EXTERNAL_DATA_REFUSED.into());
        }
        domains::check(&blob)?;
        OnnxModel::new(Arc::clone(&self.runtime), blob, options.device)
    }
}

redisai_backend_api::export_backend!(OnnxBackend);
