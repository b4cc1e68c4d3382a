/*
 * llapitest: a Redis module that exercises every function of the redisai module's C API
 * (include/redisai.h) from C, as another module would. Built and loaded next to redisai by
 * tests/llapi.rs, which drives its commands:
 *
 *   llapitest.basic                          errors, version, error cloning
 *   llapitest.tensors                        every tensor function, in memory
 *   llapitest.store_tensor <key>             a tensor created here, stored in the keyspace
 *   llapitest.read_tensor <key>              a keyspace tensor read through the API
 *   llapitest.keyspace_errors <missing> <other-type>
 *   llapitest.model_create <key> <backend> <blob>   ModelCreate, stored; [code, text] on error
 *   llapitest.script_create <key> <source>   ScriptCreate, stored; [code, text] on error
 *   llapitest.model_sync <model> <in>...     ModelRun of one context, then of two as a batch
 *   llapitest.model_async <model> <in>...    a failing then a good ModelRunAsync
 *   llapitest.script_sync <script> <fn> <in>...
 *   llapitest.script_async <script> <fn> <in>...
 *   llapitest.dag <model> <in>               the DAG builder, its errors, and a run
 *   llapitest.dag_error <model>              a DAG whose model op fails
 *   llapitest.script_dag <script> <fn> <a> <b>  a DAG of one script op
 *   llapitest.threads <model> <in> <threads> <runs>  runs from many threads at once
 *   llapitest.async_disconnect <model> <in>  an async run whose client is gone when it ends
 *   llapitest.completed                      async runs completed by async_disconnect
 *
 * A check that fails replies "-ERR check failed at line N: <what>". Async results are handed
 * to the blocked client from the API's worker thread with RedisModule_UnblockClient.
 */
#define REDISMODULE_MAIN
#define REDISAI_DEFINE_API
#include "redismodule.h"
#include "redisai.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAIL(ctx, what)                                                                           \
    do {                                                                                          \
        char msg_[256];                                                                           \
        snprintf(msg_, sizeof msg_, "ERR check failed at line %d: %s", __LINE__, what);           \
        return RedisModule_ReplyWithError(ctx, msg_);                                             \
    } while (0)
#define CHECK(ctx, cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) FAIL(ctx, #cond);                                                            \
    } while (0)

