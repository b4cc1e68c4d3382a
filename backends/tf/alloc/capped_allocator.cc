// TensorFlow's CPU allocator, replaced by one that caps the size of a single allocation
// (BACKEND_ALLOCATION_LIMIT; docs/security.md).
//
// TensorFlow picks its CPU allocator from a registry, highest priority first: the default one
// (priority 100) and oneDNN's (`mklcpu`, 200), a BFC pool that, when an allocation fails, waits
// up to ten seconds for memory to be freed before giving up, holding its worker. This one is
// registered at priority 300 while the plugin is loaded, before TensorFlow creates any allocator
// (registering later would abort the process, so the plugin does it first thing in its
// initialisation, right after TensorFlow's libraries are loaded). An allocation over the cap returns null at
// once, which TensorFlow reports as the run's OOM error; the plugin rewrites that error as the
// cap's reply. Everything else is plain aligned malloc/free.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "xla/tsl/framework/allocator.h"
#include "xla/tsl/framework/allocator_registry.h"

namespace {

std::atomic<uint64_t> allocation_limit{0};
// The size of the last allocation refused (for the error the plugin reports).
std::atomic<uint64_t> last_refused{0};

// Null when `num_bytes` is over the cap or the system has no memory; else an aligned block.
void* capped_alloc(size_t alignment, size_t num_bytes) {
  uint64_t limit = allocation_limit.load(std::memory_order_relaxed);
  if (limit != 0 && num_bytes > limit) {
    last_refused.store(num_bytes, std::memory_order_relaxed);
    return nullptr;
  }
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  void* block = nullptr;
  if (posix_memalign(&block, alignment, num_bytes == 0 ? 1 : num_bytes) != 0) return nullptr;
  return block;
}

class CappedAllocator : public tsl::Allocator {
 public:
  std::string Name() override { return "redisai_capped_cpu"; }
  void* AllocateRaw(size_t alignment, size_t num_bytes) override {
    return capped_alloc(alignment, num_bytes);
  }
  void DeallocateRaw(void* ptr) override { std::free(ptr); }
  tsl::AllocatorMemoryType GetMemoryType() const override {
    return tsl::AllocatorMemoryType::kHostPageable;
  }
};

class CappedSubAllocator : public tsl::SubAllocator {
 public:
  CappedSubAllocator() : tsl::SubAllocator({}, {}) {}
  void* Alloc(size_t alignment, size_t num_bytes, size_t* bytes_received) override {
    void* block = capped_alloc(alignment, num_bytes);
    *bytes_received = block == nullptr ? 0 : num_bytes;
    return block;
  }
  void Free(void* ptr, size_t) override { std::free(ptr); }
  bool SupportsCoalescing() const override { return false; }
  tsl::AllocatorMemoryType GetMemoryType() const override {
    return tsl::AllocatorMemoryType::kHostPageable;
  }
};

class CappedAllocatorFactory : public tsl::AllocatorFactory {
 public:
  tsl::Allocator* CreateAllocator() override { return new CappedAllocator; }
  tsl::SubAllocator* CreateSubAllocator(int) override { return new CappedSubAllocator; }
};


}  // namespace

extern "C" {

// Registers the allocator (what REGISTER_MEM_ALLOCATOR does in a static initialiser; a call
// instead, so that only the plugin's own initialisation registers it, once). Must run before
// TensorFlow creates its CPU allocator: the plugin calls it first thing when it is loaded.
void redisai_tf_register_allocator(void) {
  static bool registered = false;
  if (registered) return;
  registered = true;
  tsl::AllocatorFactoryRegistry::singleton()->Register(
      __FILE__, __LINE__, "RedisAICappedCPUAllocator", 300, new CappedAllocatorFactory);
}

// Sets the cap (bytes; 0: none).
void redisai_tf_set_allocation_limit(uint64_t bytes) {
  allocation_limit.store(bytes, std::memory_order_relaxed);
}

// The size of the last allocation refused (0: none yet).
uint64_t redisai_tf_last_refused_allocation(void) {
  return last_refused.load(std::memory_order_relaxed);
}

}  // extern "C"
