//! Non-buffer conditions: IP/TCP/ICMP header keywords ET uses, dsize,
//! app-layer-protocol/event, stream_size, tls.version.

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::flow::{parse_stream_size, StreamSize};
use crate::number::{parse_cmp, parse_dec, parse_u64, NumCmp};
use crate::text;

/// How a flag set compares with the packet's (`flags` and `fragbits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitMode {
    /// No modifier: exactly these bits (outside the ignore mask).
    Exact,
    /// `+`: these bits and possibly others.
    All,
    /// `*`: any of these bits.
    Any,
    /// `!`: none of these bits.
    Not,
}

pub mod tcp_flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// `flags:[+*!]<FSRPAUCE0>[,<ignore>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpFlags {
    pub mode: BitMode,
    pub flags: u8,
    /// Bits to ignore when comparing.
    pub ignore: u8,
}

impl TcpFlags {
    pub fn matches(&self, pkt: u8) -> bool {
        let pkt = pkt & !self.ignore;
        match self.mode {
            BitMode::Exact => pkt == self.flags,
            BitMode::All => pkt & self.flags == self.flags,
            BitMode::Any => pkt & self.flags != 0 || self.flags == 0,
            BitMode::Not => pkt & self.flags == 0,
        }
    }
}

pub mod frag_bit {
    pub const RESERVED: u8 = 0x04;
    pub const DONT_FRAGMENT: u8 = 0x02;
    pub const MORE_FRAGMENTS: u8 = 0x01;
}

/// `fragbits:[+*!]<MDR>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragBits {
    pub mode: BitMode,
    pub bits: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpOpt {
    Rr,
    Eol,
    Nop,
    Ts,
    Sec,
    Esec,
    Lsrr,
    Ssrr,
    Satid,
    Any,
}

/// A check on the packet or flow rather than on an inspection buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Condition {
    Dsize(NumCmp<u16>),
    Ttl(NumCmp<u8>),
    Tos {
        negated: bool,
        value: u8,
    },
    IpId(u16),
    IpOpts(IpOpt),
    FragBits(FragBits),
    FragOffset(NumCmp<u16>),
    IpProto(NumCmp<u8>),
    Flags(TcpFlags),
    Seq(u32),
    Ack(u32),
    Window {
        negated: bool,
        size: u16,
    },
    TcpMss(NumCmp<u16>),
    Itype(NumCmp<u8>),
    Icode(NumCmp<u8>),
    IcmpId(u16),
    IcmpSeq(u16),
    /// Source and destination address are equal.
    SameIp,
    /// `app-layer-protocol:[!]name[,mode]`.
    AppLayerProtocol {
        negated: bool,
        proto: String,
        mode: Option<String>,
    },
    /// `app-layer-event:<proto>.<event>`, kept as written.
    AppLayerEvent(String),
    StreamSize(StreamSize),
    /// `tls.version:<1.0|1.1|1.2|1.3|ssl3.0>`, kept as written.
    TlsVersion(String),
    /// `ftpbounce`: the FTP PORT command names another host.
    FtpBounce,
}

impl Condition {
    pub fn keyword(&self) -> &'static str {
        match self {
            Condition::Dsize(_) => "dsize",
            Condition::Ttl(_) => "ttl",
            Condition::Tos { .. } => "tos",
            Condition::IpId(_) => "id",
            Condition::IpOpts(_) => "ipopts",
            Condition::FragBits(_) => "fragbits",
            Condition::FragOffset(_) => "fragoffset",
            Condition::IpProto(_) => "ip_proto",
            Condition::Flags(_) => "flags",
            Condition::Seq(_) => "seq",
            Condition::Ack(_) => "ack",
            Condition::Window { .. } => "window",
            Condition::TcpMss(_) => "tcp.mss",
            Condition::Itype(_) => "itype",
            Condition::Icode(_) => "icode",
            Condition::IcmpId(_) => "icmp_id",
            Condition::IcmpSeq(_) => "icmp_seq",
            Condition::SameIp => "sameip",
            Condition::AppLayerProtocol { .. } => "app-layer-protocol",
            Condition::AppLayerEvent(_) => "app-layer-event",
            Condition::StreamSize(_) => "stream_size",
            Condition::TlsVersion(_) => "tls.version",
            Condition::FtpBounce => "ftpbounce",
        }
    }
}

