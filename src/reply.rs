//! Replies written straight through the module API (no intermediate `RedisValue` trees, so large
//! tensors are streamed element by element), and the one conversion of `Error` to an error reply.

use std::ffi::CString;

use redis_module::{raw, Context, RedisValue};
use redisai_core::numfmt::{format_g17, G17Buffer};
use redisai_core::{Error, Tensor, Value};
use redisai_engine::tensor_cmd::{DataFormat, GetFormat};

/// Sends `error` as its exact text (`-` + Display), one-lined as RedisAI does.
pub fn error(ctx: &Context, error: &Error) {
    error_text(ctx, &error.to_string());
}

/// Sends an error line with newlines replaced by spaces and NULs dropped. The text's bytes go
/// out as they are (redis-module's own helper truncates every non-ASCII character to one byte and
/// panics on some of them, so it is not used).
pub fn error_text(ctx: &Context, text: &str) {
    let line: String = text
        .chars()
        .filter(|&c| c != '\0')
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    let line = CString::new(line).expect("NULs were removed");
    // SAFETY: the API table is filled at load; the string is NUL-terminated and outlives the call.
    unsafe { raw::RedisModule_ReplyWithError.expect("module API")(ctx.ctx, line.as_ptr()) };
}

/// Sends the simple string `OK`.
pub fn ok(ctx: &Context) {
    // SAFETY: the API table is filled at load; the string is a NUL-terminated constant.
    unsafe { raw::RedisModule_ReplyWithSimpleString.expect("module API")(ctx.ctx, c"OK".as_ptr()) };
}

/// Sends a bulk string.
pub fn bulk(ctx: &Context, bytes: &[u8]) {
    raw::reply_with_string_buffer(ctx.ctx, bytes.as_ptr().cast(), bytes.len());
}

/// Starts an array of `len` elements.
pub fn array(ctx: &Context, len: usize) {
    raw::reply_with_array(ctx.ctx, len as _);
}

/// Sends an integer.
pub fn integer(ctx: &Context, n: i64) {
    raw::reply_with_long_long(ctx.ctx, n);
}

/// Sends a simple string (`+TIMEDOUT`, ...).
pub fn simple(ctx: &Context, text: &'static str) {
    ctx.reply(Ok(RedisValue::SimpleStringStatic(text)));
}

/// Sends a null bulk string.
pub fn null(ctx: &Context) {
    ctx.reply(Ok(RedisValue::Null));
}

/// Sends a tensor in the AI.TENSORGET shape selected by `format`.
pub fn tensor(ctx: &Context, tensor: &Tensor, format: GetFormat) {
    if format.meta {
        let fields = if format.data.is_some() { 6 } else { 4 };
        raw::reply_with_array(ctx.ctx, fields);
        bulk(ctx, b"dtype");
        bulk(ctx, tensor.dtype().name().as_bytes());
        bulk(ctx, b"shape");
        raw::reply_with_array(ctx.ctx, tensor.shape().len() as _);
        for &dim in tensor.shape() {
            raw::reply_with_long_long(ctx.ctx, dim);
        }
        match format.data {
            Some(DataFormat::Blob) => bulk(ctx, b"blob"),
            Some(DataFormat::Values) => bulk(ctx, b"values"),
            None => {}
        }
    }
    match format.data {
        Some(DataFormat::Blob) => bulk(ctx, tensor.data()),
        Some(DataFormat::Values) => values(ctx, tensor),
        None => {}
    }
}

fn values(ctx: &Context, tensor: &Tensor) {
    raw::reply_with_array(ctx.ctx, tensor.len() as _);
    // RESP2 sends a double as the bulk string of `%.17g`, which is formatted here (as Redis
    // would, byte for byte, but several times faster than printf); RESP3 has a double type.
    let resp2 = !is_resp3(ctx);
    let mut buf: G17Buffer = [0; 32];
    for value in tensor.values() {
        match value {
            Value::Int(n) => {
                raw::reply_with_long_long(ctx.ctx, n);
            }
            Value::Float(f) => match format_g17(f, &mut buf) {
                Some(text) if resp2 => bulk(ctx, text),
                _ => {
                    raw::reply_with_double(ctx.ctx, f);
                }
            },
            Value::Str(s) => bulk(ctx, s),
        }
    }
}

/// Whether the client speaks RESP3.
fn is_resp3(ctx: &Context) -> bool {
    // SAFETY: reading the flags of the current command's context.
    let flags = unsafe { raw::RedisModule_GetContextFlags.expect("module API")(ctx.ctx) } as u32;
    flags & raw::REDISMODULE_CTX_FLAGS_RESP3 != 0
}
