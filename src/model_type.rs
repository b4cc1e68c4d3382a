//! The `AI__MODEL` Redis data type: RDB save (v4) / load (v0-v4), AOF rewrite, MEMORY USAGE, free.
//! Loading rebuilds the backend's model (loading the backend from its default path if needed).

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use redis_module::native_types::RedisType;
use redis_module::raw::{self, RedisModuleIO, RedisModuleString};
use redisai_core::model::chunk_ranges;
use redisai_core::rdb::{load_model, save_model, ENCODING_VERSION};
use redisai_core::Backend;
use redisai_engine::model::Model;

use crate::aof::AofArgs;
use crate::guard::contained;
use crate::rdb_io::ModuleIo;
use crate::state::engine;
use crate::type_methods::{load_boxed, methods, Callbacks};

/// The keyspace value: a shared, immutable model.
pub struct ModelValue(pub Arc<Model>);

/// Named exactly as RedisAI's type (two underscores) so RDB files and DUMP payloads interoperate.
pub static MODEL_TYPE: RedisType = RedisType::new(
    "AI__MODEL",
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

/// Makes `model` a keyspace value, registering its run statistics and its device's queue.
pub fn into_value(model: Model) -> Result<ModelValue, String> {
    let engine = engine();
    engine
        .queues
        .get_or_create(&model.device().queue_name())
        .map_err(|e| format!("ERR could not start the run queue: {e}"))?;
    Ok(ModelValue(Arc::new(model)))
}

/// Registers the statistics of a value that was just stored under its key.
pub fn register_stats(value: &ModelValue) {
    engine().stats.register(Arc::clone(value.0.stats()));
}

/// # Safety
/// `value` must be a live `ModelValue` of this type.
unsafe fn model_of<'a>(value: *const c_void) -> &'a Arc<Model> {
    // SAFETY: Redis hands back the pointer this type stored.
    unsafe { &(*value.cast::<ModelValue>()).0 }
}

unsafe extern "C" fn rdb_load(rdb: *mut RedisModuleIO, encver: c_int) -> *mut c_void {
    load_boxed("AI__MODEL", rdb, |key| {
        let record = load_model(&mut ModuleIo(rdb), encver).map_err(|e| e.to_string())?;
        let backend = record.backend;
        let model = Model::create(&engine().registry, record, key).map_err(|e| {
            crate::log::load_failure_global(backend);
            e.to_string()
        })?;
        let value = into_value(model)?;
        register_stats(&value);
        Ok(value)
    })
}

unsafe extern "C" fn rdb_save(rdb: *mut RedisModuleIO, value: *mut c_void) {
    // SAFETY: `value` is one of ours.
    let model = unsafe { model_of(value) };
    contained("AI__MODEL rdb_save", || {
        save_model(
            &mut ModuleIo(rdb),
            model.record(),
            engine().model_chunk_size(),
        )
    });
}

/// Emits `AI.MODELSTORE <key> <BACKEND> <device> TAG <tag> BATCHSIZE n MINBATCHSIZE m
/// MINBATCHTIMEOUT t [INPUTS n names... OUTPUTS m names...] BLOB <chunk>...` (SPEC §10.3).
unsafe extern "C" fn aof_rewrite(
    aof: *mut RedisModuleIO,
    key: *mut RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: `value` is one of ours.
    let model = unsafe { model_of(value) };
    contained("AI__MODEL aof_rewrite", || {
        let r = model.record();
        let mut args = AofArgs(Vec::new());
        args.push(r.backend.name().as_bytes());
        args.push(r.device.as_bytes());
        args.push(b"TAG");
        args.push(&r.tag);
        for (name, n) in [
            ("BATCHSIZE", r.batchsize),
            ("MINBATCHSIZE", r.minbatchsize),
            ("MINBATCHTIMEOUT", r.minbatchtimeout),
        ] {
            args.push(name.as_bytes());
            args.push(n.to_string().as_bytes());
        }
        if r.backend == Backend::Tf {
            for (word, names) in [("INPUTS", &r.inputs), ("OUTPUTS", &r.outputs)] {
                args.push(word.as_bytes());
                args.push(names.len().to_string().as_bytes());
                for name in names {
                    args.push(name);
                }
            }
        }
        args.push(b"BLOB");
        for range in chunk_ranges(r.blob.len(), engine().model_chunk_size() as usize) {
            args.push(&r.blob[range]);
        }
        // SAFETY: format "sv" = the key (RedisModuleString) and an array of RedisModuleString
        // with its length; all strings are alive for the call.
        unsafe {
            raw::RedisModule_EmitAOF.expect("module API")(
                aof,
                c"AI.MODELSTORE".as_ptr(),
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
    let value = unsafe { Box::from_raw(value.cast::<ModelValue>()) };
    contained("AI__MODEL free", || {
        let engine = engine();
        engine.stats.remove_if_same(value.0.stats());
        // Requests waiting to fill a batch of this model run now: nothing can add to it.
        value.0.orphan();
        if let Some(queue) = engine.queues.get(&value.0.device().queue_name()) {
            queue.wake_all();
        }
        drop(value);
    });
}

unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    // SAFETY: `value` is one of ours.
    let model = unsafe { model_of(value) };
    contained("AI__MODEL mem_usage", || {
        std::mem::size_of::<ModelValue>() + std::mem::size_of::<Model>() + model.record().blob.len()
    })
    .unwrap_or(0)
}
