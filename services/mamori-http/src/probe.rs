//! Content-based protocol detection (never port-based).

use crate::startline::{parse_version, HttpVersion};
use mamori_applayer::{Direction, Probe};

/// Methods recognised from the first bytes alone (as sent: upper case).
pub(crate) const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"CHECKOUT",
    b"CHECKIN",
    b"MERGE",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"MKACTIVITY",
    b"MKCALENDAR",
    b"ACL",
    b"LINK",
    b"UNLINK",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    b"UPDATE",
    b"LABEL",
    b"UNCHECKOUT",
    b"MKWORKSPACE",
    b"ORDERPATCH",
    b"BIND",
    b"REBIND",
    b"UNBIND",
    b"PURGE",
];

/// Bytes looked at before giving up on a request line without `HTTP/x.y`.
const MAX_PROBE_LINE: usize = 2048;

fn is_lead_ws(c: u8) -> bool {
    matches!(c, b'\r' | b'\n' | b' ' | b'\t')
}

fn is_known(method: &[u8], any_case: bool) -> bool {
    KNOWN_METHODS.iter().any(|m| if any_case { m.eq_ignore_ascii_case(method) } else { *m == method })
}

/// Guesses whether `data`, the first bytes of `dir`, is HTTP/1.x.
///
/// To server: a method, whitespace and a target ending the line with
/// `HTTP/x.y`; a known upper-case method followed by a space matches at
/// once, a lower-case known one once the line shows `HTTP/x.y`. To client:
/// `HTTP/x.y ddd`. Leading CR/LF/whitespace is skipped, as libhtp does.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    let start = data.iter().take_while(|&&c| is_lead_ws(c)).count();
    let s = data.get(start..).unwrap_or(&[]);
    match dir {
        Direction::ToServer => probe_request(s),
        Direction::ToClient => probe_response(s),
    }
}

fn probe_request(s: &[u8]) -> Probe {
    if s.is_empty() {
        return Probe::NeedMore;
    }
    let mlen = s.iter().take_while(|&&c| crate::headers::is_tchar(c)).count();
    let Some(&after) = s.get(mlen) else {
        // Still inside the first word: could it become a method?
        let could = mlen > 0
            && mlen <= 20
            && KNOWN_METHODS
                .iter()
                .any(|m| m.len() >= mlen && m.get(..mlen).is_some_and(|p| p.eq_ignore_ascii_case(s)));
        return if could { Probe::NeedMore } else { Probe::NoMatch };
    };
    if mlen == 0 || (after != b' ' && after != b'\t') {
        return Probe::NoMatch;
    }
    let method = s.get(..mlen).unwrap_or(&[]);
    if method == b"PRI" {
        // HTTP/2 connection preface, not ours.
        return Probe::NoMatch;
    }
    if is_known(method, false) {
        return Probe::Match;
    }
    // Unknown or lower-case method: require the whole line to end in a
    // protocol version.
    let line_end = memchr::memchr(b'\n', s);
    let Some(end) = line_end else {
        return if s.len() < MAX_PROBE_LINE { Probe::NeedMore } else { Probe::NoMatch };
    };
    let line = s.get(..end).unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let proto_start = line.iter().rposition(|&c| c == b' ' || c == b'\t');
    let proto = proto_start.and_then(|i| line.get(i + 1..)).unwrap_or(&[]);
    let has_target = proto_start.is_some_and(|i| i > mlen);
    let versioned =
        has_target && matches!(parse_version(proto), HttpVersion::V1_0 | HttpVersion::V1_1) && proto.len() == 8;
    if versioned && (is_known(method, true) || method.iter().all(u8::is_ascii_uppercase)) {
        return Probe::Match;
    }
    Probe::NoMatch
}

fn probe_response(s: &[u8]) -> Probe {
    // HTTP/x.y ddd
    const SHAPE: &[u8] = b"HTTP/1.1 200";
    for (i, &want) in SHAPE.iter().enumerate() {
        let Some(&c) = s.get(i) else {
            return Probe::NeedMore;
        };
        let ok = match i {
            0..=3 => c.eq_ignore_ascii_case(&want),
            4 => c == b'/',
            5 | 7 => c.is_ascii_digit(),
            6 => c == b'.',
            8 => c == b' ' || c == b'\t',
            _ => c.is_ascii_digit(),
        };
        if !ok {
            return Probe::NoMatch;
        }
    }
    Probe::Match
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let p = |d: &[u8]| probe(Direction::ToServer, d);
        assert_eq!(p(b"GET / HTTP/1.1\r\n"), Probe::Match);
        assert_eq!(p(b"\r\n  POST /x"), Probe::Match);
        assert_eq!(p(b"GE"), Probe::NeedMore);
        assert_eq!(p(b""), Probe::NeedMore);
        assert_eq!(p(b"get / HTTP/1.0\r\n"), Probe::Match);
        assert_eq!(p(b"get / HT"), Probe::NeedMore);
        assert_eq!(p(b"get /\r\n"), Probe::NoMatch);
        assert_eq!(p(b"FOO /x HTTP/1.1\r\n"), Probe::Match);
        assert_eq!(p(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Probe::NoMatch);
        assert_eq!(p(b"\x16\x03\x01\x02\x00"), Probe::NoMatch);
        assert_eq!(p(b"EHLO mail.example.com\r\n"), Probe::NoMatch);
        assert_eq!(p(b"SSH-2.0-OpenSSH"), Probe::NoMatch);
    }

    #[test]
    fn responses() {
        let p = |d: &[u8]| probe(Direction::ToClient, d);
        assert_eq!(p(b"HTTP/1.1 200 OK\r\n"), Probe::Match);
        assert_eq!(p(b"\r\nhttp/1.0 404"), Probe::Match);
        assert_eq!(p(b"HTTP/1."), Probe::NeedMore);
        assert_eq!(p(b"HTTP/1.1 2xx"), Probe::NoMatch);
        assert_eq!(p(b"SIP/2.0 200 OK"), Probe::NoMatch);
        assert_eq!(p(b"220 smtp ready"), Probe::NoMatch);
    }
}
