// libtorch behind a small C interface (shim.h): TorchScript models and scripts, the TorchScript
// extensions `redis.execute`, `redis.asList` and `redisAI.model_execute`, and tensor exchange.
// Nothing here throws across the C boundary: every entry point catches everything.

#include "shim.h"
#include "sandbox.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <cstring>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/cuda.h>
#include <torch/jit.h>
#include <torch/script.h>
#include <torch/version.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/custom_class.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// ---- errors and strings ----------------------------------------------------------------------

char* owned(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) {
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
  }
  return out;
}

// A C++ exception's message, without libtorch's C++ backtrace.
std::string message_of(const std::exception& e) {
  if (auto c10_error = dynamic_cast<const c10::Error*>(&e)) {
    std::string short_message = c10_error->what_without_backtrace();
    if (!short_message.empty()) return short_message;
  }
  return e.what();
}

template <typename F>
int32_t guarded(char** err, F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    if (err != nullptr) *err = owned(message_of(e));
  } catch (...) {
    if (err != nullptr) *err = owned("ERR unknown libtorch error");
  }
  return 1;
}

// `guarded` for the calls that run or compile a model's or script's code: an error caused by the
// sandbox (a removed operator, the allocation cap) is reported as the sandbox's own reply.
template <typename F>
int32_t sandboxed(char** err, sandbox::Kind kind, F&& f) {
  int32_t status = guarded(err, std::forward<F>(f));
  if (status != 0 && err != nullptr && *err != nullptr) {
    std::string message(*err);
    std::string translated = sandbox::translate(message, kind);
    if (translated != message) {
      std::free(*err);
      *err = owned(translated);
    }
  }
  return status;
}

std::string str(RaiStr s) {
  return s.len == 0 ? std::string() : std::string(reinterpret_cast<const char*>(s.ptr), s.len);
}

// ---- tensors ---------------------------------------------------------------------------------

// DLPack code/bits of RedisAI's dtypes -> torch.
at::ScalarType scalar_type(uint8_t code, uint8_t bits) {
  switch (code) {
    case kDLInt:
      if (bits == 8) return at::kChar;
      if (bits == 16) return at::kShort;
      if (bits == 32) return at::kInt;
      if (bits == 64) return at::kLong;
      break;
    case kDLUInt:
      if (bits == 8) return at::kByte;
      if (bits == 16) throw std::runtime_error("ERR TORCH does not support UINT16 tensors");
      break;
    case kDLFloat:
      if (bits == 16) return at::kHalf;
      if (bits == 32) return at::kFloat;
      if (bits == 64) return at::kDouble;
      break;
    case kDLBool:
      if (bits == 8) return at::kBool;
      break;
    case 7:
      throw std::runtime_error("ERR TORCH does not support STRING tensors");
    default:
      break;
  }
  throw std::runtime_error("ERR unsupported tensor type for TORCH");
}

void dl_type(at::ScalarType t, uint8_t* code, uint8_t* bits) {
  switch (t) {
    case at::kChar: *code = kDLInt; *bits = 8; return;
    case at::kShort: *code = kDLInt; *bits = 16; return;
    case at::kInt: *code = kDLInt; *bits = 32; return;
    case at::kLong: *code = kDLInt; *bits = 64; return;
    case at::kByte: *code = kDLUInt; *bits = 8; return;
    case at::kHalf: *code = kDLFloat; *bits = 16; return;
    case at::kFloat: *code = kDLFloat; *bits = 32; return;
    case at::kDouble: *code = kDLFloat; *bits = 64; return;
    case at::kBool: *code = kDLBool; *bits = 8; return;
    default:
      throw std::runtime_error(std::string("ERR unsupported output tensor type ") +
                               c10::toString(t));
  }
}

// A borrowed host tensor as a torch tensor on `device`, always a copy: the model's code may keep
// what it is given (in an attribute) past the run, when the host's buffer may be gone.
at::Tensor from_host(const ShimTensor& t, const c10::Device& device) {
  at::ScalarType type = scalar_type(t.code, t.bits);
  c10::IntArrayRef shape(t.shape, t.ndim);
  if (device.is_cpu()) {
    // A plain memcpy into a new tensor: a copy through the dispatcher (TensorIterator) costs
    // more than the run of a small model.
    at::Tensor owned = at::empty(shape, torch::TensorOptions().dtype(type));
    if (owned.nbytes() != t.nbytes) throw std::runtime_error("ERR input size mismatch");
    if (t.nbytes > 0) std::memcpy(owned.data_ptr(), t.data, t.nbytes);
    return owned;
  }
  at::Tensor view = torch::from_blob(const_cast<void*>(t.data), shape,
                                     torch::TensorOptions().dtype(type));
  return view.to(device, /*non_blocking=*/false, /*copy=*/true);
}

