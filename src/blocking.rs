//! Blocking glue: a command blocks its client, a worker finishes the job, and the completion runs
//! on the main thread (Redis's reply callback), where it may write keys, replicate and reply.
//!
//! If the client disconnected meanwhile, Redis does not call the reply callback: the completion is
//! dropped unrun, so nothing is written (RedisAI's behaviour).
//!
//! Answering a blocked client is an obligation held by [`Blocked`]: dropped without `finish` (a
//! defect), it unblocks the client with `ERR internal error` and logs it, so no client waits
//! forever.
//!
//! Time: SLOWLOG and commandstats add the command's own main-thread time and its blocked
//! ("background") time. The background measurement starts once the work is queued
//! ([`Measure::start`], after the command's main-thread part) and ends when the work is done, so
//! no interval is counted twice. Start and end are serialised: whichever comes second sees what
//! the other did (a job that finished before the measurement started is not measured at all).

use std::ffi::{c_int, c_void};
use std::sync::{Arc, Mutex};

use redis_module::raw::{self, RedisModuleBlockedClient, RedisModuleCtx, RedisModuleString};
use redis_module::Context;

use crate::guard::contained;

/// Work to do on the main thread when the client is unblocked.
pub type Completion = Box<dyn FnOnce(&Context) + Send>;

/// The completion travels as Redis's private data; the reply callback takes it out, and
/// `free_privdata` releases the box whether or not it ran.
type PrivData = Mutex<Option<Completion>>;

/// Where the background-time measurement of a blocked client stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timing {
    NotStarted,
    Measuring,
    Finished,
}

/// The blocked client and its measurement, shared by [`Blocked`] and [`Measure`].
struct Client {
    bc: *mut RedisModuleBlockedClient,
    timing: Mutex<Timing>,
}

// SAFETY: Redis allows RedisModule_UnblockClient and the MeasureTime calls from any thread; the
// measurement calls are serialised by `timing`, and the client is unblocked once.
unsafe impl Send for Client {}
// SAFETY: as above; shared access only goes through `timing`.
unsafe impl Sync for Client {}

/// A blocked client, waiting for [`Blocked::finish`].
pub struct Blocked(Option<Arc<Client>>);

/// Starts the background-time measurement of a blocked client (see the module documentation).
pub struct Measure(Arc<Client>);

impl Measure {
    /// Call once the work is queued.
    pub fn start(self) {
        let mut timing = self.0.timing.lock().unwrap_or_else(|p| p.into_inner());
        if *timing != Timing::NotStarted {
            return;
        }
        // SAFETY: the API table is filled once at module load and only read afterwards.
        if let Some(start) = unsafe { raw::RedisModule_BlockedClientMeasureTimeStart } {
            // SAFETY: the client is still blocked (it is unblocked only after `Finished`).
            unsafe { start(self.0.bc) };
        }
        *timing = Timing::Measuring;
    }
}

/// Blocks the calling client (no Redis-side timeout). The [`Measure`] starts its
/// background-time measurement once the work is queued.
pub fn block(ctx: &Context) -> (Blocked, Measure) {
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
    let client = Arc::new(Client {
        bc,
        timing: Mutex::new(Timing::NotStarted),
    });
    (Blocked(Some(Arc::clone(&client))), Measure(client))
}

/// Ends the measurement (if it started) and unblocks the client with `completion`.
fn unblock(client: &Client, completion: Completion) {
    {
        let mut timing = client.timing.lock().unwrap_or_else(|p| p.into_inner());
        if *timing == Timing::Measuring {
            // SAFETY: the API table is filled once at module load and only read afterwards.
            if let Some(end) = unsafe { raw::RedisModule_BlockedClientMeasureTimeEnd } {
                // SAFETY: the client is still blocked by us, its measurement started.
                unsafe { end(client.bc) };
            }
        }
        *timing = Timing::Finished;
    }
    let data: Box<PrivData> = Box::new(Mutex::new(Some(completion)));
    // SAFETY: unblocking our own blocked client once (`Blocked` gives its client up in `finish`
    // or `drop`, never both); Redis takes ownership of `data` and hands it to `free_privdata`.
    unsafe {
        raw::RedisModule_UnblockClient.expect("module API")(
            client.bc,
            Box::into_raw(data).cast::<c_void>(),
        )
    };
}

impl Blocked {
    /// Unblocks the client; `completion` runs on the main thread if the client is still there.
    pub fn finish(mut self, completion: Completion) {
        if let Some(client) = self.0.take() {
            unblock(&client, completion);
        }
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            crate::log::warning_global("internal error: a blocked client was left unanswered");
            unblock(
                &client,
                Box::new(|ctx| crate::reply::error(ctx, &redisai_core::Error::Internal)),
            );
        }
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

/// The flags of the current command's context (`REDISMODULE_CTX_FLAGS_*`).
pub fn context_flags(ctx: &Context) -> u32 {
    // SAFETY: reading the flags of the current command's context.
    unsafe { raw::RedisModule_GetContextFlags.expect("module API")(ctx.ctx) as u32 }
}

/// Whether blocking commands must be refused here (MULTI/EXEC, Lua, or a context that cannot
/// block).
pub fn cannot_block(ctx: &Context) -> bool {
    let flags = context_flags(ctx);
    let refused = raw::REDISMODULE_CTX_FLAGS_MULTI
        | raw::REDISMODULE_CTX_FLAGS_LUA
        | raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
    flags & refused != 0
}
