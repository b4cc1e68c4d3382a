//! AI.TENSORSET and AI.TENSORGET: the hot path of the module, registered on the raw command API
//! (`raw_command.rs`) so that a call allocates nothing but the tensor itself.

use std::ffi::c_int;
use std::sync::Arc;

use redis_module::raw::{RedisModuleCtx, RedisModuleString};
use redis_module::{Context, RedisValue};
use redisai_core::{Error, Tensor};
use redisai_engine::names::{TENSORGET, TENSORSET};
use redisai_engine::tensor_cmd::{
    parse_tensorget_format, parse_tensorset, tensorget_arity, tensorset_arity,
};

use super::run;
use crate::keyspace::Key;
use crate::raw_command::{self, dispatch};
use crate::reply;

/// Redis's default `proto-max-bulk-len`, used if the server cannot be asked.
const DEFAULT_MAX_BULK: u64 = 512 * 1024 * 1024;

/// Registers AI.TENSORSET and AI.TENSORGET.
pub fn register(ctx: &Context) -> Result<(), String> {
    raw_command::register(
        ctx,
        c"ai.tensorset",
        Some(tensorset_command),
        c"write deny-oom",
        1,
        1,
        1,
    )?;
    raw_command::register(
        ctx,
        c"ai.tensorget",
        Some(tensorget_command),
        c"readonly",
        1,
        1,
        1,
    )
}

extern "C" fn tensorset_command(
    ctx: *mut RedisModuleCtx,
    argv: *mut *mut RedisModuleString,
    argc: c_int,
) -> c_int {
    dispatch(ctx, argv, argc, tensorset)
}

extern "C" fn tensorget_command(
    ctx: *mut RedisModuleCtx,
    argv: *mut *mut RedisModuleString,
    argc: c_int,
) -> c_int {
    dispatch(ctx, argv, argc, tensorget)
}

/// `AI.TENSORSET <key> <type> [dim ...] [BLOB <data> | VALUES <v> ...]`
fn tensorset(ctx: &Context, keys: &[*mut RedisModuleString], argv: &[&[u8]]) {
    let _ = run(ctx, TENSORSET, || {
        tensorset_arity(argv)?;
        let mut key = Key::<Tensor>::write(ctx, keys[1]);
        // WRONGTYPE comes before any other validation.
        key.check()?;
        let tensor = parse_tensorset(argv, || max_bulk_len(ctx))?;
        key.set(Arc::new(tensor))?;
        ctx.replicate_verbatim();
        reply::ok(ctx);
        Ok(())
    });
}

/// `AI.TENSORGET <key> [META] [BLOB | VALUES]`
fn tensorget(ctx: &Context, keys: &[*mut RedisModuleString], argv: &[&[u8]]) {
    let _ = run(ctx, TENSORGET, || {
        tensorget_arity(argv)?;
        let key = Key::<Tensor>::read(ctx, keys[1]);
        let tensor = key.get()?.ok_or(Error::TensorKeyEmpty)?;
        let format = parse_tensorget_format(&argv[2..])?;
        reply::tensor(ctx, tensor, format);
        Ok(())
    });
}

/// The server's `proto-max-bulk-len`: the largest tensor a client could ever read back.
pub fn max_bulk_len(ctx: &Context) -> u64 {
    match ctx.call("CONFIG", &["GET", "proto-max-bulk-len"]) {
        Ok(RedisValue::Array(items)) => items.get(1).and_then(|v| match v {
            RedisValue::SimpleString(s) => s.parse().ok(),
            RedisValue::BulkString(s) => s.parse().ok(),
            RedisValue::StringBuffer(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }),
        _ => None,
    }
    .unwrap_or(DEFAULT_MAX_BULK)
}
