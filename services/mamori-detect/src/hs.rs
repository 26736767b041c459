//! A small safe layer over libhs (Debian's `libhyperscan-dev`) through the
//! `hyperscan-sys` bindings.
//!
//! Why not the `hyperscan` crate on top of them: its `Stream` drop is a
//! no-op (streams leak unless closed by hand with a scratch at hand, which a
//! flow being evicted does not have), and it compiles patterns as regexes,
//! whereas rule contents are byte strings with NULs that the literal API
//! (`hs_compile_lit_multi`) takes as they are. What we need is six calls;
//! they are wrapped here, each with its ownership rule.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_uint, c_ulonglong, c_void};
use std::ptr;
use std::sync::Once;

use hyperscan_sys as ffi;

/// Errors from libhs.
#[derive(Debug, thiserror::Error)]
pub enum HsError {
    #[error("hyperscan compile error: {0}")]
    Compile(String),
    #[error("hyperscan call {call} failed with code {code}")]
    Call { call: &'static str, code: c_int },
    #[error("too many patterns for one database")]
    TooMany,
}

fn check(call: &'static str, code: c_int) -> Result<(), HsError> {
    if code == ffi::HS_SUCCESS as c_int {
        Ok(())
    } else {
        Err(HsError::Call { call, code })
    }
}

/// Block (one buffer at a time) or streaming (data in pieces, state kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Block,
    Stream,
}

impl Mode {
    fn bits(self) -> c_uint {
        match self {
            Mode::Block => ffi::HS_MODE_BLOCK,
            // Large SOM horizon is not needed: we only use match ends.
            Mode::Stream => ffi::HS_MODE_STREAM,
        }
    }
}

/// One literal to compile.
pub struct Literal<'a> {
    pub bytes: &'a [u8],
    pub caseless: bool,
    pub id: u32,
}

/// A compiled database. Immutable and shareable across threads (libhs
/// documents databases as read-only after compilation).
pub struct Database {
    ptr: *mut ffi::hs_database_t,
}

// SAFETY: libhs never mutates a database after compile/deserialize; scans
// take it by const pointer.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: ptr came from hs_compile_lit_multi/hs_deserialize_database and is freed once.
        unsafe {
            ffi::hs_free_database(self.ptr);
        }
    }
}

