//! The TensorFlow backend of the RedisAI module, a plugin (`redisai_tensorflow.so`) loaded
//! through the ABI of `redisai-backend-api`.
//!
//! The runtime is TensorFlow's C API from the `tensorflow-cpu` PyPI wheel
//! (`libtensorflow_cc.so.2` and `libtensorflow_framework.so.2`), linked at build time and found
//! at run time in the plugin's `lib/` directory (RUNPATH `$ORIGIN/lib`, see build.rs). Models are
//! frozen `GraphDef`s whose input and output node names are given at store time. Error texts
//! sent to clients are TensorFlow's own messages, and RedisAI's for node names and devices.
//!
//! - `ffi`: the declarations of the C API; `tf`: safe owners of its objects;
//! - `config`: the session's `ConfigProto`; `model`: models and runs; `tensors`: conversions.
//!
//! Devices: the wheel is TensorFlow's CPU build, so `GPU` / `GPU:<n>` models are refused with
//! RedisAI's `ERR GPU requested but TF couldn't find CUDA`.
//!
//! Logging: TensorFlow writes its own lines to the server's stderr (a oneDNN notice when the
//! plugin is loaded, a warning per failed run). `TF_CPP_MIN_LOG_LEVEL=2` in the server's
//! environment keeps the warnings out; the plugin does not set it itself (changing the
//! environment of a running, multi-threaded server is not safe).

mod alloc;
mod config;
mod ffi;
pub mod graph_check;
mod model;
pub mod policy;
mod tensors;
mod tf;

use redisai_backend_api::plugin::BackendPlugin;
use redisai_backend_api::{BackendConfig, Device, ModelOptions};

pub use model::TfModel;

/// The TensorFlow version this plugin is built against (`scripts/versions.env`).
pub const TENSORFLOW_VERSION: &str = env!("TENSORFLOW_VERSION");

/// The error text of a GPU model: the plugin is built on TensorFlow's CPU build, without CUDA.
pub const NO_CUDA: &str = "ERR GPU requested but TF couldn't find CUDA";

/// The TF backend.
pub struct TfBackend {
    version: String,
    /// The serialized `ConfigProto` of every session (thread counts of the load-time settings).
    session_config: Vec<u8>,
}

impl BackendPlugin for TfBackend {
    type Model = TfModel;

    fn init(config: &BackendConfig) -> Result<Self, String> {
        // First: TensorFlow must not have created its CPU allocator yet.
        alloc::install(config.allocation_limit_bytes);
        policy::set_allow_list(&config.allowed_operators);
        Ok(TfBackend {
            version: tf::version(),
            session_config: config::session_config(
                config.intra_op_parallelism,
                config.inter_op_parallelism,
            ),
        })
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn info(&self) -> Vec<(String, String)> {
        vec![("TensorFlow_version".into(), self.version.clone())]
    }

    fn set_allocation_limit(&self, bytes: u64) {
        alloc::set_limit(bytes)
    }

    fn create_model(&self, blob: &[u8], options: &ModelOptions) -> Result<TfModel, String> {
        if matches!(options.device, Device::Gpu(_)) {
            return Err(NO_CUDA.into());
        }
        TfModel::new(
            blob,
            &options.inputs,
            &options.outputs,
            &self.session_config,
        )
    }
}

redisai_backend_api::export_backend!(TfBackend);
