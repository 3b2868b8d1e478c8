//! Where stored documents live. The documents a simulator holds are most of its memory
//! (gigabytes after a day of flows) and all of it goes at a reset. Kept by the general
//! allocator (jemalloc), they would leave behind its bookkeeping: jemalloc never returns
//! the metadata it made for each extent it ever held, about 1 % of the peak (26 MB after a
//! 2.6 GB peak, measured with its `stats.metadata`), so RSS after a reset stayed well
//! above idle. Documents of `OWN_MEMORY_FROM` bytes or more are therefore copied once, as
//! they are stored, into memory of the system allocator (glibc's `malloc`, which keeps
//! its bookkeeping inside the chunks): when the last `Bytes` view of one drops, its memory
//! goes back there, and `memory::give_back` returns it to the system. Everything else (and
//! every allocation of a request in flight) stays with jemalloc, which is what keeps a
//! filled simulator as fast as a fresh one.

use bytes::Bytes;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr::NonNull;

/// Smaller documents (a JSON hashfile, a tiny PDF) stay where they were read: the copy
/// would cost more than their bookkeeping.
pub const OWN_MEMORY_FROM: usize = 4096;

/// `bytes` as a stored document: in the system allocator's memory when large enough.
pub fn keep(bytes: Bytes) -> Bytes {
    if bytes.len() < OWN_MEMORY_FROM {
        return bytes;
    }
    copy_out(&bytes).unwrap_or(bytes)
}

/// A document made here (a signed PDF, a contract), stored the same way.
pub fn keep_vec(bytes: Vec<u8>) -> Bytes {
    if bytes.len() < OWN_MEMORY_FROM {
        return Bytes::from(bytes);
    }
    copy_out(&bytes).unwrap_or_else(|| Bytes::from(bytes))
}

/// A copy of `bytes` in the system allocator's memory; `None` when it has none to give
/// (the caller keeps its own copy then: nothing is lost, only where it lives).
fn copy_out(bytes: &[u8]) -> Option<Bytes> {
    let layout = Layout::from_size_align(bytes.len(), 1).ok()?;
    // SAFETY: `layout` has a non-zero size (callers pass at least OWN_MEMORY_FROM bytes);
    // the pointer System returns is checked for null before use.
    let ptr = NonNull::new(unsafe { System.alloc(layout) })?;
    // SAFETY: `ptr` points to `bytes.len()` freshly allocated bytes, which cannot overlap
    // `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.as_ptr(), bytes.len()) };
    Some(Bytes::from_owner(SystemBuffer { ptr, layout }))
}

/// Bytes owned in the system allocator's memory, freed there when dropped.
struct SystemBuffer {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: the buffer is written once, before it is shared, and only read after: any
// thread may read it or drop it.
unsafe impl Send for SystemBuffer {}
unsafe impl Sync for SystemBuffer {}

impl AsRef<[u8]> for SystemBuffer {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` holds `layout.size()` initialised bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.layout.size()) }
    }
}

impl Drop for SystemBuffer {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `System.alloc(self.layout)` and is freed once, here.
        unsafe { System.dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_document_reads_as_it_was_and_small_ones_stay_put() {
        let large: Vec<u8> = (0..OWN_MEMORY_FROM * 3).map(|i| (i % 251) as u8).collect();
        let kept = keep(Bytes::from(large.clone()));
        assert_eq!(kept, large);
        assert_eq!(keep_vec(large.clone()).slice(10..20), large[10..20]);
        let small = Bytes::from(vec![7u8; 100]);
        let pointer = small.as_ptr();
        assert_eq!(
            keep(small).as_ptr(),
            pointer,
            "a small document is not copied"
        );
    }
}
