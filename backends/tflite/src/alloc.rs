//! The plugin's global allocator: the system's, with a cap on the size of one block.
//!
//! tract allocates every tensor buffer through Rust's allocator, also while it builds a model
//! (it folds constant subgraphs then), and treats a refused buffer as a panic, which the plugin
//! catches. So a block over the allocation limit is refused here, before any memory is taken,
//! and the size is noted for the error the store or run then reports. (Smaller Rust collections
//! whose growth is refused abort instead; tract keeps data in tensor buffers.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use redisai_backend_api::sandbox::{allocation_refused, AllocationLimit};

/// The largest block (BACKEND_ALLOCATION_LIMIT, or maxmemory when lower).
pub static LIMIT: AllocationLimit = AllocationLimit::unlimited();

thread_local! {
    /// The size of the last block refused on this thread (0: none since the last `take`).
    static REFUSED: Cell<u64> = const { Cell::new(0) };
}

/// The allocation limit's error if a block was refused on this thread since the last call.
pub fn take_refusal() -> Option<String> {
    let size = REFUSED.with(|r| r.replace(0));
    (size > 0).then(|| allocation_refused(size, LIMIT.get()))
}

fn refused(size: usize) -> bool {
    if size as u64 > LIMIT.get() {
        REFUSED.with(|r| r.set(size as u64));
        return true;
    }
    false
}

struct CappedAllocator;

// SAFETY: every call is forwarded to the system allocator unchanged, or answered with null
// (which GlobalAlloc allows for any request) before the system allocator is called.
unsafe impl GlobalAlloc for CappedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the system allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refused(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's block, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CappedAllocator = CappedAllocator;