fn num<T: TryFrom<u64>>(s: &str) -> KwResult<T> {
    let v = parse_u64(s)?;
    T::try_from(v).map_err(|_| invalid(format!("{v} out of range")))
}

fn negatable<T: TryFrom<u64>>(s: &str) -> KwResult<(bool, T)> {
    let s = s.trim();
    match s.strip_prefix('!') {
        Some(r) => Ok((true, num(r)?)),
        None => Ok((false, num(s)?)),
    }
}

/// Parses a condition keyword; `None` when `keyword` is not one.
pub(crate) fn parse(keyword: &str, value: Option<&str>) -> Option<KwResult<Condition>> {
    let need = || value.ok_or(RuleErrorKind::MissingValue);
    let r = match keyword {
        "dsize" => need().and_then(|v| parse_cmp(v).map(Condition::Dsize)),
        "ttl" => need().and_then(|v| parse_cmp(v).map(Condition::Ttl)),
        "tos" => need().and_then(parse_tos),
        "id" => need().and_then(|v| num(v).map(Condition::IpId)),
        "ipopts" => need().and_then(parse_ipopts),
        "fragbits" => need().and_then(parse_fragbits),
        "fragoffset" => need().and_then(|v| parse_cmp(v).map(Condition::FragOffset)),
        "ip_proto" => need().and_then(parse_ip_proto),
        "flags" => need().and_then(parse_flags),
        "seq" => need().and_then(|v| num(v).map(Condition::Seq)),
        "ack" => need().and_then(|v| num(v).map(Condition::Ack)),
        "window" => need().and_then(|v| negatable::<u16>(v).map(|(negated, size)| Condition::Window { negated, size })),
        "tcp.mss" => need().and_then(|v| parse_cmp(v).map(Condition::TcpMss)),
        "itype" => need().and_then(|v| parse_cmp(v).map(Condition::Itype)),
        "icode" => need().and_then(|v| parse_cmp(v).map(Condition::Icode)),
        "icmp_id" => need().and_then(|v| parse_dec(v).map(Condition::IcmpId)),
        "icmp_seq" => need().and_then(|v| parse_dec(v).map(Condition::IcmpSeq)),
        "sameip" => match value {
            None => Ok(Condition::SameIp),
            Some(_) => Err(RuleErrorKind::UnexpectedValue),
        },
        "app-layer-protocol" => need().and_then(parse_app_layer_protocol),
        "app-layer-event" => need().and_then(|v| {
            let v = v.trim();
            if v.is_empty() || v.contains(char::is_whitespace) {
                Err(invalid("bad app-layer event"))
            } else {
                Ok(Condition::AppLayerEvent(v.to_string()))
            }
        }),
        "stream_size" => need().and_then(|v| parse_stream_size(v).map(Condition::StreamSize)),
        "tls.version" => need().and_then(|v| {
            let v = text::maybe_quoted(v.trim());
            match v {
                "1.0" | "1.1" | "1.2" | "1.3" | "ssl3.0" | "ssl3" | "tls1.0" | "tls1.1" | "tls1.2" | "tls1.3" => {
                    Ok(Condition::TlsVersion(v.to_string()))
                }
                other => match parse_u64(other) {
                    Ok(_) => Ok(Condition::TlsVersion(other.to_string())),
                    Err(_) => Err(invalid(format!("bad tls version {other:?}"))),
                },
            }
        }),
        _ => return None,
    };
    Some(r)
}

/// `tos:[!]N`: decimal, or hex written `xNN` (Suricata rejects `0x`).
fn parse_tos(v: &str) -> KwResult<Condition> {
    let v = v.trim();
    let (negated, rest) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, v),
    };
    let value = if let Some(h) = rest.strip_prefix(['x', 'X']) {
        if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(format!("bad tos {rest:?}")));
        }
        u8::from_str_radix(h, 16).map_err(|_| invalid(format!("bad tos {rest:?}")))?
    } else {
        parse_dec::<u8>(rest)?
    };
    Ok(Condition::Tos { negated, value })
}

fn parse_ipopts(v: &str) -> KwResult<Condition> {
    Ok(Condition::IpOpts(match v.trim() {
        "rr" => IpOpt::Rr,
        "eol" => IpOpt::Eol,
        "nop" => IpOpt::Nop,
        "ts" => IpOpt::Ts,
        "sec" => IpOpt::Sec,
        "esec" => IpOpt::Esec,
        "lsrr" => IpOpt::Lsrr,
        "ssrr" => IpOpt::Ssrr,
        "satid" => IpOpt::Satid,
        "any" => IpOpt::Any,
        other => return Err(invalid(format!("bad ipopts {other:?}"))),
    }))
}

