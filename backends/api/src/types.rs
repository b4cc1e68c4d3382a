//! The safe Rust types both sides of the ABI work with.

use std::path::PathBuf;

use redisai_core::DType;

/// Load-time settings the host hands to a backend when it is loaded (SPEC §9.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendConfig {
    /// Path of the backend's shared object; its native libraries live in `<dir>/lib`.
    pub library_path: PathBuf,
    /// INTRA_OP_PARALLELISM (0 = the backend's default).
    pub intra_op_parallelism: u32,
    /// INTER_OP_PARALLELISM (0 = the backend's default).
    pub inter_op_parallelism: u32,
    /// MODEL_EXECUTION_TIMEOUT in milliseconds (runs longer than this are terminated).
    pub model_execution_timeout_ms: u64,
    /// BACKEND_MEMORY_LIMIT in MB (0 = no limit).
    pub backend_memory_limit_mb: u64,
    /// Bytes one allocation may take at most (0 = no limit); see [`crate::sandbox`].
    pub allocation_limit_bytes: u64,
    /// ALLOW_OPERATORS: operators allowed beyond the backend's sandbox policy.
    pub allowed_operators: Vec<String>,
}

impl BackendConfig {
    /// The directory holding the backend's own native libraries (`<dir of the .so>/lib`).
    pub fn lib_dir(&self) -> PathBuf {
        self.library_path
            .parent()
            .map(|d| d.join("lib"))
            .unwrap_or_else(|| PathBuf::from("lib"))
    }
}

/// Where a model runs. `CPU:n` is a CPU (it only gets its own run queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    /// A CUDA device index (`GPU` is `Gpu(0)`).
    Gpu(u32),
}

/// A model's serialized bytes, as a backend receives them: the host's copy (valid until the
/// model is released, see [`crate::ffi`]), or a copy of its own when built in-process from a
/// borrowed slice (tests, benchmarks).
pub struct ModelBlob(BlobBytes);

enum BlobBytes {
    Host { ptr: *const u8, len: usize },
    Owned(Box<[u8]>),
}

// SAFETY: the host's bytes are immutable and outlive the model that holds them (ABI rule);
// owned bytes are a plain box.
unsafe impl Send for ModelBlob {}
// SAFETY: as above; only shared reads.
unsafe impl Sync for ModelBlob {}

impl ModelBlob {
    /// The host's bytes, kept by the host until `model_free`.
    ///
    /// # Safety
    /// `ptr` must be valid for `len` bytes, unchanged until the model built from it is freed.
    pub(crate) unsafe fn host(ptr: *const u8, len: usize) -> ModelBlob {
        ModelBlob(BlobBytes::Host { ptr, len })
    }
}

impl From<&[u8]> for ModelBlob {
    fn from(bytes: &[u8]) -> ModelBlob {
        ModelBlob(BlobBytes::Owned(bytes.into()))
    }
}

impl std::ops::Deref for ModelBlob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            BlobBytes::Host { len: 0, .. } => &[],
            // SAFETY: `host`'s contract: valid and unchanged while the model lives.
            BlobBytes::Host { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            BlobBytes::Owned(b) => b,
        }
    }
}

/// A model input as the model declares it: its dtype and dims (`-1` where the model leaves a
/// dimension open). The warm-up runs of `WARMUP <n>` feed zeros of this shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    pub dtype: DType,
    pub dims: Vec<i64>,
}

/// What a backend needs besides the blob to build a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    pub device: Device,
    /// The device string as the user gave it (for messages).
    pub device_name: String,
    /// BATCHSIZE (0 = no auto-batching); a backend may use it as a hint.
    pub batchsize: u64,
    /// Input node names given at store time (TF only; empty otherwise).
    pub inputs: Vec<String>,
    /// Output node names given at store time (TF only; empty otherwise).
    pub outputs: Vec<String>,
}

/// A borrowed, contiguous, row-major tensor in host memory.
///
/// STRING tensors hold their elements as NUL-terminated byte strings laid end to end.
#[derive(Debug, Clone, Copy)]
pub struct TensorRef<'a> {
    pub dtype: DType,
    pub shape: &'a [i64],
    pub data: &'a [u8],
}

impl<'a> From<&'a redisai_core::Tensor> for TensorRef<'a> {
    /// Borrows a host tensor (no copy).
    fn from(t: &'a redisai_core::Tensor) -> TensorRef<'a> {
        TensorRef {
            dtype: t.dtype(),
            shape: t.shape(),
            data: t.data(),
        }
    }
}

impl TensorRef<'_> {
    /// Number of elements (product of the shape; 1 for a 0-d tensor).
    pub fn element_count(&self) -> usize {
        self.shape.iter().map(|&d| d.max(0) as usize).product()
    }

    /// The elements of a STRING tensor, without their NUL terminators.
    pub fn strings(&self) -> impl Iterator<Item = &[u8]> {
        let data = self.data.strip_suffix(b"\0").unwrap_or(self.data);
        let n = if self.data.is_empty() { 0 } else { usize::MAX };
        data.split(|&b| b == 0).take(n)
    }
}

/// A tensor a backend produced. Its bytes stay where the backend put them (`data` may be the
/// runtime's own output buffer) until the host has copied them and dropped this value.
pub struct OutputTensor {
    pub dtype: DType,
    pub shape: Vec<i64>,
    pub data: Box<dyn AsRef<[u8]> + Send>,
}

impl OutputTensor {
    /// An output that owns its bytes.
    pub fn from_vec(dtype: DType, shape: Vec<i64>, data: Vec<u8>) -> OutputTensor {
        OutputTensor {
            dtype,
            shape,
            data: Box::new(data),
        }
    }

    /// An output that hands over a host tensor's bytes without copying them.
    pub fn from_tensor(t: redisai_core::Tensor) -> OutputTensor {
        struct Bytes(redisai_core::Tensor);
        impl AsRef<[u8]> for Bytes {
            fn as_ref(&self) -> &[u8] {
                self.0.data()
            }
        }
        OutputTensor {
            dtype: t.dtype(),
            shape: t.shape().to_vec(),
            data: Box::new(Bytes(t)),
        }
    }

    /// The output's bytes (STRING: NUL-terminated elements laid end to end).
    pub fn bytes(&self) -> &[u8] {
        (*self.data).as_ref()
    }
}

impl std::fmt::Debug for OutputTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputTensor")
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .field("bytes", &self.bytes().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_split_on_nul() {
        let data = b"ab\0\0c\0";
        let t = TensorRef {
            dtype: DType::String,
            shape: &[3],
            data,
        };
        let s: Vec<&[u8]> = t.strings().collect();
        assert_eq!(s, vec![&b"ab"[..], b"", b"c"]);
        let empty = TensorRef {
            dtype: DType::String,
            shape: &[0],
            data: b"",
        };
        assert_eq!(empty.strings().count(), 0);
    }
}