static int same_text(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* ---------------------------------------------------------------------------------------- */
/* Results handed from a worker thread to a blocked client.                                  */

typedef struct {
    RedisModuleBlockedClient *bc;
    char error[512];
    size_t nvalues;
    double values[4096];
    void *extra; /* the next step's state, when a callback chains another run */
} Result;

static Result *new_result(RedisModuleCtx *ctx, RedisModuleCmdFunc reply_cb);

static void collect(Result *r, RAI_Tensor *t) {
    size_t n = RedisAI_TensorLength(t);
    for (size_t i = 0; i < n && r->nvalues < 4096; i++) {
        double d;
        long long ll;
        if (RedisAI_TensorGetValueAsDouble(t, (long long)i, &d)) {
            r->values[r->nvalues++] = d;
        } else if (RedisAI_TensorGetValueAsLongLong(t, (long long)i, &ll)) {
            r->values[r->nvalues++] = (double)ll;
        }
    }
}

static int reply_result(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    REDISMODULE_NOT_USED(argc);
    Result *r = RedisModule_GetBlockedClientPrivateData(ctx);
    if (r->error[0]) return RedisModule_ReplyWithError(ctx, r->error);
    RedisModule_ReplyWithArray(ctx, (long)r->nvalues);
    for (size_t i = 0; i < r->nvalues; i++) RedisModule_ReplyWithDouble(ctx, r->values[i]);
    return REDISMODULE_OK;
}

static void free_result(RedisModuleCtx *ctx, void *privdata) {
    REDISMODULE_NOT_USED(ctx);
    free(privdata);
}

static Result *new_result(RedisModuleCtx *ctx, RedisModuleCmdFunc reply_cb) {
    Result *r = calloc(1, sizeof(Result));
    r->bc = RedisModule_BlockClient(ctx, reply_cb, NULL, free_result, 0);
    return r;
}

static void finish_result(Result *r) { RedisModule_UnblockClient(r->bc, r); }

/* The tensor stored at a key, borrowed (NULL if the key holds none). */
static RAI_Tensor *key_tensor(RedisModuleCtx *ctx, RedisModuleString *name) {
    RedisModuleKey *key = RedisModule_OpenKey(ctx, name, REDISMODULE_READ);
    RAI_Tensor *t = NULL;
    if (key && RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_MODULE &&
        RedisModule_ModuleTypeGetType(key) == RedisAI_TensorRedisType()) {
        t = RedisModule_ModuleTypeGetValue(key);
    }
    if (key) RedisModule_CloseKey(key);
    return t;
}

/* ---------------------------------------------------------------------------------------- */

static int Basic(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    if (argc != 1) return RedisModule_WrongArity(ctx);
    CHECK(ctx, RedisAI_GetLLAPIVersion() == 1);
    RAI_Error *err = NULL;
    CHECK(ctx, RedisAI_InitError(&err) == REDISMODULE_OK && err != NULL);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_OK);
    CHECK(ctx, RedisAI_GetError(err) == NULL && RedisAI_GetErrorOneLine(err) == NULL);

    RAI_ModelOpts opts = {0};
    CHECK(ctx, RedisAI_ModelCreate(99, "CPU", NULL, opts, 0, NULL, 0, NULL, "x", 1, err) == NULL);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EUNSUPPORTEDBACKEND);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR Unsupported backend"));
    /* The first error stays until cleared. */
    CHECK(ctx, RedisAI_ModelCreate(3, "NOTADEVICE", NULL, opts, 0, NULL, 0, NULL, "x", 1, err) == NULL);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR Unsupported backend"));

    RAI_Error *copy = NULL;
    RedisAI_InitError(&copy);
    RedisAI_CloneError(copy, err);
    CHECK(ctx, RedisAI_GetErrorCode(copy) == RedisAI_ErrorCode_EUNSUPPORTEDBACKEND);
    CHECK(ctx, same_text(RedisAI_GetErrorOneLine(copy), "ERR Unsupported backend"));

    RedisAI_ClearError(err);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_OK && RedisAI_GetError(err) == NULL);
    CHECK(ctx, RedisAI_ModelCreate(3, "NOTADEVICE", NULL, opts, 0, NULL, 0, NULL, "x", 1, err) == NULL);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EMODELCONFIGURE);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR Invalid DEVICE"));
    /* Cloning "no error" copies no error (RedisAI crashed). */
    RAI_Error *none = NULL;
    RedisAI_InitError(&none);
    RedisAI_ClearError(copy);
    RedisAI_CloneError(copy, none);
    CHECK(ctx, RedisAI_GetErrorCode(copy) == RedisAI_ErrorCode_OK);
    RedisAI_FreeError(none);
    RedisAI_FreeError(copy);
    RedisAI_FreeError(err);
    RedisAI_FreeError(NULL);
    RedisAI_ClearError(NULL);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int Tensors(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    if (argc != 1) return RedisModule_WrongArity(ctx);
    long long dims[] = {1, 4};
    CHECK(ctx, RedisAI_TensorCreate("INVALID", dims, 2) == NULL);
    CHECK(ctx, RedisAI_TensorCreate("UINT32", dims, 2) == NULL);
    long long negative[] = {2, -1};
    CHECK(ctx, RedisAI_TensorCreate("FLOAT", negative, 2) == NULL);
    long long huge[] = {1LL << 40, 1LL << 20};
    CHECK(ctx, RedisAI_TensorCreate("FLOAT", huge, 2) == NULL);

    RAI_Tensor *t = RedisAI_TensorCreate("int8", dims, 2);
    CHECK(ctx, t != NULL);
    CHECK(ctx, RedisAI_TensorLength(t) == 4 && RedisAI_TensorDataSize(t) == 1);
    CHECK(ctx, RedisAI_TensorByteSize(t) == 4 && RedisAI_TensorNumDims(t) == 2);
    CHECK(ctx, RedisAI_TensorDim(t, 0) == 1 && RedisAI_TensorDim(t, 1) == 4);
    CHECK(ctx, RedisAI_TensorDim(t, 2) == -1 && RedisAI_TensorDim(t, -1) == -1);
    /* DLPack type: code INT (0), 8 bits, 1 lane. */
    CHECK(ctx, RedisAI_TensorDataType(t) == (0 | 8 << 8 | 1 << 16));
    const char zeros[4] = {0};
    CHECK(ctx, memcmp(RedisAI_TensorData(t), zeros, 4) == 0);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(t, 1, -3) == 1);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(t, 4, 1) == 0);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(t, -1, 1) == 0);
    CHECK(ctx, RedisAI_TensorSetValueFromDouble(t, 0, 1.5) == 0);
    long long ll = 0;
    double d = 0;
    CHECK(ctx, RedisAI_TensorGetValueAsLongLong(t, 1, &ll) == 1 && ll == -3);
    CHECK(ctx, RedisAI_TensorGetValueAsLongLong(t, 4, &ll) == 0);
    CHECK(ctx, RedisAI_TensorGetValueAsDouble(t, 1, &d) == 0);
    /* Written in place while this is the only reference. */
    RedisAI_TensorData(t)[3] = 7;
    CHECK(ctx, RedisAI_TensorGetValueAsLongLong(t, 3, &ll) == 1 && ll == 7);
    const char blob[4] = {1, 2, 3, 4};
    CHECK(ctx, RedisAI_TensorSetData(t, blob, 4) == 1);
    CHECK(ctx, RedisAI_TensorSetData(t, blob, 3) == 0);
    CHECK(ctx, RedisAI_TensorGetValueAsLongLong(t, 3, &ll) == 1 && ll == 4);
    /* Shared: no more changes. */
    RAI_Tensor *copy = RedisAI_TensorGetShallowCopy(t);
    CHECK(ctx, copy == t);
    CHECK(ctx, RedisAI_TensorSetData(t, blob, 4) == 0);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(t, 0, 9) == 0);
    RedisAI_TensorFree(copy);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(t, 0, 9) == 1);
    RedisAI_TensorFree(t);

    RAI_Tensor *f = RedisAI_TensorCreate("FLOAT", dims, 2);
    CHECK(ctx, RedisAI_TensorSetValueFromDouble(f, 2, 2.5) == 1);
    CHECK(ctx, RedisAI_TensorGetValueAsDouble(f, 2, &d) == 1 && d == 2.5);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(f, 2, 1) == 0);
    CHECK(ctx, RedisAI_TensorGetValueAsLongLong(f, 2, &ll) == 0);
    CHECK(ctx, RedisAI_TensorDataType(f) == (2 | 32 << 8 | 1 << 16));
    RedisAI_TensorFree(f);

    RAI_Tensor *b = RedisAI_TensorCreate("BOOL", dims, 2);
    const char bad_bool[4] = {2, 0, 0, 0};
    CHECK(ctx, RedisAI_TensorSetData(b, bad_bool, 4) == 0);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(b, 0, 2) == 0);
    CHECK(ctx, RedisAI_TensorSetValueFromLongLong(b, 0, 1) == 1);
    RedisAI_TensorFree(b);

    /* Strings: SetData checks the elements; concatenation and slicing keep them. */
    RAI_Tensor *s1 = RedisAI_TensorCreate("STRING", dims, 2);
    CHECK(ctx, RedisAI_TensorByteSize(s1) == 4);
    CHECK(ctx, RedisAI_TensorSetData(s1, "only one string", 15) == 0);
    const char four[] = "first\0second\0third\0fourth"; /* 26 bytes with the final NUL */
    CHECK(ctx, RedisAI_TensorSetData(s1, four, sizeof four) == 1);
    long long dims2[] = {2, 4};
    RAI_Tensor *s2 = RedisAI_TensorCreate("STRING", dims2, 2);
    const char eight[] = "A\0B\0C\0D\0E\0F\0G\0H";
    CHECK(ctx, RedisAI_TensorSetData(s2, eight, sizeof eight) == 1);
    RAI_Tensor *pair[] = {s1, s2};
    RAI_Tensor *joined = RedisAI_TensorCreateByConcatenatingTensors(pair, 2);
    CHECK(ctx, joined != NULL);
    CHECK(ctx, RedisAI_TensorNumDims(joined) == 2 && RedisAI_TensorDim(joined, 0) == 3);
    CHECK(ctx, RedisAI_TensorByteSize(joined) == sizeof four + sizeof eight);
    CHECK(ctx, memcmp(RedisAI_TensorData(joined), four, sizeof four) == 0);
    CHECK(ctx, memcmp(RedisAI_TensorData(joined) + sizeof four, eight, sizeof eight) == 0);
    RedisAI_TensorFree(s1);
    RedisAI_TensorFree(s2);
    RAI_Tensor *rows = RedisAI_TensorCreateBySlicingTensor(joined, 1, 2);
    CHECK(ctx, rows != NULL && RedisAI_TensorDim(rows, 0) == 2 && RedisAI_TensorDim(rows, 1) == 4);
    CHECK(ctx, RedisAI_TensorByteSize(rows) == sizeof eight);
    CHECK(ctx, memcmp(RedisAI_TensorData(rows), eight, sizeof eight) == 0);
    CHECK(ctx, RedisAI_TensorCreateBySlicingTensor(joined, 2, 2) == NULL);
    RedisAI_TensorFree(rows);
    /* Incompatible tensors do not concatenate. */
    RAI_Tensor *i8 = RedisAI_TensorCreate("INT8", dims, 2);
    RAI_Tensor *mixed[] = {joined, i8};
    CHECK(ctx, RedisAI_TensorCreateByConcatenatingTensors(mixed, 2) == NULL);
    CHECK(ctx, RedisAI_TensorCreateByConcatenatingTensors(mixed, 0) == NULL);
    RedisAI_TensorFree(i8);
    RedisAI_TensorFree(joined);
    RedisAI_TensorFree(NULL);
    CHECK(ctx, RedisAI_TensorRedisType() != NULL);
    CHECK(ctx, RedisAI_ModelRedisType() != NULL && RedisAI_ScriptRedisType() != NULL);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int StoreTensor(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    long long dims[] = {2, 2};
    RAI_Tensor *t = RedisAI_TensorCreate("FLOAT", dims, 2);
    for (int i = 0; i < 4; i++) RedisAI_TensorSetValueFromDouble(t, i, i + 1.5);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    int type = RedisModule_KeyType(key);
    if (type != REDISMODULE_KEYTYPE_EMPTY && RedisModule_ModuleTypeGetType(key) != RedisAI_TensorRedisType()) {
        RedisModule_CloseKey(key);
        RedisAI_TensorFree(t);
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    /* The keyspace takes this reference. */
    RedisModule_ModuleTypeSetValue(key, RedisAI_TensorRedisType(), t);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int ReadTensor(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RAI_Tensor *t = key_tensor(ctx, argv[1]);
    if (!t) return RedisModule_ReplyWithError(ctx, "ERR no tensor at this key");
    Result r = {0};
    collect(&r, t);
    int ndims = RedisAI_TensorNumDims(t);
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithArray(ctx, ndims);
    for (int i = 0; i < ndims; i++) RedisModule_ReplyWithLongLong(ctx, RedisAI_TensorDim(t, i));
    RedisModule_ReplyWithArray(ctx, (long)r.nvalues);
    for (size_t i = 0; i < r.nvalues; i++) RedisModule_ReplyWithDouble(ctx, r.values[i]);
    return REDISMODULE_OK;
}

static int KeyspaceErrors(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Model *m = NULL;
    CHECK(ctx, RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, err) == 1 && !m);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EKEYEMPTY);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR model key is empty"));
    RedisAI_ClearError(err);
    CHECK(ctx, RedisAI_GetModelFromKeyspace(ctx, argv[2], &m, REDISMODULE_READ, err) == 1 && !m);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EMODELRUN);
    CHECK(ctx, same_text(RedisAI_GetError(err), REDISMODULE_ERRORMSG_WRONGTYPE));
    RedisAI_ClearError(err);
    RAI_Script *s = NULL;
    CHECK(ctx, RedisAI_GetScriptFromKeyspace(ctx, argv[1], &s, REDISMODULE_READ, err) == 1 && !s);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EKEYEMPTY);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR script key is empty"));
    RedisAI_ClearError(err);
    CHECK(ctx, RedisAI_GetScriptFromKeyspace(ctx, argv[2], &s, REDISMODULE_READ, err) == 1);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_ESCRIPTRUN);
    RedisAI_FreeError(err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* Replies [code, text] for a failed creation. */
static int reply_error(RedisModuleCtx *ctx, RAI_Error *err) {
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithLongLong(ctx, RedisAI_GetErrorCode(err));
    RedisModule_ReplyWithCString(ctx, RedisAI_GetError(err) ? RedisAI_GetError(err) : "");
    RedisAI_FreeError(err);
    return REDISMODULE_OK;
}

static int ModelCreate(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 4) return RedisModule_WrongArity(ctx);
    long long backend;
    if (RedisModule_StringToLongLong(argv[2], &backend) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR bad backend code");
    size_t len;
    const char *blob = RedisModule_StringPtrLen(argv[3], &len);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_ModelOpts opts = {0};
    RedisModuleString *tag = RedisModule_CreateString(ctx, "from-c", 6);
    RAI_Model *m =
        RedisAI_ModelCreate((int)backend, "CPU", tag, opts, 0, NULL, 0, NULL, blob, len, err);
    RedisModule_FreeString(ctx, tag);
    if (!m) return reply_error(ctx, err);
    char *serialized = NULL;
    size_t serialized_len = 0;
    CHECK(ctx, RedisAI_ModelSerialize(m, &serialized, &serialized_len, err) == REDISMODULE_OK);
    CHECK(ctx, serialized_len == len && memcmp(serialized, blob, len) == 0);
    RedisModule_Free(serialized);
    RedisAI_FreeError(err);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_ModuleTypeSetValue(key, RedisAI_ModelRedisType(), m);
    RedisModule_CloseKey(key);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int ScriptCreate(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Script *s = RedisAI_ScriptCreate("CPU", NULL, RedisModule_StringPtrLen(argv[2], NULL), err);
    if (!s) return reply_error(ctx, err);
    RedisAI_FreeError(err);
    RAI_Script *copy = RedisAI_ScriptGetShallowCopy(s);
    CHECK(ctx, copy == s);
    RedisAI_ScriptFree(copy, NULL);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_ModuleTypeSetValue(key, RedisAI_ScriptRedisType(), s);
    RedisModule_CloseKey(key);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* A model run context on the keyspace tensors argv[first..argc). */
static RAI_ModelRunCtx *model_ctx(RedisModuleCtx *ctx, RAI_Model *m, RedisModuleString **argv, int first, int argc) {
    RAI_ModelRunCtx *mctx = RedisAI_ModelRunCtxCreate(m);
    for (int i = first; i < argc; i++) {
        RAI_Tensor *t = key_tensor(ctx, argv[i]);
        if (!t) {
            RedisAI_ModelRunCtxFree(mctx);
            return NULL;
        }
        RedisAI_ModelRunCtxAddInput(mctx, "input", t);
    }
    return mctx;
}

static int ModelSync(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 3) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Model *m;
    if (RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, err) != REDISMODULE_OK)
        return reply_error(ctx, err);
    CHECK(ctx, RedisAI_ModelRun(NULL, 0, err) == REDISMODULE_ERR);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR Nothing to run"));
    RedisAI_ClearError(err);

    RAI_ModelRunCtx *one = model_ctx(ctx, m, argv, 2, argc);
    CHECK(ctx, one != NULL);
    CHECK(ctx, RedisAI_ModelRunCtxAddOutput(one, "out") == 1);
    CHECK(ctx, RedisAI_ModelRunCtxNumOutputs(one) == 1);
    CHECK(ctx, RedisAI_ModelRunCtxOutputTensor(one, 0) == NULL);
    if (RedisAI_ModelRun(&one, 1, err) != REDISMODULE_OK) {
        RedisAI_ModelRunCtxFree(one);
        return reply_error(ctx, err);
    }
    Result r = {0};
    RAI_Tensor *out = RedisAI_ModelRunCtxOutputTensor(one, 0);
    CHECK(ctx, out != NULL && RedisAI_ModelRunCtxOutputTensor(one, 1) == NULL);
    collect(&r, out);
    /* Two contexts of the model run as one batch and get the same answer each. */
    RAI_ModelRunCtx *two[2] = {model_ctx(ctx, m, argv, 2, argc), model_ctx(ctx, m, argv, 2, argc)};
    RedisAI_ModelRunCtxAddOutput(two[0], "out");
    RedisAI_ModelRunCtxAddOutput(two[1], "out");
    CHECK(ctx, RedisAI_ModelRun(two, 2, err) == REDISMODULE_OK);
    for (int k = 0; k < 2; k++) {
        Result again = {0};
        collect(&again, RedisAI_ModelRunCtxOutputTensor(two[k], 0));
        CHECK(ctx, again.nvalues == r.nvalues);
        CHECK(ctx, memcmp(again.values, r.values, r.nvalues * sizeof(double)) == 0);
        RedisAI_ModelRunCtxFree(two[k]);
    }
    /* A NULL input fails cleanly. */
    RAI_ModelRunCtx *null_input = RedisAI_ModelRunCtxCreate(m);
    RedisAI_ModelRunCtxAddInput(null_input, "input", NULL);
    RedisAI_ModelRunCtxAddOutput(null_input, "out");
    CHECK(ctx, RedisAI_ModelRun(&null_input, 1, err) == REDISMODULE_ERR);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EMODELRUN);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR a NULL tensor was given as an input"));
    RedisAI_ModelRunCtxFree(null_input);
    RedisAI_ModelRunCtxFree(one);
    RedisAI_FreeError(err);
    RedisModule_ReplyWithArray(ctx, (long)r.nvalues);
    for (size_t i = 0; i < r.nvalues; i++) RedisModule_ReplyWithDouble(ctx, r.values[i]);
    return REDISMODULE_OK;
}

