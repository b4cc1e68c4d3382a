//! The cap on TensorFlow's CPU allocations (alloc/capped_allocator.cc): set from
//! BACKEND_ALLOCATION_LIMIT (and maxmemory), and the error of a run it refused.

use redisai_backend_api::sandbox::{allocation_refused, AllocationLimit};

extern "C" {
    fn redisai_tf_register_allocator();
    fn redisai_tf_set_allocation_limit(bytes: u64);
    fn redisai_tf_last_refused_allocation() -> u64;
}

/// The allocator's name in TensorFlow's OOM messages.
const ALLOCATOR_NAME: &str = "redisai_capped_cpu";

static LIMIT: AllocationLimit = AllocationLimit::unlimited();

/// Installs the capped allocator (once per process, before TensorFlow allocates anything).
pub fn install(limit_bytes: u64) {
    set_limit(limit_bytes);
    // SAFETY: registers once (the C++ side keeps a flag); called at plugin initialisation.
    unsafe { redisai_tf_register_allocator() };
}

/// Changes the cap (bytes; 0: none).
pub fn set_limit(bytes: u64) {
    LIMIT.set(bytes);
    // SAFETY: an atomic store on the C++ side.
    unsafe { redisai_tf_set_allocation_limit(bytes) };
}

/// A run's error, rewritten as the cap's reply when the capped allocator refused the run.
pub fn run_error(message: String) -> String {
    if !message.contains(ALLOCATOR_NAME) || !message.contains("OOM when allocating") {
        return message;
    }
    // SAFETY: an atomic load on the C++ side.
    let requested = unsafe { redisai_tf_last_refused_allocation() };
    allocation_refused(requested, LIMIT.get())
}
