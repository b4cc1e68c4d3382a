//! The TensorFlow Lite backend of the RedisAI module, a plugin (`redisai_tflite.so`) loaded
//! through the ABI of `redisai-backend-api`.
//!
//! There is no TensorFlow Lite library behind it: models run on tract (`tract-tflite` and
//! `tract-core` 0.23.9), a pure-Rust inference engine, so the plugin is self-contained (no
//! native library next to it) and CPU-only. A `.tflite` flatbuffer becomes one tract graph:
//!
//! - `flat`: reads the flatbuffer (tensors, operators, constants) and cuts it into segments;
//! - `translate`: builds the graph, operator by operator: runs of operators `tract-tflite`
//!   translates are delegated to it, and the operators it lacks or gets wrong for common
//!   converter output are built here from tract's own operators (`ops`): QUANTIZE, DEQUANTIZE,
//!   ARG_MAX/ARG_MIN, SOFTMAX, FULLY_CONNECTED (inputs of any rank, no bias, quantized weights on
//!   float inputs) and depthwise convolutions with a depth multiplier;
//! - `model`: the runnable model, binding inputs by position; `tensors`: conversions.
//!
//! Error texts are RedisAI's TFLite backend ones (SPEC §5.5), sent bare (without `ERR `), as
//! RedisAI did.

mod alloc;
mod flat;
mod model;
mod ops;
mod tensors;
mod translate;

use redisai_backend_api::plugin::BackendPlugin;
use redisai_backend_api::{BackendConfig, Device, ModelOptions};

pub use model::TfliteModel;

/// The version RedisAI reports for its TFLite backend (`ai_TensorFlowLite_version`).
pub const VERSION: &str = "NA";

/// A blob that is not a TFLite flatbuffer.
pub const LOAD_FAILED: &str = "Failed to load model from buffer";
/// A model whose graph cannot be built (e.g. an operator this backend does not support).
pub const CONSTRUCT_FAILED: &str = "Failed to construct interpreter";
/// A GPU device: there is no GPU delegate.
pub const GPU_FAILED: &str = "Failed to set GPU delegate";
/// A graph that was built but cannot be prepared for running.
pub const ALLOCATE_FAILED: &str = "Failed to allocate tensors";
/// A run with another number of inputs than the model has.
pub const INPUT_COUNT: &str = "Inconsistent number of inputs";
/// A run that produced another number of outputs than the model declares.
pub const OUTPUT_COUNT: &str = "Inconsistent number of outputs";
/// An input whose shape the model cannot take.
pub const RESIZE_FAILED: &str = "Failed to resize input tensors";
/// A run that failed.
pub const INVOKE_FAILED: &str = "Failed to invoke TfLite";
/// An input of another dtype than the model's.
pub const TYPE_MISMATCH: &str =
    "Input tensor type doesn't match the type expected by the model definition";

/// The TFLite backend. It has no state: every model carries its own graph.
pub struct TfliteBackend;

impl BackendPlugin for TfliteBackend {
    type Model = TfliteModel;

    /// Nothing to load: the engine is linked into the plugin. Thread settings do not apply
    /// (RedisAI's TFLite backend ignored them too; tract runs each model on the calling thread).
    /// The allocation limit bounds every block the plugin allocates (`alloc`) and every value a
    /// model computes (checked from the shapes before a model is accepted and before a batched
    /// run).
    fn init(config: &BackendConfig) -> Result<Self, String> {
        alloc::LIMIT.set(config.allocation_limit_bytes);
        Ok(TfliteBackend)
    }

    fn set_allocation_limit(&self, bytes: u64) {
        alloc::LIMIT.set(bytes)
    }

    fn version(&self) -> String {
        VERSION.to_string()
    }

    fn info(&self) -> Vec<(String, String)> {
        vec![("TensorFlowLite_version".into(), VERSION.into())]
    }

    fn create_model(&self, blob: &[u8], options: &ModelOptions) -> Result<TfliteModel, String> {
        TfliteModel::new(blob, matches!(options.device, Device::Gpu(_)))
    }
}

redisai_backend_api::export_backend!(TfliteBackend);
