/*
 * redisai.h: the C API of the redisai module for other Redis modules (version 1, the one
 * RedisAI 1.2 exported as its "low-level API"). Same function names, signatures and meaning as
 * RedisAI's, so modules written against RedisAI build and run against this module unchanged.
 *
 * Use: include this header after redismodule.h, and in exactly one source file of your module
 * define REDISAI_DEFINE_API before including it (that file holds the function pointers). In
 * RedisModule_OnLoad, after RedisModule_Init, call RedisAI_Initialize(ctx): it fetches every
 * function with RedisModule_GetSharedAPI (the redisai module must be loaded first) and returns
 * REDISMODULE_ERR if one is missing or the API is older than REDISAI_LLAPI_VERSION.
 *
 * Handles: RAI_Tensor*, RAI_Model* and RAI_Script* are the values of the module's data types as
 * RedisModule_ModuleTypeGetValue returns them; *GetShallowCopy takes a reference, *Free drops
 * one. Everything else (run contexts, DAGs, ops, errors) is created and freed through the API.
 * Callbacks (RAI_OnFinishCB) run on a worker thread without Redis's lock; the keyspace getters
 * and RedisAI_DAGAddOpsFromString need the caller to hold it. docs/c-api.md documents every
 * function.
 */
#ifndef REDISAI_RS_API_H
#define REDISAI_RS_API_H

#include <stddef.h>
#include "redismodule.h"

#define REDISAI_LLAPI_VERSION 1

#define REDISAI_BACKEND_TENSORFLOW 0
#define REDISAI_BACKEND_TFLITE 1
#define REDISAI_BACKEND_TORCH 2
#define REDISAI_BACKEND_ONNXRUNTIME 3

#define REDISAI_DEVICE_CPU 0
#define REDISAI_DEVICE_GPU 1

typedef struct RAI_Tensor RAI_Tensor;
typedef struct RAI_Model RAI_Model;
typedef struct RAI_Script RAI_Script;
typedef struct RAI_ModelRunCtx RAI_ModelRunCtx;
typedef struct RAI_ScriptRunCtx RAI_ScriptRunCtx;
typedef struct RAI_DAGRunCtx RAI_DAGRunCtx;
typedef struct RAI_DAGRunOp RAI_DAGRunOp;
typedef struct RAI_Error RAI_Error;
typedef struct RAI_OnFinishCtx RAI_OnFinishCtx;

/* Model options, passed by value to RedisAI_ModelCreate (this layout is the ABI). The two
 * parallelism fields are accepted and not used: the module's INTRA_OP_PARALLELISM and
 * INTER_OP_PARALLELISM apply to every model. */
typedef struct RAI_ModelOpts {
    size_t batchsize;
    size_t minbatchsize;
    size_t minbatchtimeout;
    long long backends_intra_op_parallelism;
    long long backends_inter_op_parallelism;
} RAI_ModelOpts;

/* Error codes (RedisAI_GetErrorCode). A missing key in the keyspace getters is 19, which
 * RedisAI returned without naming it; it is named here. */
typedef enum RedisAI_ErrorCode {
    RedisAI_ErrorCode_OK = 0,
    RedisAI_ErrorCode_EMODELIMPORT = 1,
    RedisAI_ErrorCode_EMODELCONFIGURE = 2,
    RedisAI_ErrorCode_EMODELCREATE = 3,
    RedisAI_ErrorCode_EMODELRUN = 4,
    RedisAI_ErrorCode_EMODELSERIALIZE = 5,
    RedisAI_ErrorCode_EMODELFREE = 6,
    RedisAI_ErrorCode_ESCRIPTIMPORT = 7,
    RedisAI_ErrorCode_ESCRIPTCONFIGURE = 8,
    RedisAI_ErrorCode_ESCRIPTCREATE = 9,
    RedisAI_ErrorCode_ESCRIPTRUN = 10,
    RedisAI_ErrorCode_EUNSUPPORTEDBACKEND = 11,
    RedisAI_ErrorCode_EBACKENDNOTLOADED = 12,
    RedisAI_ErrorCode_ESCRIPTFREE = 13,
    RedisAI_ErrorCode_ETENSORSET = 14,
    RedisAI_ErrorCode_ETENSORGET = 15,
    RedisAI_ErrorCode_EDAGBUILDER = 16,
    RedisAI_ErrorCode_EDAGRUN = 17,
    RedisAI_ErrorCode_EFINISHCTX = 18,
    RedisAI_ErrorCode_EKEYEMPTY = 19
} RedisAI_ErrorCode;

typedef void (*RAI_OnFinishCB)(RAI_OnFinishCtx *ctx, void *private_data);

/* Every function of the API: X(return type, name, parameter list). RedisAI_<name> is the
 * exported name. */
