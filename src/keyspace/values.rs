//! The module's data types — `AI_TENSOR`, `AI__MODEL`, `AI_SCRIPT`, named as RedisAI's so
//! RDB files and DUMP payloads move between the two, and the text types `AI_TOKNZR` and
//! `AI_EMBEDR` (docs/embeddings.md) — and their callbacks, one generic set for all of them: RDB load (every encoding version RedisAI wrote) and save (version 4), AOF rewrite
//! (the engine's emitter of the command that recreates the value), MEMORY USAGE, free, and COPY
//! for tensors. What differs per type is its [`Persisted`] implementation below.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;

use redis_module::native_types::RedisType;
use redis_module::raw::{self, RedisModuleIO, RedisModuleString};
use redisai_core::rdb::{
    load_model, load_script, load_tensor, save_model, save_script, save_tensor, ENCODING_VERSION,
};
use redisai_core::text::{
    load_embedder, load_tokenizer, save_embedder, save_tokenizer, TEXT_ENCODING_VERSION,
};
use redisai_core::{Backend, Error, Tensor};
use redisai_engine::command::Command;
use redisai_engine::model::Model;
use redisai_engine::model_cmd::modelstore_command;
use redisai_engine::script::Script;
use redisai_engine::script_cmd::scriptstore_command;
use redisai_engine::tensor_cmd::tensorset_command;
use redisai_engine::text::cmd::{embedderstore_command, tokenizerstore_command};
use redisai_engine::text::{Embedder, Tokenizer};

use super::key::{borrow_value, into_value, release_value, share_value};
use crate::guard::contained_in;
use crate::rdb_io::ModuleIo;
use crate::state::engine;

/// A type whose values live in the keyspace (as `Arc` pointers, see `key.rs`).
pub trait Stored: Send + Sync + Sized + 'static {
    /// The registered data type.
    fn redis_type() -> &'static RedisType;
    /// The reply for a key that holds no value of this type.
    fn empty() -> Error;
    /// The value was just stored under a key (by a command or an RDB load).
    fn stored(&self) {}
    /// The keyspace let go of the value (deleted, replaced, flushed, expired).
    fn released(&self) {}
}

/// How a type is persisted; the callbacks below are generic over it.
pub trait Persisted: Stored {
    const TYPE_NAME: &'static str;
    /// COPY shares the value (tensors, which are immutable); others refuse COPY, as RedisAI.
    const COPY: bool = false;
    /// Reads a value of RDB encoding `encver`; `key` is the key being loaded (may be empty).
    fn load(io: &mut ModuleIo, encver: c_int, key: &[u8]) -> Result<Self, String>;
    fn save(&self, io: &mut ModuleIo);
    /// The command that recreates the value at `key` (AOF rewrite).
    fn rewrite<'a>(&'a self, key: &'a [u8]) -> Command<'a>;
    /// The bytes the value takes (MEMORY USAGE).
    fn memory(&self) -> usize;
}

pub static TENSOR_TYPE: RedisType =
    RedisType::new("AI_TENSOR", ENCODING_VERSION, methods::<Tensor>());
pub static MODEL_TYPE: RedisType =
    RedisType::new("AI__MODEL", ENCODING_VERSION, methods::<Model>());
pub static SCRIPT_TYPE: RedisType =
    RedisType::new("AI_SCRIPT", ENCODING_VERSION, methods::<Script>());
pub static TOKENIZER_TYPE: RedisType =
    RedisType::new("AI_TOKNZR", TEXT_ENCODING_VERSION, methods::<Tokenizer>());
pub static EMBEDDER_TYPE: RedisType =
    RedisType::new("AI_EMBEDR", TEXT_ENCODING_VERSION, methods::<Embedder>());

impl Stored for Tensor {
    fn redis_type() -> &'static RedisType {
        &TENSOR_TYPE
    }
    fn empty() -> Error {
        Error::TensorKeyEmpty
    }
}

impl Persisted for Tensor {
    const TYPE_NAME: &'static str = "AI_TENSOR";
    const COPY: bool = true;
    fn load(io: &mut ModuleIo, encver: c_int, _key: &[u8]) -> Result<Self, String> {
        load_tensor(io, encver).map_err(|e| e.to_string())
    }
    fn save(&self, io: &mut ModuleIo) {
        save_tensor(io, self)
    }
    fn rewrite<'a>(&'a self, key: &'a [u8]) -> Command<'a> {
        tensorset_command(key, self)
    }
    fn memory(&self) -> usize {
        self.memory_usage()
    }
}

impl Stored for Model {
    fn redis_type() -> &'static RedisType {
        &MODEL_TYPE
    }
    fn empty() -> Error {
        Error::ModelKeyEmpty
    }
    fn stored(&self) {
        engine().stats.register(Arc::clone(self.stats()));
    }
    fn released(&self) {
        let engine = engine();
        engine.stats.remove_if_same(self.stats());
        // Requests waiting to fill a batch of this model run now: nothing can add to it.
        self.orphan();
        if let Some(queue) = engine.queues.get(&self.device().queue_name()) {
            queue.wake_all();
        }
    }
}

