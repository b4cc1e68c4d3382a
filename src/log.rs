//! Server log lines. Messages often carry user or backend text (paths, errors), so they are never
//! used as a printf format (`"%s"` is) and NUL bytes are dropped instead of failing.

use std::ffi::CString;
use std::ptr;

use redis_module::raw::{self, RedisModuleCtx};
use redis_module::Context;

fn write(ctx: *mut RedisModuleCtx, level: &std::ffi::CStr, message: &str) {
    let text = CString::new(message.replace('\0', "")).expect("NULs were removed");
    // SAFETY: the API table is filled at load; both strings outlive the call, and the message is
    // passed as an argument of a fixed "%s" format. A null context logs as the module.
    unsafe {
        if let Some(log) = raw::RedisModule_Log {
            log(ctx, level.as_ptr(), c"%s".as_ptr(), text.as_ptr());
        }
    }
}

/// A `notice` line.
pub fn notice(ctx: &Context, message: &str) {
    write(ctx.ctx, c"notice", message);
}

/// A `warning` line.
pub fn warning(ctx: &Context, message: &str) {
    write(ctx.ctx, c"warning", message);
}

/// A `notice` line where no context is at hand (loader threads, RDB loading).
pub fn notice_global(message: &str) {
    write(ptr::null_mut(), c"notice", message);
}

/// A `warning` line where no context is at hand (type callbacks, panics).
pub fn warning_global(message: &str) {
    write(ptr::null_mut(), c"warning", message);
}

/// Logs why the lazy load of `backend` just failed (the client only gets
/// `ERR Could not load backend`, as in RedisAI).
pub fn load_failure(ctx: &Context, backend: redisai_core::Backend) {
    if let Some(reason) = crate::state::engine().registry.take_load_failure(backend) {
        warning(ctx, &format!("backend {}: {reason}", backend.name()));
    }
}

/// As [`load_failure`], without a context (RDB loading).
pub fn load_failure_global(backend: redisai_core::Backend) {
    if let Some(reason) = crate::state::engine().registry.take_load_failure(backend) {
        warning_global(&format!("backend {}: {reason}", backend.name()));
    }
}
