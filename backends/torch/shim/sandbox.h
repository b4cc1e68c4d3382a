// The TorchScript sandbox (sandbox.cpp), used by torch_shim.cpp. The policy itself (which
// operators and custom classes are allowed) is decided on the Rust side (src/policy.rs).
#pragma once

#include <string>

#include <torch/script.h>

namespace sandbox {

// What a refusal names: "model" or "script".
enum class Kind { Model, Script };

// Thrown when a model or script uses something outside the policy; what() is the client's reply.
struct Forbidden : std::runtime_error {
  explicit Forbidden(const std::string& message) : std::runtime_error(message) {}
};

// Removes every registered operator the policy refuses from TorchScript's operator registry and
// strips every refused custom class of its methods. Once per process, before anything is
// compiled or loaded; later calls do nothing.
void apply();

// Throws Forbidden if any graph of the module (every method of every submodule, every function
// of its compilation unit) or any of its attributes uses an operator or class outside the policy.
void check_module(const torch::jit::Module& module);

// The same for a compiled script.
void check_unit(const torch::jit::CompilationUnit& unit);

// A libtorch error message, rewritten as the policy's refusal when it was caused by a removed
// operator or class ("Unknown builtin op: aten::from_file" -> the forbidden-operator reply);
// otherwise returned as is.
std::string translate(const std::string& message, Kind kind);

// Caps every CPU allocation libtorch makes (bytes; 0: no cap). Installed by apply().
void set_allocation_limit(uint64_t bytes);

}  // namespace sandbox
