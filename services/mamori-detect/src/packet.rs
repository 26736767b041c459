//! What the detector is told about a packet and its flow, and the rule
//! header and IP/TCP/ICMP keyword checks against it.

use std::net::IpAddr;

use mamori_applayer::{AppProto, Direction};
use mamori_rules::{BitMode, Condition, IpOpt, StreamSide};

use crate::sig::Sig;

/// TCP header fields rules can test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpHdr {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub mss: Option<u16>,
}

/// ICMP header fields rules can test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IcmpHdr {
    pub kind: u8,
    pub code: u8,
    /// The 4 bytes after the checksum (id and sequence for echo).
    pub rest: [u8; 4],
}

/// IPv4 options present, one bit per [`IpOpt`] (see [`ipopt_bit`]).
pub type IpOptBits = u16;

pub fn ipopt_bit(o: IpOpt) -> IpOptBits {
    1 << match o {
        IpOpt::Rr => 0,
        IpOpt::Eol => 1,
        IpOpt::Nop => 2,
        IpOpt::Ts => 3,
        IpOpt::Sec => 4,
        IpOpt::Esec => 5,
        IpOpt::Lsrr => 6,
        IpOpt::Ssrr => 7,
        IpOpt::Satid => 8,
        IpOpt::Any => 15,
    }
}

/// The IPv4 options of a header's option bytes, as [`IpOptBits`].
pub fn ipv4_options(opts: &[u8]) -> IpOptBits {
    let mut bits = 0;
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        let opt = match kind {
            0 => Some(IpOpt::Eol),
            1 => Some(IpOpt::Nop),
            7 => Some(IpOpt::Rr),
            68 => Some(IpOpt::Ts),
            130 => Some(IpOpt::Sec),
            133 => Some(IpOpt::Esec),
            131 => Some(IpOpt::Lsrr),
            137 => Some(IpOpt::Ssrr),
            136 => Some(IpOpt::Satid),
            _ => None,
        };
        if let Some(o) = opt {
            bits |= ipopt_bit(o) | ipopt_bit(IpOpt::Any);
        }
        if kind == 0 {
            break;
        }
        if kind == 1 {
            i += 1;
            continue;
        }
        let len = usize::from(*opts.get(i + 1).unwrap_or(&0));
        if len < 2 {
            break;
        }
        i += len;
    }
    bits
}

/// One packet as rules see it. Addresses are as on the wire.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Capture time in microseconds.
    pub ts_us: u64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sp: u16,
    pub dp: u16,
    /// IP protocol after extension headers (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    pub proto: u8,
    pub ipv6: bool,
    pub ttl: u8,
    pub tos: u8,
    pub ip_id: u32,
    /// Reserved, don't-fragment and more-fragments bits (`frag_bit`).
    pub frag_bits: u8,
    pub frag_offset: u16,
    pub ipopts: IpOptBits,
    pub tcp: Option<TcpHdr>,
    pub icmp: Option<IcmpHdr>,
    /// Transport payload.
    pub payload: &'a [u8],
    /// Not a packet from the wire: the inspection point made when a flow
    /// ends (Suricata's flow-timeout pseudo packet). Packet-size keywords
    /// never match it.
    pub pseudo: bool,
}

/// What the flow of a packet knows.
#[derive(Clone, Copy, Debug)]
pub struct FlowFacts {
    /// Direction of the packet in its flow.
    pub dir: Direction,
    /// TCP handshake done, or UDP/other traffic seen both ways.
    pub established: bool,
    pub app_proto: Option<AppProto>,
    /// The packet's TCP payload went into stream reassembly (so stream
    /// inspection covers it).
    pub stream_added: bool,
    /// Payload bytes seen per direction (to server, to client), for stream_size.
    pub stream_bytes: [u64; 2],
}

/// Addresses and ports oriented for one direction of inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sp: u16,
    pub dp: u16,
}

impl Tuple {
    pub fn of(p: &Packet<'_>) -> Tuple {
        Tuple { src: p.src, dst: p.dst, sp: p.sp, dp: p.dp }
    }

    pub fn reversed(self) -> Tuple {
        Tuple { src: self.dst, dst: self.src, sp: self.dp, dp: self.sp }
    }
}

/// Rule header: protocol, addresses, ports, direction.
pub(crate) fn header_matches(sig: &Sig, p: &Packet<'_>, t: &Tuple) -> bool {
    sig.proto.matches(p.proto, p.ipv6) && addresses_match(sig, p.proto, t)
}

/// What [`addresses_match`] said per address class for the tuple being
/// inspected (it is forgotten when the tuple or protocol changes). A
/// transaction's dozen candidates, or a packet's unfiltered signatures,
/// mostly share a few headers (`$HOME_NET any -> $EXTERNAL_NET any`), and
/// the sets are searched once per class instead of once per signature.
#[derive(Default)]
pub(crate) struct AddrMemo {
    key: Option<(Tuple, u8)>,
    /// Per class: not judged yet, or the answer.
    state: Vec<Option<bool>>,
    /// Classes judged for `key`, to forget them cheaply.
    touched: Vec<u32>,
}

impl AddrMemo {
    pub fn matches(&mut self, classes: usize, sig: &Sig, proto: u8, t: &Tuple) -> bool {
        if self.key != Some((*t, proto)) {
            for &c in &self.touched {
                if let Some(s) = self.state.get_mut(c as usize) {
                    *s = None;
                }
            }
            self.touched.clear();
            self.key = Some((*t, proto));
        }
        if self.state.len() < classes {
            self.state.resize(classes, None);
        }
        let Some(slot) = self.state.get_mut(sig.addr_class as usize) else {
            return addresses_match(sig, proto, t);
        };
        *slot.get_or_insert_with(|| {
            self.touched.push(sig.addr_class);
            addresses_match(sig, proto, t)
        })
    }
}

