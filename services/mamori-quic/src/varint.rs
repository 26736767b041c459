//! QUIC variable-length integers (RFC 9000 16). Hand-written: four cases,
//! and no QUIC crate exposes them without pulling in a whole stack.

/// Reads one varint from the front of `b`; `None` if `b` is too short.
pub(crate) fn read(b: &[u8]) -> Option<(u64, &[u8])> {
    let first = *b.first()?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(..len)?;
    let mut v = u64::from(first & 0x3f);
    for byte in bytes.iter().skip(1) {
        v = (v << 8) | u64::from(*byte);
    }
    Some((v, b.get(len..)?))
}

/// Reads a varint that is used as a length into `b`'s remainder.
pub(crate) fn read_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let (v, rest) = read(b)?;
    Some((usize::try_from(v).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 9000 A.1 examples.
    #[test]
    fn rfc_examples() {
        assert_eq!(read(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]), Some((151_288_809_941_952_652, &[][..])));
        assert_eq!(read(&[0x9d, 0x7f, 0x3e, 0x7d, 0xaa]), Some((494_878_333, &[0xaa][..])));
        assert_eq!(read(&[0x7b, 0xbd]), Some((15_293, &[][..])));
        assert_eq!(read(&[0x25]), Some((37, &[][..])));
        assert_eq!(read(&[0x40, 0x25]), Some((37, &[][..])));
    }

    #[test]
    fn short_input() {
        assert_eq!(read(&[]), None);
        assert_eq!(read(&[0x40]), None);
        assert_eq!(read(&[0xc0, 1, 2, 3, 4, 5, 6]), None);
    }
}
