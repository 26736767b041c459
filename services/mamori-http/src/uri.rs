//! Request targets: splitting, host extraction and the normalisation behind
//! Suricata's `http.uri` (as opposed to `http.uri.raw`).
//!
//! Hand-written: the `url` crate would reject or rewrite the malformed
//! targets an IDS must still inspect, and works on `str`, not raw bytes.

/// The parts of a request target the parser needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    /// Authority of an absolute-form target (`http://host:port/...`) or of
    /// a CONNECT authority-form target.
    pub authority: Option<&'a [u8]>,
    pub path: &'a [u8],
    pub query: Option<&'a [u8]>,
}

pub(crate) fn split_target(raw: &[u8]) -> Target<'_> {
    let (before_frag, _) = split_at_byte(raw, b'#');
    if let Some(scheme_end) = find(before_frag, b"://") {
        let scheme = before_frag.get(..scheme_end).unwrap_or(&[]);
        if !scheme.is_empty() && scheme.iter().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)) {
            let after = before_frag.get(scheme_end + 3..).unwrap_or(&[]);
            let auth_len = after.iter().position(|&c| c == b'/' || c == b'?').unwrap_or(after.len());
            let (authority, rest) = after.split_at(auth_len);
            let (path, query) = split_at_byte(rest, b'?');
            return Target { authority: Some(authority), path, query };
        }
    }
    if !before_frag.starts_with(b"/") && !before_frag.starts_with(b"*") && !before_frag.contains(&b'/') {
        // CONNECT host:port
        if before_frag.contains(&b':') {
            return Target { authority: Some(before_frag), path: &[], query: None };
        }
    }
    let (path, query) = split_at_byte(before_frag, b'?');
    Target { authority: None, path, query }
}

