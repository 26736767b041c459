//! One captured frame to one TCP or UDP segment, through mamori-wire's
//! decoders: link layer (Ethernet with up to three VLAN tags, PPPoE session,
//! Linux SLL/SLL2, BSD loopback, raw IP, PPP, Cisco HDLC), IPv4 and IPv6
//! with extension headers, then TCP or UDP.

use std::net::SocketAddr;
use std::time::Duration;

use mamori_wire::link::{self, LinkType, NetProto};
use mamori_wire::transport::{self, PROTO_TCP, PROTO_UDP};
use mamori_wire::{ip, tunnel, DecodeError, IpVersion, TcpFlags};
use pcap_file::DataLink;

use crate::capture::Frame;

/// Transport protocol, without per-packet detail: what a flow key needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4 {
    Tcp,
    Udp,
}

impl L4 {
    /// The IP protocol number.
    pub fn proto(self) -> u8 {
        match self {
            L4::Tcp => PROTO_TCP,
            L4::Udp => PROTO_UDP,
        }
    }
}

/// What the transport header said beyond ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp { seq: u32, flags: TcpFlags },
    Udp,
}

/// A TCP or UDP packet of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The frame it came from (1-based, counting every record).
    pub frame: u64,
    pub ts: Duration,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub payload: Vec<u8>,
}

impl Segment {
    pub fn l4(&self) -> L4 {
        match self.transport {
            Transport::Tcp { .. } => L4::Tcp,
            Transport::Udp => L4::Udp,
        }
    }

    /// The TCP flags; none for UDP.
    pub fn flags(&self) -> TcpFlags {
        match self.transport {
            Transport::Tcp { flags, .. } => flags,
            Transport::Udp => TcpFlags::default(),
        }
    }

    pub fn syn(&self) -> bool {
        self.flags().syn()
    }

    pub fn ack(&self) -> bool {
        self.flags().ack()
    }
}

/// Why a frame gave no segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// A link type mamori-wire does not decode, or a pcapng packet on an
    /// undescribed interface.
    UnknownLink,
    /// ARP, LLDP, and the like.
    NotIp,
    /// A piece of a fragmented datagram. Not reassembled: none of the
    /// captures the tests read fragments TCP or UDP, and a first piece alone
    /// would show a cut transport payload.
    Fragment,
    /// ICMP and other IP protocols.
    NotTcpUdp(u8),
    Malformed(DecodeError),
}

impl From<DecodeError> for Skipped {
    fn from(e: DecodeError) -> Self {
        Skipped::Malformed(e)
    }
}

/// PPPoE session stage (RFC 2516): PPP inside Ethernet.
const ETH_PPPOE_SESSION: u16 = 0x8864;

/// Decodes a frame down to its TCP or UDP payload.
pub fn decode_frame(frame: &Frame<'_>) -> Result<Segment, Skipped> {
    let link = frame.link.and_then(link_type).ok_or(Skipped::UnknownLink)?;
    let mut l2 = link::decode(link, frame.data)?;
    if l2.proto == NetProto::Other(ETH_PPPOE_SESSION) {
        // Version/type, code, session id, length; then the PPP protocol.
        let ppp = l2.payload.get(6..).ok_or(DecodeError::Truncated { layer: "pppoe" })?;
        l2 = tunnel::ppp(ppp)?;
    }
    let version = match l2.proto {
        NetProto::Ipv4 => IpVersion::V4,
        NetProto::Ipv6 => IpVersion::V6,
        NetProto::Other(_) => return Err(Skipped::NotIp),
    };
    let dgram = ip::decode(version, l2.payload)?;
    if dgram.fragment.is_some() {
        return Err(Skipped::Fragment);
    }
    let (transport, sport, dport, payload) = match transport::decode(dgram.proto, dgram.payload)? {
        transport::Transport::Tcp(t) => {
            (Transport::Tcp { seq: t.seq, flags: t.flags }, t.src_port, t.dst_port, t.payload)
        }
        transport::Transport::Udp(u) => (Transport::Udp, u.src_port, u.dst_port, u.payload),
        _ => return Err(Skipped::NotTcpUdp(dgram.proto)),
    };
    Ok(Segment {
        frame: frame.number,
        ts: frame.ts,
        src: SocketAddr::new(dgram.src, sport),
        dst: SocketAddr::new(dgram.dst, dport),
        transport,
        payload: payload.to_vec(),
    })
}

