//! Request lines and status lines, parsed as leniently as libhtp's generic
//! personality: extra whitespace, lowercase protocol names, missing parts.

use crate::anomaly::{Anomalies, HttpAnomaly};
use crate::headers::trim;

/// Protocol version of a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum HttpVersion {
    /// A request line without protocol (HTTP/0.9: no headers follow).
    V0_9,
    V1_0,
    #[default]
    V1_1,
    /// Present but unrecognised (`HTTP/1.01`, `HTTP/2.0`, junk); treated as
    /// HTTP/1.x with headers.
    Invalid,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c | b'\r')
}

fn split_token(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|&&c| !is_ws(c)).count();
    s.split_at(n)
}

fn skip_ws(s: &[u8]) -> (&[u8], usize) {
    let n = s.iter().take_while(|&&c| is_ws(c)).count();
    (s.get(n..).unwrap_or(&[]), n)
}

/// Parses `HTTP/1.1` and the variants libhtp accepts: any case, whitespace
/// around the slash, leading zeros (`HTTP/01.1`).
pub(crate) fn parse_version(p: &[u8]) -> HttpVersion {
    let p = trim(p);
    let Some(head) = p.get(..4) else {
        return HttpVersion::Invalid;
    };
    if !head.eq_ignore_ascii_case(b"http") {
        return HttpVersion::Invalid;
    }
    let (rest, _) = skip_ws(p.get(4..).unwrap_or(&[]));
    let Some(rest) = rest.strip_prefix(b"/") else {
        return HttpVersion::Invalid;
    };
    let (rest, _) = skip_ws(rest);
    let zeros = rest.iter().take_while(|&&c| c == b'0').count();
    let rest = rest.get(zeros..).unwrap_or(&[]);
    match rest {
        b"1.1" => HttpVersion::V1_1,
        b"1.0" => HttpVersion::V1_0,
        b".9" => HttpVersion::V0_9,
        _ => HttpVersion::Invalid,
    }
}

/// A parsed request line. All parts are raw bytes as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RequestLine {
    pub method: Vec<u8>,
    pub uri: Vec<u8>,
    /// `None` for HTTP/0.9 requests (no protocol given).
    pub protocol: Option<Vec<u8>>,
    pub version: HttpVersion,
}

pub(crate) fn parse_request_line(line: &[u8], an: &mut Anomalies) -> RequestLine {
    let (s, lead) = skip_ws(line);
    if lead > 0 {
        an.push(HttpAnomaly::RequestLineLeadingWhitespace);
    }
    let (method, rest) = split_token(s);
    let (rest, sep) = skip_ws(rest);
    let rest = trim(rest);
    if method.is_empty() || sep == 0 || rest.is_empty() {
        an.push(HttpAnomaly::RequestLineInvalid);
        return RequestLine { method: method.to_vec(), uri: rest.to_vec(), protocol: None, version: HttpVersion::V0_9 };
    }
    // The protocol is the last word when it looks like one, so URIs with
    // spaces keep their spaces (nginx and libhtp do the same).
    let last_ws = rest.iter().rposition(|&c| is_ws(c));
    if let Some(i) = last_ws {
        let last = rest.get(i + 1..).unwrap_or(&[]);
        if last.len() >= 5 && last.get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"http/")) {
            let uri = trim(rest.get(..i).unwrap_or(&[]));
            return RequestLine {
                method: method.to_vec(),
                uri: uri.to_vec(),
                protocol: Some(last.to_vec()),
                version: parse_version(last),
            };
        }
        // Not a protocol: first word is the URI, the rest an invalid protocol.
        let (uri, proto) = split_token(rest);
        let (proto, _) = skip_ws(proto);
        an.push(HttpAnomaly::RequestLineInvalid);
        return RequestLine {
            method: method.to_vec(),
            uri: uri.to_vec(),
            protocol: Some(proto.to_vec()),
            version: HttpVersion::Invalid,
        };
    }
    an.push(HttpAnomaly::RequestLineMissingProtocol);
    RequestLine { method: method.to_vec(), uri: rest.to_vec(), protocol: None, version: HttpVersion::V0_9 }
}

/// Whether a line starts like a status line (`ws* http`, any case), which
/// is libhtp's test before it falls back to treating bytes as a body.
pub(crate) fn looks_like_status_line(line: &[u8]) -> bool {
    let n = line.iter().take_while(|&&c| is_ws(c) || c == 0).count();
    line.get(n..n + 4).is_some_and(|p| p.eq_ignore_ascii_case(b"http"))
}

