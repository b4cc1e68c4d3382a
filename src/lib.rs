//! The Redis module: registers the `ai` module, its data types and commands, and adapts the pure
//! `redisai-core` / `redisai-engine` crates to the Redis module API. Nothing here decides what a
//! command means; it opens keys, replies and persists.

mod commands;
mod guard;
mod info;
mod rdb_io;
mod reply;
mod state;
mod tensor_type;

use redis_module::{redis_module, Context, RedisString, Status};
use redisai_engine::version::MODULE_VERSION;

use tensor_type::TENSOR_TYPE;

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    match state::init(ctx, args) {
        Ok(()) => {
            info::register(ctx);
            Status::Ok
        }
        Err(message) => {
            ctx.log_warning(&message);
            Status::Err
        }
    }
}

redis_module! {
    name: "ai",
    version: MODULE_VERSION,
    allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
    data_types: [TENSOR_TYPE],
    init: init,
    commands: [
        ["ai.tensorset", commands::tensor::tensorset, "write deny-oom", 1, 1, 1, ""],
        ["ai.tensorget", commands::tensor::tensorget, "readonly", 1, 1, 1, ""],
    ],
}
