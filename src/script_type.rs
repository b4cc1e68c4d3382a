//! The `AI_SCRIPT` Redis data type: RDB save (v4) / load (v0-v4), AOF rewrite, MEMORY USAGE, free.
//! Loading compiles the script again through the TORCH backend (loading it if needed).

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use redis_module::native_types::RedisType;
use redis_module::raw::{self, RedisModuleIO, RedisModuleString};
use redisai_core::rdb::{load_script, save_script, ENCODING_VERSION};
use redisai_engine::script::Script;
use redisai_engine::script_cmd::aof_rewrite as aof_command;

use crate::aof::AofArgs;
use crate::guard::contained;
use crate::rdb_io::ModuleIo;
use crate::state::engine;
use crate::type_methods::{load_boxed, methods, Callbacks};

/// The keyspace value: a shared, immutable script.
pub struct ScriptValue(pub Arc<Script>);

/// Named exactly as RedisAI's type so RDB files and DUMP payloads interoperate.
pub static SCRIPT_TYPE: RedisType = RedisType::new(
    "AI_SCRIPT",
    ENCODING_VERSION,
    methods(Callbacks {
        rdb_load,
        rdb_save,
        aof_rewrite,
        free,
        mem_usage,
        copy: None,
    }),
);

/// Makes `script` a keyspace value, starting its device's queue.
pub fn into_value(script: Script) -> Result<ScriptValue, String> {
    engine()
        .queues
        .get_or_create(&script.device().queue_name())
        .map_err(|e| format!("ERR could not start the run queue: {e}"))?;
    Ok(ScriptValue(Arc::new(script)))
}

/// Registers the statistics of a value that was just stored under its key.
pub fn register_stats(value: &ScriptValue) {
    engine().stats.register(Arc::clone(value.0.stats()));
}

/// # Safety
/// `value` must be a live `ScriptValue` of this type.
unsafe fn script_of<'a>(value: *const c_void) -> &'a Arc<Script> {
    // SAFETY: Redis hands back the pointer this type stored.
    unsafe { &(*value.cast::<ScriptValue>()).0 }
}

unsafe extern "C" fn rdb_load(rdb: *mut RedisModuleIO, encver: c_int) -> *mut c_void {
    load_boxed("AI_SCRIPT", rdb, |key| {
        let record = load_script(&mut ModuleIo(rdb), encver).map_err(|e| e.to_string())?;
        let script = Script::create(&engine().registry, record, key).map_err(|e| {
            crate::log::load_failure_global(redisai_core::Backend::Torch);
            e.to_string()
        })?;
        let value = into_value(script)?;
        register_stats(&value);
        Ok(value)
    })
}

unsafe extern "C" fn rdb_save(rdb: *mut RedisModuleIO, value: *mut c_void) {
    // SAFETY: `value` is one of ours.
    let script = unsafe { script_of(value) };
    contained("AI_SCRIPT rdb_save", || {
        save_script(&mut ModuleIo(rdb), script.record())
    });
}

/// Emits `AI.SCRIPTSTORE <key> <device> TAG <tag> ENTRY_POINTS <n> names... SOURCE <src>`, or
/// `AI.SCRIPTSET` for a script without entry points (which SCRIPTSTORE could not replay).
unsafe extern "C" fn aof_rewrite(
    aof: *mut RedisModuleIO,
    key: *mut RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: `value` is one of ours.
    let script = unsafe { script_of(value) };
    contained("AI_SCRIPT aof_rewrite", || {
        let command = aof_command(script.record());
        let mut args = AofArgs(Vec::new());
        for arg in &command.args {
            args.push(arg);
        }
        // SAFETY: format "sv" = the key and an array of RedisModuleString with its length; all
        // strings are alive for the call.
        unsafe {
            raw::RedisModule_EmitAOF.expect("module API")(
                aof,
                command.command.as_ptr(),
                c"sv".as_ptr(),
                key,
                args.0.as_ptr(),
                args.0.len(),
            );
        }
    });
}

unsafe extern "C" fn free(value: *mut c_void) {
    // SAFETY: `value` was boxed by this type and Redis frees it exactly once.
    let value = unsafe { Box::from_raw(value.cast::<ScriptValue>()) };
    contained("AI_SCRIPT free", || {
        engine().stats.remove_if_same(value.0.stats());
        drop(value);
    });
}

unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    // SAFETY: `value` is one of ours.
    let script = unsafe { script_of(value) };
    contained("AI_SCRIPT mem_usage", || {
        let r = script.record();
        std::mem::size_of::<ScriptValue>()
            + std::mem::size_of::<Script>()
            + r.source.len()
            + r.tag.len()
            + r.entry_points.iter().map(Vec::len).sum::<usize>()
    })
    .unwrap_or(0)
}