fn split_at_byte(s: &[u8], b: u8) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(b, s) {
        Some(i) => (s.get(..i).unwrap_or(&[]), s.get(i + 1..)),
        None => (s, None),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Host (lowercased, without port or userinfo) and port of an authority or
/// Host header value. IPv6 literals keep their brackets.
pub(crate) fn parse_authority(a: &[u8]) -> (Vec<u8>, Option<u16>) {
    let a = crate::headers::trim(a);
    let a = match memchr::memrchr(b'@', a) {
        Some(i) => a.get(i + 1..).unwrap_or(&[]),
        None => a,
    };
    let (host, port) = if a.starts_with(b"[") {
        match memchr::memchr(b']', a) {
            Some(i) => (a.get(..=i).unwrap_or(&[]), a.get(i + 1..).and_then(|r| r.strip_prefix(b":"))),
            None => (a, None),
        }
    } else {
        match memchr::memchr(b':', a) {
            Some(i) => (a.get(..i).unwrap_or(&[]), a.get(i + 1..)),
            None => (a, None),
        }
    };
    let port = port.and_then(parse_port);
    (crate::headers::trim(host).to_ascii_lowercase(), port)
}

fn parse_port(p: &[u8]) -> Option<u16> {
    let p = crate::headers::trim(p);
    if p.is_empty() || p.len() > 5 || !p.iter().all(u8::is_ascii_digit) {
        return None;
    }
    p.iter()
        .try_fold(0u32, |acc, d| acc.checked_mul(10)?.checked_add(u32::from(d - b'0')))
        .and_then(|v| u16::try_from(v).ok())
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Decodes `%XX` escapes of unreserved characters and upper-cases the hex
/// of the escapes kept (RFC 3986 §6.2.2.1-2).
fn decode_unreserved(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    push_unreserved_decoded(s, &mut out);
    out
}

/// [`decode_unreserved`] appended to `out`; input without escapes, the
/// common case, is copied as it is.
fn push_unreserved_decoded(s: &[u8], out: &mut Vec<u8>) {
    if memchr::memchr(b'%', s).is_none() {
        out.extend_from_slice(s);
        return;
    }
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'%' {
            if let (Some(h), Some(l)) =
                (s.get(i + 1).copied().and_then(hex_val), s.get(i + 2).copied().and_then(hex_val))
            {
                let v = (h << 4) | l;
                if is_unreserved(v) {
                    out.push(v);
                } else {
                    out.push(b'%');
                    out.extend(s.get(i + 1..i + 3).unwrap_or(&[]).iter().map(u8::to_ascii_uppercase));
                }
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
}

/// RFC 3986 §5.2.4 dot-segment removal, after collapsing repeated slashes.
fn remove_dots(path: &[u8]) -> Vec<u8> {
    let absolute = path.starts_with(b"/");
    let mut segs: Vec<&[u8]> = Vec::new();
    let parts: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
    let last = parts.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            b"" => {
                // Empty segments are doubled slashes (collapsed) or the
                // leading/trailing slash.
                if i == last && i > 0 {
                    trailing_slash = true;
                }
            }
            b"." => trailing_slash = i == last,
            b".." => {
                segs.pop();
                trailing_slash = i == last;
            }
            s => {
                segs.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = Vec::with_capacity(path.len());
    if absolute {
        out.push(b'/');
    }
    for (i, s) in segs.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(s);
    }
    if trailing_slash && !segs.is_empty() {
        out.push(b'/');
    }
    out
}

/// Normalised path: unreserved escapes decoded, `//` collapsed, `.` and
/// `..` segments removed.
pub fn normalize_path(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    push_normal_path(path, &mut out);
    out
}

fn push_normal_path(path: &[u8], out: &mut Vec<u8>) {
    if is_normal_path(path) {
        out.extend_from_slice(path);
    } else {
        out.extend_from_slice(&remove_dots(&decode_unreserved(path)));
    }
}

/// A path without escapes, doubled slashes or `.` and `..` segments is its
/// own normal form; most are, and they need none of the copies the general
/// case makes.
fn is_normal_path(path: &[u8]) -> bool {
    memchr::memchr(b'%', path).is_none()
        && memchr::memmem::find(path, b"//").is_none()
        && !path.split(|&c| c == b'/').any(|seg| seg == b"." || seg == b"..")
}

/// Normalised request URI as Suricata's `http.uri`: normalised path plus
/// query (escape hex upper-cased, nothing else changed). The scheme and
/// authority of an absolute-form target are dropped; a CONNECT authority is
/// kept as is.
pub fn normalize_uri(raw: &[u8]) -> Vec<u8> {
    let t = split_target(raw);
    if t.authority.is_some() && t.path.is_empty() && t.query.is_none() {
        if find(raw, b"://").is_some() {
            return b"/".to_vec();
        }
        return raw.to_vec();
    }
    if t.path == b"*" {
        return b"*".to_vec();
    }
    let mut out = Vec::with_capacity(t.path.len().max(1) + t.query.map_or(0, |q| q.len() + 1));
    if t.path.is_empty() {
        out.push(b'/');
    } else {
        push_normal_path(t.path, &mut out);
    }
    if let Some(q) = t.query {
        out.push(b'?');
        push_unreserved_decoded(q, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        String::from_utf8(normalize_uri(s.as_bytes())).unwrap()
    }

    #[test]
    fn dot_segments_and_slashes() {
        assert_eq!(n("/a/./b/../c"), "/a/c");
        assert_eq!(n("/a//b///c"), "/a/b/c");
        assert_eq!(n("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(n("/a/b/.."), "/a/");
        assert_eq!(n("/a/b/."), "/a/b/");
        assert_eq!(n("/a/"), "/a/");
        assert_eq!(n("/"), "/");
        assert_eq!(n("/a//../b"), "/b");
    }

    #[test]
    fn paths_taken_as_they_are_equal_their_normal_form() {
        // Every path of up to six bytes over the bytes that matter.
        let alphabet = b"/.a%4e";
        let mut paths: Vec<Vec<u8>> = vec![Vec::new()];
        let mut plain = 0;
        for _ in 0..6 {
            let longer: Vec<Vec<u8>> = paths
                .iter()
                .filter(|p| p.len() == paths.last().map_or(0, Vec::len))
                .flat_map(|p| alphabet.iter().map(move |&c| [p.as_slice(), &[c]].concat()))
                .collect();
            paths.extend(longer);
        }
        for p in &paths {
            let general = remove_dots(&decode_unreserved(p));
            assert_eq!(normalize_path(p), general, "{:?}", String::from_utf8_lossy(p));
            plain += usize::from(is_normal_path(p));
        }
        assert!(plain > 1000, "the shortcut is taken: {plain} of {}", paths.len());
    }

    #[test]
    fn percent_decoding_of_unreserved_only() {
        assert_eq!(n("/a/%2e%2E/x"), "/x");
        assert_eq!(n("/%41%2e%2E/x"), "/A../x");
        assert_eq!(n("/%7euser"), "/~user");
        assert_eq!(n("/a%2fb%20c"), "/a%2Fb%20c");
        assert_eq!(n("/bad%zz%4"), "/bad%zz%4");
        assert_eq!(n("/p?q=%41&r=%2f"), "/p?q=A&r=%2F");
    }

    #[test]
    fn absolute_and_special_targets() {
        assert_eq!(n("http://Example.com:8080/a/../b?x"), "/b?x");
        assert_eq!(n("http://example.com"), "/");
        assert_eq!(n("*"), "*");
        assert_eq!(n("example.com:443"), "example.com:443");
        assert_eq!(n("/a#frag"), "/a");
    }

    #[test]
    fn authorities() {
        assert_eq!(parse_authority(b"Evader.Example.com"), (b"evader.example.com".to_vec(), None));
        assert_eq!(parse_authority(b" host:8065 "), (b"host".to_vec(), Some(8065)));
        assert_eq!(parse_authority(b"[::1]:80"), (b"[::1]".to_vec(), Some(80)));
        assert_eq!(parse_authority(b"u:p@h:99999"), (b"h".to_vec(), None));
        let t = split_target(b"http://u@h:1/p?q");
        assert_eq!(t.authority, Some(&b"u@h:1"[..]));
        assert_eq!(t.path, b"/p");
        assert_eq!(t.query, Some(&b"q"[..]));
    }
}