impl Database {
    /// Compile literals. `single_match` reports each literal at most once per
    /// scan (block mode only: in stream mode every occurrence matters).
    pub fn compile_literals(lits: &[Literal<'_>], mode: Mode) -> Result<Database, HsError> {
        if lits.is_empty() {
            return Err(HsError::Compile("no patterns".into()));
        }
        let n = c_uint::try_from(lits.len()).map_err(|_| HsError::TooMany)?;
        let exprs: Vec<*const c_char> = lits.iter().map(|l| l.bytes.as_ptr().cast::<c_char>()).collect();
        let lens: Vec<usize> = lits.iter().map(|l| l.bytes.len()).collect();
        let ids: Vec<c_uint> = lits.iter().map(|l| l.id).collect();
        let flags: Vec<c_uint> = lits
            .iter()
            .map(|l| {
                let mut f = 0;
                if l.caseless {
                    f |= ffi::HS_FLAG_CASELESS;
                }
                if mode == Mode::Block {
                    f |= ffi::HS_FLAG_SINGLEMATCH;
                }
                f
            })
            .collect();
        let mut db: *mut ffi::hs_database_t = ptr::null_mut();
        let mut err: *mut ffi::hs_compile_error_t = ptr::null_mut();
        // SAFETY: all arrays have `n` elements and outlive the call; out-pointers are valid.
        let rc = unsafe {
            ffi::hs_compile_lit_multi(
                exprs.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                lens.as_ptr(),
                n,
                mode.bits(),
                ptr::null(),
                &mut db,
                &mut err,
            )
        };
        if rc != ffi::HS_SUCCESS as c_int {
            let msg = if err.is_null() {
                format!("code {rc}")
            } else {
                // SAFETY: err is a valid compile error until freed below.
                let m = unsafe {
                    let e = &*err;
                    let text = if e.message.is_null() {
                        String::from("unknown")
                    } else {
                        CStr::from_ptr(e.message).to_string_lossy().into_owned()
                    };
                    format!("{text} (pattern {})", e.expression)
                };
                // SAFETY: freed exactly once.
                unsafe {
                    ffi::hs_free_compile_error(err);
                }
                m
            };
            return Err(HsError::Compile(msg));
        }
        Ok(Database { ptr: db })
    }

    /// The database as bytes for the cache.
    pub fn serialize(&self) -> Result<Vec<u8>, HsError> {
        let mut bytes: *mut c_char = ptr::null_mut();
        let mut len: usize = 0;
        // SAFETY: out-pointers valid; the buffer is malloc'd by libhs and freed below.
        check("hs_serialize_database", unsafe { ffi::hs_serialize_database(self.ptr, &mut bytes, &mut len) })?;
        if bytes.is_null() {
            return Err(HsError::Call { call: "hs_serialize_database", code: -1 });
        }
        // SAFETY: libhs returned `len` readable bytes at `bytes`.
        let v = unsafe { std::slice::from_raw_parts(bytes.cast::<u8>(), len).to_vec() };
        // SAFETY: allocated with libhs's default allocator (malloc).
        unsafe { libc::free(bytes.cast::<c_void>()) };
        Ok(v)
    }

    /// A database from bytes [`Database::serialize`] wrote (libhs checks the
    /// version and platform and refuses what does not fit).
    pub fn deserialize(bytes: &[u8]) -> Result<Database, HsError> {
        let mut db: *mut ffi::hs_database_t = ptr::null_mut();
        // SAFETY: bytes is a valid slice; libhs validates its content.
        check("hs_deserialize_database", unsafe {
            ffi::hs_deserialize_database(bytes.as_ptr().cast::<c_char>(), bytes.len(), &mut db)
        })?;
        Ok(Database { ptr: db })
    }

    /// Scan one buffer; `on_match(id, end)` for each report.
    pub fn scan(&self, data: &[u8], scratch: &mut Scratch, on_match: &mut dyn FnMut(u32, u64)) -> Result<(), HsError> {
        let len = c_uint::try_from(data.len()).unwrap_or(c_uint::MAX);
        let mut ctx: &mut dyn FnMut(u32, u64) = on_match;
        // SAFETY: scratch was allocated for (at least) this database; the
        // context pointer lives for the duration of the call.
        check("hs_scan", unsafe {
            ffi::hs_scan(
                self.ptr,
                data.as_ptr().cast::<c_char>(),
                len,
                0,
                scratch.ptr,
                Some(trampoline),
                (&mut ctx as *mut &mut dyn FnMut(u32, u64)).cast::<c_void>(),
            )
        })
    }

    pub fn open_stream(&self) -> Result<Stream, HsError> {
        // Before the first stream exists, so every stream is freed by the
        // allocator that made it.
        static STREAM_ALLOCATOR: Once = Once::new();
        STREAM_ALLOCATOR.call_once(|| {
            // SAFETY: both functions follow libhs's contract (below); no
            // stream has been allocated yet.
            unsafe {
                ffi::hs_set_stream_allocator(Some(stream_alloc), Some(stream_free));
            }
        });
        let mut s: *mut ffi::hs_stream_t = ptr::null_mut();
        // SAFETY: database valid; out-pointer valid.
        check("hs_open_stream", unsafe { ffi::hs_open_stream(self.ptr, 0, &mut s) })?;
        Ok(Stream { ptr: s })
    }
}

/// Stream state comes from the program's allocator instead of libc's
/// malloc. Every TCP connection opens one or two prefilter streams a
/// direction and frees them at its end; the inline workers' allocator
/// (mimalloc) serves that from a thread-local page, where libc's malloc
/// took its arena path for each (about 0.7 µs of a short connection's
/// worker time; docs/benchmarks.md, session 16). The size is kept in a
/// header because libhs frees without one.
const STREAM_HEADER: usize = 16;

unsafe extern "C" fn stream_alloc(size: usize) -> *mut c_void {
    // 16-byte alignment: libhs wants "the largest representable data type".
    let Some(layout) =
        size.checked_add(STREAM_HEADER).and_then(|t| std::alloc::Layout::from_size_align(t, STREAM_HEADER).ok())
    else {
        return ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size.
    let base = unsafe { std::alloc::alloc(layout) };
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: base is valid for layout.size() >= STREAM_HEADER bytes and aligned for usize.
    unsafe {
        base.cast::<usize>().write(layout.size());
        base.add(STREAM_HEADER).cast()
    }
}

unsafe extern "C" fn stream_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: p came from stream_alloc, so the header precedes it and holds
    // the size of the allocation made with this alignment.
    unsafe {
        let base = p.cast::<u8>().sub(STREAM_HEADER);
        let size = base.cast::<usize>().read();
        std::alloc::dealloc(base, std::alloc::Layout::from_size_align_unchecked(size, STREAM_HEADER));
    }
}

unsafe extern "C" fn trampoline(
    id: c_uint,
    _from: c_ulonglong,
    to: c_ulonglong,
    _flags: c_uint,
    ctx: *mut c_void,
) -> c_int {
    // SAFETY: ctx is the `&mut &mut dyn FnMut` passed by scan/scan_stream,
    // alive for the duration of that call.
    let f = unsafe { &mut *ctx.cast::<&mut dyn FnMut(u32, u64)>() };
    f(id, to);
    0
}

/// Per-thread scratch space, grown to fit every database it is used with.
pub struct Scratch {
    ptr: *mut ffi::hs_scratch_t,
}

// SAFETY: a scratch may move between threads; it is never used by two at once (&mut).
unsafe impl Send for Scratch {}

impl Default for Scratch {
    fn default() -> Self {
        Scratch { ptr: ptr::null_mut() }
    }
}

impl Scratch {
    /// Make the scratch fit `db` too.
    pub fn fit(&mut self, db: &Database) -> Result<(), HsError> {
        // SAFETY: hs_alloc_scratch grows an existing scratch in place (or allocates when null).
        check("hs_alloc_scratch", unsafe { ffi::hs_alloc_scratch(db.ptr, &mut self.ptr) })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: allocated by hs_alloc_scratch, freed once.
            unsafe {
                ffi::hs_free_scratch(self.ptr);
            }
        }
    }
}

