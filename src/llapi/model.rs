//! `RAI_Model` and `RAI_ModelRunCtx` of the C API. A `RAI_Model*` is the keyspace's own value
//! pointer (an `Arc<Model>`), as tensors' are (`tensor.rs`).

use std::ffi::{c_char, c_int, c_longlong, c_void, CStr};
use std::ptr;
use std::sync::Arc;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString, RedisModuleType};
use redis_module::Context;
use redisai_core::device::Device;
use redisai_core::model::ModelRecord;
use redisai_core::{Backend, Error, Tensor};
use redisai_engine::model::Model;

use super::error::{code, report, RaiError};
use super::finish::OnFinishCb;
use super::run::{run_async, run_now, RunCtx, Target};
use super::{ffi, tensor};
use crate::keyspace::{Key, MODEL_TYPE};
use crate::state::engine;

/// `RAI_ModelOpts`, passed by value: its layout is RedisAI's ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ModelOpts {
    pub batchsize: usize,
    pub minbatchsize: usize,
    pub minbatchtimeout: usize,
    /// Not per model here: the module's INTRA_OP_PARALLELISM applies.
    pub backends_intra_op_parallelism: c_longlong,
    /// Not per model here: the module's INTER_OP_PARALLELISM applies.
    pub backends_inter_op_parallelism: c_longlong,
}

/// The bytes of a NUL-terminated string (empty for NULL).
///
/// # Safety
/// `s` is NULL or NUL-terminated, alive for `'a`.
pub unsafe fn c_bytes<'a>(s: *const c_char) -> &'a [u8] {
    if s.is_null() {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(s) }.to_bytes()
}

/// The bytes of a module string (empty for NULL). RedisAI takes tags as `RedisModuleString*`
/// although its header declares `char*`; so does this module.
///
/// # Safety
/// `s` is NULL or a live module string.
pub unsafe fn string_bytes(s: *const RedisModuleString) -> Vec<u8> {
    if s.is_null() {
        return Vec::new();
    }
    let mut len = 0usize;
    // SAFETY: a live module string.
    let p = unsafe { raw::RedisModule_StringPtrLen.expect("module API")(s, &mut len) };
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: StringPtrLen gives `len` readable bytes.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec()
}

/// `count` C strings.
///
/// # Safety
/// `names` is NULL or points to `count` NULL or NUL-terminated strings.
unsafe fn names(names: *const *const c_char, count: usize) -> Vec<Vec<u8>> {
    if names.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller's contract.
    let list = unsafe { std::slice::from_raw_parts(names, count) };
    // SAFETY: as above.
    list.iter()
        .map(|&n| unsafe { c_bytes(n) }.to_vec())
        .collect()
}

/// One more reference to the model of a handle.
///
/// # Safety
/// `m` is NULL or a live model handle.
pub unsafe fn share(m: *const Model) -> Option<Arc<Model>> {
    if m.is_null() {
        return None;
    }
    // SAFETY: a live `Arc` pointer: one more reference, taken as an owned `Arc`.
    unsafe {
        Arc::increment_strong_count(m);
        Some(Arc::from_raw(m))
    }
}

