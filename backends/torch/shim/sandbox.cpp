// The TorchScript sandbox: the policy of src/policy.rs applied to libtorch (see sandbox.h and
// docs/security.md), and the cap on libtorch's CPU allocations.

#include "sandbox.h"

#include <c10/core/CPUAllocator.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/custom_class.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <set>
#include <string>
#include <vector>

// The policy (src/policy.rs): 1 allowed, 0 refused.
extern "C" int32_t redisai_torch_operator_allowed(const char* name, size_t len);
extern "C" int32_t redisai_torch_class_allowed(const char* name, size_t len);

namespace sandbox {
namespace {

const char* const kCustomClassPrefix = "__torch__.torch.classes.";

bool operator_allowed(const std::string& name) {
  return redisai_torch_operator_allowed(name.data(), name.size()) != 0;
}

bool class_allowed(const std::string& name) {
  return redisai_torch_class_allowed(name.data(), name.size()) != 0;
}

std::string refusal(Kind kind, const std::string& what) {
  return std::string("ERR ") + (kind == Kind::Model ? "model" : "script") +
         " uses a forbidden operator: " + what;
}

// ---- the allocation cap ----------------------------------------------------------------------

std::atomic<uint64_t> allocation_limit{0};

const char* const kAllocationPrefix = "ERR backend allocation of ";

// libtorch's CPU allocator with a cap on the size of one allocation. An allocation over the cap
// throws (libtorch turns it into the error of the run) before any memory is taken.
struct CappedAllocator final : c10::Allocator {
  explicit CappedAllocator(c10::Allocator* inner) : inner(inner) {}

  c10::DataPtr allocate(size_t n) override {
    uint64_t limit = allocation_limit.load(std::memory_order_relaxed);
    if (limit != 0 && n > limit) {
      throw std::runtime_error(std::string(kAllocationPrefix) + std::to_string(n) +
                               " bytes exceeds the limit of " + std::to_string(limit) +
                               " bytes (BACKEND_ALLOCATION_LIMIT)");
    }
    return inner->allocate(n);
  }

  c10::DeleterFnPtr raw_deleter() const override { return inner->raw_deleter(); }

  bool is_simple_data_ptr(const c10::DataPtr& data_ptr) const override {
    return inner->is_simple_data_ptr(data_ptr);
  }

  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }

  c10::Allocator* inner;
};

// ---- walking models and scripts ----------------------------------------------------------------

struct Walk {
  Kind kind;
  std::set<const c10::Type*> seen_types;
  std::set<const torch::jit::Function*> seen_functions;

  void type(const c10::TypePtr& t) {
    if (!t || !seen_types.insert(t.get()).second) return;
    if (auto cls = t->cast<c10::ClassType>()) {
      if (cls->name()) {
        std::string name = cls->name()->qualifiedName();
        if (!class_allowed(name)) throw Forbidden(refusal(kind, name));
      }
      for (torch::jit::Function* method : cls->methods()) function(method);
    }
    for (const c10::TypePtr& contained : t->containedTypes()) type(contained);
  }

  void block(const torch::jit::Block* b) {
    for (const torch::jit::Value* input : b->inputs()) type(input->type());
    for (const torch::jit::Node* node : b->nodes()) {
      std::string name = node->kind().toQualString();
      if (!operator_allowed(name)) throw Forbidden(refusal(kind, name));
      for (const torch::jit::Value* output : node->outputs()) type(output->type());
      for (const torch::jit::Block* sub : node->blocks()) block(sub);
    }
  }

  void function(torch::jit::Function* f) {
    if (f == nullptr || !seen_functions.insert(f).second) return;
    // Methods of custom classes are libtorch's own C++ (their classes are checked by name).
    if (!f->isGraphFunction()) return;
    block(torch::jit::toGraphFunction(*f).graph()->block());
  }

  void unit(const torch::jit::CompilationUnit& cu) {
    for (torch::jit::Function* f : cu.get_functions()) function(f);
  }
};

// Custom classes the policy refuses, with the names of their methods.
std::vector<std::pair<c10::ClassTypePtr, std::vector<std::string>>> refused_classes() {
  std::set<std::string> names;
  for (const c10::FunctionSchema& schema : torch::customClassSchemasForBCCheck()) {
    if (schema.arguments().empty()) continue;
    auto cls = schema.arguments()[0].type()->cast<c10::ClassType>();
    if (cls && cls->name()) names.insert(cls->name()->qualifiedName());
  }
  std::vector<std::pair<c10::ClassTypePtr, std::vector<std::string>>> out;
  for (const std::string& name : names) {
    if (class_allowed(name)) continue;
    c10::ClassTypePtr cls = torch::getCustomClass(name);
    if (!cls) continue;
    std::vector<std::string> methods;
    for (torch::jit::Function* m : cls->methods()) methods.push_back(m->name());
    out.emplace_back(cls, methods);
  }
  return out;
}

}  // namespace

void apply() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const std::shared_ptr<torch::jit::Operator>& op : torch::jit::getAllOperators()) {
      const c10::FunctionSchema& schema = op->schema();
      if (!operator_allowed(schema.name())) torch::jit::deregisterOperator(schema);
    }
    for (auto& [cls, methods] : refused_classes()) {
      for (const std::string& method : methods) cls->unsafeRemoveMethod(method);
    }
    // The caller gives the allocator away; it lives as long as the process.
    c10::SetCPUAllocator(new CappedAllocator(c10::GetCPUAllocator()), /*priority=*/100);
  });
}

void check_module(const torch::jit::Module& module) {
  Walk walk{Kind::Model, {}, {}};
  walk.unit(*module._ivalue()->compilation_unit());
  for (const torch::jit::Module& sub : module.modules()) {
    walk.type(sub.type());
    for (const torch::jit::Method& method : sub.get_methods()) walk.function(&method.function());
  }
  for (const auto& attribute : module.named_attributes(/*recurse=*/true)) {
    walk.type(attribute.value.type());
  }
}

void check_unit(const torch::jit::CompilationUnit& unit) {
  Walk walk{Kind::Script, {}, {}};
  walk.unit(unit);
}

std::string translate(const std::string& message, Kind kind) {
  // A run (or a load) that asked for more than the allocation cap: the cap's own line.
  size_t at = message.find(kAllocationPrefix);
  if (at != std::string::npos) {
    size_t end = message.find('\n', at);
    return message.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  // A call of an operator removed from the registry.
  const std::string unknown = "Unknown builtin op: ";
  at = message.find(unknown);
  if (at != std::string::npos) {
    size_t start = at + unknown.size();
    size_t end = start;
    while (end < message.size() &&
           (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '_' ||
            message[end] == ':')) {
      end++;
    }
    std::string name = message.substr(start, end - start);
    if (!name.empty() && !operator_allowed(name)) return refusal(kind, name);
  }
  // A refused custom class (its methods are gone, so using it fails to compile or load).
  at = message.find(kCustomClassPrefix);
  while (at != std::string::npos) {
    size_t end = at;
    while (end < message.size() &&
           (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '_' ||
            message[end] == '.')) {
      end++;
    }
    std::string name = message.substr(at, end - at);
    while (!name.empty() && name.back() == '.') name.pop_back();
    if (!class_allowed(name)) return refusal(kind, name);
    at = message.find(kCustomClassPrefix, end);
  }
  return message;
}

void set_allocation_limit(uint64_t bytes) {
  allocation_limit.store(bytes, std::memory_order_relaxed);
}

}  // namespace sandbox
