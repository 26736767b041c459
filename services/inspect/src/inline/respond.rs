//! Answers to a blocked packet: TCP resets, the HTTP block page, ICMP
//! unreachable. Pure packet building, so every case is unit-tested.
//!
//! On a transparent bridge we have no address of our own in the flow, so we
//! speak for the peers: an answer toward the blocked packet's destination
//! leaves by the port the packet was headed for, and one toward its source
//! by the port it came in on (see `worker`).

use std::net::IpAddr;

use mamori_wire::build::{checksum, ip_packet, tcp_packet, TcpSpec};
use mamori_wire::ip;
use mamori_wire::transport::{self, Transport};

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// What to send for a blocked packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// Send this IP packet on to the queued packet's destination.
    pub forward: Option<Vec<u8>>,
    /// Send this IP packet back to the queued packet's source.
    pub back: Option<Vec<u8>>,
}

struct TcpView<'a> {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
}

impl TcpView<'_> {
    /// Sequence space this segment takes (SYN and FIN count one).
    fn seg_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.flags & SYN != 0) + u32::from(self.flags & FIN != 0)
    }
}

fn tcp_view(pkt: &[u8]) -> Option<TcpView<'_>> {
    let dg = ip::decode_any(pkt).ok()?;
    if dg.fragment.is_some() {
        return None;
    }
    match transport::decode(dg.proto, dg.payload).ok()? {
        Transport::Tcp(t) => Some(TcpView {
            src: dg.src,
            dst: dg.dst,
            sport: t.src_port,
            dport: t.dst_port,
            seq: t.seq,
            ack: t.ack,
            flags: t.flags.0,
            payload: t.payload,
        }),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn tcp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp_packet(&TcpSpec { src, dst, sport, dport, seq, ack, flags, window: 0, payload })
}

/// Reset both ends of the packet's TCP connection.
pub fn tcp_reset(pkt: &[u8]) -> Option<Answer> {
    let t = tcp_view(pkt)?;
    if t.flags & RST != 0 {
        return None;
    }
    // Toward the destination: its next expected byte is this segment's seq.
    let forward = tcp(t.src, t.dst, t.sport, t.dport, t.seq, 0, RST, &[]);
    // Toward the source: it accepts a reset at the sequence it acknowledged.
    let back = if t.flags & ACK != 0 {
        tcp(t.dst, t.src, t.dport, t.sport, t.ack, t.seq.wrapping_add(t.seg_len()), RST | ACK, &[])
    } else {
        // A bare SYN acknowledges nothing: RFC 9293 answers with ACK of it.
        tcp(t.dst, t.src, t.dport, t.sport, 0, t.seq.wrapping_add(t.seg_len()), RST | ACK, &[])
    };
    Some(Answer { forward: Some(forward), back: Some(back) })
}

/// Answer an HTTP client with `response` (a complete HTTP response that
/// closes the connection) and reset the server. `from_client` says which
/// side sent the blocked packet. Falls back to [`tcp_reset`] when the client
/// already has part of the current response (a page can no longer be
/// slipped in cleanly).
pub fn http_block(pkt: &[u8], from_client: bool, response: &[u8]) -> Option<Answer> {
    let t = tcp_view(pkt)?;
    if t.flags & (RST | SYN) != 0 {
        return None;
    }
    if from_client {
        if t.flags & ACK == 0 {
            return tcp_reset(pkt);
        }
        // The server never sees the request: reset it where it stands.
        let forward = tcp(t.src, t.dst, t.sport, t.dport, t.seq, 0, RST, &[]);
        // The client gets the page where it expects the server's next byte.
        let back =
            tcp(t.dst, t.src, t.dport, t.sport, t.ack, t.seq.wrapping_add(t.seg_len()), PSH | ACK | FIN, response);
        return Some(Answer { forward: Some(forward), back: Some(back) });
    }
    if !t.payload.starts_with(b"HTTP/") {
        return tcp_reset(pkt);
    }
    // This packet starts the response: the page goes in its place.
    let forward = tcp(t.src, t.dst, t.sport, t.dport, t.seq, t.ack, PSH | ACK | FIN, response);
    let back = tcp(t.dst, t.src, t.dport, t.sport, t.ack, 0, RST, &[]);
    Some(Answer { forward: Some(forward), back: Some(back) })
}