fn mode_char(c: char, mode: &mut Option<BitMode>) -> KwResult<bool> {
    let m = match c {
        '+' => BitMode::All,
        '*' => BitMode::Any,
        '!' => BitMode::Not,
        _ => return Ok(false),
    };
    if mode.replace(m).is_some() {
        return Err(invalid("more than one flag modifier"));
    }
    Ok(true)
}

fn tcp_flag_bit(c: char) -> Option<u8> {
    use tcp_flag::*;
    Some(match c.to_ascii_uppercase() {
        'F' => FIN,
        'S' => SYN,
        'R' => RST,
        'P' => PSH,
        'A' => ACK,
        'U' => URG,
        'C' | '1' => CWR,
        'E' | '2' => ECE,
        _ => return None,
    })
}

fn parse_flags(v: &str) -> KwResult<Condition> {
    let (main, mask) = match v.split_once(',') {
        Some((a, b)) => (a.trim(), Some(b.trim())),
        None => (v.trim(), None),
    };
    let mut mode = None;
    let mut flags = 0u8;
    let mut zero = false;
    for c in main.chars().filter(|c| !c.is_whitespace()) {
        if mode_char(c, &mut mode)? {
            continue;
        }
        if c == '0' {
            zero = true;
            continue;
        }
        flags |= tcp_flag_bit(c).ok_or_else(|| invalid(format!("bad tcp flag {c:?}")))?;
    }
    if zero && flags != 0 {
        return Err(invalid("flag 0 (no flags) can't be combined with other flags"));
    }
    if !zero && flags == 0 {
        return Err(invalid("no flags given"));
    }
    let mut ignore = 0u8;
    if let Some(m) = mask {
        for c in m.chars().filter(|c| !c.is_whitespace()) {
            ignore |= tcp_flag_bit(c).ok_or_else(|| invalid(format!("bad tcp flag in mask {c:?}")))?;
        }
    }
    Ok(Condition::Flags(TcpFlags { mode: mode.unwrap_or(BitMode::Exact), flags, ignore }))
}

fn parse_fragbits(v: &str) -> KwResult<Condition> {
    let mut mode = None;
    let mut bits = 0u8;
    for c in v.trim().chars().filter(|c| !c.is_whitespace()) {
        if mode_char(c, &mut mode)? {
            continue;
        }
        bits |= match c.to_ascii_uppercase() {
            'M' => frag_bit::MORE_FRAGMENTS,
            'D' => frag_bit::DONT_FRAGMENT,
            'R' => frag_bit::RESERVED,
            other => return Err(invalid(format!("bad fragbit {other:?}"))),
        };
    }
    if bits == 0 {
        return Err(invalid("no fragbits given"));
    }
    Ok(Condition::FragBits(FragBits { mode: mode.unwrap_or(BitMode::Exact), bits }))
}

/// IANA protocol numbers for the names rules use with ip_proto.
const IP_PROTO_NAMES: &[(&str, u8)] = &[
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("ipv4", 4),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("udp", 17),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("eigrp", 88),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
];

fn parse_ip_proto(v: &str) -> KwResult<Condition> {
    let v = v.trim();
    let (op, rest) = match v.chars().next() {
        Some(c @ ('!' | '<' | '>')) => (Some(c), v.get(1..).unwrap_or("").trim()),
        _ => (None, v),
    };
    let n: u8 = if rest.bytes().all(|b| b.is_ascii_digit()) {
        parse_dec(rest)?
    } else {
        let lower = rest.to_ascii_lowercase();
        IP_PROTO_NAMES
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|&(_, p)| p)
            .ok_or_else(|| invalid(format!("unknown ip protocol {rest:?}")))?
    };
    Ok(Condition::IpProto(match op {
        Some('!') => NumCmp::Ne(n),
        Some('<') => NumCmp::Lt(n),
        Some('>') => NumCmp::Gt(n),
        _ => NumCmp::Eq(n),
    }))
}