#define REDISAI_API_FUNCTIONS(X)                                                                  \
    X(int, GetLLAPIVersion, (void))                                                               \
    /* Errors */                                                                                  \
    X(int, InitError, (RAI_Error * *err))                                                         \
    X(void, ClearError, (RAI_Error * err))                                                        \
    X(void, FreeError, (RAI_Error * err))                                                         \
    X(const char *, GetError, (RAI_Error * err))                                                  \
    X(const char *, GetErrorOneLine, (RAI_Error * err))                                           \
    X(RedisAI_ErrorCode, GetErrorCode, (RAI_Error * err))                                         \
    X(void, CloneError, (RAI_Error * dest, const RAI_Error *src))                                 \
    /* Tensors */                                                                                 \
    X(RAI_Tensor *, TensorCreate, (const char *dataType, long long *dims, int ndims))             \
    X(RAI_Tensor *, TensorCreateByConcatenatingTensors, (RAI_Tensor * *ts, long long n))          \
    X(RAI_Tensor *, TensorCreateBySlicingTensor, (RAI_Tensor * t, long long offset, long long len)) \
    X(size_t, TensorLength, (RAI_Tensor * t))                                                     \
    X(size_t, TensorDataSize, (RAI_Tensor * t))                                                   \
    X(size_t, TensorDataType, (RAI_Tensor * t))                                                   \
    X(void, TensorFree, (RAI_Tensor * t))                                                         \
    X(int, TensorSetData, (RAI_Tensor * t, const char *data, size_t len))                         \
    X(int, TensorSetValueFromLongLong, (RAI_Tensor * t, long long i, long long val))              \
    X(int, TensorSetValueFromDouble, (RAI_Tensor * t, long long i, double val))                   \
    X(int, TensorGetValueAsDouble, (RAI_Tensor * t, long long i, double *val))                    \
    X(int, TensorGetValueAsLongLong, (RAI_Tensor * t, long long i, long long *val))               \
    X(RAI_Tensor *, TensorGetShallowCopy, (RAI_Tensor * t))                                       \
    X(int, TensorNumDims, (RAI_Tensor * t))                                                       \
    X(long long, TensorDim, (RAI_Tensor * t, int dim))                                            \
    X(size_t, TensorByteSize, (RAI_Tensor * t))                                                   \
    X(char *, TensorData, (RAI_Tensor * t))                                                       \
    X(RedisModuleType *, TensorRedisType, (void))                                                 \
    /* Models */                                                                                  \
    X(RAI_Model *, ModelCreate,                                                                   \
      (int backend, char *devicestr, RedisModuleString *tag, RAI_ModelOpts opts, size_t ninputs,  \
       const char **inputs, size_t noutputs, const char **outputs, const char *modeldef,          \
       size_t modellen, RAI_Error *err))                                                          \
    X(void, ModelFree, (RAI_Model * model, RAI_Error *err))                                       \
    X(RAI_ModelRunCtx *, ModelRunCtxCreate, (RAI_Model * model))                                  \
    X(int, GetModelFromKeyspace,                                                                  \
      (RedisModuleCtx * ctx, RedisModuleString *keyName, RAI_Model **model, int mode,             \
       RAI_Error *err))                                                                           \
    X(int, ModelRunCtxAddInput, (RAI_ModelRunCtx * mctx, const char *inputName, RAI_Tensor *t))   \
    X(int, ModelRunCtxAddOutput, (RAI_ModelRunCtx * mctx, const char *outputName))                \
    X(size_t, ModelRunCtxNumOutputs, (RAI_ModelRunCtx * mctx))                                    \
    X(RAI_Tensor *, ModelRunCtxOutputTensor, (RAI_ModelRunCtx * mctx, size_t index))              \
    X(void, ModelRunCtxFree, (RAI_ModelRunCtx * mctx))                                            \
    X(int, ModelRun, (RAI_ModelRunCtx * *mctxs, long long n, RAI_Error *err))                     \
    X(int, ModelSerialize, (RAI_Model * model, char **buffer, size_t *len, RAI_Error *err))       \
    X(RAI_Model *, ModelGetShallowCopy, (RAI_Model * model))                                      \
    X(RedisModuleType *, ModelRedisType, (void))                                                  \
    X(int, ModelRunAsync, (RAI_ModelRunCtx * mctx, RAI_OnFinishCB cb, void *private_data))        \
    X(RAI_ModelRunCtx *, GetAsModelRunCtx, (RAI_OnFinishCtx * ctx, RAI_Error *err))               \
    /* Scripts */                                                                                 \
    X(RAI_Script *, ScriptCreate,                                                                 \
      (char *devicestr, RedisModuleString *tag, const char *scriptdef, RAI_Error *err))           \
    X(int, GetScriptFromKeyspace,                                                                 \
      (RedisModuleCtx * ctx, RedisModuleString *keyName, RAI_Script **script, int mode,           \
       RAI_Error *err))                                                                           \
    X(void, ScriptFree, (RAI_Script * script, RAI_Error *err))                                    \
    X(RAI_ScriptRunCtx *, ScriptRunCtxCreate, (RAI_Script * script, const char *fnname))          \
    X(int, ScriptRunCtxAddInput, (RAI_ScriptRunCtx * sctx, RAI_Tensor *t, RAI_Error *err))        \
    X(int, ScriptRunCtxAddInputList,                                                              \
      (RAI_ScriptRunCtx * sctx, RAI_Tensor **ts, size_t len, RAI_Error *err))                     \
    X(int, ScriptRunCtxAddTensorInput, (RAI_ScriptRunCtx * sctx, RAI_Tensor *t))                  \
    X(int, ScriptRunCtxAddTensorInputList, (RAI_ScriptRunCtx * sctx, RAI_Tensor **ts, size_t n))  \
    X(int, ScriptRunCtxAddOutput, (RAI_ScriptRunCtx * sctx))                                      \
    X(size_t, ScriptRunCtxNumOutputs, (RAI_ScriptRunCtx * sctx))                                  \
    X(RAI_Tensor *, ScriptRunCtxOutputTensor, (RAI_ScriptRunCtx * sctx, size_t index))            \
    X(void, ScriptRunCtxFree, (RAI_ScriptRunCtx * sctx))                                          \
    X(int, ScriptRun, (RAI_ScriptRunCtx * sctx, RAI_Error *err))                                  \
    X(RAI_Script *, ScriptGetShallowCopy, (RAI_Script * script))                                  \
    X(RedisModuleType *, ScriptRedisType, (void))                                                 \
    X(int, ScriptRunAsync, (RAI_ScriptRunCtx * sctx, RAI_OnFinishCB cb, void *private_data))      \
    X(RAI_ScriptRunCtx *, GetAsScriptRunCtx, (RAI_OnFinishCtx * ctx, RAI_Error *err))             \
    /* DAGs */                                                                                    \
    X(RAI_DAGRunCtx *, DAGRunCtxCreate, (void))                                                   \
    X(RAI_DAGRunOp *, DAGCreateModelRunOp, (RAI_Model * model))                                   \
    X(RAI_DAGRunOp *, DAGCreateScriptRunOp, (RAI_Script * script, const char *func_name))         \
    X(int, DAGRunOpAddInput, (RAI_DAGRunOp * op, const char *input))                              \
    X(int, DAGRunOpAddOutput, (RAI_DAGRunOp * op, const char *output))                            \
    X(int, DAGAddRunOp, (RAI_DAGRunCtx * dag, RAI_DAGRunOp *op, RAI_Error *err))                  \
    X(int, DAGLoadTensor, (RAI_DAGRunCtx * dag, const char *name, RAI_Tensor *t))                 \
    X(int, DAGAddTensorSet, (RAI_DAGRunCtx * dag, const char *name, RAI_Tensor *t))               \
    X(int, DAGAddTensorGet, (RAI_DAGRunCtx * dag, const char *name))                              \
    X(int, DAGAddOpsFromString, (RAI_DAGRunCtx * dag, const char *dag_str, RAI_Error *err))       \
    X(size_t, DAGNumOps, (RAI_DAGRunCtx * dag))                                                   \
    X(int, DAGRun, (RAI_DAGRunCtx * dag, RAI_OnFinishCB cb, void *private_data, RAI_Error *err))  \
    X(size_t, DAGNumOutputs, (RAI_OnFinishCtx * ctx))                                             \
    X(const RAI_Tensor *, DAGOutputTensor, (RAI_OnFinishCtx * ctx, size_t index))                 \
    X(int, DAGRunError, (RAI_OnFinishCtx * ctx))                                                  \
    X(const RAI_Error *, DAGGetError, (RAI_OnFinishCtx * ctx))                                    \
    X(void, DAGRunOpFree, (RAI_DAGRunOp * op))                                                    \
    X(void, DAGFree, (RAI_DAGRunCtx * dag))

