//! Giving freed memory back to the system. After `POST /_signsim/reset` forgets gigabytes
//! of documents, the allocators keep the freed pages for reuse: the process's RSS stays at
//! its peak although nothing holds it. Both allocators hold memory here: jemalloc
//! (`main.rs`: everything but documents), whose `arena.<all>.purge` returns every arena's
//! unused dirty pages at once, and glibc's malloc (the stored documents, `documents.rs`; and
//! everything in the test binaries), whose `malloc_trim(0)` does the same. Both walk their
//! arenas, so this runs on a blocking thread, off the runtime's workers.

/// Returns the allocator's free pages to the system; where neither allocator is in use,
/// each call does nothing.
pub fn give_back() {
    #[cfg(not(target_env = "msvc"))]
    // SAFETY: `mallctl` with a NUL-terminated name and no old or new value runs jemalloc's
    // purge of all arenas (4096 is MALLCTL_ARENAS_ALL); it takes the arenas' own locks. When
    // jemalloc is not the global allocator, its (prefixed) instance holds nothing to purge.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's own free lists,
    // under the allocator's locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