/* model_async: the failing run's callback queues the good run; the good run's unblocks. */
static void good_model_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    RAI_Error *err;
    RedisAI_InitError(&err);
    /* The wrong accessor refuses, and leaves the finish context alone. */
    if (RedisAI_GetAsScriptRunCtx(finish, err) != NULL ||
        RedisAI_GetErrorCode(err) != RedisAI_ErrorCode_EFINISHCTX ||
        !same_text(RedisAI_GetError(err), "Finish ctx is not a script run ctx")) {
        snprintf(r->error, sizeof r->error, "ERR GetAsScriptRunCtx accepted a model run");
    }
    RedisAI_ClearError(err);
    RAI_ModelRunCtx *mctx = RedisAI_GetAsModelRunCtx(finish, err);
    if (!r->error[0]) {
        if (RedisAI_GetErrorCode(err) != RedisAI_ErrorCode_OK) {
            snprintf(r->error, sizeof r->error, "ERR async run failed: %s", RedisAI_GetError(err));
        } else if (RedisAI_ModelRunCtxNumOutputs(mctx) != 1) {
            snprintf(r->error, sizeof r->error, "ERR expected one output");
        } else {
            collect(r, RedisAI_ModelRunCtxOutputTensor(mctx, 0));
        }
    }
    RedisAI_ModelRunCtxFree(mctx);
    RedisAI_FreeError(err);
    finish_result(r);
}

