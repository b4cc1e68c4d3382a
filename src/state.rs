//! Module-wide state: the configuration read from the module arguments.

use std::sync::OnceLock;

use redis_module::{raw, Context, RedisString};
use redisai_engine::config::{parse_module_args, Config};

static CONFIG: OnceLock<Config> = OnceLock::new();

/// The load-time configuration (defaults before `init`).
pub fn config() -> &'static Config {
    CONFIG.get_or_init(Config::default)
}

/// Parses and applies the module arguments; the error is the log line explaining the refusal.
pub fn init(ctx: &Context, args: &[RedisString]) -> Result<(), String> {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let (config, log) = parse_module_args(&argv).map_err(|e| e.to_string())?;
    if let Some((backend, path)) = config.backends.first() {
        return Err(format!(
            "ERR error processing argument: {} {path} (backend plugins are not part of this build yet)",
            backend.name()
        ));
    }
    for line in log {
        ctx.log_notice(&line);
    }
    // SAFETY: called from RedisModule_OnLoad with the module's own context.
    unsafe {
        raw::RedisModule_SetModuleOptions.expect("SetModuleOptions exists since Redis 4")(
            ctx.ctx,
            raw::REDISMODULE_OPTIONS_HANDLE_IO_ERRORS as i32,
        )
    };
    CONFIG
        .set(config)
        .map_err(|_| "ERR the module is already initialised".to_string())
}