// An output handle: contiguous, on the CPU, owned by the caller.
void* to_output(const at::Tensor& t) {
  at::Tensor out = t.to(at::kCPU).contiguous();
  uint8_t code, bits;
  dl_type(out.scalar_type(), &code, &bits);
  return new at::Tensor(std::move(out));
}

c10::Device device_of(int32_t kind, int32_t index) {
  if (kind == SHIM_GPU) {
    if (!torch::cuda::is_available() || index >= static_cast<int32_t>(torch::cuda::device_count())) {
      throw std::runtime_error("ERR GPU requested but TORCH has no CUDA device " +
                               std::to_string(index));
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return c10::Device(c10::kCPU);
}

// ---- the script host (redis.execute, redisAI.model_execute) -----------------------------------

thread_local const RaiScriptHost* current_host = nullptr;

struct HostScope {
  explicit HostScope(const RaiScriptHost* host) : previous(current_host) { current_host = host; }
  ~HostScope() { current_host = previous; }
  const RaiScriptHost* previous;
};

const RaiScriptHost& host() {
  if (current_host == nullptr) {
    throw std::runtime_error("redis and redisAI calls are only available while a script runs");
  }
  return *current_host;
}

c10::IValue reply_value(const RaiReply& r) {
  switch (r.kind) {
    case REPLY_STRING:
      return c10::IValue(str(r.string));
    case REPLY_INTEGER:
      return c10::IValue(r.integer);
    case REPLY_ARRAY: {
      c10::impl::GenericList list(c10::AnyType::get());
      for (size_t i = 0; i < r.n_elements; i++) list.push_back(reply_value(r.elements[i]));
      return c10::IValue(list);
    }
    case REPLY_ERROR:
      throw std::runtime_error("Redis command returned an error: " + str(r.string));
    default:
      return c10::IValue();
  }
}

c10::IValue redis_execute(const std::string& command, const std::vector<std::string>& args) {
  const RaiScriptHost& h = host();
  std::vector<RaiStr> argv;
  argv.reserve(args.size() + 1);
  argv.push_back(RaiStr{reinterpret_cast<const uint8_t*>(command.data()), command.size()});
  for (const auto& a : args) {
    argv.push_back(RaiStr{reinterpret_cast<const uint8_t*>(a.data()), a.size()});
  }
  RaiReply* reply = h.redis_call(h.ctx, argv.data(), argv.size());
  if (reply == nullptr) throw std::runtime_error("Redis command returned an error: no reply");
  std::unique_ptr<RaiReply, std::function<void(RaiReply*)>> guard(
      reply, [&h](RaiReply* r) { h.free_reply(h.ctx, r); });
  return reply_value(*reply);
}

// `redis.execute(cmd)` with no arguments (a list parameter has no default in operator schemas).
c10::IValue redis_execute_command(const std::string& command) { return redis_execute(command, {}); }

c10::impl::GenericList redis_as_list(const c10::IValue& value) {
  if (!value.isList()) {
    throw std::runtime_error("redis.asList: the value is not a list");
  }
  c10::impl::GenericList list(c10::AnyType::get());
  for (const auto& item : value.toListRef()) list.push_back(item);
  return list;
}

std::vector<at::Tensor> model_execute(const std::string& key, const std::vector<at::Tensor>& inputs,
                                      int64_t num_outputs) {
  const RaiScriptHost& h = host();
  if (num_outputs < 0 || num_outputs > 65536) {
    throw std::runtime_error("ERR invalid number of model outputs");
  }
  std::vector<at::Tensor> host_inputs;
  std::vector<RaiInput> raw(inputs.size());
  host_inputs.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); i++) {
    host_inputs.push_back(inputs[i].to(at::kCPU).contiguous());
    const at::Tensor& t = host_inputs.back();
    RaiInput& in = raw[i];
    std::memset(&in, 0, sizeof(in));
    in.tensor.data = t.data_ptr();
    in.tensor.device = DLDevice{kDLCPU, 0};
    in.tensor.ndim = static_cast<int32_t>(t.dim());
    dl_type(t.scalar_type(), &in.tensor.dtype.code, &in.tensor.dtype.bits);
    in.tensor.dtype.lanes = 1;
    in.tensor.shape = const_cast<int64_t*>(t.sizes().data());
    in.tensor.strides = nullptr;
    in.tensor.byte_offset = 0;
    in.nbytes = t.nbytes();
  }
  std::vector<RaiOutput> outs(static_cast<size_t>(num_outputs), RaiOutput{nullptr, 0});
  char* err = nullptr;
  int32_t status = h.model_execute(h.ctx, RaiStr{reinterpret_cast<const uint8_t*>(key.data()), key.size()},
                                   raw.data(), raw.size(), outs.data(), outs.size(), &err);
  // Take ownership of whatever came back before anything can throw.
  std::vector<at::Tensor> result;
  std::vector<DLManagedTensor*> pending;
  for (auto& o : outs) pending.push_back(o.tensor);
  auto release_pending = [&pending]() {
    for (auto* m : pending)
      if (m != nullptr && m->deleter != nullptr) m->deleter(m);
    pending.clear();
  };
  if (status != 0) {
    std::string msg = err != nullptr ? std::string(err) : std::string("ERR model execution failed");
    if (err != nullptr) h.free_string(err);
    release_pending();
    throw std::runtime_error(msg);
  }
  try {
    for (size_t i = 0; i < pending.size(); i++) {
      DLManagedTensor* m = pending[i];
      if (m == nullptr) throw std::runtime_error("ERR Model did not generate the expected number of outputs");
      const DLTensor& t = m->dl_tensor;
      std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
      at::ScalarType type = scalar_type(t.dtype.code, t.dtype.bits);
      void* data = static_cast<char*>(t.data) + t.byte_offset;
      pending[i] = nullptr;
      result.push_back(torch::from_blob(
          data, shape, [m](void*) { if (m->deleter != nullptr) m->deleter(m); },
          torch::TensorOptions().dtype(type)));
    }
  } catch (...) {
    release_pending();
    throw;
  }
  return result;
}


