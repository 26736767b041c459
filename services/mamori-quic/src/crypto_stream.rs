//! Reassembly of one direction's CRYPTO stream from frames that arrive in any
//! order, across packets and datagrams.

/// Most CRYPTO bytes kept per direction (a post-quantum ClientHello is ~2 KiB).
pub const MAX_CRYPTO_STREAM: usize = 64 * 1024;
/// Most disjoint pieces tracked; more means a hostile sender.
const MAX_RANGES: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CryptoError {
    /// Data beyond [`MAX_CRYPTO_STREAM`].
    TooLong,
    TooFragmented,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct CryptoStream {
    buf: Vec<u8>,
    /// Received byte ranges, sorted and disjoint (merged when touching).
    ranges: Vec<(usize, usize)>,
}

impl CryptoStream {
    pub(crate) fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), CryptoError> {
        if data.is_empty() {
            return Ok(());
        }
        let start = usize::try_from(offset).map_err(|_| CryptoError::TooLong)?;
        let end = start.checked_add(data.len()).filter(|&e| e <= MAX_CRYPTO_STREAM).ok_or(CryptoError::TooLong)?;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(data);
        }
        self.add_range(start, end)
    }

    fn add_range(&mut self, mut start: usize, mut end: usize) -> Result<(), CryptoError> {
        let mut merged = Vec::with_capacity(self.ranges.len() + 1);
        for &(s, e) in &self.ranges {
            if e < start || s > end {
                merged.push((s, e));
            } else {
                start = start.min(s);
                end = end.max(e);
            }
        }
        merged.push((start, end));
        merged.sort_unstable();
        if merged.len() > MAX_RANGES {
            return Err(CryptoError::TooFragmented);
        }
        self.ranges = merged;
        Ok(())
    }

    /// The bytes received without a hole from offset 0.
    pub(crate) fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => self.buf.get(..end).unwrap_or_default(),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_and_overlapping_pieces() {
        let mut s = CryptoStream::default();
        s.insert(6, b"world").expect("fits");
        assert_eq!(s.contiguous(), b"");
        s.insert(0, b"hel").expect("fits");
        assert_eq!(s.contiguous(), b"hel");
        s.insert(2, b"llo ").expect("fits");
        assert_eq!(s.contiguous(), b"hello world");
        s.insert(0, b"hello").expect("duplicates are fine");
        assert_eq!(s.contiguous(), b"hello world");
    }

    #[test]
    fn bounds() {
        let mut s = CryptoStream::default();
        assert_eq!(s.insert(MAX_CRYPTO_STREAM as u64, b"x"), Err(CryptoError::TooLong));
        assert_eq!(s.insert(u64::MAX, b"x"), Err(CryptoError::TooLong));
        s.insert((MAX_CRYPTO_STREAM - 1) as u64, b"x").expect("last byte fits");
        let mut s = CryptoStream::default();
        let mut result = Ok(());
        for i in 0..=MAX_RANGES as u64 {
            result = s.insert(i * 2 + 1, b"x");
        }
        assert_eq!(result, Err(CryptoError::TooFragmented));
    }
}
