//! A command's arguments kept past the command's return, so a loader thread can read them
//! without a copy (a model's BLOB may be gigabytes: copying it would stall the main thread).
//!
//! Each argument is retained (`RedisModule_RetainString`), which keeps its buffer alive and
//! unchanged after the client moves on or disconnects; it is released on the main thread.
//! Reference counts are plain integers of Redis's main thread, so a [`HeldArgs`] dropped on
//! another thread (a defect) leaks its strings instead of releasing them there.

use std::ptr;

use redis_module::raw::{self, RedisModuleString};
use redis_module::RedisString;

/// Retained arguments and their bytes.
pub struct HeldArgs {
    strings: Vec<*mut RedisModuleString>,
    bytes: Vec<(*const u8, usize)>,
}

// SAFETY: the bytes are immutable while retained and only read; the strings themselves are only
// released on the main thread (`Drop` checks it).
unsafe impl Send for HeldArgs {}

impl HeldArgs {
    /// Retains `args` (call on the main thread, in the command).
    pub fn hold(args: &[RedisString]) -> HeldArgs {
        let mut strings = Vec::with_capacity(args.len());
        let mut bytes = Vec::with_capacity(args.len());
        for arg in args {
            // SAFETY: a live argument of the running command; a null context retains it beyond
            // the command (released by `Drop`).
            unsafe {
                raw::RedisModule_RetainString.expect("module API")(ptr::null_mut(), arg.inner)
            };
            strings.push(arg.inner);
            let slice = arg.as_slice();
            bytes.push((slice.as_ptr(), slice.len()));
        }
        HeldArgs { strings, bytes }
    }

    /// The arguments' bytes.
    pub fn slices(&self) -> Vec<&[u8]> {
        (0..self.bytes.len()).map(|i| self.arg(i)).collect()
    }

    /// Argument `i`'s bytes.
    pub fn arg(&self, i: usize) -> &[u8] {
        let (p, len) = self.bytes[i];
        // SAFETY: the buffer belongs to a string retained by `self`, alive and unchanged until
        // `self` is dropped.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

impl Drop for HeldArgs {
    fn drop(&mut self) {
        if !crate::state::on_main_thread() {
            crate::log::warning_global(
                "internal error: held arguments dropped off the main thread",
            );
            return;
        }
        for &s in &self.strings {
            // SAFETY: retained with a null context in `hold`, released once, on the main thread.
            unsafe { raw::RedisModule_FreeString.expect("module API")(ptr::null_mut(), s) };
        }
    }
}