/// Starts the run queue of a device, for a model or script about to be stored.
pub fn start_queue(queue: &str) -> Result<(), String> {
    engine()
        .queues
        .get_or_create(queue)
        .map(drop)
        .map_err(|e| format!("ERR could not start the run queue: {e}"))
}

impl Persisted for Model {
    const TYPE_NAME: &'static str = "AI__MODEL";
    fn load(io: &mut ModuleIo, encver: c_int, key: &[u8]) -> Result<Self, String> {
        let record = load_model(io, encver).map_err(|e| e.to_string())?;
        let backend = record.backend;
        let model = Model::create(&engine().registry, record, key).map_err(|e| {
            crate::log::load_failure_global(backend);
            e.to_string()
        })?;
        crate::commands::model::warm_up(&model, key, None).map_err(|e| e.to_string())?;
        start_queue(&model.device().queue_name())?;
        Ok(model)
    }
    fn save(&self, io: &mut ModuleIo) {
        save_model(io, self.record(), engine().model_chunk_size())
    }
    fn rewrite<'a>(&'a self, key: &'a [u8]) -> Command<'a> {
        modelstore_command(key, self.record(), engine().model_chunk_size() as usize)
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Arc<Model>>() + std::mem::size_of::<Model>() + self.record().blob.len()
    }
}

impl Stored for Script {
    fn redis_type() -> &'static RedisType {
        &SCRIPT_TYPE
    }
    fn empty() -> Error {
        Error::ScriptKeyEmpty
    }
    fn stored(&self) {
        engine().stats.register(Arc::clone(self.stats()));
    }
    fn released(&self) {
        engine().stats.remove_if_same(self.stats());
    }
}

impl Persisted for Script {
    const TYPE_NAME: &'static str = "AI_SCRIPT";
    fn load(io: &mut ModuleIo, encver: c_int, key: &[u8]) -> Result<Self, String> {
        let record = load_script(io, encver).map_err(|e| e.to_string())?;
        let script = Script::create(&engine().registry, record, key).map_err(|e| {
            crate::log::load_failure_global(Backend::Torch);
            e.to_string()
        })?;
        start_queue(&script.device().queue_name())?;
        Ok(script)
    }
    fn save(&self, io: &mut ModuleIo) {
        save_script(io, self.record())
    }
    fn rewrite<'a>(&'a self, key: &'a [u8]) -> Command<'a> {
        scriptstore_command(key, self.record())
    }
    fn memory(&self) -> usize {
        let r = self.record();
        std::mem::size_of::<Arc<Script>>()
            + std::mem::size_of::<Script>()
            + r.source.len()
            + r.tag.len()
            + r.entry_points.iter().map(Vec::len).sum::<usize>()
    }
}

impl Stored for Tokenizer {
    fn redis_type() -> &'static RedisType {
        &TOKENIZER_TYPE
    }
    fn empty() -> Error {
        Error::TokenizerKeyEmpty
    }
}

impl Persisted for Tokenizer {
    const TYPE_NAME: &'static str = "AI_TOKNZR";
    fn load(io: &mut ModuleIo, encver: c_int, _key: &[u8]) -> Result<Self, String> {
        let record = load_tokenizer(io, encver).map_err(|e| e.to_string())?;
        Tokenizer::create(record).map_err(|e| e.to_string())
    }
    fn save(&self, io: &mut ModuleIo) {
        save_tokenizer(io, self.record())
    }
    fn rewrite<'a>(&'a self, key: &'a [u8]) -> Command<'a> {
        tokenizerstore_command(key, self.record())
    }
    fn memory(&self) -> usize {
        // The parsed vocabulary takes about as much again as the JSON it came from.
        std::mem::size_of::<Arc<Tokenizer>>()
            + std::mem::size_of::<Tokenizer>()
            + 2 * self.record().json.len()
    }
}

impl Stored for Embedder {
    fn redis_type() -> &'static RedisType {
        &EMBEDDER_TYPE
    }
    fn empty() -> Error {
        Error::EmbedderKeyEmpty
    }
    fn stored(&self) {
        engine().stats.register(Arc::clone(self.stats()));
    }
    fn released(&self) {
        engine().stats.remove_if_same(self.stats());
    }
}

