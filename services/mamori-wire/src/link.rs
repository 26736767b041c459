//! Link layers: what sits in front of the IP header in a captured frame.

use crate::{be16, DecodeError};

/// Capture link types we decode, named as in libpcap's `LINKTYPE_*` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's order.
    Null,
    Ethernet,
    /// Raw IPv4 or IPv6; the version nibble tells which.
    Raw,
    Ipv4,
    Ipv6,
    /// PPP (`LINKTYPE_PPP`).
    Ppp,
    /// Cisco HDLC (`LINKTYPE_C_HDLC`).
    CiscoHdlc,
    LinuxSll,
    LinuxSll2,
}

impl LinkType {
    /// Map a pcap/pcapng link type number.
    pub fn from_pcap(linktype: u32) -> Result<LinkType, DecodeError> {
        Ok(match linktype {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // 12 and 14 are the historic DLT values some systems wrote for raw IP.
            12 | 14 | 101 => LinkType::Raw,
            9 => LinkType::Ppp,
            104 => LinkType::CiscoHdlc,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => return Err(DecodeError::UnsupportedLink(other)),
        })
    }

    /// Suricata's name for the link type (EVE `packet_info.linktype_name`).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Null => "NULL",
            LinkType::Ethernet => "EN10MB",
            LinkType::Raw => "RAW",
            LinkType::Ipv4 => "IPV4",
            LinkType::Ipv6 => "IPV6",
            LinkType::Ppp => "PPP",
            LinkType::CiscoHdlc => "C_HDLC",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::LinuxSll2 => "LINUX_SLL2",
        }
    }
}

/// The network protocol a link frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetProto {
    Ipv4,
    Ipv6,
    /// Not IP (ARP, STP, LLDP, ...): passed through, not inspected.
    Other(u16),
}

/// Up to three 802.1Q/802.1ad tags, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vlans {
    // Private so the length can never exceed the array.
    ids: [u16; 3],
    len: u8,
}

impl Vlans {
    pub const MAX: usize = 3;

    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }

    fn push(&mut self, id: u16) -> Result<(), DecodeError> {
        let slot = self.ids.get_mut(usize::from(self.len)).ok_or(DecodeError::TooManyVlans)?;
        *slot = id;
        self.len += 1;
        Ok(())
    }
}

/// A frame with its link layer removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkFrame<'a> {
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    pub vlans: Vlans,
    pub proto: NetProto,
    pub payload: &'a [u8],
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;

fn proto_of(ethertype: u16) -> NetProto {
    match ethertype {
        ETH_IPV4 => NetProto::Ipv4,
        ETH_IPV6 => NetProto::Ipv6,
        other => NetProto::Other(other),
    }
}

fn mac(b: &[u8]) -> Option<[u8; 6]> {
    b.get(..6)?.try_into().ok()
}

/// Strip the link layer of `frame`.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    match link {
        LinkType::Ethernet => ethernet(frame),
        LinkType::Raw => raw(frame),
        LinkType::Ipv4 => Ok(plain(NetProto::Ipv4, frame)),
        LinkType::Ipv6 => Ok(plain(NetProto::Ipv6, frame)),
        LinkType::Null => null(frame),
        LinkType::Ppp => crate::tunnel::ppp(frame),
        LinkType::CiscoHdlc => chdlc(frame),
        LinkType::LinuxSll => sll(frame),
        LinkType::LinuxSll2 => sll2(frame),
    }
}

fn plain(proto: NetProto, payload: &[u8]) -> LinkFrame<'_> {
    LinkFrame { src_mac: None, dst_mac: None, vlans: Vlans::default(), proto, payload }
}

fn raw(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let first = *frame.first().ok_or(DecodeError::Truncated { layer: "ipv4" })?;
    match first >> 4 {
        4 => Ok(plain(NetProto::Ipv4, frame)),
        6 => Ok(plain(NetProto::Ipv6, frame)),
        _ => Err(DecodeError::BadIpVersion),
    }
}

