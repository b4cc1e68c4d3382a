//! `RAI_Script` and `RAI_ScriptRunCtx` of the C API. A `RAI_Script*` is the keyspace's own value
//! pointer (an `Arc<Script>`). A script run through the C API has no client: its Redis calls run
//! in database 0 and may touch no key (it declares none).

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;

use redis_module::raw::{RedisModuleCtx, RedisModuleString, RedisModuleType};
use redisai_core::device::Device;
use redisai_core::script::ScriptRecord;
use redisai_core::{Backend, Error, Tensor};
use redisai_engine::script::Script;

use super::error::{code, report, RaiError};
use super::finish::OnFinishCb;
use super::model::{c_bytes, ctx_mut, from_keyspace, string_bytes};
use super::run::{run_async, run_now, RunCtx, Target};
use super::{ffi, tensor};
use crate::keyspace::SCRIPT_TYPE;
use crate::state::engine;

/// One more reference to the script of a handle.
///
/// # Safety
/// `s` is NULL or a live script handle.
pub unsafe fn share(s: *const Script) -> Option<Arc<Script>> {
    if s.is_null() {
        return None;
    }
    // SAFETY: a live `Arc` pointer: one more reference, taken as an owned `Arc`.
    unsafe {
        Arc::increment_strong_count(s);
        Some(Arc::from_raw(s))
    }
}

/// `RAI_Script *RedisAI_ScriptCreate(char *devicestr, RedisModuleString *tag, const char
/// *scriptdef, RAI_Error *err)`: TorchScript compiled on the calling thread, without entry
/// points (its functions are called positionally); NULL with the error in `err`.
pub extern "C" fn script_create(
    devicestr: *const c_char,
    tag: *const RedisModuleString,
    scriptdef: *const c_char,
    err: *mut RaiError,
) -> *mut Script {
    ffi("RedisAI_ScriptCreate", ptr::null_mut(), || {
        // SAFETY: NUL-terminated strings, a NULL or live module string and error object (the C
        // API's contract).
        unsafe {
            let device = match Device::parse(c_bytes(devicestr)) {
                Ok(d) => d,
                Err(e) => {
                    report(err, code::ESCRIPTCREATE, &e);
                    return ptr::null_mut();
                }
            };
            let record = ScriptRecord {
                device: device.as_str().to_string(),
                tag: string_bytes(tag),
                source: c_bytes(scriptdef).to_vec(),
                entry_points: Vec::new(),
            };
            match Script::create(&engine().registry, record, b"") {
                Ok(script) => Arc::into_raw(Arc::new(script)).cast_mut(),
                Err(e) => {
                    let (c, e) = match e {
                        Error::CouldNotLoadBackend => (
                            code::EBACKENDNOTLOADED,
                            Error::BackendNotLoaded(Backend::Torch),
                        ),
                        e => (code::ESCRIPTCREATE, e),
                    };
                    report(err, c, &e);
                    ptr::null_mut()
                }
            }
        }
    })
}

/// `void RedisAI_ScriptFree(RAI_Script *script, RAI_Error *err)`: drops one reference.
pub extern "C" fn script_free(s: *mut Script, _err: *mut RaiError) {
    ffi("RedisAI_ScriptFree", (), || {
        if !s.is_null() {
            // SAFETY: a live handle whose reference the caller gives up.
            drop(unsafe { Arc::from_raw(s.cast_const()) });
        }
    })
}

/// `RAI_Script *RedisAI_ScriptGetShallowCopy(RAI_Script *script)`: one more reference.
pub extern "C" fn script_get_shallow_copy(s: *mut Script) -> *mut Script {
    ffi("RedisAI_ScriptGetShallowCopy", ptr::null_mut(), || {
        // SAFETY: a live handle (the C API's contract).
        unsafe { share(s) }.map_or(ptr::null_mut(), |s| Arc::into_raw(s).cast_mut())
    })
}

/// `RedisModuleType *RedisAI_ScriptRedisType(void)`: the `AI_SCRIPT` type.
pub extern "C" fn script_redis_type() -> *mut RedisModuleType {
    ffi("RedisAI_ScriptRedisType", ptr::null_mut(), || {
        *SCRIPT_TYPE.raw_type.borrow()
    })
}

/// `int RedisAI_GetScriptFromKeyspace(RedisModuleCtx *ctx, RedisModuleString *keyName,
/// RAI_Script **script, int mode, RAI_Error *err)`: as RedisAI_GetModelFromKeyspace, for
/// scripts (`ERR script key is empty`).
pub extern "C" fn get_script_from_keyspace(
    ctx: *mut RedisModuleCtx,
    key: *mut RedisModuleString,
    script: *mut *mut Script,
    _mode: c_int,
    err: *mut RaiError,
) -> c_int {
    ffi("RedisAI_GetScriptFromKeyspace", 1, || {
        from_keyspace::<Script>(
            ctx,
            key,
            script,
            err,
            Error::ScriptKeyEmpty,
            code::ESCRIPTRUN,
        )
    })
}

