//! Limits the module takes from the server's configuration and applies to what backends return.
//!
//! AI.TENSORSET refuses tensors larger than proto-max-bulk-len; a model or script run must not
//! produce one either (its output would be stored, replicated and persisted as such a tensor).
//! The module keeps the current value here (it follows CONFIG SET within a second); workers check
//! every output against it before anything is written.

use std::sync::atomic::{AtomicU64, Ordering};

use redisai_core::{Error, Tensor};

/// Redis's default proto-max-bulk-len (512 MB), until the module reads the server's.
const DEFAULT_MAX_TENSOR_BYTES: u64 = 512 * 1024 * 1024;

static MAX_TENSOR_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_TENSOR_BYTES);

/// The largest tensor a run may produce, in bytes (the server's proto-max-bulk-len).
pub fn max_tensor_bytes() -> u64 {
    MAX_TENSOR_BYTES.load(Ordering::Relaxed)
}

/// Sets the limit (the module calls it with the server's proto-max-bulk-len).
pub fn set_max_tensor_bytes(bytes: u64) {
    MAX_TENSOR_BYTES.store(bytes.max(1), Ordering::Relaxed);
}

/// Refuses a run whose outputs include a tensor over the limit:
/// `ERR tensor size exceeds the maximum of N bytes (proto-max-bulk-len)`.
pub fn check_outputs<'a>(outputs: impl IntoIterator<Item = &'a Tensor>) -> Result<(), Error> {
    let limit = max_tensor_bytes();
    match outputs.into_iter().any(|t| t.data().len() as u64 > limit) {
        true => Err(Error::TensorTooLarge(limit)),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redisai_core::DType;

    #[test]
    fn outputs_over_the_limit_are_refused() {
        let small = Tensor::zeroed(DType::Float, vec![4]).unwrap();
        let big = Tensor::zeroed(DType::Float, vec![64]).unwrap();
        set_max_tensor_bytes(16);
        assert_eq!(check_outputs([&small]), Ok(()));
        assert_eq!(
            check_outputs([&small, &big]),
            Err(Error::TensorTooLarge(16))
        );
        set_max_tensor_bytes(DEFAULT_MAX_TENSOR_BYTES);
        assert_eq!(check_outputs([&big]), Ok(()));
    }
}