// Names a script may use: torch (aten), redis and redisAI (the operators above).
struct ScriptResolver : public torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name,
                                                         torch::jit::GraphFunction&,
                                                         const torch::jit::SourceRange&) override {
    if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
    if (name == "redis") return std::make_shared<torch::jit::BuiltinModule>("redis");
    if (name == "redisAI") return std::make_shared<torch::jit::BuiltinModule>("redisAI");
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string&, const torch::jit::SourceRange&) override {
    return nullptr;
  }
};

// ---- models and scripts ----------------------------------------------------------------------

// Reads a TorchScript archive straight from the blob (no copy into a stream).
struct MemoryReader : public caffe2::serialize::ReadAdapterInterface {
  MemoryReader(const uint8_t* data, size_t len) : data(data), len(len) {}
  size_t size() const override { return len; }
  size_t read(uint64_t pos, void* buf, size_t n, const char*) const override {
    if (pos >= len) return 0;
    size_t count = std::min<size_t>(n, len - static_cast<size_t>(pos));
    std::memcpy(buf, data + pos, count);
    return count;
  }
  const uint8_t* data;
  size_t len;
};

struct Model {
  torch::jit::Module module;
  c10::Device device;
  std::vector<std::string> inputs;
  size_t outputs;
};

struct Script {
  std::shared_ptr<torch::jit::CompilationUnit> unit;
  c10::Device device;
};

// Flattens a Tensor, a tuple or a list into its elements.
std::vector<c10::IValue> flatten(const c10::IValue& v) {
  if (v.isTuple()) return v.toTupleRef().elements().vec();
  if (v.isList()) return v.toListRef().vec();
  return {v};
}

std::vector<at::Tensor> host_inputs(const ShimTensor* inputs, size_t n, const c10::Device& device) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; i++) out.push_back(from_host(inputs[i], device));
  return out;
}

bool is_tensor_list(const c10::TypePtr& t) {
  auto list = t->cast<c10::ListType>();
  return list && list->getElementType()->kind() == c10::TypeKind::TensorType;
}

