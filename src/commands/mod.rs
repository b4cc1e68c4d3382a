//! Command handlers, one family per file. Each one parses with the engine, opens keys, replies.

pub mod admin;
pub mod dag;
pub mod execute;
pub mod model;
pub mod script;
pub mod tensor;

use redis_module::{Context, RedisResult, RedisString, RedisValue};
use redisai_core::Error;

use crate::guard::contained;
use crate::reply;

/// Runs a handler body that replies on success and returns the error to send otherwise, with
/// panics contained. Handlers reply themselves, so Redis gets `NoReply` back.
pub fn run(ctx: &Context, name: &str, body: impl FnOnce() -> Result<(), Error>) -> RedisResult {
    match contained(name, body) {
        Some(Ok(())) => {}
        Some(Err(e)) => reply::error(ctx, &e),
        None => reply::error_text(ctx, &format!("ERR internal error in {name}")),
    }
    Ok(RedisValue::NoReply)
}

/// The arguments as byte slices (binary safe).
pub fn slices(args: &[RedisString]) -> Vec<&[u8]> {
    args.iter().map(RedisString::as_slice).collect()
}

/// Answers a key-position request (`getkeys-api` commands): reports `positions`, runs nothing.
pub fn report_keys(ctx: &Context, positions: Vec<usize>) -> RedisResult {
    for pos in positions {
        ctx.key_at_pos(pos as i32);
    }
    Ok(RedisValue::NoReply)
}
