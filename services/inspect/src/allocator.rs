//! The program's allocator: mimalloc, asked for plain blocks whenever the
//! alignment Rust wants is one a plain block already has.
//!
//! Why not the `mimalloc` crate's `MiMalloc`: it sends every request through
//! `mi_malloc_aligned`, and mimalloc 3 serves an aligned request from its
//! plain free lists only when the block size is a power of two. Everything
//! else (a 48-byte struct, a 20 KB body buffer, a grown `Vec`) took the
//! generic path, which over-allocates by the alignment, marks the page as
//! holding interior pointers and rounds the block up a size class. Served
//! plain, the 106 allocations of an inspected HTTP connection take 5,600
//! fewer instructions (docs/benchmarks.md, session 17; the same finding as
//! the crate's open pull request 170).
//!
//! The rule is the one the crate itself used before: alignments up to
//! `MI_MAX_ALIGN_SIZE` (16 on x86-64) that do not exceed the size are met by
//! every plain block, because size classes from 16 bytes up are multiples
//! of 16, smaller ones of 8, and pages start 16-aligned. Larger alignments
//! keep the aligned calls. `mi_free` releases blocks of either kind.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as ffi;

/// What every plain mimalloc block is aligned to, at least, once its size
/// is at least this much (`MI_MAX_ALIGN_SIZE`).
const PLAIN_ALIGN: usize = 16;

pub struct MiMalloc;

/// Whether a plain block of `size` bytes meets `align`.
fn plain(size: usize, align: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every call forwards to mimalloc, which returns blocks of at least
// the requested size, aligned as `plain` reasons above or as asked through
// the aligned calls, and frees any block it returned with `mi_free`.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain FFI calls; mimalloc handles any size.
        unsafe {
            if plain(layout.size(), layout.align()) {
                ffi::mi_malloc(layout.size()).cast()
            } else {
                ffi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.size(), layout.align()) {
                ffi::mi_zalloc(layout.size()).cast()
            } else {
                ffi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: ptr came from this allocator (GlobalAlloc's contract).
        unsafe { ffi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: ptr came from this allocator with `layout`; mimalloc moves
        // the contents when it cannot grow the block in place. A block made
        // by the aligned calls may be handed to `mi_realloc` when the new
        // size makes the alignment plain: the new block is plain, which is
        // what `alloc` would have made for that size.
        unsafe {
            if plain(new_size, layout.align()) {
                ffi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                ffi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size up to a few pages, with every alignment Rust's own types
    /// ask for and a few larger ones: blocks come back aligned, hold their
    /// bytes through growth and shrinking, and zeroed ones are zero.
    #[test]
    fn blocks_are_aligned_and_keep_their_contents() {
        let a = MiMalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=300).chain([1000, 1024, 4095, 4096, 20_480, 70_000, 300_000]) {
                let Ok(layout) = Layout::from_size_align(size, align) else { continue };
                // SAFETY: non-zero size; freed below with the same allocator.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xA5, size);
                    let grown = size * 3 + 5;
                    let q = a.realloc(p, layout, grown);
                    assert_eq!(q as usize % align, 0, "grown from {size}, align {align}");
                    assert!(std::slice::from_raw_parts(q, size).iter().all(|&b| b == 0xA5));
                    let shrunk = size.div_ceil(2);
                    let r = a.realloc(q, Layout::from_size_align(grown, align).unwrap(), shrunk);
                    assert_eq!(r as usize % align, 0, "shrunk to {shrunk}, align {align}");
                    assert!(std::slice::from_raw_parts(r, shrunk).iter().all(|&b| b == 0xA5));
                    a.dealloc(r, Layout::from_size_align(shrunk, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }

    #[test]
    fn plain_blocks_only_where_they_meet_the_alignment() {
        assert!(plain(48, 16));
        assert!(plain(20_480, 8));
        assert!(plain(8, 8));
        assert!(!plain(4, 8), "a block smaller than its alignment");
        assert!(!plain(64, 32));
    }
}
