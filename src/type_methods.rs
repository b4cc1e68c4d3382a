//! The callback table shared by the module's data types (AI_TENSOR, AI__MODEL).

use std::ffi::{c_int, c_void};

use redis_module::raw::{self, RedisModuleIO, RedisModuleString};

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