bool is_string_list(const c10::TypePtr& t) {
  auto list = t->cast<c10::ListType>();
  return list && list->getElementType()->kind() == c10::TypeKind::StringType;
}

}  // namespace

extern "C" {

void shim_abi_sizes(size_t* s, size_t* input, size_t* output, size_t* reply, size_t* host_size) {
  *s = sizeof(RaiStr);
  *input = sizeof(RaiInput);
  *output = sizeof(RaiOutput);
  *reply = sizeof(RaiReply);
  *host_size = sizeof(RaiScriptHost);
}

void shim_free_string(char* s) { std::free(s); }

int32_t shim_register_ops(char** err) {
  return guarded(err, [&] {
    static std::mutex lock;
    static std::unique_ptr<torch::RegisterOperators> ops;
    std::lock_guard<std::mutex> guard(lock);
    if (ops) return;
    if (c10::Dispatcher::singleton().findOp(c10::OperatorName("redis::execute", ""))) {
      throw std::runtime_error("the redis TorchScript operators are registered by another library");
    }
    ops = std::make_unique<torch::RegisterOperators>(
        torch::RegisterOperators()
            .op("redis::execute(str cmd, str[] args) -> Any", &redis_execute)
            .op("redis::execute.command(str cmd) -> Any", &redis_execute_command)
            .op("redis::asList", &redis_as_list)
            .op("redisAI::model_execute", &model_execute));
  });
}

char* shim_version(void) { return owned(TORCH_VERSION); }

int32_t shim_sandbox_apply(uint64_t allocation_limit, char** err) {
  return guarded(err, [&] {
    sandbox::set_allocation_limit(allocation_limit);
    sandbox::apply();
  });
}

void shim_set_allocation_limit(uint64_t bytes) { sandbox::set_allocation_limit(bytes); }

char* shim_registered_operators(void) {
  try {
    std::string out;
    for (const auto& op : torch::jit::getAllOperators()) {
      std::ostringstream line;
      line << op->schema();
      out += line.str();
      out += '\n';
    }
    return owned(out);
  } catch (...) {
    return nullptr;
  }
}

char* shim_custom_class_methods(void) {
  try {
    std::string out;
    for (const auto& schema : torch::customClassSchemasForBCCheck()) {
      std::ostringstream line;
      line << schema;
      out += line.str();
      out += '\n';
    }
    return owned(out);
  } catch (...) {
    return nullptr;
  }
}

int32_t shim_set_threads(int32_t intra, int32_t inter, char** err) {
  // libtorch refuses a second setting; a retried backend load keeps the first.
  static std::mutex lock;
  static bool applied = false;
  std::lock_guard<std::mutex> guard(lock);
  if (applied) return 0;
  return guarded(err, [&] {
    if (inter > 0) {
      try {
        at::set_num_interop_threads(inter);
      } catch (const std::exception&) {
        throw std::runtime_error("Cannot set number of inter-op threads after parallel work has started");
      }
    }
    if (intra > 0) {
      try {
        at::set_num_threads(intra);
      } catch (const std::exception&) {
        throw std::runtime_error("Cannot set number of intra-op threads after parallel work has started");
      }
    }
    applied = true;
  });
}

int32_t shim_cuda_available(int32_t index) {
  try {
    return torch::cuda::is_available() && index >= 0 &&
           index < static_cast<int32_t>(torch::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

int32_t shim_load_cuda(char** err) {
  try {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&shim_load_cuda), &info) == 0 || info.dli_fname == nullptr) {
      return 0;
    }
    std::string self(info.dli_fname);
    size_t slash = self.rfind('/');
    std::string dir = slash == std::string::npos ? std::string(".") : self.substr(0, slash);
    std::string path = dir + "/cuda/torch/lib/libtorch_cuda.so";
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return 0;
    }
    // Its static initialisers register the CUDA hooks with libtorch_cpu (already loaded: the
    // same soname), after which torch::cuda::is_available() sees the devices. Its own RPATH
    // ($ORIGIN/../../nvidia/...) finds the CUDA libraries. Never unloaded.
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) == nullptr) {
      const char* why = dlerror();
      *err = owned("ERR could not load libtorch's CUDA library " + path + ": " +
                   (why != nullptr ? why : "unknown error"));
      return -1;
    }
    return 1;
  } catch (const std::exception& e) {
    *err = owned(std::string("ERR could not load libtorch's CUDA library: ") + e.what());
    return -1;
  }
}

