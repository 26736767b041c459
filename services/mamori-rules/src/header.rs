//! The rule header: action, protocol, addresses, ports, direction.

use std::sync::Arc;

use mamori_applayer::AppProto;

use crate::address::IpSet;
use crate::error::{KwResult, RuleErrorKind};
use crate::port::PortSet;

/// What happens when the rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Alert,
    Pass,
    Drop,
    /// `reject`: Suricata's alias of `rejectsrc`.
    Reject,
    RejectSrc,
    RejectDst,
    RejectBoth,
}

impl Action {
    pub fn parse(s: &str) -> KwResult<Action> {
        Ok(match s {
            "alert" => Action::Alert,
            "pass" => Action::Pass,
            "drop" => Action::Drop,
            "reject" => Action::Reject,
            "rejectsrc" => Action::RejectSrc,
            "rejectdst" => Action::RejectDst,
            "rejectboth" => Action::RejectBoth,
            other => return Err(RuleErrorKind::UnknownAction(other.to_string())),
        })
    }

    /// The name EVE uses in `alert.action` is derived from this by the engine.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Pass => "pass",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::RejectSrc => "rejectsrc",
            Action::RejectDst => "rejectdst",
            Action::RejectBoth => "rejectboth",
        }
    }

    pub fn is_reject(self) -> bool {
        matches!(self, Action::Reject | Action::RejectSrc | Action::RejectDst | Action::RejectBoth)
    }

    /// Drop and all rejects stop the packet in inline mode.
    pub fn drops(self) -> bool {
        self == Action::Drop || self.is_reject()
    }
}

/// App-layer protocols Suricata 7/8 name in rule headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppLayer {
    /// `http`: any HTTP version.
    Http,
    Http1,
    Http2,
    Tls,
    Dns,
    Quic,
    Smtp,
    Pop3,
    Imap,
    Ftp,
    FtpData,
    Ssh,
    Smb,
    Dcerpc,
    Nfs,
    Ntp,
    Tftp,
    Krb5,
    Dhcp,
    Snmp,
    Sip,
    Rfb,
    Mqtt,
    Rdp,
    Modbus,
    Dnp3,
    Enip,
    Ike,
    BittorrentDht,
    Pgsql,
    Telnet,
    Websocket,
    Ldap,
    Doh2,
    Mdns,
    Irc,
}

const APP_NAMES: &[(&str, AppLayer)] = &[
    ("http", AppLayer::Http),
    ("http1", AppLayer::Http1),
    ("http2", AppLayer::Http2),
    ("tls", AppLayer::Tls),
    ("dns", AppLayer::Dns),
    ("quic", AppLayer::Quic),
    ("smtp", AppLayer::Smtp),
    ("pop3", AppLayer::Pop3),
    ("imap", AppLayer::Imap),
    ("ftp", AppLayer::Ftp),
    ("ftp-data", AppLayer::FtpData),
    ("ssh", AppLayer::Ssh),
    ("smb", AppLayer::Smb),
    ("dcerpc", AppLayer::Dcerpc),
    ("nfs", AppLayer::Nfs),
    ("ntp", AppLayer::Ntp),
    ("tftp", AppLayer::Tftp),
    ("krb5", AppLayer::Krb5),
    ("dhcp", AppLayer::Dhcp),
    ("snmp", AppLayer::Snmp),
    ("sip", AppLayer::Sip),
    ("rfb", AppLayer::Rfb),
    ("mqtt", AppLayer::Mqtt),
    ("rdp", AppLayer::Rdp),
    ("modbus", AppLayer::Modbus),
    ("dnp3", AppLayer::Dnp3),
    ("enip", AppLayer::Enip),
    ("ike", AppLayer::Ike),
    ("ikev2", AppLayer::Ike),
    ("bittorrent-dht", AppLayer::BittorrentDht),
    ("pgsql", AppLayer::Pgsql),
    ("telnet", AppLayer::Telnet),
    ("websocket", AppLayer::Websocket),
    ("ldap", AppLayer::Ldap),
    ("doh2", AppLayer::Doh2),
    ("mdns", AppLayer::Mdns),
    ("irc", AppLayer::Irc),
];

