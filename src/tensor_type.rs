//! The `AI_TENSOR` Redis data type: RDB save/load (v0-v4), AOF rewrite, MEMORY USAGE, COPY, free.

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;
use std::sync::Arc;

use redis_module::native_types::RedisType;
use redis_module::raw::{self, RedisModuleIO, RedisModuleString};
use redisai_core::rdb::{load_tensor, save_tensor, ENCODING_VERSION};
use redisai_core::Tensor;

use crate::guard::contained;
use crate::rdb_io::ModuleIo;
use crate::tensor_key::{borrow_value, into_value, release_value, share_value};
use crate::type_methods::{methods, Callbacks};

/// The data type, named exactly as RedisAI's so RDB files and DUMP payloads are interchangeable.
/// Its values are shared, immutable tensors (`Arc<Tensor>` pointers, see `tensor_key.rs`):
/// readers take a reference, never a copy of the data.
pub static TENSOR_TYPE: RedisType = RedisType::new(
    "AI_TENSOR",
    ENCODING_VERSION,
    methods(Callbacks {
        rdb_load,
        rdb_save,
        aof_rewrite,
        free,
        mem_usage,
        copy: Some(copy),
    }),
);

/// # Safety
/// `value` must be a value of this type (made by `into_value`), alive for `'a`.
unsafe fn tensor_of<'a>(value: *const c_void) -> &'a Tensor {
    // SAFETY: Redis hands back the pointer this type stored, which is alive during the callback.
    unsafe { borrow_value(value) }
}

unsafe extern "C" fn rdb_load(rdb: *mut RedisModuleIO, encver: c_int) -> *mut c_void {
    let loaded = contained("AI_TENSOR rdb_load", || {
        load_tensor(&mut ModuleIo(rdb), encver)
    });
    match loaded {
        Some(Ok(tensor)) => into_value(Arc::new(tensor)),
        Some(Err(e)) => {
            crate::log::warning_global(&format!("AI_TENSOR: cannot load value: {e}"));
            ptr::null_mut()
        }
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn rdb_save(rdb: *mut RedisModuleIO, value: *mut c_void) {
    // SAFETY: `value` is one of ours.
    let tensor = unsafe { tensor_of(value) };
    contained("AI_TENSOR rdb_save", || {
        save_tensor(&mut ModuleIo(rdb), tensor)
    });
}

/// Emits `AI.TENSORSET <key> <DTYPE> <dim>... BLOB <data>`.
unsafe extern "C" fn aof_rewrite(
    aof: *mut RedisModuleIO,
    key: *mut RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: `value` is one of ours.
    let tensor = unsafe { tensor_of(value) };
    contained("AI_TENSOR aof_rewrite", || {
        let create = raw::RedisModule_CreateStringFromLongLong.expect("module API");
        let free = raw::RedisModule_FreeString.expect("module API");
        // SAFETY: strings created without a context are owned by us and freed below; EmitAOF
        // takes its own references to them.
        let dims: Vec<*mut RedisModuleString> = tensor
            .shape()
            .iter()
            .map(|&d| unsafe { create(ptr::null_mut(), d) })
            .collect();
        let dtype = CString::new(tensor.dtype().name()).expect("dtype names have no NUL");
        let data = tensor.data();
        // SAFETY: the format "scvcb" matches the arguments: a RedisModuleString, a C string, an
        // array of RedisModuleString with its length, a C string, and a buffer with its length.
        unsafe {
            raw::RedisModule_EmitAOF.expect("module API")(
                aof,
                c"AI.TENSORSET".as_ptr(),
                c"scvcb".as_ptr(),
                key,
                dtype.as_ptr(),
                dims.as_ptr(),
                dims.len(),
                c"BLOB".as_ptr(),
                data.as_ptr().cast::<c_char>(),
                data.len(),
            );
        }
        for dim in dims {
            // SAFETY: created above with a NULL context, not used after this.
            unsafe { free(ptr::null_mut(), dim) };
        }
    });
}

unsafe extern "C" fn free(value: *mut c_void) {
    contained("AI_TENSOR free", || {
        // SAFETY: `value` was produced by `into_value` and Redis frees it exactly once.
        unsafe { release_value(value) }
    });
}

unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    // SAFETY: `value` is one of ours.
    let tensor = unsafe { tensor_of(value) };
    contained("AI_TENSOR mem_usage", || tensor.memory_usage()).unwrap_or(0)
}

/// COPY shares the immutable tensor instead of duplicating its data.
unsafe extern "C" fn copy(
    _from: *mut RedisModuleString,
    _to: *mut RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    contained("AI_TENSOR copy", || {
        // SAFETY: `value` is one of ours, alive during the callback.
        into_value(unsafe { share_value(value) })
    })
    .unwrap_or(ptr::null_mut())
}
