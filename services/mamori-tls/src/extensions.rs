//! Splitting a hello's extension block into (type, body) pairs.
//!
//! Hand-written on purpose: tls-parser's list parsers reject the whole list
//! when one extension body is malformed, but fingerprints (JA3/JA4) need the
//! type of every extension in wire order even when one body is odd. Bodies of
//! the extensions we care about are then decoded one by one with tls-parser.

/// One extension as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawExtension<'a> {
    pub typ: u16,
    /// The body, without the 4-byte type/length header.
    pub body: &'a [u8],
    /// Type, length and body: what tls-parser's per-extension parsers expect.
    pub whole: &'a [u8],
}

/// Result of splitting an extension block.
pub(crate) struct Split<'a> {
    pub extensions: Vec<RawExtension<'a>>,
    /// True when the block ended inside an extension header or body.
    pub truncated: bool,
}

pub(crate) fn split(block: &[u8]) -> Split<'_> {
    let mut extensions = Vec::new();
    let mut rest = block;
    loop {
        if rest.is_empty() {
            return Split { extensions, truncated: false };
        }
        let Some((typ, len)) = header(rest) else {
            return Split { extensions, truncated: true };
        };
        let end = 4 + usize::from(len);
        let (Some(whole), Some(body)) = (rest.get(..end), rest.get(4..end)) else {
            return Split { extensions, truncated: true };
        };
        extensions.push(RawExtension { typ, body, whole });
        rest = rest.get(end..).unwrap_or_default();
    }
}

fn header(b: &[u8]) -> Option<(u16, u16)> {
    match b {
        [t0, t1, l0, l1, ..] => Some((u16::from_be_bytes([*t0, *t1]), u16::from_be_bytes([*l0, *l1]))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_in_order_and_keeps_empty_bodies() {
        let block = [0x00, 0x17, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00];
        let s = split(&block);
        assert!(!s.truncated);
        let types: Vec<u16> = s.extensions.iter().map(|e| e.typ).collect();
        assert_eq!(types, vec![0x0017, 0xff01]);
        assert_eq!(s.extensions[1].body, &[0x00]);
        assert_eq!(s.extensions[1].whole.len(), 5);
    }

    #[test]
    fn reports_truncation_but_keeps_what_came_before() {
        let block = [0x00, 0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x01];
        let s = split(&block);
        assert!(s.truncated);
        assert_eq!(s.extensions.len(), 1);
        let s = split(&[0x00, 0x17, 0x00]);
        assert!(s.truncated);
        assert!(s.extensions.is_empty());
    }
}
