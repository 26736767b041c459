//! Encapsulations that carry another packet: GRE (incl. PPTP's enhanced
//! GRE with PPP inside) and PPP. IP-in-IP needs no header of its own.

use crate::link::{decode as link_decode, LinkFrame, LinkType, NetProto, Vlans};
use crate::{be16, DecodeError};

pub const PROTO_IPIP: u8 = 4;
pub const PROTO_IPV6_IN_IP: u8 = 41;
pub const PROTO_GRE: u8 = 47;

/// Strip a PPP header (address/control optional, protocol field 1 or 2 bytes).
pub fn ppp(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "ppp" };
    let mut b = frame;
    if b.starts_with(&[0xff, 0x03]) {
        b = &b[2..];
    }
    let first = *b.first().ok_or(TRUNC)?;
    // An odd first byte is a compressed (1-byte) protocol field (RFC 1661 §6.5).
    let (proto, rest) = if first & 1 == 1 { (u16::from(first), &b[1..]) } else { (be16(b, 0).ok_or(TRUNC)?, &b[2..]) };
    let proto = match proto {
        0x0021 => NetProto::Ipv4,
        0x0057 => NetProto::Ipv6,
        other => NetProto::Other(other),
    };
    Ok(LinkFrame { src_mac: None, dst_mac: None, vlans: Vlans::default(), proto, payload: rest })
}

/// Strip a GRE header and decode what it carries.
pub fn gre(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "gre" };
    let flags = be16(data, 0).ok_or(TRUNC)?;
    let proto = be16(data, 2).ok_or(TRUNC)?;
    let version = flags & 0x7;
    let mut at = 4usize;
    let checksum = flags & 0x8000 != 0;
    let key = flags & 0x2000 != 0;
    let seq = flags & 0x1000 != 0;
    match version {
        0 => {
            if checksum {
                at += 4;
            }
            if key {
                at += 4;
            }
            if seq {
                at += 4;
            }
        }
        // PPTP's enhanced GRE (RFC 2637): key always present, ack optional.
        1 => {
            at += 4;
            if seq {
                at += 4;
            }
            if flags & 0x0080 != 0 {
                at += 4;
            }
        }
        _ => return Err(DecodeError::BadHeaderLength { layer: "gre" }),
    }
    let payload = data.get(at..).ok_or(TRUNC)?;
    match proto {
        0x0800 => {
            Ok(LinkFrame { src_mac: None, dst_mac: None, vlans: Vlans::default(), proto: NetProto::Ipv4, payload })
        }
        0x86dd => {
            Ok(LinkFrame { src_mac: None, dst_mac: None, vlans: Vlans::default(), proto: NetProto::Ipv6, payload })
        }
        0x880b => ppp(payload),
        0x6558 => link_decode(LinkType::Ethernet, payload),
        other => Ok(LinkFrame {
            src_mac: None,
            dst_mac: None,
            vlans: Vlans::default(),
            proto: NetProto::Other(other),
            payload,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pptp_gre_with_ppp_ipv4() {
        let mut g = vec![0x30, 0x01, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 9];
        g.extend_from_slice(&[0xff, 0x03, 0x00, 0x21, 0x45]);
        let f = gre(&g).unwrap();
        assert_eq!(f.proto, NetProto::Ipv4);
        assert_eq!(f.payload, &[0x45]);
    }

    #[test]
    fn ppp_compressed_protocol_field() {
        let f = ppp(&[0x21, 0x45]).unwrap();
        assert_eq!(f.proto, NetProto::Ipv4);
        assert_eq!(f.payload, &[0x45]);
    }

    #[test]
    fn gre_truncated_optional_fields() {
        assert_eq!(gre(&[0xb0, 0, 0x08, 0, 0, 0]), Err(DecodeError::Truncated { layer: "gre" }));
    }
}