/// Addresses and ports (with the rule's direction) of a rule header.
pub(crate) fn addresses_match(sig: &Sig, proto: u8, t: &Tuple) -> bool {
    let ports = matches!(proto, 6 | 17 | 132);
    let fwd = |t: &Tuple| {
        sig.src.contains(t.src)
            && sig.dst.contains(t.dst)
            && (!ports || (sig.src_ports.contains(t.sp) && sig.dst_ports.contains(t.dp)))
    };
    fwd(t) || (sig.bidir && fwd(&t.reversed()))
}

fn flags_ok(mode: BitMode, have: u8, want: u8) -> bool {
    match mode {
        BitMode::Exact => have == want,
        BitMode::All => have & want == want,
        BitMode::Any => want == 0 || have & want != 0,
        BitMode::Not => have & want == 0,
    }
}

/// IP/TCP/ICMP keywords and flow-level conditions. `payload_len` is the
/// packet's (dsize).
pub(crate) fn conditions_match(sig: &Sig, p: &Packet<'_>, f: &FlowFacts, t: &Tuple) -> bool {
    sig.conditions.iter().all(|c| condition(c, p, f, t))
}

fn condition(c: &Condition, p: &Packet<'_>, f: &FlowFacts, t: &Tuple) -> bool {
    match c {
        Condition::Dsize(_) if p.pseudo => false,
        Condition::Dsize(cmp) => cmp.matches(u16::try_from(p.payload.len()).unwrap_or(u16::MAX)),
        Condition::Ttl(cmp) => cmp.matches(p.ttl),
        Condition::Tos { negated, value } => (p.tos == *value) != *negated,
        Condition::IpId(id) => !p.ipv6 && p.ip_id == u32::from(*id),
        Condition::IpOpts(o) => p.ipopts & ipopt_bit(*o) != 0,
        Condition::FragBits(fb) => flags_ok(fb.mode, p.frag_bits, fb.bits),
        Condition::FragOffset(cmp) => cmp.matches(p.frag_offset),
        Condition::IpProto(cmp) => cmp.matches(p.proto),
        Condition::Flags(fl) => p.tcp.is_some_and(|h| fl.matches(h.flags)),
        Condition::Seq(v) => p.tcp.is_some_and(|h| h.seq == *v),
        Condition::Ack(v) => p.tcp.is_some_and(|h| h.ack == *v),
        Condition::Window { negated, size } => p.tcp.is_some_and(|h| (h.window == *size) != *negated),
        Condition::TcpMss(cmp) => p.tcp.and_then(|h| h.mss).is_some_and(|m| cmp.matches(m)),
        Condition::Itype(cmp) => p.icmp.is_some_and(|h| cmp.matches(h.kind)),
        Condition::Icode(cmp) => p.icmp.is_some_and(|h| cmp.matches(h.code)),
        Condition::IcmpId(id) => {
            p.icmp.is_some_and(|h| icmp_echo(h) && u16::from_be_bytes([h.rest[0], h.rest[1]]) == *id)
        }
        Condition::IcmpSeq(s) => {
            p.icmp.is_some_and(|h| icmp_echo(h) && u16::from_be_bytes([h.rest[2], h.rest[3]]) == *s)
        }
        Condition::SameIp => t.src == t.dst,
        Condition::AppLayerProtocol { negated, proto, .. } => {
            let name = f.app_proto.map(AppProto::eve_name);
            let hit = match proto.as_str() {
                "unknown" => f.app_proto.is_none(),
                "failed" => f.app_proto == Some(AppProto::Failed),
                p => name.is_some_and(|n| n == p || (p.starts_with("http") && n == "http")),
            };
            hit != *negated
        }
        Condition::StreamSize(ss) => {
            let [ts, tc] = f.stream_bytes;
            let v = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
            let (server, client) = (v(tc), v(ts));
            match ss.side {
                StreamSide::Server => ss.cmp.matches(server),
                StreamSide::Client => ss.cmp.matches(client),
                StreamSide::Both => ss.cmp.matches(server) && ss.cmp.matches(client),
                StreamSide::Either => ss.cmp.matches(server) || ss.cmp.matches(client),
            }
        }
        // Not tracked by this engine: such rules never match.
        Condition::AppLayerEvent(_) | Condition::TlsVersion(_) | Condition::FtpBounce => false,
    }
}

fn icmp_echo(h: IcmpHdr) -> bool {
    matches!(h.kind, 0 | 8 | 128 | 129 | 13 | 14 | 15 | 16 | 17 | 18)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_options_are_decoded() {
        // NOP, record route (len 7), EOL.
        let b = ipv4_options(&[1, 7, 7, 4, 0, 0, 0, 0, 0]);
        assert!(b & ipopt_bit(IpOpt::Rr) != 0);
        assert!(b & ipopt_bit(IpOpt::Nop) != 0);
        assert!(b & ipopt_bit(IpOpt::Any) != 0);
        assert!(b & ipopt_bit(IpOpt::Ts) == 0);
        assert_eq!(ipv4_options(&[]), 0);
        assert_eq!(ipv4_options(&[7, 0]), ipopt_bit(IpOpt::Rr) | ipopt_bit(IpOpt::Any), "bad length stops");
    }
}
