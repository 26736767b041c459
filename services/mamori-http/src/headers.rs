//! Header fields as stored on a transaction, and lookups that tolerate the
//! spellings browsers tolerate (`Content\0-Encoding`, `Transfer-Encoding\t`).

use smallvec::SmallVec;

/// One header field, name and value trimmed of surrounding whitespace and
/// folded lines joined with a space. Raw bytes: not necessarily UTF-8.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `name: value`, the form `http.request_header` and
    /// `http.response_header` inspect. Held inline up to [`INLINE`] bytes:
    /// a field apiece was a fifth of a short HTTP connection's allocations,
    /// and most fields (`Host`, `Date`, `Content-Type`, `Connection`) are
    /// shorter.
    bytes: SmallVec<[u8; INLINE]>,
    name_len: usize,
}

const INLINE: usize = 48;

/// Between a field's name and value in [`Header::line`].
const SEPARATOR: &[u8] = b": ";

impl Header {
    pub fn new(name: &[u8], value: &[u8]) -> Header {
        let mut bytes = SmallVec::with_capacity(name.len() + SEPARATOR.len() + value.len());
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(SEPARATOR);
        bytes.extend_from_slice(value);
        Header { bytes, name_len: name.len() }
    }

    pub fn name(&self) -> &[u8] {
        self.bytes.get(..self.name_len).unwrap_or_default()
    }

    pub fn value(&self) -> &[u8] {
        self.bytes.get(self.name_len + SEPARATOR.len()..).unwrap_or_default()
    }

    /// `name: value`.
    pub fn line(&self) -> &[u8] {
        &self.bytes
    }
}

/// Whitespace as libhtp trims it around names and values: SP, HT, CR, LF,
/// VT, FF and NUL.
pub(crate) fn is_trim_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c | 0)
}

pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_trim_ws(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_trim_ws(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// RFC 9110 token characters.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// Compares a received header name with a lowercase ASCII key the way
/// libhtp does: case-insensitive, ignoring NUL bytes and surrounding
/// whitespace.
pub(crate) fn name_is(name: &[u8], key: &str) -> bool {
    // Trimming and dropping NULs only shorten a name, and a key has neither:
    // a name no longer than the key matches only as it is. Most lookups end
    // here (every field is looked up for a dozen keys).
    match name.len().cmp(&key.len()) {
        std::cmp::Ordering::Less => return false,
        std::cmp::Ordering::Equal => return name.eq_ignore_ascii_case(key.as_bytes()),
        std::cmp::Ordering::Greater => {}
    }
    let mut it = trim(name).iter().filter(|&&c| c != 0);
    let mut key = key.bytes();
    loop {
        match (it.next(), key.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.to_ascii_lowercase() == b => {}
            _ => return false,
        }
    }
}

/// Lookups over an ordered header list.
pub(crate) trait HeaderLookup {
    fn header_values<'a>(&'a self, key: &'static str) -> impl Iterator<Item = &'a [u8]> + 'a;

    /// First value of the field.
    fn header(&self, key: &'static str) -> Option<&[u8]> {
        self.header_values(key).next()
    }

    /// All values of a repeated field joined with ", ", as libhtp merges
    /// repeated headers.
    fn header_joined(&self, key: &'static str) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for v in self.header_values(key) {
            match out.as_mut() {
                None => out = Some(v.to_vec()),
                Some(o) => {
                    o.extend_from_slice(b", ");
                    o.extend_from_slice(v);
                }
            }
        }
        out
    }
}

impl HeaderLookup for [Header] {
    fn header_values<'a>(&'a self, key: &'static str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter().filter(move |h| name_is(h.name(), key)).map(Header::value)
    }
}

/// Case-insensitive substring search that ignores NUL bytes in the haystack
/// (libhtp's `index_of_nocase_nozero`).
pub(crate) fn contains_nocase_nozero(hay: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return true;
    }
    let hay: Vec<u8> = hay.iter().filter(|&&c| c != 0).map(|c| c.to_ascii_lowercase()).collect();
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_keeps_name_value_and_the_joined_line() {
        let f = Header::new(b"Host", b"example.com");
        assert_eq!((f.name(), f.value(), f.line()), (&b"Host"[..], &b"example.com"[..], &b"Host: example.com"[..]));
        let f = Header::new(b"", b": x");
        assert_eq!((f.name(), f.value(), f.line()), (&b""[..], &b": x"[..], &b": : x"[..]));
    }

    fn h(name: &str, value: &str) -> Header {
        Header::new(name.as_bytes(), value.as_bytes())
    }

    #[test]
    fn names_match_case_nul_and_whitespace_insensitively() {
        assert!(name_is(b"Content-Encoding", "content-encoding"));
        assert!(name_is(b"Content\0-encoding", "content-encoding"));
        assert!(name_is(b"Transfer-Encoding\x0b", "transfer-encoding"));
        assert!(name_is(b"\r\rTransfer-Encoding", "transfer-encoding"));
        assert!(!name_is(b"Content-Encodings", "content-encoding"));
        assert!(!name_is(b"Content-Encodin", "content-encoding"));
        assert!(!name_is(b"Content-Encodin\0", "content-encoding"), "as long as the key, but one byte is dropped");
        assert!(name_is(b"CONTENT-ENCODING", "content-encoding"));
    }

    #[test]
    fn repeated_fields_join_in_order() {
        let list = [h("Accept", "a"), h("X", "1"), h("accept", "b")];
        assert_eq!(list.header_joined("accept").unwrap(), b"a, b");
        assert_eq!(list.header("accept").unwrap(), b"a");
        assert!(list.header_joined("missing").is_none());
    }

    #[test]
    fn trim_strips_libhtp_whitespace() {
        assert_eq!(trim(b" \t68\x0c\0 "), b"68");
        assert_eq!(trim(b"   "), b"");
        assert_eq!(trim(b"68\xa0"), b"68\xa0");
    }

    #[test]
    fn substring_ignores_case_and_nul() {
        assert!(contains_nocase_nozero(b"x, CHUN\0KED", "chunked"));
        assert!(!contains_nocase_nozero(b"chunke", "chunked"));
    }
}
