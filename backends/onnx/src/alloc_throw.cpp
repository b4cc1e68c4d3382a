// The allocation entry points of the ONNX Runtime allocator this backend registers (see
// allocator.rs). ONNX Runtime does not check an allocator's result for null: an allocator reports
// failure by throwing a C++ exception, which ONNX Runtime catches and turns into the error status
// of the call in progress (session creation or run). Rust cannot throw one, so these two small
// functions ask the Rust side for the memory and throw when it refuses.

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

extern "C" {

// Implemented in allocator.rs. Returns 0 with the block in *out, 1 when the memory limit would be
// exceeded, 2 when the system allocator failed.
int redisai_ort_checked_alloc(std::size_t size, void** out);
// Implemented in allocator.rs: the largest single block.
uint64_t redisai_ort_allocation_limit(void);

static void* alloc_or_throw(std::size_t size) {
    void* block = nullptr;
    switch (redisai_ort_checked_alloc(size, &block)) {
        case 0:
            return block;
        case 1:
            throw std::runtime_error("Onnxruntime memory limit exceeded, memory allocation failed.");
        case 3:
            // redisai_backend_api::sandbox::allocation_refused's text.
            throw std::runtime_error("ERR backend allocation of " + std::to_string(size) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(redisai_ort_allocation_limit()) +
                                     " bytes (BACKEND_ALLOCATION_LIMIT)");
        default:
            throw std::bad_alloc();
    }
}

// OrtAllocator::Alloc
void* redisai_ort_alloc(void* /* allocator */, std::size_t size) { return alloc_or_throw(size); }

// OrtAllocator::Reserve
void* redisai_ort_reserve(const void* /* allocator */, std::size_t size) {
    return alloc_or_throw(size);
}

}  // extern "C"