fn parse_app_layer_protocol(v: &str) -> KwResult<Condition> {
    let mut it = text::params(v);
    let first = it.next().unwrap_or("");
    let (negated, proto) = match first.strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, first),
    };
    if proto.is_empty() {
        return Err(invalid("missing protocol"));
    }
    if proto != "failed" && proto != "unknown" && crate::header::AppLayer::parse(proto).is_none() {
        return Err(invalid(format!("unknown app-layer protocol {proto:?}")));
    }
    let mode = it.next().map(str::to_string);
    if let Some(m) = &mode {
        if !matches!(m.as_str(), "final" | "original" | "either" | "to_server" | "to_client" | "direction") {
            return Err(invalid(format!("bad app-layer-protocol mode {m:?}")));
        }
    }
    if it.next().is_some() {
        return Err(invalid("too many app-layer-protocol arguments"));
    }
    Ok(Condition::AppLayerProtocol { negated, proto: proto.to_string(), mode })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(k: &str, v: &str) -> Condition {
        parse(k, Some(v)).unwrap().unwrap()
    }

    #[test]
    fn flags() {
        let Condition::Flags(f) = c("flags", "S,12") else { panic!() };
        assert_eq!((f.mode, f.flags, f.ignore), (BitMode::Exact, tcp_flag::SYN, tcp_flag::CWR | tcp_flag::ECE));
        assert!(f.matches(tcp_flag::SYN | tcp_flag::ECE));
        assert!(!f.matches(tcp_flag::SYN | tcp_flag::ACK));
        let Condition::Flags(f) = c("flags", "+AP") else { panic!() };
        assert!(f.matches(tcp_flag::ACK | tcp_flag::PSH | tcp_flag::FIN));
        let Condition::Flags(f) = c("flags", "!R") else { panic!() };
        assert!(!f.matches(tcp_flag::RST) && f.matches(tcp_flag::ACK));
        let Condition::Flags(f) = c("flags", "0") else { panic!() };
        assert!(f.matches(0) && !f.matches(tcp_flag::ACK));
        assert!(parse("flags", Some("SX")).unwrap().is_err());
        assert!(parse("flags", Some("+*S")).unwrap().is_err());
        assert!(parse("flags", Some("0S")).unwrap().is_err());
    }

    #[test]
    fn header_keywords() {
        assert_eq!(c("ttl", "<5"), Condition::Ttl(NumCmp::Lt(5)));
        assert_eq!(c("itype", "8"), Condition::Itype(NumCmp::Eq(8)));
        assert_eq!(c("icode", ">0"), Condition::Icode(NumCmp::Gt(0)));
        assert_eq!(c("dsize", ">65000"), Condition::Dsize(NumCmp::Gt(65000)));
        assert_eq!(c("tos", "!x10"), Condition::Tos { negated: true, value: 16 });
        assert_eq!(c("tos", "16"), Condition::Tos { negated: false, value: 16 });
        assert!(parse("tos", Some("0x10")).unwrap().is_err(), "Suricata rejects 0x");
        assert_eq!(c("ip_proto", "!tcp"), Condition::IpProto(NumCmp::Ne(6)));
        assert_eq!(c("ip_proto", "47"), Condition::IpProto(NumCmp::Eq(47)));
        assert_eq!(c("window", "!1024"), Condition::Window { negated: true, size: 1024 });
        assert_eq!(
            c("fragbits", "+M"),
            Condition::FragBits(FragBits { mode: BitMode::All, bits: frag_bit::MORE_FRAGMENTS })
        );
        assert_eq!(c("ipopts", "lsrr"), Condition::IpOpts(IpOpt::Lsrr));
        assert_eq!(parse("sameip", None), Some(Ok(Condition::SameIp)));
        assert!(parse("ttl", None).unwrap().is_err());
        assert!(parse("ttl", Some("300")).unwrap().is_err());
        assert!(parse("content", Some("x")).is_none());
    }

    #[test]
    fn app_layer_keywords() {
        assert_eq!(
            c("app-layer-protocol", "!http,final"),
            Condition::AppLayerProtocol { negated: true, proto: "http".into(), mode: Some("final".into()) }
        );
        assert!(parse("app-layer-protocol", Some("gopher")).unwrap().is_err());
        assert_eq!(
            c("app-layer-event", "http.request_field_too_long"),
            Condition::AppLayerEvent("http.request_field_too_long".into())
        );
        assert_eq!(c("tls.version", "1.2"), Condition::TlsVersion("1.2".into()));
    }
}
