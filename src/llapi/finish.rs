//! `RAI_OnFinishCtx`: what a callback of the C API receives. For an async model or script run
//! it is a [`SingleFinish`] holding the run context until `RedisAI_GetAsModelRunCtx` /
//! `RedisAI_GetAsScriptRunCtx` take it back (and free the finish context); for a DAG it is the
//! DAG itself (`RAI_DAGRunCtx`, `dag.rs`), read with `RedisAI_DAGNumOutputs` and the like. Both
//! start with a [`Kind`] tag, so a finish context given to the wrong function is refused, not
//! misread.

use std::ffi::{c_int, c_void};
use std::ptr;

use redisai_core::Error;

use super::error::{code, report, RaiError};
use super::ffi;
use super::run::{PrivateData, RunCtx, Target};

/// `void (*RAI_OnFinishCB)(RAI_OnFinishCtx *ctx, void *private_data)`.
pub type OnFinishCb = Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>;

/// The tag at the start of every finish context.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Model = 0x7261_6901,
    Script = 0x7261_6902,
    Dag = 0x7261_6903,
}

/// The finish context of an async model or script run.
#[repr(C)]
pub struct SingleFinish {
    kind: Kind,
    ctx: Box<RunCtx>,
    error: Option<(c_int, Error)>,
}

/// The tag of a finish context, if `finish` is one.
///
/// # Safety
/// `finish` is NULL or a finish context given to a callback (it starts with a [`Kind`]).
pub unsafe fn kind_of(finish: *const c_void) -> Option<Kind> {
    if finish.is_null() {
        return None;
    }
    // SAFETY: every finish context is `repr(C)` with the tag first (read as a plain integer,
    // so a pointer to something else reads as no kind rather than an invalid one).
    let tag = unsafe { *finish.cast::<u32>() };
    [Kind::Model, Kind::Script, Kind::Dag]
        .into_iter()
        .find(|k| *k as u32 == tag)
}

/// Hands a finished run to the caller's callback (on the calling worker thread).
pub fn deliver_single(
    ctx: Box<RunCtx>,
    error: Option<(c_int, Error)>,
    callback: OnFinishCb,
    private_data: PrivateData,
) {
    let kind = match ctx.target {
        Target::Model(_) => Kind::Model,
        Target::Script { .. } => Kind::Script,
    };
    let finish = Box::into_raw(Box::new(SingleFinish { kind, ctx, error }));
    match callback {
        // SAFETY: the caller's callback, given the finish context it now owns (taken back
        // through RedisAI_GetAs*RunCtx) and its own private data.
        Some(cb) => unsafe { cb(finish.cast(), private_data.0) },
        // No callback: nobody can take the context back, so it is freed here.
        // SAFETY: made just above, never shared.
        None => drop(unsafe { Box::from_raw(finish) }),
    }
}

/// Takes the run context back out of a finish context of `kind`.
fn take(finish: *mut c_void, err: *mut RaiError, kind: Kind, refusal: Error) -> *mut RunCtx {
    // SAFETY: NULL or a finish context (the C API's contract).
    if unsafe { kind_of(finish) } != Some(kind) {
        // SAFETY: NULL or a live error object.
        unsafe { report(err, code::EFINISHCTX, &refusal) };
        return ptr::null_mut();
    }
    // SAFETY: a `SingleFinish` of this kind, taken back once (the C API's contract).
    let single = unsafe { Box::from_raw(finish.cast::<SingleFinish>()) };
    if let Some((code, e)) = &single.error {
        // SAFETY: NULL or a live error object.
        unsafe { report(err, *code, e) };
    }
    Box::into_raw(single.ctx)
}

/// `RAI_ModelRunCtx *RedisAI_GetAsModelRunCtx(RAI_OnFinishCtx *ctx, RAI_Error *err)`: the run
/// context of a finished async model run (the caller frees it with RedisAI_ModelRunCtxFree),
/// its error in `err`; the finish context is freed. NULL (`EFINISHCTX`) for another kind.
pub extern "C" fn get_as_model_run_ctx(finish: *mut c_void, err: *mut RaiError) -> *mut RunCtx {
    ffi("RedisAI_GetAsModelRunCtx", ptr::null_mut(), || {
        take(finish, err, Kind::Model, Error::NotModelRunCtx)
    })
}

/// `RAI_ScriptRunCtx *RedisAI_GetAsScriptRunCtx(RAI_OnFinishCtx *ctx, RAI_Error *err)`: as
/// [`get_as_model_run_ctx`] for scripts.
pub extern "C" fn get_as_script_run_ctx(finish: *mut c_void, err: *mut RaiError) -> *mut RunCtx {
    ffi("RedisAI_GetAsScriptRunCtx", ptr::null_mut(), || {
        take(finish, err, Kind::Script, Error::NotScriptRunCtx)
    })
}