static void failing_model_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_ModelRunCtx *mctx = RedisAI_GetAsModelRunCtx(finish, err);
    if (mctx == NULL || RedisAI_GetErrorCode(err) != RedisAI_ErrorCode_EMODELRUN) {
        snprintf(r->error, sizeof r->error, "ERR a run without inputs did not fail");
    }
    RedisAI_ModelRunCtxFree(mctx);
    RedisAI_FreeError(err);
    /* From this worker thread, the next run. */
    RAI_ModelRunCtx *good = r->extra;
    r->extra = NULL;
    if (r->error[0]) {
        RedisAI_ModelRunCtxFree(good);
        finish_result(r);
        return;
    }
    RedisAI_ModelRunAsync(good, good_model_done, r);
}

static int ModelAsync(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 3) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Model *m;
    if (RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, err) != REDISMODULE_OK)
        return reply_error(ctx, err);
    RedisAI_FreeError(err);
    RAI_ModelRunCtx *good = model_ctx(ctx, m, argv, 2, argc);
    CHECK(ctx, good != NULL);
    RedisAI_ModelRunCtxAddOutput(good, "out");
    RAI_ModelRunCtx *failing = RedisAI_ModelRunCtxCreate(m);
    RedisAI_ModelRunCtxAddOutput(failing, "out");
    Result *r = new_result(ctx, reply_result);
    r->extra = good;
    RedisAI_ModelRunAsync(failing, failing_model_done, r);
    return REDISMODULE_OK;
}

