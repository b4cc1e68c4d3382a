//! `RAI_DAGRunCtx` and `RAI_DAGRunOp` of the C API: DAGs built op by op (the engine's
//! `DagBuilder`), run through the same executor as AI.DAGEXECUTE, with the caller's callback on
//! a worker thread. The DAG is its own finish context: the callback reads its outputs
//! (`RedisAI_DAGOutputTensor`, the tensors of its AI.TENSORGET ops) and error, and the caller
//! frees it with `RedisAI_DAGFree`, in the callback or later. Nothing is written to the
//! keyspace (the C API has no PERSIST).

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use redis_module::Context;
use redisai_backend_api::ScriptHost;
use redisai_core::{Result, Tensor};
use redisai_engine::dag::builder::{output_slots, DagBuilder, OpKind, RunOpBuilder};
use redisai_engine::dag::exec::{complete_now, needs_workers, start, OnDagDone, OpResult};
use redisai_engine::dag::{DagKeys, DagOp};
use redisai_engine::limits::max_tensor_bytes;
use redisai_engine::model::Model;
use redisai_engine::script::Script;

use super::error::{code, report, RaiError};
use super::finish::{kind_of, Kind, OnFinishCb};
use super::model::c_bytes;
use super::run::{later, PrivateData};
use super::{ffi, model, script, tensor};
use crate::keyspace;
use crate::script_host::ModuleScriptHost;

/// A DAG: built, then run (once at a time), then read by its callback.
#[repr(C)]
pub struct DagRunCtx {
    /// First, as in every finish context.
    kind: Kind,
    state: Mutex<DagState>,
}

#[derive(Default)]
struct DagState {
    builder: DagBuilder,
    /// A run is in flight (the DAG may not change or go away).
    running: bool,
    /// RedisAI_DAGFree came during a run: the run frees the DAG once its callback returned.
    freed: bool,
    /// The tensors of the AI.TENSORGET ops of the last run (`None`: never produced).
    outputs: Vec<Option<Arc<Tensor>>>,
    /// The first failure of the last run.
    error: RaiError,
}

/// The DAG of a handle that may also be a finish context given to a callback.
///
/// # Safety
/// `dag` is NULL or a live DAG handle or finish context (the C API's contract).
unsafe fn dag_ref<'a>(dag: *const c_void) -> Option<&'a DagRunCtx> {
    // SAFETY: the caller's contract; the tag tells a DAG from a single run's finish context.
    (unsafe { kind_of(dag) } == Some(Kind::Dag)).then(|| unsafe { &*dag.cast::<DagRunCtx>() })
}

fn lock(dag: &DagRunCtx) -> MutexGuard<'_, DagState> {
    dag.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Applies `f` to the state of a DAG that is not running (`fallback` otherwise).
fn with_idle<T: Copy>(
    name: &str,
    dag: *mut DagRunCtx,
    fallback: T,
    f: impl FnOnce(&mut DagState) -> T,
) -> T {
    ffi(name, fallback, || {
        // SAFETY: a live DAG handle (the C API's contract).
        let Some(dag) = (unsafe { dag_ref(dag.cast()) }) else {
            return fallback;
        };
        let mut state = lock(dag);
        if state.running {
            return fallback;
        }
        f(&mut state)
    })
}

/// `RAI_DAGRunCtx *RedisAI_DAGRunCtxCreate(void)`: an empty DAG.
pub extern "C" fn dag_run_ctx_create() -> *mut DagRunCtx {
    ffi("RedisAI_DAGRunCtxCreate", ptr::null_mut(), || {
        Box::into_raw(Box::new(DagRunCtx {
            kind: Kind::Dag,
            state: Mutex::new(DagState::default()),
        }))
    })
}

