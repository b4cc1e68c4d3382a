//! The Redis module: registers the `ai` module, its data types and commands, and adapts the pure
//! `redisai-core` / `redisai-engine` crates to the Redis module API. Nothing here decides what a
//! command means; it opens keys, replies and persists.

mod blocking;
mod bytes;
mod commands;
mod emit;
mod execution;
mod guard;
mod held;
mod info;
mod keyspace;
mod llapi;
mod loading;
mod log;
mod raw_command;
mod rdb_io;
mod reply;
mod script_host;
mod server_limits;
mod state;

use redis_module::{redis_module, Context, RedisString, Status};
use redisai_engine::version::{check_server_version, MODULE_VERSION};

use keyspace::{EMBEDDER_TYPE, MODEL_TYPE, SCRIPT_TYPE, TENSOR_TYPE, TOKENIZER_TYPE};

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    // AI.TENSORSET / AI.TENSORGET are registered on the raw command API (commands/tensor.rs).
    let loaded = check_server_version(server_version())
        .and_then(|()| state::init(ctx, args))
        .and_then(|()| commands::tensor::register(ctx))
        .and_then(|()| llapi::export(ctx));
    match loaded {
        Ok(()) => {
            info::register(ctx);
            server_limits::register(ctx);
            Status::Ok
        }
        Err(message) => {
            crate::log::warning(ctx, &message);
            Status::Err
        }
    }
}

/// `RedisModule_GetServerVersion` (`0x00MMmmpp`), where the server has it (6.0.9+).
fn server_version() -> Option<i32> {
    // SAFETY: the API table is filled by RedisModule_Init and only read afterwards.
    let get = unsafe { redis_module::raw::RedisModule_GetServerVersion }?;
    // SAFETY: the call takes no arguments and returns the encoded version.
    Some(unsafe { get() })
}

redis_module! {
    name: "ai",
    version: MODULE_VERSION,
    allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
    data_types: [TENSOR_TYPE, MODEL_TYPE, SCRIPT_TYPE, TOKENIZER_TYPE, EMBEDDER_TYPE],
    init: init,
    commands: [
        ["ai.modelset", commands::model::modelset, "write deny-oom", 1, 1, 1, ""],
        ["ai.modelstore", commands::model::modelstore, "write deny-oom", 1, 1, 1, ""],
        ["ai.modelget", commands::model::modelget, "readonly", 1, 1, 1, ""],
        ["ai.modeldel", commands::model::modeldel, "write", 1, 1, 1, ""],
        ["ai.modelrun", commands::execute::modelrun, "write deny-oom getkeys-api", 3, 3, 1, ""],
        ["ai.modelexecute", commands::execute::modelexecute, "write deny-oom getkeys-api", 4, 4, 1, ""],
        ["ai._modelscan", commands::model::modelscan, "readonly", 0, 0, 0, ""],
        ["ai.scriptset", commands::script::scriptset, "write deny-oom", 1, 1, 1, ""],
        ["ai.scriptstore", commands::script::scriptstore, "write deny-oom", 1, 1, 1, ""],
        ["ai.scriptget", commands::script::scriptget, "readonly", 1, 1, 1, ""],
        ["ai.scriptdel", commands::script::scriptdel, "write", 1, 1, 1, ""],
        ["ai.scriptrun", commands::script::scriptrun, "write deny-oom getkeys-api", 4, 4, 1, ""],
        ["ai.scriptexecute", commands::script::scriptexecute, "write deny-oom getkeys-api", 5, 5, 1, ""],
        ["ai._scriptscan", commands::script::scriptscan, "readonly", 0, 0, 0, ""],
        ["ai.dagrun", commands::dag::dagrun, "write deny-oom getkeys-api", 3, 3, 1, ""],
        ["ai.dagexecute", commands::dag::dagexecute, "write deny-oom getkeys-api", 3, 3, 1, ""],
        ["ai.dagrun_ro", commands::dag::dagrun_ro, "readonly getkeys-api", 3, 3, 1, ""],
        ["ai.dagexecute_ro", commands::dag::dagexecute_ro, "readonly getkeys-api", 3, 3, 1, ""],
        // Text values and ops (docs/embeddings.md).
        ["ai.tokenizerstore", commands::text::tokenizerstore, "write deny-oom", 1, 1, 1, ""],
        ["ai.tokenizerget", commands::text::tokenizerget, "readonly", 1, 1, 1, ""],
        ["ai.tokenizerdel", commands::text::tokenizerdel, "write", 1, 1, 1, ""],
        ["ai.embedderstore", commands::text::embedderstore, "write deny-oom", 1, 1, 1, ""],
        ["ai.embedderget", commands::text::embedderget, "readonly", 1, 1, 1, ""],
        ["ai.embedderdel", commands::text::embedderdel, "write", 1, 1, 1, ""],
        ["ai.tokenize", commands::text::tokenize, "write deny-oom getkeys-api", 1, 1, 1, ""],
        ["ai.pool", commands::text::pool, "write deny-oom getkeys-api", 0, 0, 0, ""],
        ["ai.embed", commands::text::embed, "write deny-oom getkeys-api", 1, 1, 1, ""],
        ["ai.info", commands::admin::info, "readonly", 1, 1, 1, ""],
        // Every model's key name and figures, for a metrics scraper: in @dangerous like INFO.
        ["ai.metrics", commands::admin::metrics, "readonly", 0, 0, 0, "", "dangerous"],
        // AI.CONFIG loads libraries and moves BACKENDSPATH: an administrator's command, in
        // @admin and @dangerous where the server lets modules set ACL categories (Redis 7.2+,
        // Valkey 8; docs/security.md has the ACL rule for Redis 7.0).
        ["ai.config", commands::admin::config, "write", 0, 0, 0, "", "admin dangerous"],
    ],
}
