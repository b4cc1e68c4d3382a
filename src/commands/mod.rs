//! Command handlers, one family per file. Each one parses with the engine, opens keys, replies.

pub mod admin;
pub mod dag;
pub mod execute;
pub mod model;
pub mod script;
pub mod tensor;
pub mod text;

use redis_module::{Context, RedisResult, RedisString, RedisValue};
use redisai_core::Error;
use redisai_engine::stats::RunKind;

use crate::guard::contained;
use crate::reply::{self, Item};
use crate::state::engine;

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

/// AI._MODELSCAN / AI._SCRIPTSCAN: `[key, tag]` of every model (or script) this shard knows,
/// after RedisAI's warning that the command is experimental.
pub fn scan_reply(ctx: &Context, kind: RunKind, warning: &str) {
    crate::log::warning(ctx, warning);
    let entries = engine().stats.scan(kind);
    let items = entries
        .iter()
        .map(|(key, tag)| Item::Array(vec![Item::Bulk(key), Item::Bulk(tag)]))
        .collect();
    reply::item(ctx, &Item::Array(items));
}

/// The common start of the blocking commands (runs and DAGs): a key-position request is answered
/// with `keys`; MULTI, Lua and contexts that cannot block are refused; then `body` runs on the
/// arguments as byte slices.
pub fn blocking_command(
    ctx: &Context,
    args: &[RedisString],
    name: &str,
    keys: impl FnOnce(&[&[u8]]) -> Vec<usize>,
    body: impl FnOnce(&[&[u8]]) -> Result<(), Error>,
) -> RedisResult {
    if ctx.is_keys_position_request() {
        return report_keys(ctx, keys(&slices(args)));
    }
    run(ctx, name, || {
        if crate::blocking::cannot_block(ctx) {
            return Err(Error::InTransaction);
        }
        body(&slices(args))
    })
}