/* A script run context calling fn on the keyspace tensors argv[first..argc). */
static RAI_ScriptRunCtx *script_ctx(RedisModuleCtx *ctx, RAI_Script *s, const char *fn, RedisModuleString **argv, int first, int argc) {
    RAI_ScriptRunCtx *sctx = RedisAI_ScriptRunCtxCreate(s, fn);
    RAI_Tensor *list[16];
    int n = 0;
    for (int i = first; i < argc && n < 16; i++) {
        RAI_Tensor *t = key_tensor(ctx, argv[i]);
        if (!t) {
            RedisAI_ScriptRunCtxFree(sctx);
            return NULL;
        }
        list[n++] = t;
    }
    /* The four ways to add inputs, in turn. */
    for (int i = 0; i < n; i++) {
        switch (i % 4) {
        case 0: RedisAI_ScriptRunCtxAddTensorInput(sctx, list[i]); break;
        case 1: RedisAI_ScriptRunCtxAddInput(sctx, list[i], NULL); break;
        case 2: RedisAI_ScriptRunCtxAddTensorInputList(sctx, &list[i], 1); break;
        default: RedisAI_ScriptRunCtxAddInputList(sctx, &list[i], 1, NULL); break;
        }
    }
    RedisAI_ScriptRunCtxAddOutput(sctx);
    return sctx;
}

static int ScriptSync(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Script *s;
    if (RedisAI_GetScriptFromKeyspace(ctx, argv[1], &s, REDISMODULE_READ, err) != REDISMODULE_OK)
        return reply_error(ctx, err);
    RAI_ScriptRunCtx *sctx = script_ctx(ctx, s, RedisModule_StringPtrLen(argv[2], NULL), argv, 3, argc);
    CHECK(ctx, sctx != NULL && RedisAI_ScriptRunCtxNumOutputs(sctx) == 1);
    if (RedisAI_ScriptRun(sctx, err) != REDISMODULE_OK) {
        RedisAI_ScriptRunCtxFree(sctx);
        return reply_error(ctx, err);
    }
    Result r = {0};
    collect(&r, RedisAI_ScriptRunCtxOutputTensor(sctx, 0));
    CHECK(ctx, RedisAI_ScriptRunCtxOutputTensor(sctx, 1) == NULL);
    RedisAI_ScriptRunCtxFree(sctx);
    RedisAI_FreeError(err);
    RedisModule_ReplyWithArray(ctx, (long)r.nvalues);
    for (size_t i = 0; i < r.nvalues; i++) RedisModule_ReplyWithDouble(ctx, r.values[i]);
    return REDISMODULE_OK;
}

static void good_script_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    RAI_Error *err;
    RedisAI_InitError(&err);
    if (RedisAI_GetAsModelRunCtx(finish, err) != NULL ||
        !same_text(RedisAI_GetError(err), "Finish ctx is not a model run ctx")) {
        snprintf(r->error, sizeof r->error, "ERR GetAsModelRunCtx accepted a script run");
    }
    RedisAI_ClearError(err);
    RAI_ScriptRunCtx *sctx = RedisAI_GetAsScriptRunCtx(finish, err);
    if (!r->error[0]) {
        if (RedisAI_GetErrorCode(err) != RedisAI_ErrorCode_OK) {
            snprintf(r->error, sizeof r->error, "ERR async script failed: %s", RedisAI_GetError(err));
        } else {
            collect(r, RedisAI_ScriptRunCtxOutputTensor(sctx, 0));
        }
    }
    RedisAI_ScriptRunCtxFree(sctx);
    RedisAI_FreeError(err);
    finish_result(r);
}

static void failing_script_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_ScriptRunCtx *sctx = RedisAI_GetAsScriptRunCtx(finish, err);
    if (sctx == NULL || RedisAI_GetErrorCode(err) != RedisAI_ErrorCode_ESCRIPTRUN) {
        snprintf(r->error, sizeof r->error, "ERR a call of a missing function did not fail");
    }
    RedisAI_ScriptRunCtxFree(sctx);
    RedisAI_FreeError(err);
    RAI_ScriptRunCtx *good = r->extra;
    r->extra = NULL;
    if (r->error[0]) {
        RedisAI_ScriptRunCtxFree(good);
        finish_result(r);
        return;
    }
    RedisAI_ScriptRunAsync(good, good_script_done, r);
}

static int ScriptAsync(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Script *s;
    if (RedisAI_GetScriptFromKeyspace(ctx, argv[1], &s, REDISMODULE_READ, err) != REDISMODULE_OK)
        return reply_error(ctx, err);
    RedisAI_FreeError(err);
    RAI_ScriptRunCtx *good = script_ctx(ctx, s, RedisModule_StringPtrLen(argv[2], NULL), argv, 3, argc);
    CHECK(ctx, good != NULL);
    RAI_ScriptRunCtx *failing = RedisAI_ScriptRunCtxCreate(s, "bad_func");
    RedisAI_ScriptRunCtxAddOutput(failing);
    Result *r = new_result(ctx, reply_result);
    r->extra = good;
    RedisAI_ScriptRunAsync(failing, failing_script_done, r);
    return REDISMODULE_OK;
}

/* dag: the DAG is freed from its own callback. */
static void dag_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    if (RedisAI_DAGRunError(finish)) {
        const RAI_Error *e = RedisAI_DAGGetError(finish);
        snprintf(r->error, sizeof r->error, "ERR DAG failed: %s", RedisAI_GetError((RAI_Error *)e));
    } else if (RedisAI_DAGNumOutputs(finish) != 2) {
        snprintf(r->error, sizeof r->error, "ERR expected two outputs, got %zu", RedisAI_DAGNumOutputs(finish));
    } else if (RedisAI_DAGOutputTensor(finish, 2) != NULL) {
        snprintf(r->error, sizeof r->error, "ERR an output past the last");
    } else if (RedisAI_GetErrorCode((RAI_Error *)RedisAI_DAGGetError(finish)) != RedisAI_ErrorCode_OK) {
        snprintf(r->error, sizeof r->error, "ERR a successful DAG has an error");
    } else {
        for (size_t i = 0; i < 2; i++) collect(r, (RAI_Tensor *)RedisAI_DAGOutputTensor(finish, i));
    }
    RedisAI_DAGFree((RAI_DAGRunCtx *)finish);
    finish_result(r);
}