/// `RAI_Model *RedisAI_ModelCreate(int backend, char *devicestr, RedisModuleString *tag,
/// RAI_ModelOpts opts, size_t ninputs, const char **inputs, size_t noutputs, const char
/// **outputs, const char *modeldef, size_t modellen, RAI_Error *err)`: a model built by its
/// backend on the calling thread (loaded from BACKENDSPATH if it is not yet); NULL with the
/// error in `err`. Only TF uses the input and output names.
#[allow(clippy::too_many_arguments)]
pub extern "C" fn model_create(
    backend: c_int,
    devicestr: *const c_char,
    tag: *const RedisModuleString,
    opts: ModelOpts,
    ninputs: usize,
    inputs: *const *const c_char,
    noutputs: usize,
    outputs: *const *const c_char,
    modeldef: *const c_char,
    modellen: usize,
    err: *mut RaiError,
) -> *mut Model {
    ffi("RedisAI_ModelCreate", ptr::null_mut(), || {
        // SAFETY: the pointers follow the C API's contract (strings, arrays of `n`, a blob of
        // `modellen` bytes, NULL or a live error object).
        unsafe {
            let fail = |c: c_int, e: Error| {
                report(err, c, &e);
                ptr::null_mut()
            };
            let Some(backend) = u64::try_from(backend).ok().and_then(Backend::from_code) else {
                return fail(code::EUNSUPPORTEDBACKEND, Error::UnknownBackendCode);
            };
            let device = match Device::parse(c_bytes(devicestr)) {
                Ok(d) => d,
                Err(e) => return fail(code::EMODELCONFIGURE, e),
            };
            let blob = match (modeldef.is_null(), modellen) {
                (_, 0) => Vec::new(),
                (true, _) => return fail(code::EMODELCREATE, Error::MissingModelBlob),
                (false, n) => std::slice::from_raw_parts(modeldef.cast::<u8>(), n).to_vec(),
            };
            let record = ModelRecord {
                backend,
                device: device.as_str().to_string(),
                tag: string_bytes(tag),
                batchsize: opts.batchsize as u64,
                minbatchsize: opts.minbatchsize as u64,
                minbatchtimeout: opts.minbatchtimeout as u64,
                inputs: names(inputs, ninputs),
                outputs: names(outputs, noutputs),
                blob: Arc::new(blob),
            };
            match Model::create(&engine().registry, record, b"") {
                Ok(model) => Arc::into_raw(Arc::new(model)).cast_mut(),
                Err(Error::CouldNotLoadBackend) => {
                    fail(code::EBACKENDNOTLOADED, Error::BackendNotLoaded(backend))
                }
                Err(e) => fail(code::EMODELCREATE, e),
            }
        }
    })
}

/// `void RedisAI_ModelFree(RAI_Model *model, RAI_Error *err)`: drops one reference.
pub extern "C" fn model_free(m: *mut Model, _err: *mut RaiError) {
    ffi("RedisAI_ModelFree", (), || {
        if !m.is_null() {
            // SAFETY: a live handle whose reference the caller gives up.
            drop(unsafe { Arc::from_raw(m.cast_const()) });
        }
    })
}

/// `RAI_Model *RedisAI_ModelGetShallowCopy(RAI_Model *model)`: one more reference.
pub extern "C" fn model_get_shallow_copy(m: *mut Model) -> *mut Model {
    ffi("RedisAI_ModelGetShallowCopy", ptr::null_mut(), || {
        // SAFETY: a live handle (the C API's contract).
        unsafe { share(m) }.map_or(ptr::null_mut(), |m| Arc::into_raw(m).cast_mut())
    })
}

/// `int RedisAI_ModelSerialize(RAI_Model *model, char **buffer, size_t *len, RAI_Error *err)`:
/// a copy of the model's blob in `*buffer` (allocated with RedisModule_Alloc: the caller frees
/// it with RedisModule_Free); 0.
pub extern "C" fn model_serialize(
    m: *mut Model,
    buffer: *mut *mut c_char,
    len: *mut usize,
    err: *mut RaiError,
) -> c_int {
    ffi("RedisAI_ModelSerialize", 1, || {
        // SAFETY: a live handle and writable out-pointers (the C API's contract).
        unsafe {
            let (Some(model), false, false) = (m.as_ref(), buffer.is_null(), len.is_null()) else {
                report(err, code::EMODELSERIALIZE, &Error::Internal);
                return 1;
            };
            let blob = &model.record().blob;
            let out = raw::RedisModule_Alloc.expect("module API")(blob.len().max(1)).cast::<u8>();
            ptr::copy_nonoverlapping(blob.as_ptr(), out, blob.len());
            *buffer = out.cast();
            *len = blob.len();
            0
        }
    })
}

/// `RedisModuleType *RedisAI_ModelRedisType(void)`: the `AI__MODEL` type.
pub extern "C" fn model_redis_type() -> *mut RedisModuleType {
    ffi("RedisAI_ModelRedisType", ptr::null_mut(), || {
        *MODEL_TYPE.raw_type.borrow()
    })
}

