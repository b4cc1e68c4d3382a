//! Where every [`Command`] the engine's emitters build leaves the module: replicated to replicas
//! and the AOF (the tensors a run or DAG writes), or written by an AOF rewrite (every value).
//! One path for all three value types: the arguments become module strings once, and Redis
//! takes them by reference.

use std::ffi::CString;
use std::ptr;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleIO, RedisModuleString};
use redisai_engine::command::Command;

/// The arguments of one call, as module strings (owned until dropped).
struct Argv(Vec<*mut RedisModuleString>);

impl Argv {
    fn new(command: &Command<'_>) -> Argv {
        // Strings without a context, owned by `Argv` until Drop.
        Argv(
            command
                .args
                .iter()
                .map(|a| crate::bytes::create_raw(ptr::null_mut(), a))
                .collect(),
        )
    }
}

impl Drop for Argv {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        let free = unsafe { raw::RedisModule_FreeString }.expect("module API");
        for s in self.0.drain(..) {
            // SAFETY: created in `new` without a context, freed once; Redis holds its own
            // references to whatever it kept.
            unsafe { free(ptr::null_mut(), s) };
        }
    }
}

fn name(command: &Command<'_>) -> CString {
    CString::new(command.name).expect("command names have no NUL")
}

/// Propagates `command` to replicas and the AOF (as if the client had sent it).
pub fn replicate(ctx: *mut RedisModuleCtx, command: &Command<'_>) {
    let argv = Argv::new(command);
    let name = name(command);
    // SAFETY: format "v" = an array of module strings and its length, alive for the call;
    // Redis takes references to them.
    unsafe {
        raw::RedisModule_Replicate.expect("module API")(
            ctx,
            name.as_ptr(),
            c"v".as_ptr(),
            argv.0.as_ptr(),
            argv.0.len(),
        );
    }
}

/// Writes `command` into the AOF being rewritten (a type's `aof_rewrite` callback).
pub fn aof(aof: *mut RedisModuleIO, command: &Command<'_>) {
    let argv = Argv::new(command);
    let name = name(command);
    // SAFETY: as in `replicate`, with the rewrite's IO handle.
    unsafe {
        raw::RedisModule_EmitAOF.expect("module API")(
            aof,
            name.as_ptr(),
            c"v".as_ptr(),
            argv.0.as_ptr(),
            argv.0.len(),
        );
    }
}