fn link_type(link: DataLink) -> Option<LinkType> {
    match link {
        // OpenBSD loopback: the BSD 4-byte family, always in network order,
        // which mamori-wire's Null decoder accepts either way round.
        DataLink::LOOP => Some(LinkType::Null),
        other => LinkType::from_pcap(u32::from(other)).ok(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::IpAddr;

    use mamori_wire::build::{self, TcpSpec};

    use super::*;

    pub const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    pub const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

    pub fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    pub fn tcp(src: &str, dst: &str, sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        build::tcp_packet(&TcpSpec {
            src: ip(src),
            dst: ip(dst),
            sport,
            dport,
            seq,
            ack: 0,
            flags,
            window: 1024,
            payload,
        })
    }

    fn frame(link: DataLink, data: &[u8]) -> Frame<'_> {
        Frame { number: 7, ts: Duration::from_secs(1), link: Some(link), orig_len: data.len() as u32, data }
    }

    /// An Ethernet frame with `tags` 802.1Q/802.1ad tags before `ethertype`.
    fn tagged(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = [MAC_B, MAC_A].concat();
        for (tpid, vid) in tags {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&vid.to_be_bytes());
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn ipv4_tcp_over_ethernet() {
        let f = build::ethernet(MAC_A, MAC_B, &tcp("10.0.0.1", "10.0.0.2", 40000, 443, 1000, 0x18, b"hello"));
        let s = decode_frame(&frame(DataLink::ETHERNET, &f)).unwrap();
        assert_eq!(s.src, "10.0.0.1:40000".parse().unwrap());
        assert_eq!(s.dst, "10.0.0.2:443".parse().unwrap());
        assert_eq!(s.transport, Transport::Tcp { seq: 1000, flags: TcpFlags(0x18) });
        assert_eq!((s.l4(), s.syn(), s.ack()), (L4::Tcp, false, true));
        assert_eq!(s.payload, b"hello");
        assert_eq!((s.frame, s.ts), (7, Duration::from_secs(1)));
    }

    #[test]
    fn ipv6_udp_over_ethernet() {
        let p = build::udp_packet(ip("2001:db8::1"), ip("2001:db8::2"), 5353, 53, b"\x12\x34query");
        let s = decode_frame(&frame(DataLink::ETHERNET, &build::ethernet(MAC_A, MAC_B, &p))).unwrap();
        assert_eq!(s.src, "[2001:db8::1]:5353".parse().unwrap());
        assert_eq!(s.dst, "[2001:db8::2]:53".parse().unwrap());
        assert_eq!((s.transport, s.l4(), s.flags()), (Transport::Udp, L4::Udp, TcpFlags::default()));
        assert_eq!(s.payload, b"\x12\x34query");
    }

    #[test]
    fn ipv6_tcp_syn_over_raw_ip() {
        let p = tcp("2001:db8::1", "2001:db8::2", 1234, 80, u32::MAX, TcpFlags::SYN, b"");
        let s = decode_frame(&frame(DataLink::RAW, &p)).unwrap();
        assert_eq!(s.transport, Transport::Tcp { seq: u32::MAX, flags: TcpFlags(TcpFlags::SYN) });
        assert!(s.syn() && !s.ack() && s.payload.is_empty());
    }

    #[test]
    fn vlan_and_qinq_tags_are_skipped() {
        let p = build::udp_packet(ip("192.0.2.1"), ip("192.0.2.2"), 1, 2, b"x");
        for tags in [&[(0x8100, 100)][..], &[(0x88a8, 10), (0x8100, 20)], &[(0x9100, 1), (0x8100, 2)]] {
            let s = decode_frame(&frame(DataLink::ETHERNET, &tagged(tags, 0x0800, &p))).unwrap();
            assert_eq!((s.src.port(), s.dst.port(), &s.payload[..]), (1, 2, &b"x"[..]), "{tags:?}");
        }
    }

    #[test]
    fn pppoe_session_carries_ip() {
        let p = tcp("10.1.1.1", "10.1.1.2", 5000, 80, 1, 0x18, b"GET /");
        // ver/type 0x11, code 0 (session data), session 0x0001, length, PPP IPv4.
        let mut pppoe = vec![0x11, 0x00, 0x00, 0x01];
        pppoe.extend_from_slice(&((p.len() + 2) as u16).to_be_bytes());
        pppoe.extend_from_slice(&[0x00, 0x21]);
        pppoe.extend_from_slice(&p);
        let s = decode_frame(&frame(DataLink::ETHERNET, &tagged(&[], 0x8864, &pppoe))).unwrap();
        assert_eq!(s.payload, b"GET /");
        // A PPPoE header cut short is skipped.
        let short = tagged(&[], 0x8864, &pppoe[..4]);
        assert!(matches!(decode_frame(&frame(DataLink::ETHERNET, &short)), Err(Skipped::Malformed(_))));
    }

    #[test]
    fn linux_cooked_and_loopback_links() {
        let p = build::udp_packet(ip("127.0.0.1"), ip("127.0.0.1"), 9, 10, b"sll");
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&p);
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        sll2.extend_from_slice(&p);
        // BSD loopback: AF_INET in host order (NULL) or network order (LOOP).
        let null = [&2u32.to_le_bytes()[..], &p].concat();
        let lo = [&2u32.to_be_bytes()[..], &p].concat();
        for (link, f) in
            [(DataLink::LINUX_SLL, &sll), (DataLink::LINUX_SLL2, &sll2), (DataLink::NULL, &null), (DataLink::LOOP, &lo)]
        {
            let s = decode_frame(&frame(link, f)).unwrap_or_else(|e| panic!("{link:?}: {e:?}"));
            assert_eq!(s.payload, b"sll", "{link:?}");
        }
    }

    #[test]
    fn non_tcp_udp_frames_say_why_they_are_skipped() {
        let arp = tagged(&[], 0x0806, &[0; 28]);
        assert_eq!(decode_frame(&frame(DataLink::ETHERNET, &arp)), Err(Skipped::NotIp));
        let icmp = build::ip_packet(ip("10.0.0.1"), ip("10.0.0.2"), 1, 64, vec![8, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(decode_frame(&frame(DataLink::RAW, &icmp)), Err(Skipped::NotTcpUdp(1)));
        let mut frag = build::udp_packet(ip("10.0.0.1"), ip("10.0.0.2"), 1, 2, &[0; 32]);
        frag[6] = 0x20; // more fragments
        assert_eq!(decode_frame(&frame(DataLink::RAW, &frag)), Err(Skipped::Fragment));
        let usb = DataLink::from(189);
        assert_eq!(decode_frame(&frame(usb, &frag)), Err(Skipped::UnknownLink));
        let undescribed = Frame { link: None, ..frame(DataLink::RAW, &frag) };
        assert_eq!(decode_frame(&undescribed), Err(Skipped::UnknownLink));
    }

    #[test]
    fn a_frame_cut_anywhere_is_skipped_not_half_decoded() {
        let frames = [
            build::ethernet(MAC_A, MAC_B, &tcp("10.0.0.1", "10.0.0.2", 1, 2, 3, 0x18, b"payload")),
            build::ethernet(MAC_A, MAC_B, &build::udp_packet(ip("2001:db8::1"), ip("2001:db8::2"), 1, 2, b"payload")),
            tagged(&[(0x8100, 5)], 0x0800, &tcp("10.0.0.1", "10.0.0.2", 1, 2, 3, 0x18, b"payload")),
        ];
        for f in &frames {
            assert!(decode_frame(&frame(DataLink::ETHERNET, f)).is_ok());
            for cut in 0..f.len() {
                let got = decode_frame(&frame(DataLink::ETHERNET, &f[..cut]));
                assert!(got.is_err(), "cut at {cut} of {} decoded: {got:?}", f.len());
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        // A fixed xorshift stream: reproducible, yet covers odd lengths and
        // header fields no capture tool would write.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let links = [DataLink::ETHERNET, DataLink::RAW, DataLink::LINUX_SLL, DataLink::LINUX_SLL2, DataLink::NULL];
        let valid = build::ethernet(MAC_A, MAC_B, &tcp("10.0.0.1", "10.0.0.2", 1, 2, 3, 0x18, b"payload"));
        for i in 0..20_000 {
            let link = links[i % links.len()];
            let mut f: Vec<u8> = if i % 2 == 0 {
                (0..next() % 120).map(|_| next() as u8).collect()
            } else {
                // A valid frame with a few bytes flipped reaches deeper layers.
                let mut f = valid.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % f.len();
                    f[at] = next() as u8;
                }
                f
            };
            if i % 3 == 0 {
                f.truncate((next() as usize) % (f.len() + 1));
            }
            let _ = decode_frame(&frame(link, &f));
        }
    }
}
