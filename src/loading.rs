//! Storing a model or a script without stalling the server: AI.MODELSTORE, AI.SCRIPTSTORE and
//! their deprecated forms block their client while the loader (`redisai_engine::loader`) builds
//! the model or compiles the script from the command's own arguments (no copy on the main
//! thread); the key is then checked, written and replicated, and the client answered, on the main
//! thread, exactly as an inline store would.
//!
//! - Two stores to one key finish in the order Redis received them (the loader runs one job per
//!   key at a time); other commands, on that key too, are served meanwhile and see the key as it
//!   was until the store completes.
//! - A client that disconnects before its store completes gets nothing written or replicated
//!   (Redis drops the reply phase of a client that is gone).
//! - Where a client cannot be blocked (MULTI/EXEC, Lua, RM_Call from another module) and when the
//!   command is replayed (from the master's replication stream or from the AOF while loading),
//!   the store runs inline, as RedisAI's did, so replay applies it in order.

use redis_module::raw;
use redis_module::{Context, RedisString};
use redisai_core::device::Device;
use redisai_core::{Backend, Error};

use crate::blocking;
use crate::guard::contained;
use crate::held::HeldArgs;
use crate::keyspace::{self, Stored};
use crate::reply;
use crate::state::engine;

/// Builds the value of a store command from its arguments (already validated once; the loader
/// parses them again from the held arguments, which costs microseconds).
pub type Build<T> = fn(&[&[u8]]) -> Result<T, Error>;

/// Runs a store command for `backend` (`None`: a value no backend builds, a tokenizer):
/// `build` on the loader, then [`finish`] on the main thread (inline where the client cannot
/// block or the command is replayed). A backend not loaded yet is announced here and loaded by
/// `build`; why its load failed is logged before the error is sent.
pub fn store<T: Stored + Send + 'static>(
    ctx: &Context,
    args: &[RedisString],
    backend: Option<Backend>,
    build: Build<T>,
) -> Result<(), Error> {
    if let Some(backend) = backend.filter(|&b| engine().registry.get(b).is_none()) {
        crate::log::notice(
            ctx,
            &format!(
                "backend {} not loaded, will try loading default backend",
                backend.name()
            ),
        );
    }
    if must_run_inline(ctx) {
        let argv: Vec<&[u8]> = args.iter().map(RedisString::as_slice).collect();
        finish(ctx, argv[1], backend, build(&argv));
        return Ok(());
    }
    let held = HeldArgs::hold(args);
    let (blocked, measure) = blocking::block(ctx);
    let job = Box::new(move || {
        let built =
            contained("store build", || build(&held.slices())).unwrap_or(Err(Error::Internal));
        blocked.finish(Box::new(move |ctx| {
            finish(ctx, held.arg(1), backend, built);
            drop(held);
        }));
    });
    let key = args[1].as_slice();
    if let Err(job) = engine().loader.submit(key, job) {
        // No loader thread could start: build here, as before.
        crate::log::warning(ctx, "could not start a loader thread; storing inline");
        job();
    }
    // The command's own part is done: its blocked time starts now.
    measure.start();
    Ok(())
}

/// On the main thread: RedisAI's order after the build (the key's type checked, the value
/// stored, the command replicated verbatim, OK), or the build's error.
fn finish<T: Stored>(ctx: &Context, key: &[u8], backend: Option<Backend>, built: Result<T, Error>) {
    let stored = match built {
        Ok(value) => keyspace::store(ctx, key, value),
        Err(e) => {
            if let Some(backend) = backend {
                crate::log::load_failure(ctx, backend);
            }
            Err(e)
        }
    };
    match stored {
        Ok(()) => {
            ctx.replicate_verbatim();
            reply::ok(ctx);
        }
        Err(e) => reply::error(ctx, &e),
    }
}

/// Starts the run queue of `device` for a model or script being built (on a loader thread):
/// `ERR Could not initialize queue on requested device`, with the reason in the log.
pub fn start_queue(device: &Device) -> Result<(), Error> {
    keyspace::start_queue(&device.queue_name()).map_err(|e| {
        crate::log::warning_global(&e);
        Error::QueueInit
    })
}

/// Where the store must run in the command itself: the client cannot block (MULTI, Lua, a
/// module's RM_Call), or the command is replayed (replication stream, AOF loading).
fn must_run_inline(ctx: &Context) -> bool {
    let replayed = raw::REDISMODULE_CTX_FLAGS_REPLICATED | raw::REDISMODULE_CTX_FLAGS_LOADING;
    blocking::context_flags(ctx) & replayed != 0 || blocking::cannot_block(ctx)
}
