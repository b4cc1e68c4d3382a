//! Helpers shared by the backend plugins' ABI tests (included by each crate's
//! `tests/common/mod.rs` with `#[path]`): where the workspace and the built plugin are, and host
//! tensors in and out of a loaded model.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use redisai_backend_api::host::LoadedModel;
use redisai_backend_api::{DType, TensorRef};
use redisai_core::Tensor;

/// The workspace root (the crate is `backends/<name>`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The library `file` (e.g. `libredisai_tflite.so`) as cargo built it for this profile:
/// `cargo test` refreshes `deps/` only, `cargo build` also copies the library up a level, and the
/// newest of the two wins.
pub fn built_library(file: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let newest = [profile.join("deps").join(file), profile.join(file)]
        .into_iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max();
    newest.unwrap_or_else(|| panic!("{file} was not built")).1
}

/// A host tensor built from values given as RedisAI's VALUES arguments.
pub fn tensor(dtype: DType, shape: &[i64], values: &[&str]) -> Tensor {
    let args: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    Tensor::from_values(dtype, shape.to_vec(), &args).expect("valid tensor")
}

pub fn tensor_ref(t: &Tensor) -> TensorRef<'_> {
    TensorRef::from(t)
}

/// Runs a model on host tensors.
pub fn run(model: &LoadedModel, inputs: &[&Tensor]) -> Result<Vec<Option<Tensor>>, String> {
    model.run_tensors(inputs)
}

/// The elements of a FLOAT tensor.
pub fn f32s(t: &Tensor) -> Vec<f32> {
    t.data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}
