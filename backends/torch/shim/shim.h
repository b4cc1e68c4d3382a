// The C interface between the TORCH plugin's Rust code and libtorch (torch_shim.cpp).
//
// Rules: every function catches all C++ exceptions; errors come back as strings allocated with
// malloc (released with shim_free_string). Tensors go in as borrowed ShimTensor views of host
// memory and come out as owned torch::Tensor handles (contiguous, on the CPU) that Rust reads
// with shim_tensor_view and releases with shim_tensor_free.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <ATen/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

// Mirrors of redisai-backend-api's ffi.rs (#[repr(C)]); shim_abi_check verifies the sizes.
typedef struct {
  const uint8_t* ptr;
  size_t len;
} RaiStr;

typedef struct {
  DLTensor tensor;
  uint64_t nbytes;
} RaiInput;

typedef struct {
  DLManagedTensor* tensor;
  uint64_t nbytes;
} RaiOutput;

typedef struct RaiReply {
  uint32_t kind;
  int64_t integer;
  RaiStr string;
  const struct RaiReply* elements;
  size_t n_elements;
} RaiReply;

enum { REPLY_NIL = 0, REPLY_STRING = 1, REPLY_INTEGER = 2, REPLY_ARRAY = 3, REPLY_ERROR = 4 };

typedef struct {
  void* ctx;
  RaiReply* (*redis_call)(void* ctx, const RaiStr* argv, size_t argc);
  void (*free_reply)(void* ctx, RaiReply* reply);
  int32_t (*model_execute)(void* ctx, RaiStr key, const RaiInput* inputs, size_t n_inputs,
                           RaiOutput* outputs, size_t n_outputs, char** err);
  void (*free_string)(char* s);
} RaiScriptHost;

// A borrowed tensor in host memory (contiguous, row-major). code/bits as DLPack.
typedef struct {
  uint8_t code;
  uint8_t bits;
  int32_t ndim;
  const int64_t* shape;
  const void* data;
  size_t nbytes;
} ShimTensor;

// A view of an output tensor (valid until shim_tensor_free).
typedef struct {
  uint8_t code;
  uint8_t bits;
  int32_t ndim;
  const int64_t* shape;
  const void* data;
  size_t nbytes;
} ShimTensorView;

// Device kinds (as RaiModelOptions).
enum { SHIM_CPU = 0, SHIM_GPU = 1 };

// Sizes of the mirrored structs, for the Rust side to compare with its own.
void shim_abi_sizes(size_t* str, size_t* input, size_t* output, size_t* reply, size_t* host);

void shim_free_string(char* s);
// Registers the redis / redisAI TorchScript operators (once per process). Non-zero on failure.
int32_t shim_register_ops(char** err);
// Applies the TorchScript sandbox (sandbox.h): removes the operators and custom classes the
// policy refuses and caps libtorch's CPU allocations at `allocation_limit` bytes (0: no cap).
// Once per process (later calls only change the cap). Non-zero on failure.
int32_t shim_sandbox_apply(uint64_t allocation_limit, char** err);
// Changes the allocation cap (bytes; 0: none).
void shim_set_allocation_limit(uint64_t bytes);
// Every operator TorchScript can call now, one schema a line (malloc'ed; tests).
char* shim_registered_operators(void);
// Every method of every custom class, one schema a line (malloc'ed; tests).
char* shim_custom_class_methods(void);
// The libtorch version ("2.13.0").
char* shim_version(void);
// Thread pools (0 = libtorch's default). Non-zero on failure.
int32_t shim_set_threads(int32_t intra, int32_t inter, char** err);
// Whether CUDA device `index` can be used.
int32_t shim_cuda_available(int32_t index);
// Loads libtorch's CUDA half when the install has it: `cuda/torch/lib/libtorch_cuda.so` beside the
// library this shim is linked into (a `make build` with TORCH_CUDA=1 puts it there, with the
// CUDA libraries it needs under `cuda/nvidia/`). 0: CPU-only install; 1: loaded; -1: present but
// failed to load (*err says why).
int32_t shim_load_cuda(char** err);

void shim_tensor_view(void* tensor, ShimTensorView* view);
void shim_tensor_free(void* tensor);

// Models: a TorchScript archive (torch.jit.save).
void* shim_model_load(const uint8_t* blob, size_t len, int32_t device_kind, int32_t device_index,
                      char** err);
void shim_model_free(void* model);
size_t shim_model_input_count(void* model);
const char* shim_model_input_name(void* model, size_t index);
size_t shim_model_output_count(void* model);
// Runs forward; writes up to max_outputs tensor handles, their count in *n_outputs.
int32_t shim_model_run(void* model, const ShimTensor* inputs, size_t n_inputs, void** outputs,
                       size_t max_outputs, size_t* n_outputs, char** err);

// Builds a TorchScript archive (as torch.jit.save writes) of a module whose methods are
// defined by `source` (e.g. `def forward(self, a, b): return a + b`); *archive is malloc'ed.
int32_t shim_module_from_source(const uint8_t* source, size_t len, uint8_t** archive,
                                size_t* archive_len, char** err);

// Scripts: TorchScript source with `redis` and `redisAI` available.
void* shim_script_compile(const uint8_t* source, size_t len, const RaiStr* entry_points,
                          size_t n_entry_points, int32_t device_kind, int32_t device_index,
                          char** err);
void shim_script_free(void* script);
// Runs `function` (entry_point: (tensors, keys, args); else positional). `host` serves
// redis.execute / redisAI.model_execute during the call. Writes n_outputs tensor handles
// (n_outputs 0: the result is ignored).
int32_t shim_script_run(void* script, RaiStr function, int32_t entry_point,
                        const ShimTensor* inputs, size_t n_inputs, const RaiStr* keys,
                        size_t n_keys, const RaiStr* args, size_t n_args,
                        const RaiScriptHost* host, void** outputs, size_t n_outputs, char** err);

#ifdef __cplusplus
}
#endif