static int Dag(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Model *m;
    if (RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, err) != REDISMODULE_OK)
        return reply_error(ctx, err);
    RAI_Tensor *input = key_tensor(ctx, argv[2]);
    CHECK(ctx, input != NULL);

    /* Loading: each name once. */
    RAI_DAGRunCtx *dag = RedisAI_DAGRunCtxCreate();
    CHECK(ctx, RedisAI_DAGLoadTensor(dag, "input", input) == 0);
    CHECK(ctx, RedisAI_DAGLoadTensor(dag, "input", input) == 1);
    CHECK(ctx, RedisAI_DAGNumOps(dag) == 0);

    /* A model op must name the model's inputs and outputs; refused, it stays ours. */
    RAI_DAGRunOp *op = RedisAI_DAGCreateModelRunOp(m);
    CHECK(ctx, RedisAI_DAGAddRunOp(dag, op, err) == 1);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EDAGBUILDER);
    CHECK(ctx, same_text(RedisAI_GetError(err), "Number of keys given as INPUTS does not match model definition"));
    RedisAI_ClearError(err);
    CHECK(ctx, RedisAI_DAGRunOpAddInput(op, "input") == 0);
    CHECK(ctx, RedisAI_DAGAddRunOp(dag, op, err) == 1);
    CHECK(ctx, same_text(RedisAI_GetError(err), "Number of keys given as OUTPUTS does not match model definition"));
    RedisAI_ClearError(err);
    RedisAI_DAGRunOpFree(op);

    /* An empty DAG, and a DAG reading a name nothing produces, do not run. */
    CHECK(ctx, RedisAI_DAGRun(dag, dag_done, NULL, err) == 1);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EDAGRUN);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR DAG is empty"));
    RedisAI_ClearError(err);
    RAI_DAGRunCtx *missing = RedisAI_DAGRunCtxCreate();
    RedisAI_DAGLoadTensor(missing, "input", input);
    RedisAI_DAGAddTensorGet(missing, "non existing tensor");
    CHECK(ctx, RedisAI_DAGRun(missing, dag_done, NULL, err) == 1);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR INPUT key cannot be found in DAG"));
    RedisAI_ClearError(err);
    RedisAI_DAGFree(missing);

    /* Ops from a string: all or nothing. */
    CHECK(ctx, RedisAI_DAGAddOpsFromString(dag, "bad string", err) == 1);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EDAGBUILDER);
    CHECK(ctx, same_text(RedisAI_GetError(err), "DAG op should start with: '|>' "));
    RedisAI_ClearError(err);
    char ops[512];
    const char *model_key = RedisModule_StringPtrLen(argv[1], NULL);
    snprintf(ops, sizeof ops, "|> AI.MODELEXECUTE %s INPUTS 1 input OUTPUTS 1 out |> bad_op x", model_key);
    CHECK(ctx, RedisAI_DAGAddOpsFromString(dag, ops, err) == 1);
    CHECK(ctx, same_text(RedisAI_GetError(err), "Unsupported command within DAG"));
    CHECK(ctx, RedisAI_DAGNumOps(dag) == 0);
    RedisAI_ClearError(err);
    CHECK(ctx, RedisAI_DAGAddOpsFromString(dag, "|> AI.TENSORSET t FLOAT 2 VALUES 1", err) == 1);
    CHECK(ctx, RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_ETENSORSET);
    RedisAI_ClearError(err);
    CHECK(ctx, RedisAI_DAGAddOpsFromString(dag, "|> AI.MODELEXECUTE no_such_model INPUTS 1 input OUTPUTS 1 out", err) == 1);
    CHECK(ctx, same_text(RedisAI_GetError(err), "ERR model key is empty"));
    RedisAI_ClearError(err);
    snprintf(ops, sizeof ops, "|> AI.MODELEXECUTE %s INPUTS 1 input OUTPUTS 1 out  |> AI.TENSORGET out VALUES", model_key);
    CHECK(ctx, RedisAI_DAGAddOpsFromString(dag, ops, err) == 0);
    CHECK(ctx, RedisAI_DAGNumOps(dag) == 2);

    /* Built ops: a TENSORSET, a model op on it, and its output. */
    long long dims[] = {1, 3};
    RAI_Tensor *ones = RedisAI_TensorCreate("FLOAT", dims, 2);
    for (int i = 0; i < 3; i++) RedisAI_TensorSetValueFromDouble(ones, i, 1);
    CHECK(ctx, RedisAI_DAGAddTensorSet(dag, "ones", ones) == 0);
    RedisAI_TensorFree(ones); /* the DAG holds its own reference */
    op = RedisAI_DAGCreateModelRunOp(m);
    RedisAI_DAGRunOpAddInput(op, "ones");
    RedisAI_DAGRunOpAddOutput(op, "twos");
    CHECK(ctx, RedisAI_DAGAddRunOp(dag, op, err) == 0);
    CHECK(ctx, RedisAI_DAGAddTensorGet(dag, "twos") == 0);
    CHECK(ctx, RedisAI_DAGNumOps(dag) == 5);
    RedisAI_FreeError(err);

    Result *r = new_result(ctx, reply_result);
    if (RedisAI_DAGRun(dag, dag_done, r, NULL) != 0) {
        snprintf(r->error, sizeof r->error, "ERR DAGRun refused the DAG");
        RedisAI_DAGFree(dag);
        finish_result(r);
    }
    return REDISMODULE_OK;
}

