//! How long a message body is, and how it is encoded, from its headers.

use crate::headers::{contains_nocase_nozero, trim, Header, HeaderLookup};

/// What the Content-Length fields of a message say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentLength {
    Absent,
    /// Every Content-Length field is a clean number and they agree.
    Valid(u64),
    /// Junk around the number, several numbers, or fields that disagree.
    /// `lenient` is libhtp's reading of the first field: digits after any
    /// leading junk.
    Ambiguous {
        lenient: Option<u64>,
        duplicate: bool,
    },
}

fn parse_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &c| {
        if !c.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
}

/// Strict reading: only digits between whitespace.
pub(crate) fn parse_cl_strict(v: &[u8]) -> Option<u64> {
    parse_digits(trim(v))
}

/// libhtp's reading: skip anything before the first digit, read digits,
/// ignore the rest.
pub(crate) fn parse_cl_lenient(v: &[u8]) -> Option<u64> {
    let start = v.iter().position(u8::is_ascii_digit)?;
    let rest = v.get(start..)?;
    let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    parse_digits(rest.get(..len)?)
}

pub(crate) fn content_length(headers: &[Header]) -> ContentLength {
    let mut values = headers.header_values("content-length");
    let Some(first) = values.next() else {
        return ContentLength::Absent;
    };
    let first_strict = parse_cl_strict(first);
    let mut duplicate = false;
    let mut agree = first_strict.is_some();
    for v in values {
        duplicate = true;
        if parse_cl_strict(v) != first_strict {
            agree = false;
        }
    }
    match (agree, first_strict) {
        (true, Some(n)) => ContentLength::Valid(n),
        _ => ContentLength::Ambiguous { lenient: parse_cl_lenient(first), duplicate },
    }
}

/// Transfer-Encoding as libhtp reads it: "chunked" anywhere in any
/// Transfer-Encoding field, any case, NULs ignored (http-evader
/// "chunked,", ",chunked", "x chunked", repeated fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransferEncoding {
    Absent,
    Chunked {
        /// The field was something other than exactly `chunked`.
        abnormal: bool,
    },
    /// Present but without chunked (ignored, like browsers do).
    Other,
}

pub(crate) fn transfer_encoding(headers: &[Header]) -> TransferEncoding {
    let mut seen = false;
    let mut chunked = false;
    let mut abnormal = false;
    for v in headers.header_values("transfer-encoding") {
        if seen {
            abnormal = true;
        }
        seen = true;
        if contains_nocase_nozero(v, "chunked") {
            chunked = true;
            if !trim(v).eq_ignore_ascii_case(b"chunked") {
                abnormal = true;
            }
        }
    }
    match (seen, chunked) {
        (false, _) => TransferEncoding::Absent,
        (true, true) => TransferEncoding::Chunked { abnormal },
        (true, false) => TransferEncoding::Other,
    }
}

/// A content coding we can undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

/// Content codings in the order they were applied (first listed first),
/// with a flag telling whether an unknown coding was skipped.
pub(crate) fn content_codings(headers: &[Header]) -> (Vec<Coding>, bool) {
    let mut out = Vec::new();
    let mut unknown = false;
    for v in headers.header_values("content-encoding") {
        for token in v.split(|&c| c == b',') {
            // Browsers shrug off junk around the token (NUL, VT, FF, NBSP:
            // http-evader "deflate\0", "\xa0deflate").
            let token: Vec<u8> = token.iter().filter(|&&c| c != 0).map(u8::to_ascii_lowercase).collect();
            let start = token.iter().position(|c| c.is_ascii_alphanumeric());
            let end = token.iter().rposition(|c| c.is_ascii_alphanumeric());
            let word = match (start, end) {
                (Some(s), Some(e)) => token.get(s..=e).unwrap_or(&[]),
                _ => continue,
            };
            match word {
                b"gzip" | b"x-gzip" => out.push(Coding::Gzip),
                b"deflate" | b"x-deflate" => out.push(Coding::Deflate),
                b"br" => out.push(Coding::Brotli),
                b"identity" => {}
                _ => unknown = true,
            }
        }
    }
    (out, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(pairs: &[(&str, &[u8])]) -> Vec<Header> {
        pairs.iter().map(|(n, v)| Header::new(n.as_bytes(), v)).collect()
    }

    #[test]
    fn content_length_cases() {
        assert_eq!(content_length(&hs(&[])), ContentLength::Absent);
        assert_eq!(content_length(&hs(&[("Content-Length", b"68")])), ContentLength::Valid(68));
        assert_eq!(
            content_length(&hs(&[("Content-Length", b"68"), ("content-length", b" 68 ")])),
            ContentLength::Valid(68)
        );
        assert_eq!(
            content_length(&hs(&[("Content-Length", b"68"), ("Content-Length", b"34")])),
            ContentLength::Ambiguous { lenient: Some(68), duplicate: true }
        );
        assert_eq!(
            content_length(&hs(&[("Content-Length", b"34 68")])),
            ContentLength::Ambiguous { lenient: Some(34), duplicate: false }
        );
        assert_eq!(
            content_length(&hs(&[("Content-Length", b",68")])),
            ContentLength::Ambiguous { lenient: Some(68), duplicate: false }
        );
        assert_eq!(
            content_length(&hs(&[("Content-Length", b"99999999999999999999999")])),
            ContentLength::Ambiguous { lenient: None, duplicate: false }
        );
    }

    #[test]
    fn chunked_detection_is_substring_based() {
        let te = |v: &[u8]| transfer_encoding(&hs(&[("Transfer-Encoding", v)]));
        assert_eq!(te(b"chunked"), TransferEncoding::Chunked { abnormal: false });
        assert_eq!(te(b",chunked"), TransferEncoding::Chunked { abnormal: true });
        assert_eq!(te(b"x chunked"), TransferEncoding::Chunked { abnormal: true });
        assert_eq!(te(b"gzip"), TransferEncoding::Other);
        assert_eq!(te(b"=?UTF-8?B?Y2h1bmtlZAo=?="), TransferEncoding::Other);
        assert_eq!(transfer_encoding(&hs(&[])), TransferEncoding::Absent);
        let many = hs(&[("Transfer-Encoding", b"lalala"), ("Transfer-Encoding", b"chunked")]);
        assert_eq!(transfer_encoding(&many), TransferEncoding::Chunked { abnormal: true });
    }

    #[test]
    fn codings_tolerate_junk() {
        let ce = |v: &[u8]| content_codings(&hs(&[("Content-Encoding", v)]));
        assert_eq!(ce(b"gzip"), (vec![Coding::Gzip], false));
        assert_eq!(ce(b"deflate,"), (vec![Coding::Deflate], false));
        assert_eq!(ce(b"deflate , deflate"), (vec![Coding::Deflate, Coding::Deflate], false));
        assert_eq!(ce(b"deflate\0"), (vec![Coding::Deflate], false));
        assert_eq!(ce(b"\xa0deflate"), (vec![Coding::Deflate], false));
        assert_eq!(ce(b"deflate\x0b"), (vec![Coding::Deflate], false));
        assert_eq!(ce(b"X-GZIP, br"), (vec![Coding::Gzip, Coding::Brotli], false));
        assert_eq!(ce(b"identity"), (vec![], false));
        assert_eq!(ce(b"compress"), (vec![], true));
    }
}
