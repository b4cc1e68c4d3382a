//! Commands registered on the module API directly, for the hot tensor commands: the handler gets
//! `argv` as byte slices gathered on the stack, without the `Vec<RedisString>` that
//! redis-module's `redis_module!` command list builds on every call (an allocation, a retain and
//! a release per argument, which cost more than a small AI.TENSORSET itself).

use std::ffi::{c_int, CStr};
use std::slice;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};
use redis_module::Context;

/// A handler: the context, the raw arguments (for key names) and the same arguments as bytes.
pub type Handler = fn(&Context, &[*mut RedisModuleString], &[&[u8]]);

/// Arguments gathered on the stack up to this count (AI.TENSORSET with a few VALUES).
const STACK_ARGS: usize = 24;

/// Runs `handler` for one call of a command registered with [`register`].
pub fn dispatch(
    ctx: *mut RedisModuleCtx,
    argv: *mut *mut RedisModuleString,
    argc: c_int,
    handler: Handler,
) -> c_int {
    let context = Context::new(ctx);
    let raw_args: &[*mut RedisModuleString] = if argv.is_null() || argc <= 0 {
        &[]
    } else {
        // SAFETY: Redis passes `argc` valid argument pointers that live for the whole call.
        unsafe { slice::from_raw_parts(argv, argc as usize) }
    };
    if raw_args.len() <= STACK_ARGS {
        let mut stack: [&[u8]; STACK_ARGS] = [&[]; STACK_ARGS];
        for (slot, &arg) in stack.iter_mut().zip(raw_args) {
            *slot = bytes(arg);
        }
        handler(&context, raw_args, &stack[..raw_args.len()]);
    } else {
        let args: Vec<&[u8]> = raw_args.iter().map(|&arg| bytes(arg)).collect();
        handler(&context, raw_args, &args);
    }
    raw::REDISMODULE_OK as c_int
}

/// The bytes of an argument (valid for the command call).
fn bytes<'a>(arg: *mut RedisModuleString) -> &'a [u8] {
    let mut len = 0;
    // SAFETY: a live argument string of the current call; Redis returns its buffer and length.
    let ptr = unsafe { raw::RedisModule_StringPtrLen.expect("module API")(arg, &mut len) };
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: `ptr` points to `len` bytes that stay valid while the argument lives.
    unsafe { slice::from_raw_parts(ptr.cast::<u8>(), len) }
}

/// Registers a command whose C entry point calls [`dispatch`].
pub fn register(
    ctx: &Context,
    name: &CStr,
    entry: raw::RedisModuleCmdFunc,
    flags: &CStr,
    first_key: c_int,
    last_key: c_int,
    key_step: c_int,
) -> Result<(), String> {
    // SAFETY: called from the module's load with its context; the strings are NUL-terminated
    // and Redis copies them.
    let status = unsafe {
        raw::RedisModule_CreateCommand.expect("module API")(
            ctx.ctx,
            name.as_ptr(),
            entry,
            flags.as_ptr(),
            first_key,
            last_key,
            key_step,
        )
    };
    if status == raw::REDISMODULE_OK as c_int {
        Ok(())
    } else {
        Err(format!(
            "Error: failed to create command {}",
            name.to_string_lossy()
        ))
    }
}
