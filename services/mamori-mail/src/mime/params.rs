//! Structured header values: `type/subtype; name=value; ...` with quoted
//! strings, RFC 2231 extended and continued parameters, and the RFC 2047
//! encoded-words many mailers (wrongly, but commonly) put in filenames.

use super::charset::decode_charset;
use super::encoded_word::decode_header_value;

/// Most parameters kept from one header.
const MAX_PARAMS: usize = 64;
/// Most RFC 2231 continuation segments joined for one parameter.
const MAX_SEGMENTS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Param {
    /// Lowercased name, RFC 2231 suffixes included (`filename*0*`).
    name: Vec<u8>,
    value: Vec<u8>,
}

/// A parsed Content-Type or Content-Disposition value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StructuredValue {
    /// The leading token, lowercased and trimmed (`multipart/mixed`,
    /// `attachment`).
    pub value: Vec<u8>,
    params: Vec<Param>,
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// Splits on `;` outside double quotes.
fn split_params(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b';' if !in_quotes => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(v: &[u8]) -> Vec<u8> {
    let v = trim(v);
    let Some(inner) = v.strip_prefix(b"\"") else {
        return v.to_vec();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for &b in inner {
        if escaped {
            out.push(b);
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            break;
        } else {
            out.push(b);
        }
    }
    out
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let hi = s.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = s.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// `charset'language'percent-encoded` → (charset, bytes).
fn split_extended(v: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut parts = v.splitn(3, |&b| b == b'\'');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(cs), Some(_lang), Some(text)) => (cs.to_vec(), percent_decode(text)),
        _ => (Vec::new(), percent_decode(v)),
    }
}

impl StructuredValue {
    pub fn parse(raw: &[u8]) -> StructuredValue {
        let mut pieces = split_params(raw).into_iter();
        let value = trim(pieces.next().unwrap_or_default()).to_ascii_lowercase();
        let mut params = Vec::new();
        for p in pieces.take(MAX_PARAMS) {
            let Some(eq) = p.iter().position(|&b| b == b'=') else {
                continue;
            };
            let name = trim(&p[..eq]).to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            params.push(Param { name, value: unquote(&p[eq + 1..]) });
        }
        StructuredValue { value, params }
    }

    fn raw(&self, name: &[u8]) -> Option<&[u8]> {
        self.params.iter().find(|p| p.name == name).map(|p| p.value.as_slice())
    }

    /// A parameter's bytes exactly as given (unquoted), for values such as
    /// boundaries that must not be reinterpreted.
    pub fn raw_param(&self, name: &[u8]) -> Option<&[u8]> {
        self.raw(name)
    }

    /// A parameter as text: RFC 2231 forms first (`name*`, then `name*0`,
    /// `name*1*`...), then the plain `name`, with RFC 2047 words decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let name = name.as_bytes();
        let mut ext_name = name.to_vec();
        ext_name.push(b'*');
        if let Some(v) = self.raw(&ext_name) {
            let (cs, bytes) = split_extended(v);
            return Some(decode_charset(&cs, &bytes));
        }
        if let Some(joined) = self.continued(name) {
            return Some(joined);
        }
        self.raw(name).map(decode_header_value)
    }

    /// RFC 2231 continuations: `name*0*=utf-8''a%20; name*1="b"`.
    fn continued(&self, name: &[u8]) -> Option<String> {
        let mut segs: Vec<(u32, bool, &[u8])> = Vec::new();
        for p in &self.params {
            let Some(rest) = p.name.strip_prefix(name).and_then(|r| r.strip_prefix(b"*")) else {
                continue;
            };
            let (digits, encoded) = match rest.strip_suffix(b"*") {
                Some(d) => (d, true),
                None => (rest, false),
            };
            if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
                continue;
            }
            let idx = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            if segs.len() < MAX_SEGMENTS {
                segs.push((idx, encoded, &p.value));
            }
        }
        if segs.is_empty() {
            return None;
        }
        segs.sort_by_key(|s| s.0);
        let mut charset = Vec::new();
        let mut bytes = Vec::new();
        for (idx, encoded, v) in segs {
            if !encoded {
                bytes.extend_from_slice(v);
            } else if idx == 0 {
                let (cs, b) = split_extended(v);
                charset = cs;
                bytes.extend_from_slice(&b);
            } else {
                bytes.extend_from_slice(&percent_decode(v));
            }
        }
        if charset.is_empty() {
            return Some(decode_header_value(&bytes));
        }
        Some(decode_charset(&charset, &bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_with_quoted_boundary() {
        let v = StructuredValue::parse(b"Multipart/Mixed; boundary=\"=_a;b\\\"c\"; charset=utf-8");
        assert_eq!(v.value, b"multipart/mixed");
        assert_eq!(v.param("boundary").unwrap(), "=_a;b\"c");
        assert_eq!(v.param("charset").unwrap(), "utf-8");
        assert_eq!(v.param("missing"), None);
    }

    #[test]
    fn rfc2231_extended_japanese() {
        // "見積書.pdf" in UTF-8, percent-encoded.
        let v = StructuredValue::parse(
            b"attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf; filename=\"fallback.pdf\"",
        );
        assert_eq!(v.value, b"attachment");
        assert_eq!(v.param("filename").unwrap(), "見積書.pdf");
    }

    #[test]
    fn rfc2231_continuations_with_charset() {
        // "日本語の資料.txt" as ISO-2022-JP split over three segments, out of order.
        let v = StructuredValue::parse(
            b"attachment;\r\n filename*1*=%24%4E%3B%71%4E%41%1B%28%42;\r\n filename*0*=ISO-2022-JP'ja'%1B%24%42%46%7C%4B%5C%38%6C;\r\n filename*2=\".txt\"",
        );
        assert_eq!(v.param("filename").unwrap(), "日本語の資料.txt");
    }

    #[test]
    fn rfc2231_plain_continuations() {
        let v = StructuredValue::parse(b"attachment; filename*0=\"long_\"; filename*1=\"name.doc\"");
        assert_eq!(v.param("filename").unwrap(), "long_name.doc");
    }

    #[test]
    fn rfc2047_in_quoted_filename() {
        // Outlook / many Japanese mailers: encoded-word inside quotes.
        let v = StructuredValue::parse(b"application/pdf; name=\"=?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=.pdf\"");
        assert_eq!(v.param("name").unwrap(), "会議.pdf");
        let v = StructuredValue::parse(b"attachment; filename=\"=?Shift_JIS?B?k/qWe4zqLnR4dA==?=\"");
        assert_eq!(v.param("filename").unwrap(), "日本語.txt");
    }

    #[test]
    fn garbage_does_not_break() {
        let v = StructuredValue::parse(b";;=;\"unterminated; x=1");
        assert_eq!(v.value, b"");
        let v = StructuredValue::parse(b"text/plain; name*999999*=x; name*0*=%ZZ");
        assert_eq!(v.param("name").unwrap(), "%ZZ");
    }
}