/// `RAI_DAGRunOp *RedisAI_DAGCreateModelRunOp(RAI_Model *model)`: a model op (holding a
/// reference to the model); its inputs and outputs are then named.
pub extern "C" fn dag_create_model_run_op(m: *mut Model) -> *mut RunOpBuilder {
    ffi("RedisAI_DAGCreateModelRunOp", ptr::null_mut(), || {
        // SAFETY: a live model handle (the C API's contract).
        match unsafe { model::share(m) } {
            Some(model) => Box::into_raw(Box::new(RunOpBuilder::model(model))),
            None => ptr::null_mut(),
        }
    })
}

/// The host of a script op built through the C API.
fn detached_host() -> Arc<dyn ScriptHost + Send + Sync> {
    Arc::new(ModuleScriptHost::detached())
}

/// `RAI_DAGRunOp *RedisAI_DAGCreateScriptRunOp(RAI_Script *script, const char *func_name)`: a
/// call of `func_name` (holding a reference to the script).
pub extern "C" fn dag_create_script_run_op(
    s: *mut Script,
    function: *const c_char,
) -> *mut RunOpBuilder {
    ffi("RedisAI_DAGCreateScriptRunOp", ptr::null_mut(), || {
        if function.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: a live script handle and a NUL-terminated string (the C API's contract).
        let (script, function) = unsafe { (script::share(s), c_bytes(function)) };
        match script {
            Some(script) => {
                let function = String::from_utf8_lossy(function).into_owned();
                Box::into_raw(Box::new(RunOpBuilder::script(
                    script,
                    function,
                    detached_host(),
                )))
            }
            None => ptr::null_mut(),
        }
    })
}

/// Adds a name to an op's inputs or outputs; 0 (1 for a NULL op or name).
fn add_name(name: &str, op: *mut RunOpBuilder, tensor: *const c_char, input: bool) -> c_int {
    ffi(name, 1, || {
        // SAFETY: a live op of this API and a NUL-terminated string.
        let (Some(op), false) = (unsafe { op.as_mut() }, tensor.is_null()) else {
            return 1;
        };
        // SAFETY: as above.
        let tensor = unsafe { c_bytes(tensor) }.to_vec();
        if input {
            op.inputs.push(tensor);
        } else {
            op.outputs.push(tensor);
        }
        0
    })
}

/// `int RedisAI_DAGRunOpAddInput(RAI_DAGRunOp *op, const char *input)`: 0.
pub extern "C" fn dag_run_op_add_input(op: *mut RunOpBuilder, input: *const c_char) -> c_int {
    add_name("RedisAI_DAGRunOpAddInput", op, input, true)
}

/// `int RedisAI_DAGRunOpAddOutput(RAI_DAGRunOp *op, const char *output)`: 0.
pub extern "C" fn dag_run_op_add_output(op: *mut RunOpBuilder, output: *const c_char) -> c_int {
    add_name("RedisAI_DAGRunOpAddOutput", op, output, false)
}

/// `void RedisAI_DAGRunOpFree(RAI_DAGRunOp *op)`: frees an op that was not added to a DAG.
pub extern "C" fn dag_run_op_free(op: *mut RunOpBuilder) {
    ffi("RedisAI_DAGRunOpFree", (), || {
        if !op.is_null() {
            // SAFETY: an op of this API, not added to a DAG, freed once (the C API's contract).
            drop(unsafe { Box::from_raw(op) });
        }
    })
}

/// `int RedisAI_DAGAddRunOp(RAI_DAGRunCtx *dag, RAI_DAGRunOp *op, RAI_Error *err)`: 0, and the
/// DAG owns the op; 1 (`EDAGBUILDER`) for a model op naming a wrong number of inputs or
/// outputs, and the op stays the caller's.
pub extern "C" fn dag_add_run_op(
    dag: *mut DagRunCtx,
    op: *mut RunOpBuilder,
    err: *mut RaiError,
) -> c_int {
    with_idle("RedisAI_DAGAddRunOp", dag, 1, |state| {
        // SAFETY: a live op of this API.
        let Some(op_ref) = (unsafe { op.as_ref() }) else {
            return 1;
        };
        if let Err(e) = DagBuilder::check_run_op(op_ref) {
            // SAFETY: NULL or a live error object.
            unsafe { report(err, code::EDAGBUILDER, &e) };
            return 1;
        }
        // SAFETY: checked above, so the DAG takes it: the caller no longer owns it.
        let op = unsafe { Box::from_raw(op) };
        c_int::from(state.builder.add_run_op(*op).is_err())
    })
}

/// `int RedisAI_DAGLoadTensor(RAI_DAGRunCtx *dag, const char *name, RAI_Tensor *t)`: the tensor
/// under `name` for the ops (a new reference, as LOAD does); 1 for a name loaded already.
pub extern "C" fn dag_load_tensor(
    dag: *mut DagRunCtx,
    name: *const c_char,
    t: *mut Tensor,
) -> c_int {
    with_idle("RedisAI_DAGLoadTensor", dag, 1, |state| {
        // SAFETY: a NUL-terminated string and a live tensor handle.
        let (Some(tensor), false) = (unsafe { tensor::share(t) }, name.is_null()) else {
            return 1;
        };
        // SAFETY: as above.
        c_int::from(!state.builder.load(unsafe { c_bytes(name) }, tensor))
    })
}

/// `int RedisAI_DAGAddTensorSet(RAI_DAGRunCtx *dag, const char *name, RAI_Tensor *t)`: an
/// AI.TENSORSET op of the tensor (a new reference); 0.
pub extern "C" fn dag_add_tensor_set(
    dag: *mut DagRunCtx,
    name: *const c_char,
    t: *mut Tensor,
) -> c_int {
    with_idle("RedisAI_DAGAddTensorSet", dag, 1, |state| {
        // SAFETY: a NUL-terminated string and a live tensor handle.
        let (Some(tensor), false) = (unsafe { tensor::share(t) }, name.is_null()) else {
            return 1;
        };
        // SAFETY: as above.
        state.builder.tensor_set(unsafe { c_bytes(name) }, tensor);
        0
    })
}

/// `int RedisAI_DAGAddTensorGet(RAI_DAGRunCtx *dag, const char *name)`: an AI.TENSORGET op, an
/// output of the DAG; 0.
pub extern "C" fn dag_add_tensor_get(dag: *mut DagRunCtx, name: *const c_char) -> c_int {
    with_idle("RedisAI_DAGAddTensorGet", dag, 1, |state| {
        if name.is_null() {
            return 1;
        }
        // SAFETY: a NUL-terminated string.
        state.builder.tensor_get(unsafe { c_bytes(name) });
        0
    })
}

/// The keyspace as `RedisAI_DAGAddOpsFromString` reads it: through the module's detached
/// context, under Redis's lock, which the caller holds (as RedisAI requires).
struct LockedKeys(Context);

impl DagKeys for LockedKeys {
    fn tensor(&mut self, key: &[u8]) -> Result<Arc<Tensor>> {
        keyspace::tensor(&self.0, key)
    }
    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>> {
        keyspace::model(&self.0, key)
    }
    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>> {
        keyspace::script(&self.0, key)
    }
    fn script_host(&mut self, _keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        detached_host()
    }
    fn max_tensor_bytes(&mut self) -> u64 {
        max_tensor_bytes()
    }
}

/// `int RedisAI_DAGAddOpsFromString(RAI_DAGRunCtx *dag, const char *dag_str, RAI_Error *err)`:
/// the ops of a DAG string (`|> AI.TENSORSET ... |> AI.MODELEXECUTE ... |> AI.TENSORGET ...`,
/// words split on spaces), each parsed by the DAG commands' own grammar; models and scripts are
/// read from the keyspace, so the caller holds Redis's lock. All or nothing: 0, or 1 with the
/// first op's error.
pub extern "C" fn dag_add_ops_from_string(
    dag: *mut DagRunCtx,
    text: *const c_char,
    err: *mut RaiError,
) -> c_int {
    with_idle("RedisAI_DAGAddOpsFromString", dag, 1, |state| {
        // SAFETY: a NUL-terminated string.
        let text = unsafe { c_bytes(text) };
        let tokens: Vec<&[u8]> = text
            .split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
            .collect();
        let mut keys = LockedKeys(Context::new(super::detached_ctx()));
        match state.builder.add_ops(&tokens, &mut keys) {
            Ok(()) => 0,
            Err((e, kind)) => {
                let c = match kind {
                    OpKind::Dag | OpKind::TensorGet => code::EDAGBUILDER,
                    OpKind::TensorSet => code::ETENSORSET,
                    OpKind::Model => code::EMODELRUN,
                    OpKind::Script => code::ESCRIPTRUN,
                };
                // SAFETY: NULL or a live error object.
                unsafe { report(err, c, &e) };
                1
            }
        }
    })
}

/// `size_t RedisAI_DAGNumOps(RAI_DAGRunCtx *dag)`: the ops so far (LOADs are not ops).
pub extern "C" fn dag_num_ops(dag: *mut DagRunCtx) -> usize {
    ffi("RedisAI_DAGNumOps", 0, || {
        // SAFETY: a live DAG handle.
        unsafe { dag_ref(dag.cast()) }.map_or(0, |d| lock(d).builder.len())
    })
}

/// The DAG handle, sendable to the worker that completes its run (the DAG is not freed while
/// the run is in flight: `RedisAI_DAGFree` defers to the run).
struct DagPtr(*mut DagRunCtx);

// SAFETY: the DAG's state is behind its mutex, and it outlives the run (see above).
unsafe impl Send for DagPtr {}

/// `int RedisAI_DAGRun(RAI_DAGRunCtx *dag, RAI_OnFinishCB cb, void *private_data, RAI_Error
/// *err)`: runs the DAG on the run queues; `cb(dag, private_data)` on a worker thread when it is
/// done. 0; 1 with `ERR DAG is empty`, `ERR INPUT key cannot be found in DAG` (`EDAGRUN`) or a
/// DAG already running.
pub extern "C" fn dag_run(
    dag: *mut DagRunCtx,
    cb: OnFinishCb,
    private_data: *mut c_void,
    err: *mut RaiError,
) -> c_int {
    let private_data = PrivateData(private_data);
    ffi("RedisAI_DAGRun", 1, move || {
        // SAFETY: a live DAG handle.
        let Some(handle) = (unsafe { dag_ref(dag.cast()) }) else {
            return 1;
        };
        let plan = {
            let mut state = lock(handle);
            if state.running {
                return 1;
            }
            let plan = match state.builder.plan() {
                Ok(plan) => plan,
                Err(e) => {
                    // SAFETY: NULL or a live error object.
                    unsafe { report(err, code::EDAGRUN, &e) };
                    return 1;
                }
            };
            state.running = true;
            state.error.clear();
            state.outputs.clear();
            plan
        };
        let outputs = output_slots(&plan);
        let op_codes: Vec<c_int> = plan
            .ops
            .iter()
            .map(|op| match op {
                DagOp::ModelExecute { .. } => code::EMODELRUN,
                DagOp::ScriptExecute { .. } => code::ESCRIPTRUN,
                _ => code::EDAGRUN,
            })
            .collect();
        let target = DagPtr(dag);
        let done = move |results: Vec<OpResult>, tensors: Vec<Option<Arc<Tensor>>>| {
            complete(
                target,
                &op_codes,
                results,
                &outputs,
                tensors,
                cb,
                private_data,
            )
        };
        if !needs_workers(&plan) {
            let outcome = complete_now(&plan);
            later(move || done(outcome.results, outcome.tensors));
            return 0;
        }
        let ops = plan.ops.len();
        start(
            plan,
            Instant::now(),
            crate::execution::submit(),
            OnDagDone::new(ops, move |outcome| done(outcome.results, outcome.tensors)),
        );
        0
    })
}

/// The end of a run, on a worker thread: records the outputs and the first error, calls the
/// caller's callback, then frees the DAG if RedisAI_DAGFree came meanwhile.
fn complete(
    dag: DagPtr,
    op_codes: &[c_int],
    results: Vec<OpResult>,
    outputs: &[usize],
    tensors: Vec<Option<Arc<Tensor>>>,
    cb: OnFinishCb,
    private_data: PrivateData,
) {
    // SAFETY: the DAG lives until its run ends (RedisAI_DAGFree defers to it).
    let handle = unsafe { &*dag.0 };
    {
        let mut state = lock(handle);
        state.outputs = outputs
            .iter()
            .map(|&slot| tensors.get(slot).cloned().flatten())
            .collect();
        let failed = results.iter().enumerate().find_map(|(i, r)| match r {
            OpResult::Failed(e) => Some((op_codes.get(i).copied().unwrap_or(code::EDAGRUN), e)),
            _ => None,
        });
        if let Some((c, e)) = failed {
            state.error.set(c, e);
        }
    }
    if let Some(cb) = cb {
        // SAFETY: the caller's callback, given its DAG (the finish context) and private data.
        unsafe { cb(dag.0.cast(), private_data.0) };
    }
    let free = {
        let mut state = lock(handle);
        state.running = false;
        state.freed
    };
    if free {
        // SAFETY: RedisAI_DAGFree was called during the run and left the freeing to it.
        drop(unsafe { Box::from_raw(dag.0) });
    }
}

/// The DAG of a finish context.
fn finished<T: Copy>(
    name: &str,
    finish: *mut c_void,
    fallback: T,
    f: impl FnOnce(&DagState) -> T,
) -> T {
    ffi(name, fallback, || {
        // SAFETY: a finish context given to a callback, or a live DAG handle.
        unsafe { dag_ref(finish) }.map_or(fallback, |d| f(&lock(d)))
    })
}

/// `size_t RedisAI_DAGNumOutputs(RAI_OnFinishCtx *ctx)`: the DAG's AI.TENSORGET ops.
pub extern "C" fn dag_num_outputs(finish: *mut c_void) -> usize {
    finished("RedisAI_DAGNumOutputs", finish, 0, |s| s.outputs.len())
}

/// `const RAI_Tensor *RedisAI_DAGOutputTensor(RAI_OnFinishCtx *ctx, size_t index)`: the tensor
/// of AI.TENSORGET op `index`, borrowed (valid until RedisAI_DAGFree); NULL past the last or
/// for a tensor never produced.
pub extern "C" fn dag_output_tensor(finish: *mut c_void, index: usize) -> *const Tensor {
    finished("RedisAI_DAGOutputTensor", finish, ptr::null(), |s| {
        s.outputs
            .get(index)
            .and_then(Option::as_ref)
            .map_or(ptr::null(), Arc::as_ptr)
    })
}

/// `int RedisAI_DAGRunError(RAI_OnFinishCtx *ctx)`: 1 when an op of the run failed.
pub extern "C" fn dag_run_error(finish: *mut c_void) -> c_int {
    finished("RedisAI_DAGRunError", finish, 0, |s| {
        c_int::from(s.error.code() != code::OK)
    })
}

/// `const RAI_Error *RedisAI_DAGGetError(RAI_OnFinishCtx *ctx)`: the first failure of the run
/// (owned by the DAG; no error when every op succeeded).
pub extern "C" fn dag_get_error(finish: *mut c_void) -> *const RaiError {
    finished("RedisAI_DAGGetError", finish, ptr::null(), |s| {
        ptr::from_ref(&s.error)
    })
}

/// `void RedisAI_DAGFree(RAI_DAGRunCtx *dag)`: frees the DAG, its ops and tensors; during a run
/// (as from its callback), once the run is over.
pub extern "C" fn dag_free(dag: *mut DagRunCtx) {
    ffi("RedisAI_DAGFree", (), || {
        // SAFETY: a live DAG handle, freed once (the C API's contract).
        let Some(handle) = (unsafe { dag_ref(dag.cast()) }) else {
            return;
        };
        {
            let mut state = lock(handle);
            if state.running {
                state.freed = true;
                return;
            }
        }
        // SAFETY: not running, so nothing else refers to it.
        drop(unsafe { Box::from_raw(dag) });
    })
}
