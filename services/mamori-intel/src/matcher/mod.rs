//! Read-only matchers, built once per bundle and queried per packet.
//!
//! Each matcher maps an indicator to a *posting code*: the set of label ids
//! (list + meaning) that listed it. Most indicators are on one list only, so
//! a single id is stored inline in the code; sets of several ids live once in
//! [`Postings`] and are shared by every key that has the same set.

mod domain;
mod hash;
mod ip;
mod postings;
mod url;

pub use domain::DomainSet;
pub use hash::HashSet256;
pub use ip::IpSet;
pub use postings::{Postings, PostingsBuilder};
pub use url::UrlSet;

/// Code stored per key: a label id, or (high bit set) an offset into
/// [`Postings`].
pub type Code = u32;

/// A matcher's encoded form could not be read back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("section {0} is truncated")]
    Truncated(&'static str),
    #[error("section {0} is malformed")]
    Malformed(&'static str),
}

/// Little-endian reader over a section that never panics.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated(self.what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A count of records of `record_len` bytes that must fit in what is left,
    /// so a forged count cannot make us reserve memory the section lacks.
    pub(crate) fn count(&mut self, record_len: usize) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.u32()?).map_err(|_| DecodeError::Malformed(self.what))?;
        if n.checked_mul(record_len).is_none_or(|total| total > self.buf.len()) {
            return Err(DecodeError::Truncated(self.what));
        }
        Ok(n)
    }

    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Malformed(self.what))
        }
    }
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Length as the u32 the encoding uses; matchers never approach 4 G entries
/// but a silent wrap would corrupt the bundle, so it is checked.
pub(crate) fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An FST map from sorted, unique keys. Only out-of-order keys make the
/// builder fail and callers sort and deduplicate; should that ever break, an
/// empty map keeps the appliance running rather than panicking.
pub(crate) fn fst_from_sorted(keys: Vec<(Vec<u8>, u64)>) -> fst::Map<Vec<u8>> {
    fst::Map::from_iter(keys).unwrap_or_default()
}

/// Reads an FST back, checking its checksum so that a damaged section is
/// refused here instead of misbehaving during lookups.
pub(crate) fn fst_from_bytes(bytes: Vec<u8>, what: &'static str) -> Result<fst::Map<Vec<u8>>, DecodeError> {
    let map = fst::Map::new(bytes).map_err(|_| DecodeError::Malformed(what))?;
    map.as_fst().verify().map_err(|_| DecodeError::Malformed(what))?;
    Ok(map)
}