void shim_tensor_view(void* tensor, ShimTensorView* view) {
  const at::Tensor& t = *static_cast<at::Tensor*>(tensor);
  std::memset(view, 0, sizeof(*view));
  try {
    dl_type(t.scalar_type(), &view->code, &view->bits);
  } catch (...) {
  }
  view->ndim = static_cast<int32_t>(t.dim());
  view->shape = t.sizes().data();
  view->data = t.data_ptr();
  view->nbytes = t.nbytes();
}

void shim_tensor_free(void* tensor) { delete static_cast<at::Tensor*>(tensor); }

void* shim_model_load(const uint8_t* blob, size_t len, int32_t device_kind, int32_t device_index,
                      char** err) {
  Model* model = nullptr;
  sandboxed(err, sandbox::Kind::Model, [&] {
    c10::Device device = device_of(device_kind, device_index);
    auto reader = std::make_shared<MemoryReader>(blob, len);
    torch::jit::Module module = torch::jit::load(reader, device);
    sandbox::check_module(module);
    const c10::FunctionSchema& schema = module.get_method("forward").function().getSchema();
    std::vector<std::string> inputs;
    const auto& args = schema.arguments();
    for (size_t i = 1; i < args.size(); i++) inputs.push_back(args[i].name());
    size_t outputs = 1;
    if (!schema.returns().empty()) {
      const c10::TypePtr& ret = schema.returns()[0].type();
      if (ret->kind() == c10::TypeKind::TupleType) outputs = ret->containedTypes().size();
    }
    model = new Model{std::move(module), device, std::move(inputs), outputs};
  });
  return model;
}

void shim_model_free(void* model) { delete static_cast<Model*>(model); }

size_t shim_model_input_count(void* model) { return static_cast<Model*>(model)->inputs.size(); }

const char* shim_model_input_name(void* model, size_t index) {
  return static_cast<Model*>(model)->inputs.at(index).c_str();
}

size_t shim_model_output_count(void* model) { return static_cast<Model*>(model)->outputs; }

int32_t shim_model_run(void* model, const ShimTensor* inputs, size_t n_inputs, void** outputs,
                       size_t max_outputs, size_t* n_outputs, char** err) {
  *n_outputs = 0;
  return sandboxed(err, sandbox::Kind::Model, [&] {
    Model& m = *static_cast<Model*>(model);
    // Inference mode: no autograd bookkeeping at all (NoGradGuard still dispatches every op
    // through autograd), the outputs are copied out and never differentiated.
    c10::InferenceMode inference;
    std::vector<c10::IValue> args;
    for (auto& t : host_inputs(inputs, n_inputs, m.device)) args.emplace_back(std::move(t));
    c10::IValue result = m.module.forward(std::move(args));
    std::vector<c10::IValue> items = flatten(result);
    std::vector<void*> produced;
    try {
      for (const auto& item : items) {
        if (produced.size() == max_outputs) break;
        if (!item.isTensor()) throw std::runtime_error("ERR Model returned a non-tensor output");
        produced.push_back(to_output(item.toTensor()));
      }
    } catch (...) {
      for (void* p : produced) shim_tensor_free(p);
      throw;
    }
    for (size_t i = 0; i < produced.size(); i++) outputs[i] = produced[i];
    *n_outputs = produced.size();
  });
}

void* shim_script_compile(const uint8_t* source, size_t len, const RaiStr* entry_points,
                          size_t n_entry_points, int32_t device_kind, int32_t device_index,
                          char** err) {
  Script* script = nullptr;
  sandboxed(err, sandbox::Kind::Script, [&] {
    c10::Device device = device_of(device_kind, device_index);
    auto unit = std::make_shared<torch::jit::CompilationUnit>();
    std::string text(reinterpret_cast<const char*>(source), len);
    unit->define(std::nullopt, text, std::make_shared<ScriptResolver>(), nullptr);
    sandbox::check_unit(*unit);
    for (size_t i = 0; i < n_entry_points; i++) {
      std::string name = str(entry_points[i]);
      torch::jit::Function* fn = unit->find_function(name);
      if (fn == nullptr) {
        throw std::runtime_error("Function " + name + " does not exist in the given script.");
      }
      const auto& args = fn->getSchema().arguments();
      if (args.size() != 3) {
        throw std::runtime_error("Wrong number of inputs in function " + name +
                                 ". Expected 3 but was " + std::to_string(args.size()));
      }
      if (!is_tensor_list(args[0].type()) || !is_string_list(args[1].type()) ||
          !is_string_list(args[2].type())) {
        throw std::runtime_error("Wrong inputs type in function " + name +
                                 ". Expected signature similar to: def " + name +
                                 "(tensors: List[Tensor], keys: List[str], args: List[str])");
      }
    }
    script = new Script{std::move(unit), device};
  });
  return script;
}

