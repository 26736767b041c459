//! The file name a body gets: Content-Disposition's filename when given,
//! otherwise the request path, as Suricata names HTTP files in
//! `fileinfo.filename`.

use crate::headers::trim;

/// Longest name kept; longer names are cut.
pub(crate) const MAX_NAME: usize = 1024;

/// Splits `a; b="x;y"; c` at semicolons outside quotes.
fn params(v: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, &c) in v.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                out.push(v.get(start..i).unwrap_or(&[]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(v.get(start..).unwrap_or(&[]));
    out
}

fn unquote(v: &[u8]) -> Vec<u8> {
    let v = trim(v);
    let Some(inner) = v.strip_prefix(b"\"") else {
        return v.to_vec();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for &c in inner {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        } else if c == b'"' {
            break;
        } else {
            out.push(c);
        }
    }
    out
}

fn percent_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        if c == b'%' {
            let hi = v.get(i + 1).and_then(|&h| (h as char).to_digit(16));
            let lo = v.get(i + 2).and_then(|&l| (l as char).to_digit(16));
            if let (Some(h), Some(l)) = (hi, lo) {
                out.push(((h << 4) | l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Filename from a Content-Disposition value. `filename=` wins over the
/// RFC 5987 `filename*=` form because that is what Suricata reports.
pub(crate) fn content_disposition_filename(v: &[u8]) -> Option<Vec<u8>> {
    let mut extended = None;
    for p in params(v).into_iter().skip(1) {
        let p = trim(p);
        let Some(eq) = p.iter().position(|&c| c == b'=') else {
            continue;
        };
        let key = trim(p.get(..eq).unwrap_or(&[]));
        let val = p.get(eq + 1..).unwrap_or(&[]);
        if key.eq_ignore_ascii_case(b"filename") {
            let name = unquote(val);
            if !name.is_empty() {
                return Some(cap(name));
            }
        } else if key.eq_ignore_ascii_case(b"filename*") && extended.is_none() {
            // charset'language'percent-encoded
            let raw = unquote(val);
            let enc = match memchr::memrchr(b'\'', &raw) {
                Some(i) => raw.get(i + 1..).unwrap_or(&[]).to_vec(),
                None => raw,
            };
            let name = percent_decode(&enc);
            if !name.is_empty() {
                extended = Some(cap(name));
            }
        }
    }
    extended
}

fn cap(mut name: Vec<u8>) -> Vec<u8> {
    name.truncate(MAX_NAME);
    name
}

/// Name of a body's file: the disposition filename, else the normalised
/// request path (without query).
pub(crate) fn file_name(disposition: Option<&[u8]>, normalized_uri: &[u8]) -> Vec<u8> {
    if let Some(name) = disposition.and_then(content_disposition_filename) {
        return name;
    }
    let path = match memchr::memchr(b'?', normalized_uri) {
        Some(i) => normalized_uri.get(..i).unwrap_or(&[]),
        None => normalized_uri,
    };
    cap(path.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cd(v: &str) -> Option<String> {
        content_disposition_filename(v.as_bytes()).map(|n| String::from_utf8(n).unwrap())
    }

    #[test]
    fn disposition_forms() {
        assert_eq!(cd(r#"attachment; filename="eicar.txt""#).as_deref(), Some("eicar.txt"));
        assert_eq!(cd("attachment; filename=eicar.txt").as_deref(), Some("eicar.txt"));
        assert_eq!(cd(r#"attachment;FILENAME = "a;b.txt" ; x=y"#).as_deref(), Some("a;b.txt"));
        assert_eq!(cd(r#"attachment; filename="q\"x.txt""#).as_deref(), Some("q\"x.txt"));
        assert_eq!(cd("attachment; filename*=UTF-8''na%C3%AFve.txt").as_deref(), Some("naïve.txt"));
        assert_eq!(cd("attachment; filename*=UTF-8''x.bin; filename=\"y.bin\"").as_deref(), Some("y.bin"));
        assert_eq!(cd("inline"), None);
        assert_eq!(cd(r#"attachment; filename="""#), None);
    }

    #[test]
    fn falls_back_to_path() {
        assert_eq!(file_name(None, b"/a/b.exe?x=1"), b"/a/b.exe");
        assert_eq!(file_name(Some(b"inline"), b"/a"), b"/a");
        assert_eq!(file_name(Some(b"attachment; filename=z"), b"/a"), b"z");
        assert_eq!(file_name(None, &[b'a'; 5000]).len(), MAX_NAME);
    }
}