impl AppLayer {
    pub fn parse(s: &str) -> Option<AppLayer> {
        APP_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|&(_, a)| a)
    }

    pub fn as_str(self) -> &'static str {
        APP_NAMES.iter().find(|&&(_, a)| a == self).map(|&(n, _)| n).unwrap_or("unknown")
    }

    /// The engine's protocol id for the protocols Mamori parses; `None` for
    /// those it does not (such rules load but never see app-layer data).
    pub fn app_proto(self) -> Option<AppProto> {
        Some(match self {
            AppLayer::Http | AppLayer::Http1 | AppLayer::Http2 => AppProto::Http,
            AppLayer::Tls => AppProto::Tls,
            AppLayer::Dns => AppProto::Dns,
            AppLayer::Quic => AppProto::Quic,
            AppLayer::Smtp => AppProto::Smtp,
            AppLayer::Pop3 => AppProto::Pop3,
            AppLayer::Imap => AppProto::Imap,
            _ => return None,
        })
    }

    /// True for the HTTP family (`http`, `http1`, `http2`).
    pub fn is_http(self) -> bool {
        matches!(self, AppLayer::Http | AppLayer::Http1 | AppLayer::Http2)
    }

    /// Whether a rule written for `self` may use a keyword of `other`.
    pub fn compatible(self, other: AppLayer) -> bool {
        self == other
            || (self.is_http() && other.is_http())
            // DNS over HTTPS/2 carries DNS messages.
            || (self == AppLayer::Doh2 && matches!(other, AppLayer::Dns | AppLayer::Http2 | AppLayer::Http))
    }
}

/// The protocol field of the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `ip` (and `pkthdr`): every packet.
    Ip,
    Ipv4,
    Ipv6,
    /// `tcp`: payload keywords see both packets and the reassembled stream.
    Tcp,
    /// `tcp-pkt`: payload keywords see packets only.
    TcpPkt,
    /// `tcp-stream`: payload keywords see the reassembled stream only.
    TcpStream,
    Udp,
    /// `icmp`: ICMPv4 and ICMPv6.
    Icmp,
    Icmpv4,
    Icmpv6,
    Sctp,
    App(AppLayer),
}

impl Protocol {
    pub fn parse(s: &str) -> KwResult<Protocol> {
        let lower = s.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "ip" | "pkthdr" => Protocol::Ip,
            "ipv4" | "ip4" => Protocol::Ipv4,
            "ipv6" | "ip6" => Protocol::Ipv6,
            "tcp" => Protocol::Tcp,
            "tcp-pkt" => Protocol::TcpPkt,
            "tcp-stream" => Protocol::TcpStream,
            "udp" => Protocol::Udp,
            "icmp" => Protocol::Icmp,
            "icmpv4" => Protocol::Icmpv4,
            "icmpv6" => Protocol::Icmpv6,
            "sctp" => Protocol::Sctp,
            other => match AppLayer::parse(other) {
                Some(a) => Protocol::App(a),
                None => return Err(RuleErrorKind::UnknownProtocol(other.to_string())),
            },
        })
    }

    pub fn app_layer(self) -> Option<AppLayer> {
        match self {
            Protocol::App(a) => Some(a),
            _ => None,
        }
    }
}

/// `->`, `<>` or Suricata 8's transactional `=>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `->`: source to destination only.
    ToDst,
    /// `<>`: either way.
    Both,
    /// `=>`: request from source and response to it, one transaction.
    Transactional,
}

impl Direction {
    pub fn parse(s: &str) -> KwResult<Direction> {
        match s {
            "->" => Ok(Direction::ToDst),
            "<>" => Ok(Direction::Both),
            "=>" => Ok(Direction::Transactional),
            _ => Err(RuleErrorKind::Syntax("direction must be \"->\", \"<>\" or \"=>\"")),
        }
    }
}

/// A resolved header. Address and port sets are shared between rules that
/// wrote the same text (25k ET rules use a handful of distinct groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub proto: Protocol,
    pub src: Arc<IpSet>,
    pub src_ports: Arc<PortSet>,
    pub direction: Direction,
    pub dst: Arc<IpSet>,
    pub dst_ports: Arc<PortSet>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert_eq!(Action::parse("rejectboth").unwrap(), Action::RejectBoth);
        assert!(Action::parse("reject").unwrap().drops());
        assert!(!Action::parse("pass").unwrap().drops());
        assert_eq!(Action::parse("log"), Err(RuleErrorKind::UnknownAction("log".into())));
    }

    #[test]
    fn protocols() {
        assert_eq!(Protocol::parse("tcp-pkt").unwrap(), Protocol::TcpPkt);
        assert_eq!(Protocol::parse("HTTP1").unwrap(), Protocol::App(AppLayer::Http1));
        assert_eq!(Protocol::parse("ikev2").unwrap(), Protocol::App(AppLayer::Ike));
        assert_eq!(Protocol::parse("gopher"), Err(RuleErrorKind::UnknownProtocol("gopher".into())));
        assert_eq!(AppLayer::Http2.app_proto(), Some(AppProto::Http));
        assert_eq!(AppLayer::Smb.app_proto(), None);
        assert!(AppLayer::Http1.compatible(AppLayer::Http));
        assert!(!AppLayer::Dns.compatible(AppLayer::Http));
    }

    #[test]
    fn directions() {
        assert_eq!(Direction::parse("<>").unwrap(), Direction::Both);
        assert!(Direction::parse("<-").is_err());
    }
}