/// `RAI_ScriptRunCtx *RedisAI_ScriptRunCtxCreate(RAI_Script *script, const char *fnname)`: a
/// run context of the function, holding a reference to the script.
pub extern "C" fn script_run_ctx_create(s: *mut Script, fnname: *const c_char) -> *mut RunCtx {
    ffi("RedisAI_ScriptRunCtxCreate", ptr::null_mut(), || {
        if fnname.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: a live handle and a NUL-terminated string (the C API's contract).
        let (script, function) = unsafe { (share(s), c_bytes(fnname)) };
        match script {
            Some(script) => {
                let function = String::from_utf8_lossy(function).into_owned();
                Box::into_raw(Box::new(RunCtx::new(Target::Script { script, function })))
            }
            None => ptr::null_mut(),
        }
    })
}

/// Adds the `count` tensors at `ts` as the next inputs (new references); 1.
fn add_inputs(name: &str, c: *mut RunCtx, ts: *const *mut Tensor, count: usize) -> c_int {
    ffi(name, 0, || {
        // SAFETY: a live run context (the C API's contract).
        let Some(ctx) = (unsafe { ctx_mut(c) }) else {
            return 0;
        };
        if count > 0 && ts.is_null() {
            return 0;
        }
        if count > 0 {
            // SAFETY: `count` NULL or live tensor handles.
            let list = unsafe { std::slice::from_raw_parts(ts, count) };
            // SAFETY: as above.
            ctx.inputs
                .extend(list.iter().map(|&t| unsafe { tensor::share(t) }));
        }
        1
    })
}

/// `int RedisAI_ScriptRunCtxAddTensorInput(RAI_ScriptRunCtx *ctx, RAI_Tensor *t)`: 1.
pub extern "C" fn script_run_ctx_add_tensor_input(c: *mut RunCtx, t: *mut Tensor) -> c_int {
    add_inputs("RedisAI_ScriptRunCtxAddTensorInput", c, &t, 1)
}

/// Deprecated `int RedisAI_ScriptRunCtxAddInput(RAI_ScriptRunCtx *ctx, RAI_Tensor *t, RAI_Error
/// *err)`: 1.
pub extern "C" fn script_run_ctx_add_input(
    c: *mut RunCtx,
    t: *mut Tensor,
    _err: *mut RaiError,
) -> c_int {
    add_inputs("RedisAI_ScriptRunCtxAddInput", c, &t, 1)
}

/// `int RedisAI_ScriptRunCtxAddTensorInputList(RAI_ScriptRunCtx *ctx, RAI_Tensor **ts, size_t
/// count)`: 1.
pub extern "C" fn script_run_ctx_add_tensor_input_list(
    c: *mut RunCtx,
    ts: *const *mut Tensor,
    count: usize,
) -> c_int {
    add_inputs("RedisAI_ScriptRunCtxAddTensorInputList", c, ts, count)
}

/// Deprecated `int RedisAI_ScriptRunCtxAddInputList(RAI_ScriptRunCtx *ctx, RAI_Tensor **ts,
/// size_t len, RAI_Error *err)`: 1.
pub extern "C" fn script_run_ctx_add_input_list(
    c: *mut RunCtx,
    ts: *const *mut Tensor,
    count: usize,
    _err: *mut RaiError,
) -> c_int {
    add_inputs("RedisAI_ScriptRunCtxAddInputList", c, ts, count)
}

/// `int RedisAI_ScriptRunCtxAddOutput(RAI_ScriptRunCtx *ctx)`: one more output slot; 1.
pub extern "C" fn script_run_ctx_add_output(c: *mut RunCtx) -> c_int {
    ffi("RedisAI_ScriptRunCtxAddOutput", 0, || {
        // SAFETY: a live run context.
        unsafe { ctx_mut(c) }.map_or(0, |ctx| {
            ctx.outputs.push(None);
            1
        })
    })
}

/// `int RedisAI_ScriptRun(RAI_ScriptRunCtx *ctx, RAI_Error *err)`: runs the call on the calling
/// thread; 0, or 1 with the error in `err`.
pub extern "C" fn script_run(c: *mut RunCtx, err: *mut RaiError) -> c_int {
    ffi("RedisAI_ScriptRun", 1, || {
        // SAFETY: a live run context and a NULL or live error object.
        let (ctx, mut err) = unsafe { (ctx_mut(c), err.as_mut()) };
        match ctx {
            Some(ctx) => run_now(&mut [ctx], &mut err),
            None => 1,
        }
    })
}

/// `int RedisAI_ScriptRunAsync(RAI_ScriptRunCtx *ctx, RAI_OnFinishCB cb, void *private_data)`:
/// as RedisAI_ModelRunAsync, for scripts (RedisAI_GetAsScriptRunCtx gives the context back).
pub extern "C" fn script_run_async(
    c: *mut RunCtx,
    cb: OnFinishCb,
    private_data: *mut c_void,
) -> c_int {
    ffi("RedisAI_ScriptRunAsync", 1, || {
        if c.is_null() {
            return 1;
        }
        // SAFETY: a run context of this API, which the run now owns (the C API's contract).
        run_async(unsafe { Box::from_raw(c) }, cb, private_data);
        0
    })
}
