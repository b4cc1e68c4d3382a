//! The C API other modules call: RedisAI's "low-level API", version 1 (SPEC §2), with RedisAI's
//! C signatures (`include/redisai.h`). Each function is exported at load with
//! `RedisModule_ExportSharedAPI` as `RedisAI_<Fn>`; a module fetches it with
//! `RedisModule_GetSharedAPI`.
//!
//! Handles: a `RAI_Tensor*`, `RAI_Model*` or `RAI_Script*` is the keyspace's own value pointer
//! (an `Arc`, see `keyspace/key.rs`), so values read with `RedisModule_ModuleTypeGetValue` are
//! valid handles, shallow copies take references and frees drop them. Run contexts, DAGs, ops,
//! finish contexts and errors are this module's own boxes.
//!
//! Runs go through the engine's executor (the run queues, batching, limits and AI.INFO
//! statistics of the commands). Callbacks run on a worker thread, without Redis's lock.
//! Functions that read the keyspace (`RedisAI_GetModelFromKeyspace`, ...,
//! `RedisAI_DAGAddOpsFromString`) need the caller to hold it, as in RedisAI. Every function
//! contains panics (a defect is logged and answered with the function's failure value); none
//! unwinds into the caller.

mod dag;
mod error;
mod finish;
mod model;
mod run;
mod script;
mod tensor;

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

use redis_module::raw::{self, RedisModuleCtx};
use redis_module::Context;
use redisai_engine::version::LLAPI_VERSION;

/// Runs the body of an exported function: a panic (a defect) is logged and answered with
/// `fallback`.
fn ffi<T>(name: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    crate::guard::contained(name, f).unwrap_or(fallback)
}

/// `int RedisAI_GetLLAPIVersion(void)`: 1.
extern "C" fn get_llapi_version() -> std::ffi::c_int {
    LLAPI_VERSION as std::ffi::c_int
}

/// The module's detached context (for the keyspace reads of `RedisAI_DAGAddOpsFromString`).
struct Detached(*mut RedisModuleCtx);

// SAFETY: a detached thread-safe context is meant to be used from any thread (under Redis's
// lock, which the callers hold).
unsafe impl Send for Detached {}
// SAFETY: as above.
unsafe impl Sync for Detached {}

static DETACHED: OnceLock<Detached> = OnceLock::new();

fn detached_ctx() -> *mut RedisModuleCtx {
    DETACHED.get().map_or(std::ptr::null_mut(), |d| d.0)
}

