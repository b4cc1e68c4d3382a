//! The allocator of CPU sessions: counts the bytes ONNX Runtime holds and its allocator calls
//! (INFO `onnxruntime_memory`, `onnxruntime_memory_access_num`) and enforces
//! BACKEND_MEMORY_LIMIT (all blocks together) and the allocation limit (one block:
//! BACKEND_ALLOCATION_LIMIT, or maxmemory when lower; docs/security.md).
//!
//! It is registered once with the environment (`RegisterAllocator`); CPU sessions opt in with
//! `session.use_env_allocators`, so the buffers of their session state come from here: small
//! initializers and prepacked weights at creation, intermediate values and outputs at run time.
//! (ONNX Runtime 1.31 moves all but tiny initializers into buffers of its own while it parses
//! the model, before any session allocator exists: those are neither counted nor limited; the
//! weights a kernel prepacks from them are.) Blocks are 64-byte aligned, like
//! ONNX Runtime's own CPU allocator, with a 64-byte header in front that holds the block's total
//! size, so `Free` knows what to release and subtract.
//!
//! ONNX Runtime never checks an allocator's result for null; an allocator reports failure with a
//! C++ exception, which ONNX Runtime turns into the error of the call in progress. So `Alloc` and
//! `Reserve` are two tiny C++ functions (alloc_throw.cpp) that call
//! [`redisai_ort_checked_alloc`] and throw when it refuses. Rust never calls those two functions,
//! so the exception never crosses a Rust frame.

use std::alloc::{alloc, dealloc, Layout};
use std::ffi::c_void;
use std::os::raw::c_int;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};

use ort::environment::Environment;
use ort::sys::{OrtAllocator, OrtAllocatorType, OrtMemType, OrtMemoryInfo};
use ort::AsPointer;
use redisai_backend_api::sandbox::AllocationLimit;

/// The error text of an allocation over BACKEND_MEMORY_LIMIT (thrown by alloc_throw.cpp).
pub const MEMORY_LIMIT_EXCEEDED: &str =
    "Onnxruntime memory limit exceeded, memory allocation failed.";

/// Alignment of every block handed to ONNX Runtime (what its own CPU allocator uses).
const ALIGN: usize = 64;
/// Bytes in front of every block: its total size, padded to keep the block aligned.
const HEADER: usize = ALIGN;

/// BACKEND_MEMORY_LIMIT in bytes (0: no limit).
static LIMIT: AtomicU64 = AtomicU64::new(0);
/// The largest single block.
static ALLOCATION_LIMIT: AllocationLimit = AllocationLimit::unlimited();
/// Bytes currently allocated (headers included).
static IN_USE: AtomicU64 = AtomicU64::new(0);
/// Successful `Alloc`/`Reserve` calls plus `Free` calls.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Bytes ONNX Runtime currently holds through this allocator.
pub fn memory_in_use() -> u64 {
    IN_USE.load(Ordering::Relaxed)
}

/// Number of allocation and release calls ONNX Runtime made to this allocator.
pub fn access_count() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

// "system" is the C calling convention on the platforms ONNX Runtime's wheel ships for.
extern "system" {
    // Defined in alloc_throw.cpp: they may throw a C++ exception, so only ONNX Runtime (C++)
    // calls them, through the function table below.
    fn redisai_ort_alloc(this: *mut OrtAllocator, size: usize) -> *mut c_void;
    fn redisai_ort_reserve(this: *const OrtAllocator, size: usize) -> *mut c_void;
}

/// Sets the largest single block (bytes; 0: no limit).
pub fn set_allocation_limit(bytes: u64) {
    ALLOCATION_LIMIT.set(bytes);
}

/// The largest single block now (u64::MAX: no limit), for the C++ side's error text.
#[no_mangle]
pub extern "C" fn redisai_ort_allocation_limit() -> u64 {
    ALLOCATION_LIMIT.get()
}

/// Allocates `size` bytes for ONNX Runtime. Returns 0 with the block in `*out`, 1 when the block
/// would take the allocator over BACKEND_MEMORY_LIMIT, 2 when the system allocator failed, 3 when
/// the block alone is over the allocation limit.
///
/// # Safety
/// `out` must be valid for a write (the C++ trampoline passes a local).
#[no_mangle]
pub unsafe extern "C" fn redisai_ort_checked_alloc(size: usize, out: *mut *mut c_void) -> c_int {
    let Some(total) = size.checked_add(HEADER) else {
        return 2;
    };
    let Ok(layout) = Layout::from_size_align(total, ALIGN) else {
        return 2;
    };
    let bytes = total as u64;
    if ALLOCATION_LIMIT.check(size as u64).is_err() {
        return 3;
    }
    // Reserve the bytes first, so concurrent allocations cannot overshoot the limit together.
    let before = IN_USE.fetch_add(bytes, Ordering::Relaxed);
    let limit = LIMIT.load(Ordering::Relaxed);
    if limit > 0 && before.saturating_add(bytes) > limit {
        IN_USE.fetch_sub(bytes, Ordering::Relaxed);
        return 1;
    }
    // SAFETY: `layout` has a non-zero size (at least HEADER bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        IN_USE.fetch_sub(bytes, Ordering::Relaxed);
        return 2;
    }
    CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: `base` is valid for `total >= HEADER` bytes and 64-byte aligned, so the header
    // (a usize) fits at its start and the block starts HEADER bytes in, still inside it.
    unsafe {
        base.cast::<usize>().write(total);
        *out = base.add(HEADER).cast();
    }
    0
}

