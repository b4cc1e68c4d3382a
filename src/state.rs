//! Module-wide state: the load-time configuration and the engine (backends, queues, stats).

use std::ffi::CStr;
use std::path::Path;
use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::Duration;

use redis_module::{raw, Context, RedisString};
use redisai_engine::config::{parse_module_args, Config};
use redisai_engine::state::Engine;

static CONFIG: OnceLock<Config> = OnceLock::new();
static ENGINE: OnceLock<Engine> = OnceLock::new();
static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Whether the caller is Redis's main thread (the thread that loaded the module).
pub fn on_main_thread() -> bool {
    MAIN_THREAD.get() == Some(&std::thread::current().id())
}

/// The load-time configuration (defaults before `init`).
pub fn config() -> &'static Config {
    CONFIG.get_or_init(Config::default)
}

/// The engine (built by `init`; a default one if a callback runs before it, which Redis does not
/// do).
pub fn engine() -> &'static Engine {
    ENGINE.get_or_init(|| Engine::new(config(), default_backends_path(), thread_cpu_time))
}

/// CPU time used by the calling thread (for the workers' INFO fields).
fn thread_cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// `<directory of redisai.so>/backends`, RedisAI's default BACKENDSPATH.
fn default_backends_path() -> String {
    // SAFETY: an all-zero Dl_info is a valid value of this plain C struct.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = default_backends_path as *const libc::c_void;
    // SAFETY: dladdr only reads the address of a function of this library.
    let found = unsafe { libc::dladdr(addr, &mut info) } != 0 && !info.dli_fname.is_null();
    let dir = if found {
        // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic loader.
        let file = unsafe { CStr::from_ptr(info.dli_fname) }
            .to_string_lossy()
            .into_owned();
        Path::new(&file)
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into())
    } else {
        ".".into()
    };
    format!("{dir}/backends")
}

/// Parses and applies the module arguments, loads the backends they name and starts the CPU
/// queue; the error is the log line explaining the refusal.
pub fn init(ctx: &Context, args: &[RedisString]) -> Result<(), String> {
    let _ = MAIN_THREAD.set(std::thread::current().id());
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let (parsed, log) = parse_module_args(&argv).map_err(|e| e.to_string())?;
    for line in log {
        crate::log::notice(ctx, &line);
    }
    CONFIG
        .set(parsed)
        .map_err(|_| "ERR the module is already initialised".to_string())?;
    let engine = engine();
    for (backend, path) in &config().backends {
        if let Err(e) = engine.registry.load(*backend, path) {
            crate::log::warning(ctx, &e.to_string());
            return Err(format!(
                "ERR error processing argument: {} {path}",
                backend.name()
            ));
        }
        crate::log::notice(
            ctx,
            &format!("{} backend loaded from {path}", backend.name()),
        );
    }
    engine
        .queues
        .get_or_create("CPU")
        .map_err(|e| format!("ERR could not start the CPU run queue: {e}"))?;
    // SAFETY: called from RedisModule_OnLoad with the module's own context.
    unsafe {
        raw::RedisModule_SetModuleOptions.expect("SetModuleOptions exists since Redis 4")(
            ctx.ctx,
            raw::REDISMODULE_OPTIONS_HANDLE_IO_ERRORS as i32,
        )
    };
    Ok(())
}