/// One open stream. Dropping it frees its state without reporting matches.
pub struct Stream {
    ptr: *mut ffi::hs_stream_t,
}

// SAFETY: stream state is plain memory owned by this handle.
unsafe impl Send for Stream {}

impl Stream {
    /// Feed the next piece of the stream. Reported ends are stream offsets.
    pub fn scan(
        &mut self,
        data: &[u8],
        scratch: &mut Scratch,
        on_match: &mut dyn FnMut(u32, u64),
    ) -> Result<(), HsError> {
        let len = c_uint::try_from(data.len()).unwrap_or(c_uint::MAX);
        let mut ctx: &mut dyn FnMut(u32, u64) = on_match;
        // SAFETY: the stream belongs to a database the scratch fits; see `Database::scan`.
        check("hs_scan_stream", unsafe {
            ffi::hs_scan_stream(
                self.ptr,
                data.as_ptr().cast::<c_char>(),
                len,
                0,
                scratch.ptr,
                Some(trampoline),
                (&mut ctx as *mut &mut dyn FnMut(u32, u64)).cast::<c_void>(),
            )
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: a null scratch is allowed when no matches are wanted.
        unsafe {
            ffi::hs_close_stream(self.ptr, ptr::null_mut(), None, ptr::null_mut());
        }
    }
}

/// libhs's version string (part of the cache key).
pub fn version() -> String {
    // SAFETY: hs_version returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::hs_version()).to_string_lossy().into_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_scan_reports_literals_with_nul_and_case() {
        let lits =
            [Literal { bytes: b"a\0b", caseless: false, id: 7 }, Literal { bytes: b"EVIL", caseless: true, id: 9 }];
        let db = Database::compile_literals(&lits, Mode::Block).unwrap();
        let mut s = Scratch::default();
        s.fit(&db).unwrap();
        let mut got = Vec::new();
        db.scan(b"xx a\0b evil evil", &mut s, &mut |id, end| got.push((id, end))).unwrap();
        assert_eq!(got, vec![(7, 6), (9, 11)], "single match per pattern in block mode");
    }

    #[test]
    fn stream_scan_finds_patterns_across_pieces_and_serializes() {
        let lits = [Literal { bytes: b"VERYGOOD", caseless: false, id: 1 }];
        let db = Database::compile_literals(&lits, Mode::Stream).unwrap();
        let bytes = db.serialize().unwrap();
        let db = Database::deserialize(&bytes).unwrap();
        let mut s = Scratch::default();
        s.fit(&db).unwrap();
        let mut st = db.open_stream().unwrap();
        let mut got = Vec::new();
        st.scan(b"xxVERY", &mut s, &mut |id, end| got.push((id, end))).unwrap();
        st.scan(b"GOODxxVERYGOOD", &mut s, &mut |id, end| got.push((id, end))).unwrap();
        assert_eq!(got, vec![(1, 10), (1, 20)]);
    }

    #[test]
    fn garbage_is_not_a_database() {
        assert!(Database::deserialize(b"not a database").is_err());
    }
}