/// `int RedisAI_GetModelFromKeyspace(RedisModuleCtx *ctx, RedisModuleString *keyName, RAI_Model
/// **model, int mode, RAI_Error *err)`: the model stored at the key, borrowed (valid while the
/// key holds it; RedisAI_ModelGetShallowCopy keeps it longer); 0. Under Redis's lock. 1 for an
/// empty key (`ERR model key is empty`) or one of another type (WRONGTYPE).
pub extern "C" fn get_model_from_keyspace(
    ctx: *mut RedisModuleCtx,
    key: *mut RedisModuleString,
    model: *mut *mut Model,
    _mode: c_int,
    err: *mut RaiError,
) -> c_int {
    ffi("RedisAI_GetModelFromKeyspace", 1, || {
        from_keyspace::<Model>(ctx, key, model, err, Error::ModelKeyEmpty, code::EMODELRUN)
    })
}

/// The value of type `T` at `key`, borrowed into `*out`: 0, or 1 with `empty` (`EKEYEMPTY`) or
/// WRONGTYPE (`wrong_type_code`) in `err`.
pub fn from_keyspace<T: crate::keyspace::Stored>(
    ctx: *mut RedisModuleCtx,
    key: *mut RedisModuleString,
    out: *mut *mut T,
    err: *mut RaiError,
    empty: Error,
    wrong_type_code: c_int,
) -> c_int {
    if ctx.is_null() || key.is_null() || out.is_null() {
        // SAFETY: NULL or a live error object.
        unsafe { report(err, code::EKEYEMPTY, &empty) };
        return 1;
    }
    let context = Context::new(ctx);
    let opened = Key::<T>::read(&context, key);
    let (code, error) = match opened.get() {
        Ok(Some(value)) => {
            // SAFETY: a writable out-pointer (the C API's contract); the value is the
            // keyspace's, borrowed.
            unsafe { *out = ptr::from_ref(value).cast_mut() };
            return 0;
        }
        Ok(None) => (code::EKEYEMPTY, empty),
        Err(e) => (wrong_type_code, e),
    };
    // SAFETY: NULL or a live error object.
    unsafe { report(err, code, &error) };
    1
}

/// The run context of a handle.
///
/// # Safety
/// `c` is NULL or a live run context of this API.
pub unsafe fn ctx_mut<'a>(c: *mut RunCtx) -> Option<&'a mut RunCtx> {
    // SAFETY: the caller's contract.
    unsafe { c.as_mut() }
}

/// `RAI_ModelRunCtx *RedisAI_ModelRunCtxCreate(RAI_Model *model)`: a run context holding a
/// reference to the model.
pub extern "C" fn model_run_ctx_create(m: *mut Model) -> *mut RunCtx {
    ffi("RedisAI_ModelRunCtxCreate", ptr::null_mut(), || {
        // SAFETY: a live handle (the C API's contract).
        match unsafe { share(m) } {
            Some(model) => Box::into_raw(Box::new(RunCtx::new(Target::Model(model)))),
            None => ptr::null_mut(),
        }
    })
}

/// `int RedisAI_ModelRunCtxAddInput(RAI_ModelRunCtx *ctx, const char *name, RAI_Tensor *t)`: the
/// next input (positional: the name is not used), a new reference; 1.
pub extern "C" fn model_run_ctx_add_input(
    c: *mut RunCtx,
    _name: *const c_char,
    t: *mut Tensor,
) -> c_int {
    ffi("RedisAI_ModelRunCtxAddInput", 0, || {
        // SAFETY: a live run context.
        unsafe { ctx_mut(c) }.map_or(0, |ctx| {
            // SAFETY: a NULL or live tensor handle.
            ctx.inputs.push(unsafe { tensor::share(t) });
            1
        })
    })
}

