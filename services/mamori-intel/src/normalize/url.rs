use std::fmt;

use super::domain::normalize_domain;
use super::NormalizeError;

/// A URL in canonical form.
///
/// `key` is `host[:port]/path[?query]` without the scheme: lists write the
/// same resource as http or https, and a phishing page must be caught either
/// way. User info and fragment are dropped (never sent to the server / not
/// part of what is fetched).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NormUrl {
    scheme: String,
    key: String,
}

impl NormUrl {
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The match key: `host[:port]/path[?query]`.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn host(&self) -> &str {
        let end = self.key.find(['/', '?']).unwrap_or(self.key.len());
        let hostport = self.key.get(..end).unwrap_or("");
        if hostport.starts_with('[') {
            return hostport.split_inclusive(']').next().unwrap_or(hostport);
        }
        hostport.split(':').next().unwrap_or(hostport)
    }
}

impl fmt::Display for NormUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.key)
    }
}

/// Normalizes a URL as RFC 3986 section 6 describes: scheme and host case,
/// IDNA host, default port removed, trailing host dot removed, dot-segments
/// resolved, percent-encoded unreserved characters decoded and remaining
/// escapes upper-cased, fragment dropped. A URL without a scheme (UT1 writes
/// `host/path`) is taken as http.
pub fn normalize_url(input: &str) -> Result<NormUrl, NormalizeError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if !has_scheme(t) && looks_like_other_scheme(t) {
        return Err(NormalizeError::BadUrl);
    }
    let parsed = if has_scheme(t) { url::Url::parse(t) } else { url::Url::parse(&format!("http://{t}")) }
        .map_err(|_| NormalizeError::BadUrl)?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => normalize_domain(d)?,
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        None => return Err(NormalizeError::NoHost),
    };
    let mut key = host;
    // `url` already dropped the scheme's default port.
    if let Some(port) = parsed.port() {
        key.push(':');
        key.push_str(&port.to_string());
    }
    normalize_escapes(parsed.path(), &mut key);
    if let Some(q) = parsed.query() {
        key.push('?');
        normalize_escapes(q, &mut key);
    }
    Ok(NormUrl { scheme: parsed.scheme().to_owned(), key })
}

fn has_scheme(s: &str) -> bool {
    match s.find("://") {
        Some(i) => s.get(..i).is_some_and(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        }),
        None => false,
    }
}

/// `mailto:x@y` or `javascript:...`: a colon before any slash that does not
/// start a port number.
fn looks_like_other_scheme(s: &str) -> bool {
    if s.starts_with('[') {
        return false;
    }
    let head = s.split(['/', '?', '#']).next().unwrap_or("");
    match head.split_once(':') {
        Some((_, after)) => !after.bytes().next().is_some_and(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn hex_val(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `%41` becomes `A`; `%2f` becomes `%2F`; a stray `%` becomes `%25`.
fn normalize_escapes(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = b.get(i.saturating_add(1)).copied().and_then(hex_val);
            let lo = b.get(i.saturating_add(2)).copied().and_then(hex_val);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                let v = (hi << 4) | lo;
                if is_unreserved(v) {
                    out.push(char::from(v));
                } else {
                    out.push('%');
                    for d in [hi, lo] {
                        out.push(char::from(HEX_UPPER.get(usize::from(d)).copied().unwrap_or(b'0')));
                    }
                }
                i = i.saturating_add(3);
                continue;
            }
        }
        if c == b'%' {
            // A stray `%` is what servers take literally: spell it `%25` so
            // `100%` and `100%25` compare equal.
            out.push_str("%25");
        } else {
            // `url` output is ASCII, so byte-to-char is exact here.
            out.push(char::from(c));
        }
        i = i.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize_url(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).to_string()
    }

    #[test]
    fn scheme_and_host_case() {
        assert_eq!(n("HTTP://WWW.Example.COM/Path"), "http://www.example.com/Path");
    }

    #[test]
    fn default_ports_removed_others_kept() {
        assert_eq!(n("http://example.com:80/a"), "http://example.com/a");
        assert_eq!(n("https://example.com:443/a"), "https://example.com/a");
        assert_eq!(n("http://example.com:443/a"), "http://example.com:443/a");
        assert_eq!(n("http://117.201.4.95:59375/bin.sh"), "http://117.201.4.95:59375/bin.sh");
    }

    #[test]
    fn trailing_host_dot() {
        assert_eq!(n("http://example.com./x"), "http://example.com/x");
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(n("http://example.com/%7Euser/%41%62%2d"), "http://example.com/~user/Ab-");
        assert_eq!(n("http://example.com/a%2fb%3a"), "http://example.com/a%2Fb%3A");
        assert_eq!(n("http://example.com/100%"), "http://example.com/100%25");
        assert_eq!(n("http://example.com/?q=%61%20b"), "http://example.com/?q=a%20b");
        assert_eq!(n("http://example.com/日本"), "http://example.com/%E6%97%A5%E6%9C%AC");
    }

    #[test]
    fn dot_segments() {
        assert_eq!(n("http://example.com/a/b/../c/./d"), "http://example.com/a/c/d");
        assert_eq!(n("http://example.com/a/%2e%2E/c"), "http://example.com/c");
        assert_eq!(n("http://example.com/../../x"), "http://example.com/x");
    }

    #[test]
    fn fragment_dropped_query_kept() {
        assert_eq!(n("http://example.com/p?a=1&b=2#frag"), "http://example.com/p?a=1&b=2");
    }

    #[test]
    fn empty_path_becomes_slash_and_schemeless_is_http() {
        assert_eq!(n("http://example.com"), "http://example.com/");
        assert_eq!(n("1001reves.com/games"), "http://1001reves.com/games");
        assert_eq!(normalize_url("Example.com/a").unwrap().key(), "example.com/a");
    }

    #[test]
    fn idn_and_userinfo() {
        assert_eq!(n("http://user:pw@例え.テスト/"), "http://xn--r8jz45g.xn--zckzah/");
    }

    #[test]
    fn ipv6_host() {
        let u = normalize_url("http://[2001:DB8::1]:8080/x").unwrap();
        assert_eq!(u.key(), "[2001:db8::1]:8080/x");
        assert_eq!(u.host(), "[2001:db8::1]");
        assert_eq!(normalize_url("http://a.example:8080/x").unwrap().host(), "a.example");
    }

    #[test]
    fn rejects() {
        assert_eq!(normalize_url(""), Err(NormalizeError::Empty));
        assert_eq!(normalize_url("http://"), Err(NormalizeError::BadUrl));
        assert!(normalize_url("mailto:x@example.com").is_err());
        assert!(normalize_url("http://exa mple.com/").is_err());
    }
}