fn ethernet(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "ethernet" };
    let dst_mac = mac(frame).ok_or(TRUNC)?;
    let src_mac = frame.get(6..).and_then(mac).ok_or(TRUNC)?;
    let mut ethertype = be16(frame, 12).ok_or(TRUNC)?;
    let mut at = 14usize;
    let mut vlans = Vlans::default();
    while matches!(ethertype, ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD) {
        let tci = be16(frame, at).ok_or(DecodeError::Truncated { layer: "vlan" })?;
        vlans.push(tci & 0x0fff)?;
        ethertype = be16(frame, at + 2).ok_or(DecodeError::Truncated { layer: "vlan" })?;
        at += 4;
    }
    let payload = frame.get(at..).ok_or(TRUNC)?;
    Ok(LinkFrame { src_mac: Some(src_mac), dst_mac: Some(dst_mac), vlans, proto: proto_of(ethertype), payload })
}

fn null(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let fam = frame.get(..4).ok_or(DecodeError::Truncated { layer: "null" })?;
    // The family is in the capturing host's byte order; accept either.
    let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
    let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
    let payload = &frame[4..];
    let is = |v: u32| [le, be].contains(&v);
    if is(2) {
        Ok(plain(NetProto::Ipv4, payload))
    } else if is(24) || is(28) || is(30) {
        // AF_INET6 differs between BSDs (24), FreeBSD (28) and macOS (30).
        Ok(plain(NetProto::Ipv6, payload))
    } else {
        Ok(plain(NetProto::Other(0), payload))
    }
}

fn chdlc(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let ethertype = be16(frame, 2).ok_or(DecodeError::Truncated { layer: "chdlc" })?;
    Ok(plain(proto_of(ethertype), frame.get(4..).unwrap_or_default()))
}

fn sll(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "sll" };
    let ethertype = be16(frame, 14).ok_or(TRUNC)?;
    let addr_len = be16(frame, 4).ok_or(TRUNC)?;
    let src_mac = if addr_len == 6 { frame.get(6..12).and_then(mac) } else { None };
    let payload = frame.get(16..).ok_or(TRUNC)?;
    Ok(LinkFrame { src_mac, dst_mac: None, vlans: Vlans::default(), proto: proto_of(ethertype), payload })
}

fn sll2(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "sll2" };
    let ethertype = be16(frame, 0).ok_or(TRUNC)?;
    let addr_len = *frame.get(11).ok_or(TRUNC)?;
    let src_mac = if addr_len == 6 { frame.get(12..18).and_then(mac) } else { None };
    let payload = frame.get(20..).ok_or(TRUNC)?;
    Ok(LinkFrame { src_mac, dst_mac: None, vlans: Vlans::default(), proto: proto_of(ethertype), payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_qinq_reports_both_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00, 0x45]);
        let d = decode(LinkType::Ethernet, &f).unwrap();
        assert_eq!(d.vlans.as_slice(), &[100, 200]);
        assert_eq!(d.proto, NetProto::Ipv4);
        assert_eq!(d.payload, &[0x45]);
    }

    #[test]
    fn four_vlan_tags_are_refused() {
        let mut f = vec![0u8; 12];
        for _ in 0..4 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        assert_eq!(decode(LinkType::Ethernet, &f), Err(DecodeError::TooManyVlans));
    }

    #[test]
    fn truncated_vlan_is_an_error_not_a_panic() {
        let f = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x00, 0x00];
        assert_eq!(decode(LinkType::Ethernet, &f), Err(DecodeError::Truncated { layer: "vlan" }));
    }

    #[test]
    fn sll2_carries_ipv6() {
        let mut f = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        f.push(0x60);
        let d = decode(LinkType::LinuxSll2, &f).unwrap();
        assert_eq!(d.proto, NetProto::Ipv6);
        assert_eq!(d.src_mac, Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(d.payload, &[0x60]);
    }

    #[test]
    fn sll_carries_ipv4() {
        let mut f = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        f.push(0x45);
        let d = decode(LinkType::LinuxSll, &f).unwrap();
        assert_eq!(d.proto, NetProto::Ipv4);
        assert_eq!(d.payload, &[0x45]);
    }

    #[test]
    fn raw_picks_version_from_nibble() {
        assert_eq!(decode(LinkType::Raw, &[0x60]).unwrap().proto, NetProto::Ipv6);
        assert_eq!(decode(LinkType::Raw, &[0x45]).unwrap().proto, NetProto::Ipv4);
        assert_eq!(decode(LinkType::Raw, &[0x15]), Err(DecodeError::BadIpVersion));
    }

    #[test]
    fn unknown_pcap_linktype_is_named() {
        assert_eq!(LinkType::from_pcap(9999), Err(DecodeError::UnsupportedLink(9999)));
    }
}