impl Persisted for Embedder {
    const TYPE_NAME: &'static str = "AI_EMBEDR";
    fn load(io: &mut ModuleIo, encver: c_int, key: &[u8]) -> Result<Self, String> {
        let record = load_embedder(io, encver).map_err(|e| e.to_string())?;
        // Its model may load after it: AI.INFO shows the default backend until re-stored.
        Ok(Embedder::new(record, key, Backend::Onnx, "CPU".into()))
    }
    fn save(&self, io: &mut ModuleIo) {
        save_embedder(io, self.record())
    }
    fn rewrite<'a>(&'a self, key: &'a [u8]) -> Command<'a> {
        embedderstore_command(key, self.record())
    }
    fn memory(&self) -> usize {
        let r = self.record();
        std::mem::size_of::<Arc<Embedder>>()
            + std::mem::size_of::<Embedder>()
            + r.tokenizer.len()
            + r.model.len()
            + r.tag.len()
    }
}

/// Redis's method table for `T` (no digest, aux data, defrag or effort callbacks).
const fn methods<T: Persisted>() -> raw::RedisModuleTypeMethods {
    raw::RedisModuleTypeMethods {
        version: raw::REDISMODULE_TYPE_METHOD_VERSION as u64,
        rdb_load: Some(rdb_load::<T>),
        rdb_save: Some(rdb_save::<T>),
        aof_rewrite: Some(aof_rewrite::<T>),
        free: Some(free::<T>),
        mem_usage: Some(mem_usage::<T>),
        digest: None,
        aux_load: None,
        aux_save: None,
        aux_save2: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: if T::COPY { Some(copy::<T>) } else { None },
        defrag: None,
        copy2: None,
        free_effort2: None,
        mem_usage2: None,
        unlink2: None,
    }
}

/// The bytes of a module string.
fn bytes_of<'a>(s: *const RedisModuleString) -> &'a [u8] {
    if s.is_null() {
        return &[];
    }
    let mut len = 0usize;
    // SAFETY: a live module string (owned by Redis during the callback).
    let p = unsafe { raw::RedisModule_StringPtrLen.expect("module API")(s, &mut len) };
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: StringPtrLen returns `len` readable bytes, alive as long as the string.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
}

/// The key being loaded, when Redis tells it (Redis >= 7.0).
fn loading_key(rdb: *mut RedisModuleIO) -> Vec<u8> {
    // SAFETY: the API table is filled once at module load and only read afterwards.
    let Some(get) = (unsafe { raw::RedisModule_GetKeyNameFromIO }) else {
        return Vec::new();
    };
    // SAFETY: valid IO handle of the current load.
    bytes_of(unsafe { get(rdb) }).to_vec()
}

/// Loads a value; a failure is logged (`<type>: cannot load value: <error>`) and refuses the
/// value (null), which fails the RDB load or the RESTORE.
unsafe extern "C" fn rdb_load<T: Persisted>(rdb: *mut RedisModuleIO, encver: c_int) -> *mut c_void {
    let loaded = contained_in(T::TYPE_NAME, "rdb_load", || {
        T::load(&mut ModuleIo(rdb), encver, &loading_key(rdb)).map(|value| {
            value.stored();
            into_value(Arc::new(value))
        })
    });
    match loaded {
        Some(Ok(value)) => value,
        Some(Err(e)) => {
            crate::log::warning_global(&format!("{}: cannot load value: {e}", T::TYPE_NAME));
            ptr::null_mut()
        }
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn rdb_save<T: Persisted>(rdb: *mut RedisModuleIO, value: *mut c_void) {
    // SAFETY: `value` is one of ours, alive during the callback.
    let value = unsafe { borrow_value::<T>(value) };
    contained_in(T::TYPE_NAME, "rdb_save", || value.save(&mut ModuleIo(rdb)));
}

unsafe extern "C" fn aof_rewrite<T: Persisted>(
    aof: *mut RedisModuleIO,
    key: *mut RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: `value` is one of ours, alive during the callback.
    let value = unsafe { borrow_value::<T>(value) };
    contained_in(T::TYPE_NAME, "aof_rewrite", || {
        crate::emit::aof(aof, &value.rewrite(bytes_of(key)))
    });
}

unsafe extern "C" fn free<T: Persisted>(value: *mut c_void) {
    contained_in(T::TYPE_NAME, "free", || {
        // SAFETY: `value` was produced by `into_value` and Redis frees it exactly once.
        unsafe { release_value::<T>(value) }
    });
}

unsafe extern "C" fn mem_usage<T: Persisted>(value: *const c_void) -> usize {
    // SAFETY: `value` is one of ours, alive during the callback.
    let value = unsafe { borrow_value::<T>(value) };
    contained_in(T::TYPE_NAME, "mem_usage", || value.memory()).unwrap_or(0)
}

/// COPY shares the immutable value instead of duplicating it.
unsafe extern "C" fn copy<T: Persisted>(
    _from: *mut RedisModuleString,
    _to: *mut RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    contained_in(T::TYPE_NAME, "copy", || {
        // SAFETY: `value` is one of ours, alive during the callback.
        into_value(unsafe { share_value::<T>(value) })
    })
    .unwrap_or(ptr::null_mut())
}
