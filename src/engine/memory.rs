//! Giving freed memory back to the system. After `POST /_signsim/reset` forgets gigabytes
//! of documents, glibc's allocator keeps the freed pages in its arenas for reuse: the
//! process's RSS stays at its peak although nothing holds it. `malloc_trim(0)` returns the
//! free pages of every arena to the system (it walks the arenas, so it runs on a blocking
//! thread, off the runtime's workers).

/// Returns the allocator's free pages to the system, where the allocator can (glibc);
/// elsewhere does nothing.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's own free lists,
    // under the allocator's locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
