use std::net::IpAddr;

use super::NormalizeError;

/// RFC 1035 limit on a name's text form (without the root dot).
pub const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// A host as lists write it: a name or an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Domain(String),
    Ip(IpAddr),
}

/// Canonical domain: lowercase ASCII (IDNA to punycode), no trailing dot,
/// no `*.` wildcard (our matching is by suffix anyway).
///
/// Underscores are accepted: real names (`_dmarc`, CDN hosts) use them and
/// lists carry them; an entry we refused could never match.
pub fn normalize_domain(input: &str) -> Result<String, NormalizeError> {
    let mut s = input.trim();
    if let Some(rest) = s.strip_prefix("*.") {
        s = rest;
    }
    if let Some(rest) = s.strip_suffix('.') {
        s = rest;
    }
    if s.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if s.parse::<IpAddr>().is_ok() {
        return Err(NormalizeError::IpLiteral);
    }
    let ascii = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(s).map_err(|_| NormalizeError::Idna)?
    };
    // Punycode input is decoded and re-encoded to reject bogus `xn--` labels.
    let ascii =
        if ascii.contains("xn--") { idna::domain_to_ascii(&ascii).map_err(|_| NormalizeError::Idna)? } else { ascii };
    let ascii = ascii.strip_suffix('.').map(str::to_owned).unwrap_or(ascii);
    validate(&ascii)?;
    Ok(ascii)
}

fn validate(name: &str) -> Result<(), NormalizeError> {
    if name.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if name.len() > MAX_DOMAIN_LEN {
        return Err(NormalizeError::TooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(NormalizeError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NormalizeError::LabelTooLong);
        }
        if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(NormalizeError::InvalidChar);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NormalizeError::BadHyphen);
        }
    }
    // A dotted quad that `IpAddr` refused (e.g. `1.2.3.999`) is garbage, not a name.
    if name.split('.').next_back().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err(NormalizeError::InvalidChar);
    }
    Ok(())
}

/// A host from a list or URL: IP literals (with or without IPv6 brackets)
/// become addresses, everything else a normalized domain.
pub fn normalize_host(input: &str) -> Result<Host, NormalizeError> {
    let t = input.trim();
    let unbracketed = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(t);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    normalize_domain(t).map(Host::Domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        normalize_domain(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn case_and_trailing_dot() {
        assert_eq!(ok("WWW.Example.COM."), "www.example.com");
        assert_eq!(ok("  example.com  "), "example.com");
        assert_eq!(ok("*.evil.example"), "evil.example");
    }

    #[test]
    fn idna_to_punycode() {
        assert_eq!(ok("例え.テスト"), "xn--r8jz45g.xn--zckzah");
        assert_eq!(ok("Bücher.example"), "xn--bcher-kva.example");
        // Full-width letters and the ideographic full stop fold like browsers do.
        assert_eq!(ok("ＥＸＡＭＰＬＥ。ｃｏｍ"), "example.com");
        // Already-punycode input stays as it is.
        assert_eq!(ok("XN--R8JZ45G.xn--zckzah"), "xn--r8jz45g.xn--zckzah");
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(normalize_domain(""), Err(NormalizeError::Empty));
        assert_eq!(normalize_domain("."), Err(NormalizeError::Empty));
        assert_eq!(normalize_domain("a..b"), Err(NormalizeError::EmptyLabel));
        assert_eq!(normalize_domain(&format!("{}.com", "a".repeat(64))), Err(NormalizeError::LabelTooLong));
        let long = vec!["abcdefghi"; 26].join(".");
        assert_eq!(normalize_domain(&long), Err(NormalizeError::TooLong));
        assert!(normalize_domain("exa mple.com").is_err());
        assert_eq!(normalize_domain("-bad.example"), Err(NormalizeError::BadHyphen));
        assert_eq!(normalize_domain("bad-.example"), Err(NormalizeError::BadHyphen));
        assert!(normalize_domain("a/b.example").is_err());
        assert!(normalize_domain("a:b.example").is_err());
        assert_eq!(normalize_domain("1.2.3.4"), Err(NormalizeError::IpLiteral));
        assert_eq!(normalize_domain("1.2.3.999"), Err(NormalizeError::InvalidChar));
        assert!(normalize_domain("xn--zz.example").is_err(), "bogus punycode accepted");
    }

    #[test]
    fn underscore_and_single_label_accepted() {
        assert_eq!(ok("_dmarc.Example.com"), "_dmarc.example.com");
        assert_eq!(ok("localhost"), "localhost");
    }

    #[test]
    fn hosts() {
        assert_eq!(normalize_host("[2001:db8::1]"), Ok(Host::Ip("2001:db8::1".parse().unwrap())));
        assert_eq!(normalize_host("192.0.2.1"), Ok(Host::Ip("192.0.2.1".parse().unwrap())));
        assert_eq!(normalize_host("A.example"), Ok(Host::Domain("a.example".into())));
    }
}
