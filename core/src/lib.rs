//! Pure data model of the RedisAI-compatible module: data types, tensors, the error enum whose
//! `Display` is the exact wire text, strict number parsing, devices, model records, batching
//! (concat/split) and the RDB codec.
//!
//! Nothing here knows about Redis: the module crate adapts these types to the Redis module API.
#![forbid(unsafe_code)]

pub mod backend;
pub mod batch;
pub mod device;
pub mod dtype;
pub mod error;
pub mod model;
pub mod numfmt;
pub mod numparse;
pub mod rdb;
pub mod script;
pub mod shape;
pub mod tensor;
pub mod text;

pub use backend::Backend;
pub use device::Device;
pub use dtype::DType;
pub use error::{Error, Result};
pub use model::ModelRecord;
pub use shape::Shape;
pub use tensor::{Tensor, Value};
