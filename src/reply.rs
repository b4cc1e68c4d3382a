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
    raw::reply_with_string_buffer(ctx.ctx, crate::bytes::ptr(bytes), bytes.len());
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

/// Sends a reply the server gave to one of the module's calls (AI.VSIM's elements and scores,
/// AI.VADD's and AI.HSET's integers), as the server sent it.
pub fn server_reply(ctx: &Context, reply: &redisai_backend_api::Reply) {
    use redisai_backend_api::Reply;
    match reply {
        Reply::Nil => null(ctx),
        Reply::String(bytes) => bulk(ctx, bytes),
        Reply::Integer(n) => integer(ctx, *n),
        Reply::Array(items) => {
            array(ctx, items.len());
            items.iter().for_each(|item| server_reply(ctx, item));
        }
        Reply::Error(text) => error_text(ctx, text),
    }
}

/// A reply built before it is sent, so every array's length is the number of its elements.
/// Used for the replies with fixed fields (AI.INFO, AI.MODELGET META, AI.SCRIPTGET META, the
/// scans, AI.TENSORGET META); large data is borrowed or streamed, never copied.
pub enum Item<'a> {
    Bulk(&'a [u8]),
    Int(i64),
    Array(Vec<Item<'a>>),
    /// One element written by a function (a tensor's values, streamed as they are formatted).
    Stream(&'a dyn Fn(&Context)),
}

impl<'a> Item<'a> {
    /// A bulk string of text.
    pub fn text(s: &'a str) -> Item<'a> {
        Item::Bulk(s.as_bytes())
    }
}

/// Sends `item`.
pub fn item(ctx: &Context, item: &Item<'_>) {
    match item {
        Item::Bulk(b) => bulk(ctx, b),
        Item::Int(n) => integer(ctx, *n),
        Item::Array(items) => {
            array(ctx, items.len());
            for i in items {
                self::item(ctx, i);
            }
        }
        Item::Stream(write) => write(ctx),
    }
}

/// Sends RedisAI's field list: a flat array of `name, value` pairs.
pub fn fields(ctx: &Context, fields: Vec<(&str, Item<'_>)>) {
    let flat = fields
        .into_iter()
        .flat_map(|(name, value)| [Item::text(name), value])
        .collect();
    item(ctx, &Item::Array(flat));
}

/// Sends a tensor in the AI.TENSORGET shape selected by `format`.
pub fn tensor(ctx: &Context, tensor: &Tensor, format: GetFormat) {
    let stream_values = |ctx: &Context| values(ctx, tensor);
    let data = match format.data {
        Some(DataFormat::Blob) => Some(("blob", Item::Bulk(tensor.data()))),
        Some(DataFormat::Values) => Some(("values", Item::Stream(&stream_values))),
        None => None,
    };
    if !format.meta {
        if let Some((_, data)) = data {
            item(ctx, &data);
        }
        return;
    }
    let shape = tensor.shape().iter().map(|&d| Item::Int(d)).collect();
    let mut list = vec![
        ("dtype", Item::text(tensor.dtype().name())),
        ("shape", Item::Array(shape)),
    ];
    list.extend(data);
    fields(ctx, list);
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
