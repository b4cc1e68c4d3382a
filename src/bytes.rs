//! Byte slices handed to Redis. An empty Rust slice points at a dangling address (`0x1`), which
//! some servers dereference (Redis 6.2's `RedisModule_SaveStringBuffer` does): every pointer this
//! module gives Redis goes through [`ptr`], which gives a real buffer for an empty slice.

use std::ffi::c_char;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};
use redis_module::RedisString;

/// A readable NUL byte, pointed at for an empty slice.
static EMPTY: [u8; 1] = [0];

/// The pointer to give Redis for `bytes` (never dangling, even when `bytes` is empty).
pub fn ptr(bytes: &[u8]) -> *const c_char {
    if bytes.is_empty() {
        EMPTY.as_ptr().cast()
    } else {
        bytes.as_ptr().cast()
    }
}

/// `RedisModule_CreateString` of `bytes` (owned by the caller, or by `ctx`'s auto memory).
pub fn create_raw(ctx: *mut RedisModuleCtx, bytes: &[u8]) -> *mut RedisModuleString {
    // SAFETY: the API table is filled at load; Redis copies `bytes.len()` bytes from a pointer
    // that is valid for them (a real buffer when the slice is empty).
    unsafe { raw::RedisModule_CreateString.expect("module API")(ctx, ptr(bytes), bytes.len()) }
}

/// [`create_raw`] as an owned [`RedisString`] (freed on drop).
pub fn create(ctx: *mut RedisModuleCtx, bytes: &[u8]) -> RedisString {
    RedisString::from_redis_module_string(ctx, create_raw(ctx, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_slices_get_a_real_buffer() {
        let empty: &[u8] = &[];
        assert_eq!(ptr(empty), EMPTY.as_ptr().cast());
        let data = b"ab";
        assert_eq!(ptr(data), data.as_ptr().cast());
    }
}
