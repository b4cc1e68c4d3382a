//! Blocking glue: a command blocks its client, a worker finishes the job, and the completion runs
//! on the main thread (Redis's reply callback), where it may write keys, replicate and reply.
//!
//! If the client disconnected meanwhile, Redis does not call the reply callback: the completion is
//! dropped unrun, so nothing is written (RedisAI's behaviour).

use std::ffi::{c_int, c_void};
use std::sync::Mutex;

use redis_module::raw::{self, RedisModuleBlockedClient, RedisModuleCtx, RedisModuleString};
use redis_module::Context;

use crate::guard::contained;

/// Work to do on the main thread when the client is unblocked.
pub type Completion = Box<dyn FnOnce(&Context) + Send>;

/// The completion travels as Redis's private data; the reply callback takes it out, and
/// `free_privdata` releases the box whether or not it ran.
type PrivData = Mutex<Option<Completion>>;

/// A blocked client, waiting for [`Blocked::finish`].
pub struct Blocked(*mut RedisModuleBlockedClient);

// SAFETY: Redis allows RedisModule_UnblockClient and the MeasureTime calls from any thread; the
// handle is used exactly once, by `finish`.
unsafe impl Send for Blocked {}

/// Blocks the calling client (no Redis-side timeout) and starts measuring its background time,
/// so SLOWLOG and commandstats include the run.
pub fn block(ctx: &Context) -> Blocked {
    // SAFETY: called from a command handler with its context; callbacks are plain functions.
    let bc = unsafe {
        raw::RedisModule_BlockClient.expect("module API")(
            ctx.ctx,
            Some(reply_callback),
            None,
            Some(free_privdata),
            0,
        )
    };
    // SAFETY: the API table is filled once at module load and only read afterwards.
    if let Some(start) = unsafe { raw::RedisModule_BlockedClientMeasureTimeStart } {
        // SAFETY: a freshly blocked client.
        unsafe { start(bc) };
    }
    Blocked(bc)
}

impl Blocked {
    /// Unblocks the client; `completion` runs on the main thread if the client is still there.
    pub fn finish(self, completion: Completion) {
        let data: Box<PrivData> = Box::new(Mutex::new(Some(completion)));
        // SAFETY: the API table is filled once at module load and only read afterwards.
        if let Some(end) = unsafe { raw::RedisModule_BlockedClientMeasureTimeEnd } {
            // SAFETY: the client is still blocked by us.
            unsafe { end(self.0) };
        }
        // SAFETY: unblocking our own blocked client once; Redis takes ownership of `data` and
        // hands it to `free_privdata`.
        unsafe {
            raw::RedisModule_UnblockClient.expect("module API")(
                self.0,
                Box::into_raw(data).cast::<c_void>(),
            )
        };
    }
}

unsafe extern "C" fn reply_callback(
    ctx: *mut RedisModuleCtx,
    _argv: *mut *mut RedisModuleString,
    _argc: c_int,
) -> c_int {
    // SAFETY: called by Redis in the reply phase of a client we blocked.
    let data = unsafe { raw::RedisModule_GetBlockedClientPrivateData.expect("module API")(ctx) };
    if data.is_null() {
        return raw::REDISMODULE_OK as c_int;
    }
    // SAFETY: the private data is the `PrivData` box of `finish`, alive until free_privdata.
    let slot = unsafe { &*data.cast::<PrivData>() };
    let completion = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(completion) = completion {
        let context = Context::new(ctx);
        if contained("blocked client reply", || completion(&context)).is_none() {
            crate::reply::error_text(&context, "ERR internal error while replying");
        }
    }
    raw::REDISMODULE_OK as c_int
}

unsafe extern "C" fn free_privdata(_ctx: *mut RedisModuleCtx, data: *mut c_void) {
    if !data.is_null() {
        // SAFETY: `data` is the box leaked by `finish`, released exactly once here.
        let boxed = unsafe { Box::from_raw(data.cast::<PrivData>()) };
        contained("blocked client free", || drop(boxed));
    }
}

/// Whether blocking commands must be refused here (MULTI/EXEC, Lua, or a context that cannot
/// block).
pub fn cannot_block(ctx: &Context) -> bool {
    // SAFETY: reading the flags of the current command's context.
    let flags = unsafe { raw::RedisModule_GetContextFlags.expect("module API")(ctx.ctx) } as u32;
    let refused = raw::REDISMODULE_CTX_FLAGS_MULTI
        | raw::REDISMODULE_CTX_FLAGS_LUA
        | raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
    flags & refused != 0
}