/// Every exported function, under its name.
fn table() -> Vec<(&'static CStr, *mut c_void)> {
    macro_rules! api {
        ($($name:literal => $f:path),* $(,)?) => {
            vec![$(($name, $f as *mut c_void)),*]
        };
    }
    api![
        c"RedisAI_GetLLAPIVersion" => get_llapi_version,
        c"RedisAI_InitError" => error::init_error,
        c"RedisAI_ClearError" => error::clear_error,
        c"RedisAI_FreeError" => error::free_error,
        c"RedisAI_GetError" => error::get_error,
        c"RedisAI_GetErrorOneLine" => error::get_error_one_line,
        c"RedisAI_GetErrorCode" => error::get_error_code,
        c"RedisAI_CloneError" => error::clone_error,
        c"RedisAI_TensorCreate" => tensor::tensor_create,
        c"RedisAI_TensorCreateByConcatenatingTensors" => tensor::tensor_concat,
        c"RedisAI_TensorCreateBySlicingTensor" => tensor::tensor_slice,
        c"RedisAI_TensorLength" => tensor::tensor_length,
        c"RedisAI_TensorDataSize" => tensor::tensor_data_size,
        c"RedisAI_TensorDataType" => tensor::tensor_data_type,
        c"RedisAI_TensorFree" => tensor::tensor_free,
        c"RedisAI_TensorSetData" => tensor::tensor_set_data,
        c"RedisAI_TensorSetValueFromLongLong" => tensor::tensor_set_value_from_long_long,
        c"RedisAI_TensorSetValueFromDouble" => tensor::tensor_set_value_from_double,
        c"RedisAI_TensorGetValueAsDouble" => tensor::tensor_get_value_as_double,
        c"RedisAI_TensorGetValueAsLongLong" => tensor::tensor_get_value_as_long_long,
        c"RedisAI_TensorGetShallowCopy" => tensor::tensor_get_shallow_copy,
        c"RedisAI_TensorNumDims" => tensor::tensor_num_dims,
        c"RedisAI_TensorDim" => tensor::tensor_dim,
        c"RedisAI_TensorByteSize" => tensor::tensor_byte_size,
        c"RedisAI_TensorData" => tensor::tensor_data,
        c"RedisAI_TensorRedisType" => tensor::tensor_redis_type,
        c"RedisAI_ModelCreate" => model::model_create,
        c"RedisAI_ModelFree" => model::model_free,
        c"RedisAI_ModelRunCtxCreate" => model::model_run_ctx_create,
        c"RedisAI_GetModelFromKeyspace" => model::get_model_from_keyspace,
        c"RedisAI_ModelRunCtxAddInput" => model::model_run_ctx_add_input,
        c"RedisAI_ModelRunCtxAddOutput" => model::model_run_ctx_add_output,
        c"RedisAI_ModelRunCtxNumOutputs" => model::run_ctx_num_outputs,
        c"RedisAI_ModelRunCtxOutputTensor" => model::run_ctx_output_tensor,
        c"RedisAI_ModelRunCtxFree" => model::run_ctx_free,
        c"RedisAI_ModelRun" => model::model_run,
        c"RedisAI_ModelSerialize" => model::model_serialize,
        c"RedisAI_ModelGetShallowCopy" => model::model_get_shallow_copy,
        c"RedisAI_ModelRedisType" => model::model_redis_type,
        c"RedisAI_ModelRunAsync" => model::model_run_async,
        c"RedisAI_GetAsModelRunCtx" => finish::get_as_model_run_ctx,
        c"RedisAI_ScriptCreate" => script::script_create,
        c"RedisAI_GetScriptFromKeyspace" => script::get_script_from_keyspace,
        c"RedisAI_ScriptFree" => script::script_free,
        c"RedisAI_ScriptRunCtxCreate" => script::script_run_ctx_create,
        c"RedisAI_ScriptRunCtxAddInput" => script::script_run_ctx_add_input,
        c"RedisAI_ScriptRunCtxAddTensorInput" => script::script_run_ctx_add_tensor_input,
        c"RedisAI_ScriptRunCtxAddInputList" => script::script_run_ctx_add_input_list,
        c"RedisAI_ScriptRunCtxAddTensorInputList" => script::script_run_ctx_add_tensor_input_list,
        c"RedisAI_ScriptRunCtxAddOutput" => script::script_run_ctx_add_output,
        c"RedisAI_ScriptRunCtxNumOutputs" => model::run_ctx_num_outputs,
        c"RedisAI_ScriptRunCtxOutputTensor" => model::run_ctx_output_tensor,
        c"RedisAI_ScriptRunCtxFree" => model::run_ctx_free,
        c"RedisAI_ScriptRun" => script::script_run,
        c"RedisAI_ScriptGetShallowCopy" => script::script_get_shallow_copy,
        c"RedisAI_ScriptRedisType" => script::script_redis_type,
        c"RedisAI_ScriptRunAsync" => script::script_run_async,
        c"RedisAI_GetAsScriptRunCtx" => finish::get_as_script_run_ctx,
        c"RedisAI_DAGRunCtxCreate" => dag::dag_run_ctx_create,
        c"RedisAI_DAGCreateModelRunOp" => dag::dag_create_model_run_op,
        c"RedisAI_DAGCreateScriptRunOp" => dag::dag_create_script_run_op,
        c"RedisAI_DAGRunOpAddInput" => dag::dag_run_op_add_input,
        c"RedisAI_DAGRunOpAddOutput" => dag::dag_run_op_add_output,
        c"RedisAI_DAGAddRunOp" => dag::dag_add_run_op,
        c"RedisAI_DAGLoadTensor" => dag::dag_load_tensor,
        c"RedisAI_DAGAddTensorSet" => dag::dag_add_tensor_set,
        c"RedisAI_DAGAddTensorGet" => dag::dag_add_tensor_get,
        c"RedisAI_DAGAddOpsFromString" => dag::dag_add_ops_from_string,
        c"RedisAI_DAGNumOps" => dag::dag_num_ops,
        c"RedisAI_DAGRun" => dag::dag_run,
        c"RedisAI_DAGNumOutputs" => dag::dag_num_outputs,
        c"RedisAI_DAGOutputTensor" => dag::dag_output_tensor,
        c"RedisAI_DAGRunError" => dag::dag_run_error,
        c"RedisAI_DAGGetError" => dag::dag_get_error,
        c"RedisAI_DAGRunOpFree" => dag::dag_run_op_free,
        c"RedisAI_DAGFree" => dag::dag_free,
    ]
}

/// Number of exported functions: RedisAI's 75, and `RedisAI_TensorDataType`, which its header
/// declares and it never exported.
#[cfg(test)]
const EXPORTED: usize = 76;

/// Exports every function (at load, from RedisModule_OnLoad).
pub fn export(ctx: &Context) -> Result<(), String> {
    // SAFETY: the API table is filled at load; called from OnLoad with the module's context.
    let detached =
        unsafe { raw::RedisModule_GetDetachedThreadSafeContext.expect("module API")(ctx.ctx) };
    let _ = DETACHED.set(Detached(detached));
    // SAFETY: as above.
    let export =
        unsafe { raw::RedisModule_ExportSharedAPI }.ok_or("no RedisModule_ExportSharedAPI")?;
    for (name, function) in table() {
        // SAFETY: a NUL-terminated name and a function of this library, which stays loaded.
        if unsafe { export(ctx.ctx, name.as_ptr(), function) } != raw::REDISMODULE_OK as i32 {
            return Err(format!(
                "could not export {} (is another module exporting RedisAI's API?)",
                name.to_string_lossy()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_function_is_exported_once() {
        let table = super::table();
        assert_eq!(table.len(), super::EXPORTED);
        let mut names: Vec<_> = table.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), super::EXPORTED);
    }
}
