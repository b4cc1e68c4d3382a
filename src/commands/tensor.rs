//! AI.TENSORSET and AI.TENSORGET.

use std::sync::Arc;

use redis_module::{Context, RedisResult, RedisString, RedisValue};
use redisai_core::Error;
use redisai_engine::names::{TENSORGET, TENSORSET};
use redisai_engine::tensor_cmd::{
    parse_tensorget_format, parse_tensorset, tensorget_arity, tensorset_arity,
};

use super::{run, slices};
use crate::reply;
use crate::tensor_type::{TensorValue, TENSOR_TYPE};

/// Redis's default `proto-max-bulk-len`, used if the server cannot be asked.
const DEFAULT_MAX_BULK: u64 = 512 * 1024 * 1024;

/// `AI.TENSORSET <key> <type> [dim ...] [BLOB <data> | VALUES <v> ...]`
pub fn tensorset(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, TENSORSET, || {
        let argv = slices(&args);
        tensorset_arity(&argv)?;
        let key = ctx.open_key_writable(&args[1]);
        // WRONGTYPE comes before any other validation.
        key.get_value::<TensorValue>(&TENSOR_TYPE)
            .map_err(|_| Error::WrongType)?;
        let tensor = parse_tensorset(&argv, || max_bulk_len(ctx))?;
        key.set_value(&TENSOR_TYPE, TensorValue(Arc::new(tensor)))
            .map_err(|_| Error::WrongType)?;
        ctx.replicate_verbatim();
        reply::ok(ctx);
        Ok(())
    })
}

/// `AI.TENSORGET <key> [META] [BLOB | VALUES]`
pub fn tensorget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, TENSORGET, || {
        let argv = slices(&args);
        tensorget_arity(&argv)?;
        let key = ctx.open_key(&args[1]);
        let value = key
            .get_value::<TensorValue>(&TENSOR_TYPE)
            .map_err(|_| Error::WrongType)?;
        let tensor = &value.ok_or(Error::TensorKeyEmpty)?.0;
        let format = parse_tensorget_format(&argv[2..])?;
        reply::tensor(ctx, tensor, format);
        Ok(())
    })
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