static void dag_error_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    const RAI_Error *e = RedisAI_DAGGetError(finish);
    if (!RedisAI_DAGRunError(finish) || RedisAI_GetErrorCode((RAI_Error *)e) != RedisAI_ErrorCode_EMODELRUN) {
        snprintf(r->error, sizeof r->error, "ERR the failing op did not fail the DAG");
    } else if (RedisAI_DAGNumOutputs(finish) != 1 || RedisAI_DAGOutputTensor(finish, 0) != NULL) {
        snprintf(r->error, sizeof r->error, "ERR a failed op produced an output");
    } else {
        /* The op's own error, cloned as a caller keeps it. */
        RAI_Error *copy;
        RedisAI_InitError(&copy);
        RedisAI_CloneError(copy, e);
        snprintf(r->error, sizeof r->error, "%s", RedisAI_GetErrorOneLine(copy));
        RedisAI_FreeError(copy);
    }
    RedisAI_DAGFree((RAI_DAGRunCtx *)finish);
    finish_result(r);
}

static int DagError(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RAI_Model *m;
    if (RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, NULL) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR no model");
    RAI_DAGRunCtx *dag = RedisAI_DAGRunCtxCreate();
    long long dims[] = {2};
    RAI_Tensor *t = RedisAI_TensorCreate("INT8", dims, 1); /* not what the model takes */
    RedisAI_DAGAddTensorSet(dag, "x", t);
    RedisAI_TensorFree(t);
    RAI_DAGRunOp *op = RedisAI_DAGCreateModelRunOp(m);
    RedisAI_DAGRunOpAddInput(op, "x");
    RedisAI_DAGRunOpAddOutput(op, "y");
    RedisAI_DAGAddRunOp(dag, op, NULL);
    RedisAI_DAGAddTensorGet(dag, "y");
    Result *r = new_result(ctx, reply_result);
    RedisAI_DAGRun(dag, dag_error_done, r, NULL);
    return REDISMODULE_OK;
}

/* script_dag: a script op between two loaded tensors. */
static void script_dag_done(RAI_OnFinishCtx *finish, void *private_data) {
    Result *r = private_data;
    if (RedisAI_DAGRunError(finish)) {
        snprintf(r->error, sizeof r->error, "%s", RedisAI_GetError((RAI_Error *)RedisAI_DAGGetError(finish)));
    } else {
        collect(r, (RAI_Tensor *)RedisAI_DAGOutputTensor(finish, 0));
    }
    RedisAI_DAGFree((RAI_DAGRunCtx *)finish);
    finish_result(r);
}

static int ScriptDag(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 5) return RedisModule_WrongArity(ctx);
    RAI_Script *s;
    if (RedisAI_GetScriptFromKeyspace(ctx, argv[1], &s, REDISMODULE_READ, NULL) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR no script");
    RAI_Tensor *a = key_tensor(ctx, argv[3]), *b = key_tensor(ctx, argv[4]);
    if (!a || !b) return RedisModule_ReplyWithError(ctx, "ERR no input");
    RAI_DAGRunCtx *dag = RedisAI_DAGRunCtxCreate();
    RedisAI_DAGLoadTensor(dag, "a", a);
    RedisAI_DAGLoadTensor(dag, "b", b);
    RAI_DAGRunOp *op = RedisAI_DAGCreateScriptRunOp(s, RedisModule_StringPtrLen(argv[2], NULL));
    RedisAI_DAGRunOpAddInput(op, "a");
    RedisAI_DAGRunOpAddInput(op, "b");
    RedisAI_DAGRunOpAddOutput(op, "c");
    CHECK(ctx, RedisAI_DAGAddRunOp(dag, op, NULL) == 0);
    RedisAI_DAGAddTensorGet(dag, "c");
    Result *r = new_result(ctx, reply_result);
    RedisAI_DAGRun(dag, script_dag_done, r, NULL);
    return REDISMODULE_OK;
}

/* threads: every thread runs the model synchronously and asynchronously, in turn. */
typedef struct {
    RAI_Model *model;
    RAI_Tensor *input;
    int runs;
    atomic_int *failures;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int async_done;
    size_t expected_len;
} ThreadJob;

static void thread_async_done(RAI_OnFinishCtx *finish, void *private_data) {
    ThreadJob *job = private_data;
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_ModelRunCtx *mctx = RedisAI_GetAsModelRunCtx(finish, err);
    RAI_Tensor *out = RedisAI_ModelRunCtxOutputTensor(mctx, 0);
    if (RedisAI_GetErrorCode(err) != RedisAI_ErrorCode_OK || !out || RedisAI_TensorLength(out) != job->expected_len)
        atomic_fetch_add(job->failures, 1);
    RedisAI_ModelRunCtxFree(mctx);
    RedisAI_FreeError(err);
    pthread_mutex_lock(&job->lock);
    job->async_done = 1;
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
}

static void *thread_main(void *arg) {
    ThreadJob *job = arg;
    for (int i = 0; i < job->runs; i++) {
        long long dims[] = {4, 4};
        RAI_Tensor *scratch = RedisAI_TensorCreate("DOUBLE", dims, 2);
        RedisAI_TensorSetValueFromDouble(scratch, i % 16, i);
        RAI_Tensor *copy = RedisAI_TensorGetShallowCopy(job->input);
        RAI_ModelRunCtx *mctx = RedisAI_ModelRunCtxCreate(job->model);
        RedisAI_ModelRunCtxAddInput(mctx, "x", copy);
        RedisAI_ModelRunCtxAddOutput(mctx, "y");
        RedisAI_TensorFree(copy);
        if (i % 2 == 0) {
            RAI_Error *err;
            RedisAI_InitError(&err);
            RAI_Tensor *out = NULL;
            if (RedisAI_ModelRun(&mctx, 1, err) == REDISMODULE_OK) out = RedisAI_ModelRunCtxOutputTensor(mctx, 0);
            if (!out || RedisAI_TensorLength(out) != job->expected_len) atomic_fetch_add(job->failures, 1);
            RedisAI_FreeError(err);
            RedisAI_ModelRunCtxFree(mctx);
        } else {
            pthread_mutex_lock(&job->lock);
            job->async_done = 0;
            pthread_mutex_unlock(&job->lock);
            RedisAI_ModelRunAsync(mctx, thread_async_done, job);
            pthread_mutex_lock(&job->lock);
            while (!job->async_done) pthread_cond_wait(&job->cond, &job->lock);
            pthread_mutex_unlock(&job->lock);
        }
        RedisAI_TensorFree(scratch);
    }
    return NULL;
}

