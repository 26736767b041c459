//! Content-based detection: does this look like DNS?
//!
//! Ports lie (HTTP on 53 is a classic tunnel), so we accept only bytes whose
//! header is sane and whose first question parses: few questions, a known
//! opcode, no response code on a query, counts the payload can hold, a
//! first name without pointers (nothing precedes it to point at) and a
//! known class.

use mamori_applayer::{Direction, Probe};

use crate::header::{Header, HEADER_LEN};
use crate::message::parse_question;
use crate::name::NameIssues;

/// Most questions a message we call DNS may carry.
const MAX_PROBE_QUESTIONS: u16 = 16;
/// Smallest question (root name, type, class) and resource record.
const MIN_QUESTION: usize = 5;
const MIN_RECORD: usize = 11;

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Match,
    NoMatch,
    /// The bytes seen so far are consistent with DNS but end too soon.
    Short,
}

/// `declared_len` is the size of the whole message (the UDP payload, or the
/// TCP length prefix), `data` what we have of it.
fn check(data: &[u8], declared_len: usize) -> Verdict {
    let Ok(h) = Header::parse(data) else {
        return Verdict::Short;
    };
    let f = h.flags;
    if !(1..=MAX_PROBE_QUESTIONS).contains(&h.qdcount) {
        return Verdict::NoMatch;
    }
    if matches!(f.opcode(), 3 | 7..=15) {
        return Verdict::NoMatch;
    }
    if !f.qr() && f.rcode() != 0 {
        return Verdict::NoMatch;
    }
    let records = usize::from(h.ancount) + usize::from(h.nscount) + usize::from(h.arcount);
    let min_len = HEADER_LEN + usize::from(h.qdcount) * MIN_QUESTION + records * MIN_RECORD;
    if min_len > declared_len {
        return Verdict::NoMatch;
    }
    // The first name starts right after the header: a pointer there could
    // only point into the header, which no encoder does.
    match data.get(HEADER_LEN) {
        None => return Verdict::Short,
        Some(b) if b & 0xc0 != 0 => return Verdict::NoMatch,
        Some(_) => {}
    }
    let cut = &data[..data.len().min(declared_len)];
    match parse_question(cut, HEADER_LEN, &mut NameIssues::default()) {
        Ok((q, _)) => {
            let class = q.rrclass & 0x7fff; // mDNS uses the top bit
            if q.rrtype == 0 || !matches!(class, 1 | 3 | 4 | 254 | 255) {
                return Verdict::NoMatch;
            }
            Verdict::Match
        }
        Err(_) if cut.len() < declared_len => Verdict::Short,
        Err(_) => Verdict::NoMatch,
    }
}

/// Probes a whole UDP payload.
pub fn probe_udp(payload: &[u8]) -> Probe {
    match check(payload, payload.len()) {
        Verdict::Match => Probe::Match,
        Verdict::NoMatch | Verdict::Short => Probe::NoMatch,
    }
}

/// Probes the first bytes of one direction of a TCP flow (2-byte length
/// prefix, then a message). Queries are expected towards the server;
/// either kind is accepted towards the client (flows picked up midstream).
pub fn probe_tcp(dir: Direction, data: &[u8]) -> Probe {
    let Some(len) = data.get(..2) else {
        return Probe::NeedMore;
    };
    let declared = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if declared < HEADER_LEN + MIN_QUESTION {
        return Probe::NoMatch;
    }
    let msg = &data[2..];
    if dir == Direction::ToServer && msg.get(2).is_some_and(|b| b & 0x80 != 0) {
        return Probe::NoMatch;
    }
    match check(msg, declared) {
        Verdict::Match => Probe::Match,
        Verdict::NoMatch => Probe::NoMatch,
        Verdict::Short => Probe::NeedMore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &[u8] = b"\x10\x32\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06google\x03com\x00\x00\x01\x00\x01";

    fn tcp(msg: &[u8]) -> Vec<u8> {
        let mut v = (msg.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(msg);
        v
    }

    #[test]
    fn real_query_matches() {
        assert_eq!(probe_udp(QUERY), Probe::Match);
        assert_eq!(probe_tcp(Direction::ToServer, &tcp(QUERY)), Probe::Match);
    }

    #[test]
    fn tcp_needs_more_until_question_is_in() {
        let full = tcp(QUERY);
        for cut in 0..full.len() {
            assert_eq!(probe_tcp(Direction::ToServer, &full[..cut]), Probe::NeedMore, "cut at {cut}");
        }
    }

    #[test]
    fn http_and_tls_are_not_dns() {
        for dir in [Direction::ToServer, Direction::ToClient] {
            assert_eq!(probe_tcp(dir, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), Probe::NoMatch);
            assert_eq!(probe_tcp(dir, b"POST /dns-query HTTP/1.1\r\n"), Probe::NoMatch);
            assert_eq!(probe_tcp(dir, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Probe::NoMatch);
        }
        assert_eq!(probe_udp(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), Probe::NoMatch);
        assert_eq!(probe_udp(b"HTTP/1.1 200 OK\r\n\r\n"), Probe::NoMatch);
        let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x5a\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa";
        assert_eq!(probe_tcp(Direction::ToServer, hello), Probe::NoMatch);
        assert_eq!(probe_udp(hello), Probe::NoMatch);
    }

    #[test]
    fn random_binary_is_rejected() {
        // A small deterministic generator: xorshift.
        let mut x: u32 = 0x1234_5678;
        let mut matched = 0;
        for _ in 0..20_000 {
            let mut buf = [0u8; 64];
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            if probe_udp(&buf) == Probe::Match {
                matched += 1;
            }
        }
        assert_eq!(matched, 0);
    }

    #[test]
    fn queries_with_rcode_or_pointer_first_are_rejected() {
        let mut q = QUERY.to_vec();
        q[3] = 0x03;
        assert_eq!(probe_udp(&q), Probe::NoMatch);
        let mut q = QUERY.to_vec();
        q[12] = 0xc0;
        assert_eq!(probe_udp(&q), Probe::NoMatch);
    }

    #[test]
    fn response_towards_server_is_not_a_tcp_match() {
        let mut r = QUERY.to_vec();
        r[2] = 0x81;
        assert_eq!(probe_tcp(Direction::ToServer, &tcp(&r)), Probe::NoMatch);
        assert_eq!(probe_tcp(Direction::ToClient, &tcp(&r)), Probe::Match);
    }
}
