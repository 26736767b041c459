//! Transport headers: TCP, UDP, ICMP and ICMPv6.

use crate::{be16, be32, DecodeError};

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// TCP flag bits, as on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    pub fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }

    /// Suricata's hex rendering for EVE `tcp.tcp_flags`.
    pub fn hex(self) -> String {
        format!("{:02x}", self.0)
    }
}

/// TCP options the engine uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamp: Option<(u32, u32)>,
    /// TCP Fast Open cookie option present (RFC 7413); the cookie itself is
    /// irrelevant to inspection.
    pub fast_open: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Udp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp<'a> {
    pub kind: u8,
    pub code: u8,
    /// The 4 bytes after the checksum (id/sequence for echo, MTU, ...).
    pub rest: [u8; 4],
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp(Tcp<'a>),
    Udp(Udp<'a>),
    Icmp(Icmp<'a>),
    Icmpv6(Icmp<'a>),
    /// Any other IP protocol: tracked as a flow by addresses only.
    Other {
        proto: u8,
        payload: &'a [u8],
    },
}

impl Transport<'_> {
    pub fn ports(&self) -> (u16, u16) {
        match self {
            Transport::Tcp(t) => (t.src_port, t.dst_port),
            Transport::Udp(u) => (u.src_port, u.dst_port),
            _ => (0, 0),
        }
    }

    pub fn payload(&self) -> &[u8] {
        match self {
            Transport::Tcp(t) => t.payload,
            Transport::Udp(u) => u.payload,
            Transport::Icmp(i) | Transport::Icmpv6(i) => i.payload,
            Transport::Other { payload, .. } => payload,
        }
    }
}

pub fn decode(proto: u8, data: &[u8]) -> Result<Transport<'_>, DecodeError> {
    match proto {
        PROTO_TCP => tcp(data).map(Transport::Tcp),
        PROTO_UDP => udp(data).map(Transport::Udp),
        PROTO_ICMP => icmp(data, "icmpv4").map(Transport::Icmp),
        PROTO_ICMPV6 => icmp(data, "icmpv6").map(Transport::Icmpv6),
        proto => Ok(Transport::Other { proto, payload: data }),
    }
}

fn tcp(data: &[u8]) -> Result<Tcp<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "tcp" };
    let fixed = data.get(..20).ok_or(TRUNC)?;
    let hlen = usize::from(fixed[12] >> 4) * 4;
    if hlen < 20 {
        return Err(DecodeError::BadHeaderLength { layer: "tcp" });
    }
    let header = data.get(..hlen).ok_or(TRUNC)?;
    Ok(Tcp {
        src_port: be16(fixed, 0).ok_or(TRUNC)?,
        dst_port: be16(fixed, 2).ok_or(TRUNC)?,
        seq: be32(fixed, 4).ok_or(TRUNC)?,
        ack: be32(fixed, 8).ok_or(TRUNC)?,
        flags: TcpFlags(fixed[13]),
        window: be16(fixed, 14).ok_or(TRUNC)?,
        urgent: be16(fixed, 18).ok_or(TRUNC)?,
        options: tcp_options(&header[20..]),
        payload: &data[hlen..],
    })
}

/// Malformed options end option parsing; they do not invalidate the segment,
/// as end hosts also ignore what they cannot parse.
fn tcp_options(mut opts: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            0 => break,
            1 => {
                opts = rest;
                continue;
            }
            _ => {}
        }
        let Some(&len) = rest.first() else { break };
        let len = usize::from(len);
        if len < 2 || len > opts.len() {
            break;
        }
        let body = &opts[2..len];
        match (kind, body.len()) {
            (2, 2) => o.mss = be16(body, 0),
            (3, 1) => o.window_scale = Some(body[0]),
            (4, 0) => o.sack_permitted = true,
            (8, 8) => o.timestamp = be32(body, 0).zip(be32(body, 4)),
            (34, _) => o.fast_open = true,
            _ => {}
        }
        opts = &opts[len..];
    }
    o
}

