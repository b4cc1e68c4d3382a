//! The plugin ABI between the RedisAI module and its model backends.
//!
//! A backend is a shared object (`redisai_onnxruntime.so`, ...) that exports one symbol,
//! [`ffi::INIT_SYMBOL`]. Calling it with the host's [`ffi::ABI_VERSION`] and configuration returns
//! a [`ffi::BackendVTable`]: a small `#[repr(C)]` table of functions whose tensors are DLPack
//! `DLTensor`s and whose errors are owned C strings.
//!
//! Two sides use this crate:
//! - a backend crate implements [`plugin::BackendPlugin`] and [`plugin::PluginModel`] and calls
//!   [`export_backend!`]; every entry point is generated, with `catch_unwind` around it;
//! - the module loads a backend with [`host::Plugin::load`] and gets safe handles.
//!
//! Tensors cross the boundary without copies: inputs are borrowed views of the module's tensors,
//! outputs are `DLManagedTensor`s owned by the backend until the host has read them.

mod dl;
pub mod ffi;
pub mod host;
pub mod host_script;
pub mod plugin;
pub mod plugin_script;
pub mod sandbox;
mod script;
mod types;

pub use redisai_core::DType;
pub use script::{Reply, ScriptCall, ScriptHost};
pub use types::{
    BackendConfig, Device, InputSpec, ModelBlob, ModelOptions, OutputTensor, TensorRef,
};