/// ICMP (v4: port unreachable, v6: port unreachable) for a rejected
/// non-TCP packet, quoting as much of it as the RFCs ask for.
pub fn icmp_unreachable(pkt: &[u8]) -> Option<Vec<u8>> {
    let dg = ip::decode_any(pkt).ok()?;
    // Never answer ICMP errors with ICMP errors (RFC 1122 3.2.2).
    if dg.proto == 1 || dg.proto == 58 {
        return None;
    }
    match (dg.src, dg.dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => {
            let quoted = &pkt[..pkt.len().min(dg.header.len() + 8)];
            let mut l4 = vec![3, 3, 0, 0, 0, 0, 0, 0];
            l4.extend_from_slice(quoted);
            let c = checksum(&[&l4]);
            l4[2..4].copy_from_slice(&c.to_be_bytes());
            Some(ip_packet(dg.dst, dg.src, 1, 64, l4))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // The error must fit in the IPv6 minimum MTU (RFC 4443 2.4).
            let quoted = &pkt[..pkt.len().min(1280 - 48)];
            let mut l4 = vec![1, 4, 0, 0, 0, 0, 0, 0];
            l4.extend_from_slice(quoted);
            let len = (l4.len() as u32).to_be_bytes();
            let pseudo = [&d.octets()[..], &s.octets()[..], &len[..], &[0, 0, 0, 58]].concat();
            let c = checksum(&[&pseudo, &l4]);
            l4[2..4].copy_from_slice(&c.to_be_bytes());
            Some(ip_packet(dg.dst, dg.src, 58, 64, l4))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn view(p: &[u8]) -> (IpAddr, IpAddr, u16, u16, u32, u32, u8, Vec<u8>) {
        let t = tcp_view(p).expect("tcp");
        (t.src, t.dst, t.sport, t.dport, t.seq, t.ack, t.flags, t.payload.to_vec())
    }

    fn ip_checksum_ok(p: &[u8]) -> bool {
        checksum(&[&p[..20]]) == 0
    }

    #[test]
    fn reset_goes_to_both_ends_at_the_sequence_each_expects() {
        let req = tcp(v4("10.0.0.2"), v4("10.0.0.1"), 40000, 80, 1000, 5000, PSH | ACK, b"GET / HTTP/1.1\r\n\r\n");
        let a = tcp_reset(&req).unwrap();
        let fwd = view(a.forward.as_ref().unwrap());
        assert_eq!((fwd.0, fwd.1, fwd.2, fwd.3, fwd.4, fwd.6), (v4("10.0.0.2"), v4("10.0.0.1"), 40000, 80, 1000, RST));
        let back = view(a.back.as_ref().unwrap());
        assert_eq!((back.0, back.1, back.2, back.3), (v4("10.0.0.1"), v4("10.0.0.2"), 80, 40000));
        assert_eq!((back.4, back.5, back.6), (5000, 1000 + 18, RST | ACK));
        assert!(ip_checksum_ok(a.back.as_ref().unwrap()));
        // A reset is never answered.
        assert_eq!(tcp_reset(a.forward.as_ref().unwrap()), None);
    }

    #[test]
    fn block_page_on_a_request_replaces_the_servers_answer() {
        let req = tcp(v4("10.0.0.2"), v4("10.0.0.1"), 40000, 80, 1000, 5000, PSH | ACK, b"GET /x HTTP/1.1\r\n\r\n");
        let a = http_block(&req, true, b"HTTP/1.1 403 Forbidden\r\n\r\npage").unwrap();
        let back = view(a.back.as_ref().unwrap());
        assert_eq!((back.0, back.1, back.4, back.5), (v4("10.0.0.1"), v4("10.0.0.2"), 5000, 1000 + 19));
        assert_eq!(back.6, PSH | ACK | FIN);
        assert_eq!(back.7, b"HTTP/1.1 403 Forbidden\r\n\r\npage");
        assert_eq!(view(a.forward.as_ref().unwrap()).6, RST);
    }

    #[test]
    fn block_page_on_a_response_start_is_rewritten_in_place() {
        let resp = tcp(v4("10.0.0.1"), v4("10.0.0.2"), 80, 40000, 5000, 1019, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\nX5O");
        let a = http_block(&resp, false, b"HTTP/1.1 403 Forbidden\r\n\r\npage").unwrap();
        let fwd = view(a.forward.as_ref().unwrap());
        assert_eq!((fwd.1, fwd.4, fwd.5, fwd.6), (v4("10.0.0.2"), 5000, 1019, PSH | ACK | FIN));
        assert!(fwd.7.starts_with(b"HTTP/1.1 403"));
        let back = view(a.back.as_ref().unwrap());
        assert_eq!((back.1, back.4, back.6), (v4("10.0.0.1"), 1019, RST));
        // Mid-body the client has the headers already: plain resets.
        let body = tcp(v4("10.0.0.1"), v4("10.0.0.2"), 80, 40000, 5100, 1019, ACK, b"more body");
        let a = http_block(&body, false, b"HTTP/1.1 403 Forbidden\r\n\r\n").unwrap();
        assert_eq!(view(a.forward.as_ref().unwrap()).6, RST);
    }

    #[test]
    fn icmp_unreachable_quotes_the_datagram_and_never_answers_icmp() {
        let udp = mamori_wire::build::udp_packet(v4("10.0.0.2"), v4("10.0.0.1"), 5353, 53, b"query-bytes-here");
        let icmp = icmp_unreachable(&udp).unwrap();
        assert!(ip_checksum_ok(&icmp));
        assert_eq!(icmp[9], 1);
        assert_eq!(&icmp[12..16], &[10, 0, 0, 1]);
        assert_eq!((icmp[20], icmp[21]), (3, 3));
        assert_eq!(checksum(&[&icmp[20..]]), 0);
        assert_eq!(&icmp[28..], &udp[..28]);
        assert_eq!(icmp_unreachable(&icmp), None);
        let u6 = mamori_wire::build::udp_packet("fd00::2".parse().unwrap(), "fd00::1".parse().unwrap(), 1, 2, b"x");
        let i6 = icmp_unreachable(&u6).unwrap();
        assert_eq!((i6[6], i6[40], i6[41]), (58, 1, 4));
    }

    #[test]
    fn garbage_is_not_answered() {
        for junk in [&b""[..], b"\x45", b"\x60\x00\x00\x00", &[0xff; 64]] {
            assert_eq!(tcp_reset(junk), None);
            assert_eq!(http_block(junk, true, b""), None);
            assert_eq!(icmp_unreachable(junk), None);
        }
    }
}

/// How a blocked DNS name is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsBlock {
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// A/AAAA answers with these addresses (other types get no answer).
    Sinkhole(std::net::Ipv4Addr, std::net::Ipv6Addr),
}

/// Answer a DNS query (or replace a response) over UDP for a blocked name.
/// A query gets the answer back to its source; a response is replaced by
/// the answer on its way to the client.
pub fn dns_block(pkt: &[u8], how: DnsBlock) -> Option<Answer> {
    let dg = ip::decode_any(pkt).ok()?;
    let Transport::Udp(u) = transport::decode(dg.proto, dg.payload).ok()? else { return None };
    let msg = u.payload;
    let hdr = msg.get(..12)?;
    let is_response = hdr[2] & 0x80 != 0;
    if u16::from_be_bytes([hdr[4], hdr[5]]) != 1 {
        return None;
    }
    // The question: labels up to the root, then type and class.
    let mut at = 12;
    loop {
        let len = usize::from(*msg.get(at)?);
        if len == 0 {
            at += 1;
            break;
        }
        if len & 0xc0 != 0 || at > 12 + 255 {
            return None;
        }
        at += 1 + len;
    }
    let question = msg.get(12..at + 4)?;
    let qtype = u16::from_be_bytes([question[question.len() - 4], question[question.len() - 3]]);
    let mut out = Vec::with_capacity(64 + question.len());
    out.extend_from_slice(&hdr[..2]);
    let rd = hdr[2] & 0x01;
    let rcode = match how {
        DnsBlock::NxDomain => 3,
        DnsBlock::Sinkhole(..) => 0,
    };
    out.push(0x80 | rd); // QR, opcode 0, RD copied
    out.push(0x80 | rcode); // RA
    let answer: Option<Vec<u8>> = match how {
        DnsBlock::Sinkhole(v4, _) if qtype == 1 => Some(v4.octets().to_vec()),
        DnsBlock::Sinkhole(_, v6) if qtype == 28 => Some(v6.octets().to_vec()),
        _ => None,
    };
    out.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if let Some(rdata) = answer {
        out.extend_from_slice(&[0xc0, 0x0c]);
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    if is_response {
        let p = mamori_wire::build::udp_packet(dg.src, dg.dst, u.src_port, u.dst_port, &out);
        Some(Answer { forward: Some(p), back: None })
    } else {
        let p = mamori_wire::build::udp_packet(dg.dst, dg.src, u.dst_port, u.src_port, &out);
        Some(Answer { forward: None, back: Some(p) })
    }
}

#[cfg(test)]
mod dns_tests {
    use super::*;

    fn query(qtype: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in ["evil", "example"] {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.push(0);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        mamori_wire::build::udp_packet("10.0.0.2".parse().unwrap(), "10.0.0.53".parse().unwrap(), 5353, 53, &m)
    }

    fn dns_of(p: &[u8]) -> Vec<u8> {
        p[28..].to_vec()
    }

    #[test]
    fn sinkhole_answers_a_queries_back_to_the_client() {
        let how = DnsBlock::Sinkhole("0.0.0.0".parse().unwrap(), "::".parse().unwrap());
        let a = dns_block(&query(1), how).unwrap();
        assert!(a.forward.is_none());
        let back = a.back.unwrap();
        assert_eq!(&back[12..16], &[10, 0, 0, 53]);
        assert_eq!(&back[16..20], &[10, 0, 0, 2]);
        let m = dns_of(&back);
        assert_eq!(&m[..4], &[0x12, 0x34, 0x81, 0x80]);
        assert_eq!(&m[6..8], &[0, 1], "one answer");
        assert_eq!(&m[m.len() - 4..], &[0, 0, 0, 0]);
        // AAAA gets ::, MX gets no answer.
        let m6 = dns_of(&dns_block(&query(28), how).unwrap().back.unwrap());
        assert_eq!(&m6[m6.len() - 16..], &[0u8; 16]);
        let mx = dns_of(&dns_block(&query(15), how).unwrap().back.unwrap());
        assert_eq!(&mx[6..8], &[0, 0]);
    }

    #[test]
    fn nxdomain_and_junk() {
        let m = dns_of(&dns_block(&query(1), DnsBlock::NxDomain).unwrap().back.unwrap());
        assert_eq!(m[3] & 0x0f, 3);
        assert_eq!(&m[6..8], &[0, 0]);
        let mut bad = query(1);
        bad.truncate(35);
        assert!(dns_block(&bad, DnsBlock::NxDomain).is_none());
    }
}