/// A parsed status line. Raw parts as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StatusLine {
    pub protocol: Vec<u8>,
    pub version: HttpVersion,
    pub status: Vec<u8>,
    /// Status code when it is three digits in 100..=999.
    pub code: Option<u16>,
    pub message: Vec<u8>,
}

pub(crate) fn parse_status_line(line: &[u8], an: &mut Anomalies) -> StatusLine {
    let n = line.iter().take_while(|&&c| is_ws(c) || c == 0).count();
    let s = line.get(n..).unwrap_or(&[]);
    let (protocol, rest) = split_token(s);
    let (rest, _) = skip_ws(rest);
    let (status, rest) = split_token(rest);
    let (message, _) = skip_ws(rest);
    let version = parse_version(protocol);
    if version == HttpVersion::Invalid || version == HttpVersion::V0_9 {
        an.push(HttpAnomaly::ResponseInvalidProtocol);
    }
    let code = parse_status(status);
    if code.is_none() {
        an.push(HttpAnomaly::ResponseInvalidStatus);
    }
    StatusLine { protocol: protocol.to_vec(), version, status: status.to_vec(), code, message: trim(message).to_vec() }
}

fn parse_status(s: &[u8]) -> Option<u16> {
    if s.len() != 3 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = s.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    (100..=999).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(line: &[u8]) -> (RequestLine, Anomalies) {
        let mut an = Anomalies::default();
        (parse_request_line(line, &mut an), an)
    }

    #[test]
    fn ordinary_request_line() {
        let (r, an) = req(b"GET /a?b=c HTTP/1.1");
        assert_eq!(r.method, b"GET");
        assert_eq!(r.uri, b"/a?b=c");
        assert_eq!(r.protocol.as_deref(), Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.version, HttpVersion::V1_1);
        assert!(!an.contains(HttpAnomaly::RequestLineInvalid));
    }

    #[test]
    fn lenient_request_lines() {
        let (r, an) = req(b"  get\t/x y  HTTP/1.0 ");
        assert_eq!(r.method, b"get");
        assert_eq!(r.uri, b"/x y");
        assert_eq!(r.version, HttpVersion::V1_0);
        assert!(an.contains(HttpAnomaly::RequestLineLeadingWhitespace));

        let (r, an) = req(b"GET /old");
        assert_eq!(r.version, HttpVersion::V0_9);
        assert!(r.protocol.is_none());
        assert!(an.contains(HttpAnomaly::RequestLineMissingProtocol));

        let (r, _) = req(b"GET / xyz");
        assert_eq!(r.uri, b"/");
        assert_eq!(r.version, HttpVersion::Invalid);

        let (r, an) = req(b"GARBAGE");
        assert!(an.contains(HttpAnomaly::RequestLineInvalid));
        assert_eq!(r.method, b"GARBAGE");
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version(b"http/1.0"), HttpVersion::V1_0);
        assert_eq!(parse_version(b"HTTP / 01.1"), HttpVersion::V1_1);
        assert_eq!(parse_version(b"HTTP/1.01"), HttpVersion::Invalid);
        assert_eq!(parse_version(b"HTTP/2.0"), HttpVersion::Invalid);
        assert_eq!(parse_version(b"HTT"), HttpVersion::Invalid);
    }

    #[test]
    fn status_lines() {
        let mut an = Anomalies::default();
        let s = parse_status_line(b"HTTP/1.1 404 Not Found", &mut an);
        assert_eq!((s.code, s.message.as_slice()), (Some(404), &b"Not Found"[..]));
        let s = parse_status_line(b"HTTP/1.1", &mut an);
        assert_eq!(s.code, None);
        assert!(an.contains(HttpAnomaly::ResponseInvalidStatus));
        let s = parse_status_line(b"HTTP/1.1 2xx ok", &mut an);
        assert_eq!((s.code, s.status.as_slice()), (None, &b"2xx"[..]));
        let s = parse_status_line(b"HTTP/1.1 099 x", &mut an);
        assert_eq!(s.code, None);
    }

    #[test]
    fn status_line_detection() {
        assert!(looks_like_status_line(b"HTTP/1.1 200 OK"));
        assert!(looks_like_status_line(b" \0http/1.0 200"));
        assert!(!looks_like_status_line(b"foobar"));
        assert!(!looks_like_status_line(b"SIP/2.0 200 ok"));
        assert!(!looks_like_status_line(b"HTT"));
    }
}
