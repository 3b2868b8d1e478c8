//! Giving freed memory back to the system. After `POST /_signsim/reset` forgets gigabytes
//! of documents, the allocators keep the freed pages for reuse: the process's RSS stays at
//! its peak although nothing holds it. Both allocators hold memory here: jemalloc
//! (`main.rs`: everything but documents), whose `arena.<all>.purge` returns every arena's
//! unused dirty pages at once, and glibc's malloc (the stored documents, `documents.rs`; and
//! everything in the test binaries), whose `malloc_trim(0)` does the same. Both walk their
//! arenas, so this runs on a blocking thread, off the runtime's workers.
//!
//! One more holder: each thread's jemalloc cache (its tcache) keeps freed small objects
//! for its next allocations, megabytes over the runtime's threads after a reset, and only
//! the thread itself can empty it. So `give_back` counts a generation, and each worker,
//! as it goes idle (`after_park`, the runtime's park hook), empties its cache once per
//! generation and purges again.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many times memory was given back: a worker whose cache is older empties it.
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The generation this thread last emptied its cache for.
    static EMPTIED: Cell<u64> = const { Cell::new(0) };
}

/// Returns the allocator's free pages to the system; where neither allocator is in use,
/// each call does nothing.
pub fn give_back() {
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    EMPTIED.with(|emptied| emptied.set(generation));
    empty_thread_cache();
    purge();
}

/// The runtime's hook as a worker goes idle: after a `give_back`, empties this thread's
/// cache and returns what it held. Otherwise one atomic load.
pub fn after_park() {
    let generation = GENERATION.load(Ordering::Relaxed);
    if EMPTIED.with(|emptied| emptied.replace(generation)) != generation {
        empty_thread_cache();
        purge();
    }
}

/// Hands this thread's cached objects back to jemalloc's arenas.
fn empty_thread_cache() {
    jemalloc_act(c"thread.tcache.flush");
}

/// Returns both allocators' free pages.
fn purge() {
    // 4096 is MALLCTL_ARENAS_ALL: every arena's unused dirty pages.
    jemalloc_act(c"arena.4096.purge");
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's own free lists,
    // under the allocator's locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs jemalloc's control `name`, one that takes no value and answers none.
fn jemalloc_act(name: &std::ffi::CStr) {
    #[cfg(not(target_env = "msvc"))]
    // SAFETY: `mallctl` with a NUL-terminated name and no old or new value runs that act
    // under jemalloc's own locks (a thread cache flush touches the calling thread's only).
    // When jemalloc is not the global allocator, its (prefixed) instance holds nothing.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
    #[cfg(target_env = "msvc")]
    let _ = name;
}
