//! The callback table shared by the module's data types (AI_TENSOR, AI__MODEL, AI_SCRIPT), and
//! the loading glue the model and script types share.

use std::ffi::{c_int, c_void};
use std::ptr;

use redis_module::raw::{self, RedisModuleIO, RedisModuleString};

use crate::guard::contained;

/// The callbacks a data type provides.
pub struct Callbacks {
    pub rdb_load: unsafe extern "C" fn(*mut RedisModuleIO, c_int) -> *mut c_void,
    pub rdb_save: unsafe extern "C" fn(*mut RedisModuleIO, *mut c_void),
    pub aof_rewrite: unsafe extern "C" fn(*mut RedisModuleIO, *mut RedisModuleString, *mut c_void),
    pub free: unsafe extern "C" fn(*mut c_void),
    pub mem_usage: unsafe extern "C" fn(*const c_void) -> usize,
    pub copy: Option<
        unsafe extern "C" fn(
            *mut RedisModuleString,
            *mut RedisModuleString,
            *const c_void,
        ) -> *mut c_void,
    >,
}

/// Redis's method table for `callbacks` (no digest, aux data, defrag or effort callbacks).
pub const fn methods(callbacks: Callbacks) -> raw::RedisModuleTypeMethods {
    raw::RedisModuleTypeMethods {
        version: raw::REDISMODULE_TYPE_METHOD_VERSION as u64,
        rdb_load: Some(callbacks.rdb_load),
        rdb_save: Some(callbacks.rdb_save),
        aof_rewrite: Some(callbacks.aof_rewrite),
        free: Some(callbacks.free),
        mem_usage: Some(callbacks.mem_usage),
        digest: None,
        aux_load: None,
        aux_save: None,
        aux_save2: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: callbacks.copy,
        defrag: None,
        copy2: None,
        free_effort2: None,
        mem_usage2: None,
        unlink2: None,
    }
}

/// The key being loaded, when Redis tells it (Redis >= 7.0).
pub fn key_name(rdb: *mut RedisModuleIO) -> Vec<u8> {
    // SAFETY: the API table is filled once at module load and only read afterwards.
    let Some(get) = (unsafe { raw::RedisModule_GetKeyNameFromIO }) else {
        return Vec::new();
    };
    // SAFETY: valid IO handle of the current load.
    let name = unsafe { get(rdb) };
    if name.is_null() {
        return Vec::new();
    }
    let mut len = 0usize;
    // SAFETY: a live RedisModuleString owned by Redis during the load.
    let ptr = unsafe { raw::RedisModule_StringPtrLen.expect("module API")(name, &mut len) };
    // SAFETY: StringPtrLen returns `len` readable bytes.
    unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }.to_vec()
}

/// An `rdb_load` body: builds the value from the key being loaded, with panics contained; a
/// failure is logged (`<type>: cannot load value: <error>`) and refuses the value (null).
pub fn load_boxed<T>(
    type_name: &str,
    rdb: *mut RedisModuleIO,
    build: impl FnOnce(&[u8]) -> Result<T, String>,
) -> *mut c_void {
    let loaded = contained(&format!("{type_name} rdb_load"), || build(&key_name(rdb)));
    match loaded {
        Some(Ok(value)) => Box::into_raw(Box::new(value)).cast(),
        Some(Err(e)) => {
            crate::log::warning_global(&format!("{type_name}: cannot load value: {e}"));
            ptr::null_mut()
        }
        None => ptr::null_mut(),
    }
}
