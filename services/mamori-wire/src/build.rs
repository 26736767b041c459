//! Building packets: tests, fuzz seeds, and the resets and block pages the
//! inline path sends. Checksums are computed, so what is built is valid on
//! a real wire.

use std::net::IpAddr;

use crate::transport::{PROTO_TCP, PROTO_UDP};

/// Internet checksum (RFC 1071) over `parts`, as if concatenated.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A TCP segment to build.
#[derive(Clone, Debug)]
pub struct TcpSpec<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload: &'a [u8],
}

/// IP packet (v4 or v6 by the addresses) carrying `l4` of protocol `proto`.
/// Mixed address families yield an empty packet.
pub fn ip_packet(src: IpAddr, dst: IpAddr, proto: u8, ttl: u8, mut l4: Vec<u8>) -> Vec<u8> {
    // Fill in the transport checksum over the pseudo-header.
    let ck_at = match proto {
        PROTO_TCP => Some(16),
        PROTO_UDP => Some(6),
        _ => None,
    };
    let len = l4.len();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            if let Some(at) = ck_at.filter(|at| l4.len() >= at + 2) {
                let pseudo = [&s.octets()[..], &d.octets()[..], &[0, proto], &(len as u16).to_be_bytes()].concat();
                l4[at] = 0;
                l4[at + 1] = 0;
                let c = checksum(&[&pseudo, &l4]);
                l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
            }
            let total = (20 + len) as u16;
            let mut h = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, ttl, proto, 0, 0];
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let c = checksum(&[&h]);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            h.extend_from_slice(&l4);
            h
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            if let Some(at) = ck_at.filter(|at| l4.len() >= at + 2) {
                let pseudo =
                    [&s.octets()[..], &d.octets()[..], &(len as u32).to_be_bytes(), &[0, 0, 0, proto]].concat();
                l4[at] = 0;
                l4[at + 1] = 0;
                let c = checksum(&[&pseudo, &l4]);
                l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
            }
            let mut h = vec![0x60, 0, 0, 0];
            h.extend_from_slice(&(len as u16).to_be_bytes());
            h.push(proto);
            h.push(ttl);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            h.extend_from_slice(&l4);
            h
        }
        _ => Vec::new(),
    }
}

/// A TCP/IP packet (no link layer).
pub fn tcp_packet(t: &TcpSpec<'_>) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(20 + t.payload.len());
    l4.extend_from_slice(&t.sport.to_be_bytes());
    l4.extend_from_slice(&t.dport.to_be_bytes());
    l4.extend_from_slice(&t.seq.to_be_bytes());
    l4.extend_from_slice(&t.ack.to_be_bytes());
    l4.push(5 << 4);
    l4.push(t.flags);
    l4.extend_from_slice(&t.window.to_be_bytes());
    l4.extend_from_slice(&[0, 0, 0, 0]);
    l4.extend_from_slice(t.payload);
    ip_packet(t.src, t.dst, PROTO_TCP, 64, l4)
}

/// A UDP/IP packet (no link layer).
pub fn udp_packet(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(8 + payload.len());
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    l4.extend_from_slice(&[0, 0]);
    l4.extend_from_slice(payload);
    ip_packet(src, dst, PROTO_UDP, 64, l4)
}

/// Wrap an IP packet in Ethernet.
pub fn ethernet(src: [u8; 6], dst: [u8; 6], ip: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + ip.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    let ethertype: u16 = if ip.first().map(|b| b >> 4) == Some(6) { 0x86dd } else { 0x0800 };
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ip, transport, Transport};

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2; checksum is its complement.
        assert_eq!(checksum(&[&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]]), !0xddf2);
    }

    #[test]
    fn built_packets_decode_and_verify() {
        for (s, d) in [("10.0.0.1", "10.0.0.2"), ("2001:db8::1", "2001:db8::2")] {
            let (src, dst): (IpAddr, IpAddr) = (s.parse().unwrap(), d.parse().unwrap());
            let p = tcp_packet(&TcpSpec {
                src,
                dst,
                sport: 1,
                dport: 2,
                seq: 3,
                ack: 4,
                flags: 0x18,
                window: 5,
                payload: b"hey",
            });
            let dg = ip::decode_any(&p).unwrap();
            let Transport::Tcp(t) = transport::decode(dg.proto, dg.payload).unwrap() else { panic!() };
            assert_eq!((t.seq, t.ack, t.payload), (3, 4, &b"hey"[..]));
            // A correct transport checksum sums (with the pseudo-header) to zero.
            let pseudo: Vec<u8> = match (src, dst) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    [&a.octets()[..], &b.octets()[..], &[0, 6], &(dg.payload.len() as u16).to_be_bytes()].concat()
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => {
                    [&a.octets()[..], &b.octets()[..], &(dg.payload.len() as u32).to_be_bytes(), &[0, 0, 0, 6]].concat()
                }
                _ => unreachable!(),
            };
            assert_eq!(checksum(&[&pseudo, dg.payload]), 0);
            if src.is_ipv4() {
                assert_eq!(checksum(&[dg.header]), 0);
            }
        }
    }
}