/// `int RedisAI_ModelRunCtxAddOutput(RAI_ModelRunCtx *ctx, const char *name)`: one more output
/// slot; 1.
pub extern "C" fn model_run_ctx_add_output(c: *mut RunCtx, _name: *const c_char) -> c_int {
    ffi("RedisAI_ModelRunCtxAddOutput", 0, || {
        // SAFETY: a live run context.
        unsafe { ctx_mut(c) }.map_or(0, |ctx| {
            ctx.outputs.push(None);
            1
        })
    })
}

/// `size_t RedisAI_ModelRunCtxNumOutputs(RAI_ModelRunCtx *ctx)` (also the script version).
pub extern "C" fn run_ctx_num_outputs(c: *mut RunCtx) -> usize {
    ffi("RedisAI_RunCtxNumOutputs", 0, || {
        // SAFETY: a live run context.
        unsafe { ctx_mut(c) }.map_or(0, |c| c.outputs.len())
    })
}

/// `RAI_Tensor *RedisAI_ModelRunCtxOutputTensor(RAI_ModelRunCtx *ctx, size_t index)` (also the
/// script version): output `index`, borrowed (valid until the context is freed); NULL before a
/// run, after a failed one or past the last slot.
pub extern "C" fn run_ctx_output_tensor(c: *mut RunCtx, index: usize) -> *mut Tensor {
    ffi("RedisAI_RunCtxOutputTensor", ptr::null_mut(), || {
        // SAFETY: a live run context.
        let output = unsafe { ctx_mut(c) }.and_then(|c| c.outputs.get(index)?.as_ref());
        output.map_or(ptr::null_mut(), |t| Arc::as_ptr(t).cast_mut())
    })
}

/// `void RedisAI_ModelRunCtxFree(RAI_ModelRunCtx *ctx)` (also the script version): releases its
/// tensors and its model or script.
pub extern "C" fn run_ctx_free(c: *mut RunCtx) {
    ffi("RedisAI_RunCtxFree", (), || {
        if !c.is_null() {
            // SAFETY: a run context of this API, freed once (the C API's contract).
            drop(unsafe { Box::from_raw(c) });
        }
    })
}

/// `int RedisAI_ModelRun(RAI_ModelRunCtx **ctxs, long long n, RAI_Error *err)`: runs the `n`
/// contexts on the calling thread (contexts of one model as one batch); 0, or 1 with the first
/// error in `err` (`ERR Nothing to run` for none).
pub extern "C" fn model_run(ctxs: *mut *mut RunCtx, n: c_longlong, err: *mut RaiError) -> c_int {
    ffi("RedisAI_ModelRun", 1, || {
        // SAFETY: NULL or a live error object.
        let mut err = unsafe { err.as_mut() };
        let count = usize::try_from(n).unwrap_or(0);
        if ctxs.is_null() || count == 0 {
            if let Some(e) = err.as_deref_mut() {
                e.set(code::EBACKENDNOTLOADED, &Error::NothingToRun);
            }
            return 1;
        }
        // SAFETY: `n` run contexts (the C API's contract).
        let handles = unsafe { std::slice::from_raw_parts(ctxs, count) };
        // SAFETY: live, distinct run contexts.
        let Some(mut list) = handles
            .iter()
            .map(|&c| unsafe { ctx_mut(c) })
            .collect::<Option<Vec<_>>>()
        else {
            return 1;
        };
        run_now(&mut list, &mut err)
    })
}

/// `int RedisAI_ModelRunAsync(RAI_ModelRunCtx *ctx, RAI_OnFinishCB cb, void *private_data)`:
/// queues the run on the model's device; `cb` gets the finish context on the worker thread once
/// it ran (RedisAI_GetAsModelRunCtx gives the context back). 0; 1 for a NULL context.
pub extern "C" fn model_run_async(
    c: *mut RunCtx,
    cb: OnFinishCb,
    private_data: *mut c_void,
) -> c_int {
    ffi("RedisAI_ModelRunAsync", 1, || {
        if c.is_null() {
            return 1;
        }
        // SAFETY: a run context of this API, which the run now owns (the C API's contract).
        run_async(unsafe { Box::from_raw(c) }, cb, private_data);
        0
    })
}