fn udp(data: &[u8]) -> Result<Udp<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "udp" };
    let len = usize::from(be16(data, 4).ok_or(TRUNC)?);
    // Length 0 is legal for IPv6 jumbograms; otherwise trust the smaller of
    // the header's length and what arrived, but refuse a header that lies
    // about being shorter than itself.
    let end = match len {
        0 => data.len(),
        1..=7 => return Err(DecodeError::BadHeaderLength { layer: "udp" }),
        n => n.min(data.len()),
    };
    Ok(Udp {
        src_port: be16(data, 0).ok_or(TRUNC)?,
        dst_port: be16(data, 2).ok_or(TRUNC)?,
        payload: data.get(8..end).ok_or(TRUNC)?,
    })
}

fn icmp<'a>(data: &'a [u8], layer: &'static str) -> Result<Icmp<'a>, DecodeError> {
    let h = data.get(..8).ok_or(DecodeError::Truncated { layer })?;
    Ok(Icmp { kind: h[0], code: h[1], rest: [h[4], h[5], h[6], h[7]], payload: &data[8..] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_bytes(opts: &[u8], payload: &[u8]) -> Vec<u8> {
        let hlen = 20 + opts.len();
        let mut t =
            vec![0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, ((hlen / 4) as u8) << 4, 0x12, 0xff, 0xff, 0, 0, 0, 0];
        t.extend_from_slice(opts);
        t.extend_from_slice(payload);
        t
    }

    #[test]
    fn tcp_options_and_payload() {
        let opts = [2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 34, 2, 0, 0];
        let bytes = tcp_bytes(&opts, b"hi");
        let Transport::Tcp(t) = decode(PROTO_TCP, &bytes).unwrap() else { panic!() };
        assert_eq!((t.src_port, t.dst_port, t.seq), (1234, 80, 1));
        assert!(t.flags.syn() && t.flags.ack());
        assert_eq!(t.options.mss, Some(1460));
        assert_eq!(t.options.window_scale, Some(7));
        assert!(t.options.sack_permitted && t.options.fast_open);
        assert_eq!(t.options.timestamp, Some((1, 2)));
        assert_eq!(t.payload, b"hi");
    }

    #[test]
    fn tcp_option_with_bad_length_stops_option_parsing_only() {
        let opts = [2, 40, 0, 0];
        let bytes = tcp_bytes(&opts, b"x");
        let Transport::Tcp(t) = decode(PROTO_TCP, &bytes).unwrap() else { panic!() };
        assert_eq!(t.options, TcpOptions::default());
        assert_eq!(t.payload, b"x");
    }

    #[test]
    fn tcp_data_offset_past_end_is_truncated() {
        let mut t = tcp_bytes(&[], b"");
        t[12] = 0xf0;
        assert_eq!(decode(PROTO_TCP, &t), Err(DecodeError::Truncated { layer: "tcp" }));
    }

    #[test]
    fn udp_trailing_bytes_beyond_length_are_ignored() {
        let u = [0, 53, 0, 53, 0, 10, 0, 0, 1, 2, 3, 4, 5];
        let Transport::Udp(u) = decode(PROTO_UDP, &u).unwrap() else { panic!() };
        assert_eq!(u.payload, &[1, 2]);
    }

    #[test]
    fn udp_length_below_header_is_refused() {
        let u = [0, 53, 0, 53, 0, 4, 0, 0];
        assert_eq!(decode(PROTO_UDP, &u), Err(DecodeError::BadHeaderLength { layer: "udp" }));
    }

    #[test]
    fn icmp_echo() {
        let Transport::Icmp(i) = decode(PROTO_ICMP, &[8, 0, 0, 0, 0, 1, 0, 2, b'p']).unwrap() else { panic!() };
        assert_eq!((i.kind, i.code, i.rest, i.payload), (8, 0, [0, 1, 0, 2], &b"p"[..]));
    }
}