typedef struct {
    Result *result;
    RAI_Model *model;
    RAI_Tensor *input;
    int threads;
    int runs;
} ThreadsCmd;

static void *threads_supervisor(void *arg) {
    ThreadsCmd *cmd = arg;
    atomic_int failures = 0;
    pthread_t ids[64];
    ThreadJob jobs[64];
    for (int i = 0; i < cmd->threads; i++) {
        jobs[i] = (ThreadJob){.model = cmd->model, .input = cmd->input, .runs = cmd->runs,
                              .failures = &failures, .expected_len = RedisAI_TensorLength(cmd->input)};
        pthread_mutex_init(&jobs[i].lock, NULL);
        pthread_cond_init(&jobs[i].cond, NULL);
        pthread_create(&ids[i], NULL, thread_main, &jobs[i]);
    }
    for (int i = 0; i < cmd->threads; i++) {
        pthread_join(ids[i], NULL);
        pthread_mutex_destroy(&jobs[i].lock);
        pthread_cond_destroy(&jobs[i].cond);
    }
    Result *r = cmd->result;
    r->values[0] = cmd->threads * cmd->runs - atomic_load(&failures);
    r->values[1] = atomic_load(&failures);
    r->nvalues = 2;
    RedisAI_ModelFree(cmd->model, NULL);
    RedisAI_TensorFree(cmd->input);
    free(cmd);
    finish_result(r);
    return NULL;
}

static int Threads(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 5) return RedisModule_WrongArity(ctx);
    long long threads, runs;
    if (RedisModule_StringToLongLong(argv[3], &threads) != REDISMODULE_OK || threads < 1 || threads > 64 ||
        RedisModule_StringToLongLong(argv[4], &runs) != REDISMODULE_OK || runs < 1)
        return RedisModule_ReplyWithError(ctx, "ERR bad counts");
    RAI_Model *m;
    if (RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, NULL) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR no model");
    RAI_Tensor *input = key_tensor(ctx, argv[2]);
    if (!input) return RedisModule_ReplyWithError(ctx, "ERR no input");
    ThreadsCmd *cmd = calloc(1, sizeof *cmd);
    /* Kept past this command: the key may change while the threads run. */
    cmd->model = RedisAI_ModelGetShallowCopy(m);
    cmd->input = RedisAI_TensorGetShallowCopy(input);
    cmd->threads = (int)threads;
    cmd->runs = (int)runs;
    cmd->result = new_result(ctx, reply_result);
    pthread_t supervisor;
    pthread_create(&supervisor, NULL, threads_supervisor, cmd);
    pthread_detach(supervisor);
    return REDISMODULE_OK;
}

/* async_disconnect: the run starts after the client is gone. */
static atomic_int completed_runs = 0;

typedef struct {
    RedisModuleBlockedClient *bc;
    RAI_ModelRunCtx *mctx;
} LateRun;

static void late_done(RAI_OnFinishCtx *finish, void *private_data) {
    LateRun *late = private_data;
    RAI_ModelRunCtx *mctx = RedisAI_GetAsModelRunCtx(finish, NULL);
    RedisAI_ModelRunCtxFree(mctx);
    atomic_fetch_add(&completed_runs, 1);
    RedisModule_UnblockClient(late->bc, NULL);
    free(late);
}

static void *late_start(void *arg) {
    LateRun *late = arg;
    usleep(300 * 1000);
    RedisAI_ModelRunAsync(late->mctx, late_done, late);
    return NULL;
}

static int reply_late(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    REDISMODULE_NOT_USED(argc);
    return RedisModule_ReplyWithSimpleString(ctx, "DONE");
}

static int AsyncDisconnect(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    RAI_Model *m;
    if (RedisAI_GetModelFromKeyspace(ctx, argv[1], &m, REDISMODULE_READ, NULL) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR no model");
    RAI_ModelRunCtx *mctx = model_ctx(ctx, m, argv, 2, argc);
    if (!mctx) return RedisModule_ReplyWithError(ctx, "ERR no input");
    RedisAI_ModelRunCtxAddOutput(mctx, "y");
    LateRun *late = calloc(1, sizeof *late);
    late->mctx = mctx;
    late->bc = RedisModule_BlockClient(ctx, reply_late, NULL, NULL, 0);
    pthread_t t;
    pthread_create(&t, NULL, late_start, late);
    pthread_detach(t);
    return REDISMODULE_OK;
}

static int Completed(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    if (argc != 1) return RedisModule_WrongArity(ctx);
    return RedisModule_ReplyWithLongLong(ctx, atomic_load(&completed_runs));
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    REDISMODULE_NOT_USED(argc);
    if (RedisModule_Init(ctx, "llapitest", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR) return REDISMODULE_ERR;
    if (RedisAI_Initialize(ctx) != REDISMODULE_OK) {
        RedisModule_Log(ctx, "warning", "the redisai C API is not there");
        return REDISMODULE_ERR;
    }
    struct {
        const char *name;
        RedisModuleCmdFunc f;
        const char *flags;
    } commands[] = {
        {"llapitest.basic", Basic, ""},
        {"llapitest.tensors", Tensors, ""},
        {"llapitest.store_tensor", StoreTensor, "write"},
        {"llapitest.read_tensor", ReadTensor, "readonly"},
        {"llapitest.keyspace_errors", KeyspaceErrors, "readonly"},
        {"llapitest.model_create", ModelCreate, "write"},
        {"llapitest.script_create", ScriptCreate, "write"},
        {"llapitest.model_sync", ModelSync, "readonly"},
        {"llapitest.model_async", ModelAsync, "readonly"},
        {"llapitest.script_sync", ScriptSync, "readonly"},
        {"llapitest.script_async", ScriptAsync, "readonly"},
        {"llapitest.dag", Dag, "readonly"},
        {"llapitest.dag_error", DagError, "readonly"},
        {"llapitest.script_dag", ScriptDag, "readonly"},
        {"llapitest.threads", Threads, "readonly"},
        {"llapitest.async_disconnect", AsyncDisconnect, "readonly"},
        {"llapitest.completed", Completed, "readonly"},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (RedisModule_CreateCommand(ctx, commands[i].name, commands[i].f, commands[i].flags, 0, 0, 0) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