/// `OrtAllocator::Free`.
unsafe extern "system" fn free_block(_this: *mut OrtAllocator, block: *mut c_void) {
    if block.is_null() {
        return;
    }
    // SAFETY: `block` came from `redisai_ort_checked_alloc` (ONNX Runtime frees with the allocator
    // that allocated), so its header sits HEADER bytes before it and holds the total size.
    let (base, total) = unsafe {
        let base = block.cast::<u8>().sub(HEADER);
        (base, base.cast::<usize>().read())
    };
    IN_USE.fetch_sub(total as u64, Ordering::Relaxed);
    CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: `base` was allocated with exactly this layout, which was valid then.
    unsafe { dealloc(base, Layout::from_size_align_unchecked(total, ALIGN)) };
}

/// The registered allocator: ONNX Runtime's function table followed by what `Info` returns.
#[repr(C)]
struct CountingAllocator {
    table: OrtAllocator,
    info: NonNull<OrtMemoryInfo>,
}

/// `OrtAllocator::Info`.
unsafe extern "system" fn memory_info(this: *const OrtAllocator) -> *const OrtMemoryInfo {
    // SAFETY: `this` is the `table` field, first in the `#[repr(C)]` CountingAllocator leaked by
    // `register`, which lives for the rest of the process.
    unsafe { (*this.cast::<CountingAllocator>()).info.as_ptr() }
}

/// Turns an ONNX Runtime status into a message.
///
/// # Safety
/// `status` must be a status returned by an ONNX Runtime API call, owned by the caller.
pub unsafe fn check(status: ort::sys::OrtStatusPtr) -> Result<(), String> {
    // SAFETY: forwarded from the caller; the status is released by `ort::Error`.
    unsafe { ort::Error::result_from_status(status) }.map_err(|e| e.message().to_string())
}

/// Registers the counting allocator with `env` for CPU memory and sets the limit (bytes, 0: none).
/// Called once per process, when the backend is loaded.
pub fn register(env: &Environment, limit_bytes: u64) -> Result<(), String> {
    LIMIT.store(limit_bytes, Ordering::Relaxed);
    let api = ort::api();
    let mut info: *mut OrtMemoryInfo = ptr::null_mut();
    // SAFETY: valid out-pointer; the memory info is kept for the life of the process.
    unsafe {
        check((api.CreateCpuMemoryInfo)(
            OrtAllocatorType::OrtDeviceAllocator,
            OrtMemType::OrtMemTypeDefault,
            &mut info,
        ))?
    };
    let info = NonNull::new(info).ok_or("ONNX Runtime returned no memory info")?;
    // SAFETY: `default` only leaves the optional entries empty; the mandatory ones are set here.
    let mut table = unsafe { OrtAllocator::default() };
    table.Alloc = Some(redisai_ort_alloc);
    table.Free = Some(free_block);
    table.Info = Some(memory_info);
    table.Reserve = Some(redisai_ort_reserve);
    // The environment keeps a pointer to the allocator: it must never move or be freed.
    let allocator: &'static mut CountingAllocator =
        Box::leak(Box::new(CountingAllocator { table, info }));
    // SAFETY: both pointers are valid; ONNX Runtime keeps the allocator, which lives forever.
    unsafe {
        check((api.RegisterAllocator)(
            env.ptr().cast_mut(),
            &mut allocator.table,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_counted_and_released() {
        let before = (memory_in_use(), access_count());
        let mut block: *mut c_void = ptr::null_mut();
        // SAFETY: valid out-pointer.
        assert_eq!(unsafe { redisai_ort_checked_alloc(100, &mut block) }, 0);
        assert_eq!(block as usize % ALIGN, 0);
        assert_eq!(memory_in_use(), before.0 + 100 + HEADER as u64);
        // SAFETY: the block holds 100 writable bytes and was allocated above.
        unsafe {
            block.cast::<u8>().write_bytes(7, 100);
            free_block(ptr::null_mut(), block);
        }
        assert_eq!(memory_in_use(), before.0);
        assert_eq!(access_count(), before.1 + 2);
    }

    #[test]
    fn an_absurd_size_is_refused_not_allocated() {
        let mut block: *mut c_void = ptr::null_mut();
        // SAFETY: valid out-pointer.
        let status = unsafe { redisai_ort_checked_alloc(usize::MAX, &mut block) };
        assert_eq!(status, 2);
        assert!(block.is_null());
    }
}
