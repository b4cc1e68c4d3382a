//! Follows the server settings the module's limits derive from (docs/security.md):
//! `proto-max-bulk-len`, the largest tensor a run may produce, and `maxmemory`, which lowers the
//! backends' allocation limit when it is smaller than BACKEND_ALLOCATION_LIMIT. Both are read at
//! load and then about once a second from the server's cron (CONFIG SET takes effect within a
//! second; Redis 7.0 has no event for configuration changes).

use std::os::raw::c_void;
use std::sync::atomic::{AtomicU32, Ordering};

use redis_module::{raw, Context, RedisValue};
use redisai_engine::limits::set_max_tensor_bytes;

use crate::guard::contained;
use crate::state::engine;

/// Cron ticks between two reads (the cron runs `hz` times a second, 10 by default).
const TICKS_PER_READ: u32 = 10;

static TICKS: AtomicU32 = AtomicU32::new(0);

/// A numeric server setting read with CONFIG GET, if the server answers with one.
fn config_number(ctx: &Context, name: &str) -> Option<u64> {
    match ctx.call("CONFIG", &["GET", name]) {
        Ok(RedisValue::Array(items)) => items.get(1).and_then(|v| match v {
            RedisValue::SimpleString(s) | RedisValue::BulkString(s) => s.parse().ok(),
            RedisValue::StringBuffer(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }),
        _ => None,
    }
}

/// Reads both settings and applies them.
pub fn refresh(ctx: &Context) {
    if let Some(bytes) = config_number(ctx, "proto-max-bulk-len") {
        set_max_tensor_bytes(bytes);
    }
    if let Some(bytes) = config_number(ctx, "maxmemory") {
        engine().registry.set_maxmemory(bytes);
    }
}

unsafe extern "C" fn on_cron(
    ctx: *mut raw::RedisModuleCtx,
    _event: raw::RedisModuleEvent,
    _subevent: u64,
    _data: *mut c_void,
) {
    if TICKS.fetch_add(1, Ordering::Relaxed) % TICKS_PER_READ != 0 {
        return;
    }
    contained("the limits cron", || refresh(&Context::new(ctx)));
}

/// Reads the settings now and subscribes to the cron to follow them.
pub fn register(ctx: &Context) {
    refresh(ctx);
    let event = raw::RedisModuleEvent {
        id: raw::REDISMODULE_EVENT_CRON_LOOP,
        dataver: 1,
    };
    // SAFETY: called from RedisModule_OnLoad with the module's context; the callback is a
    // plain function of this library, which is never unloaded while subscribed.
    let status = unsafe {
        raw::RedisModule_SubscribeToServerEvent.expect("SubscribeToServerEvent exists since 6.0")(
            ctx.ctx,
            event,
            Some(on_cron),
        )
    };
    if status != raw::REDISMODULE_OK as i32 {
        crate::log::warning(ctx, "could not follow maxmemory and proto-max-bulk-len");
    }
}