#ifdef REDISAI_DEFINE_API
#define REDISAI_POINTER_(ret, name, params) ret(*RedisAI_##name) params = NULL;
#else
#define REDISAI_POINTER_(ret, name, params) extern ret(*RedisAI_##name) params;
#endif
REDISAI_API_FUNCTIONS(REDISAI_POINTER_)
#undef REDISAI_POINTER_

/* Fetches every function; REDISMODULE_OK when all are there at the expected version. */
static inline int RedisAI_Initialize(RedisModuleCtx *ctx) {
    if (RedisModule_GetSharedAPI == NULL) {
        return REDISMODULE_ERR;
    }
#define REDISAI_FETCH_(ret, name, params)                                                         \
    RedisAI_##name = (ret(*) params)RedisModule_GetSharedAPI(ctx, "RedisAI_" #name);              \
    if (RedisAI_##name == NULL) {                                                                 \
        RedisModule_Log(ctx, "warning", "could not find RedisAI_" #name);                         \
        return REDISMODULE_ERR;                                                                   \
    }
    REDISAI_API_FUNCTIONS(REDISAI_FETCH_)
#undef REDISAI_FETCH_
    return RedisAI_GetLLAPIVersion() >= REDISAI_LLAPI_VERSION ? REDISMODULE_OK : REDISMODULE_ERR;
}

#endif /* REDISAI_RS_API_H */