int32_t shim_module_from_source(const uint8_t* source, size_t len, uint8_t** archive,
                                size_t* archive_len, char** err) {
  *archive = nullptr;
  *archive_len = 0;
  return guarded(err, [&] {
    torch::jit::Module module("__torch__.RedisAIModule");
    module.define(std::string(reinterpret_cast<const char*>(source), len));
    std::ostringstream out;
    module.save(out);
    std::string bytes = out.str();
    *archive = static_cast<uint8_t*>(std::malloc(bytes.size()));
    if (*archive == nullptr) throw std::runtime_error("out of memory");
    std::memcpy(*archive, bytes.data(), bytes.size());
    *archive_len = bytes.size();
  });
}

void shim_script_free(void* script) { delete static_cast<Script*>(script); }

int32_t shim_script_run(void* script, RaiStr function, int32_t entry_point,
                        const ShimTensor* inputs, size_t n_inputs, const RaiStr* keys,
                        size_t n_keys, const RaiStr* args, size_t n_args,
                        const RaiScriptHost* script_host, void** outputs, size_t n_outputs,
                        char** err) {
  return sandboxed(err, sandbox::Kind::Script, [&] {
    Script& s = *static_cast<Script*>(script);
    std::string name = str(function);
    torch::jit::Function* fn = s.unit->find_function(name);
    if (fn == nullptr) throw std::runtime_error("Function does not exist: " + name);
    HostScope scope(script_host);
    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> tensors = host_inputs(inputs, n_inputs, s.device);
    torch::jit::Stack stack;
    if (entry_point != 0) {
      c10::List<at::Tensor> tensor_list;
      for (auto& t : tensors) tensor_list.push_back(t);
      c10::List<std::string> key_list;
      for (size_t i = 0; i < n_keys; i++) key_list.push_back(str(keys[i]));
      c10::List<std::string> arg_list;
      for (size_t i = 0; i < n_args; i++) arg_list.push_back(str(args[i]));
      stack.emplace_back(std::move(tensor_list));
      stack.emplace_back(std::move(key_list));
      stack.emplace_back(std::move(arg_list));
    } else {
      // Legacy mode: positional tensors; a List[Tensor] parameter takes all remaining ones.
      const auto& params = fn->getSchema().arguments();
      if (params.size() > tensors.size()) {
        throw std::runtime_error("Wrong number of inputs provided to function: " + name);
      }
      for (size_t i = 0; i < params.size(); i++) {
        const c10::TypePtr& type = params[i].type();
        if (type->kind() == c10::TypeKind::TensorType) {
          stack.emplace_back(tensors[i]);
        } else if (is_tensor_list(type)) {
          c10::List<at::Tensor> rest;
          for (size_t j = i; j < tensors.size(); j++) rest.push_back(tensors[j]);
          stack.emplace_back(std::move(rest));
          break;
        } else {
          throw std::runtime_error("Unsupported input type in function definition: " + name);
        }
      }
    }
    c10::IValue result = (*fn)(std::move(stack));
    if (n_outputs == 0) return;
    std::vector<c10::IValue> items = flatten(result);
    if (items.size() != n_outputs) {
      throw std::runtime_error("Function returned unexpected number of outputs - " + name);
    }
    for (const auto& item : items) {
      if (!item.isTensor()) throw std::runtime_error("Function returned non-tensor values" + name);
    }
    std::vector<void*> produced;
    try {
      for (const auto& item : items) produced.push_back(to_output(item.toTensor()));
    } catch (...) {
      for (void* p : produced) shim_tensor_free(p);
      throw;
    }
    for (size_t i = 0; i < produced.size(); i++) outputs[i] = produced[i];
  });
}

}  // extern "C"
