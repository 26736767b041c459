//! IPv4 and IPv6 headers, including IPv6 extension headers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{be16, be32, DecodeError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpVersion {
    V4,
    V6,
}

/// Fragment facts of a datagram that is one piece of a larger one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Byte offset of this piece in the original payload.
    pub offset: u32,
    pub more: bool,
}

/// A decoded IP header and the payload it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpDatagram<'a> {
    pub version: IpVersion,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol (after any IPv6 extension headers).
    pub proto: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 TOS or IPv6 traffic class.
    pub tos: u8,
    /// IPv4 identification (0 for IPv6 without a fragment header).
    pub id: u32,
    pub fragment: Option<Fragment>,
    /// The header bytes, up to and including extension headers, so a
    /// reassembled datagram can be rebuilt with the first fragment's header.
    pub header: &'a [u8],
    pub payload: &'a [u8],
}

/// Extension headers beyond this many are refused: real traffic uses a few,
/// and an unbounded chain is an evasion or a CPU attack.
const MAX_EXT_HEADERS: usize = 8;

pub fn decode(version: IpVersion, data: &[u8]) -> Result<IpDatagram<'_>, DecodeError> {
    match version {
        IpVersion::V4 => decode_v4(data),
        IpVersion::V6 => decode_v6(data),
    }
}

/// Decode whichever version the first nibble names.
pub fn decode_any(data: &[u8]) -> Result<IpDatagram<'_>, DecodeError> {
    match data.first().map(|b| b >> 4) {
        Some(4) => decode_v4(data),
        Some(6) => decode_v6(data),
        Some(_) => Err(DecodeError::BadIpVersion),
        None => Err(DecodeError::Truncated { layer: "ipv4" }),
    }
}

fn decode_v4(data: &[u8]) -> Result<IpDatagram<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "ipv4" };
    const BAD: DecodeError = DecodeError::BadHeaderLength { layer: "ipv4" };
    let vihl = *data.first().ok_or(TRUNC)?;
    if vihl >> 4 != 4 {
        return Err(DecodeError::BadIpVersion);
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Err(BAD);
    }
    let total = usize::from(be16(data, 2).ok_or(TRUNC)?);
    if total < ihl {
        return Err(BAD);
    }
    // Frames may be padded past the datagram (Ethernet minimum size), never short.
    let datagram = data.get(..total).ok_or(TRUNC)?;
    let header = datagram.get(..ihl).ok_or(TRUNC)?;
    let flags_frag = be16(header, 6).ok_or(TRUNC)?;
    let more = flags_frag & 0x2000 != 0;
    let offset = u32::from(flags_frag & 0x1fff) * 8;
    let id = u32::from(be16(header, 4).ok_or(TRUNC)?);
    let src: [u8; 4] = header.get(12..16).ok_or(TRUNC)?.try_into().map_err(|_| TRUNC)?;
    let dst: [u8; 4] = header.get(16..20).ok_or(TRUNC)?.try_into().map_err(|_| TRUNC)?;
    Ok(IpDatagram {
        version: IpVersion::V4,
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        proto: header[9],
        ttl: header[8],
        tos: header[1],
        id,
        fragment: (more || offset != 0).then_some(Fragment { id, offset, more }),
        header,
        payload: &datagram[ihl..],
    })
}

fn decode_v6(data: &[u8]) -> Result<IpDatagram<'_>, DecodeError> {
    const TRUNC: DecodeError = DecodeError::Truncated { layer: "ipv6" };
    let first = *data.first().ok_or(TRUNC)?;
    if first >> 4 != 6 {
        return Err(DecodeError::BadIpVersion);
    }
    let fixed = data.get(..40).ok_or(TRUNC)?;
    let payload_len = usize::from(be16(fixed, 4).ok_or(TRUNC)?);
    // A zero payload length means a jumbogram; take what the frame holds.
    let end = if payload_len == 0 { data.len() } else { 40 + payload_len };
    let datagram = data.get(..end).ok_or(TRUNC)?;
    let src: [u8; 16] = fixed[8..24].try_into().map_err(|_| TRUNC)?;
    let dst: [u8; 16] = fixed[24..40].try_into().map_err(|_| TRUNC)?;
    let mut next = fixed[6];
    let mut at = 40usize;
    let build = |proto: u8, at: usize, id: u32, fragment: Option<Fragment>| IpDatagram {
        version: IpVersion::V6,
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        proto,
        ttl: fixed[7],
        tos: ((fixed[0] & 0x0f) << 4) | (fixed[1] >> 4),
        id,
        fragment,
        header: &datagram[..at],
        payload: &datagram[at..],
    };
    for _ in 0..=MAX_EXT_HEADERS {
        // Every branch below checks that `at` stays within `datagram`
        // before `build` slices at it.
        match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6:
            // length in 8-octet units, not counting the first 8.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let nh = *datagram.get(at).ok_or(TRUNC)?;
                let len = (usize::from(*datagram.get(at + 1).ok_or(TRUNC)?) + 1) * 8;
                if datagram.len() < at + len {
                    return Err(TRUNC);
                }
                next = nh;
                at += len;
            }
            44 => {
                let nh = *datagram.get(at).ok_or(TRUNC)?;
                let off_flags = be16(datagram, at + 2).ok_or(TRUNC)?;
                let id = be32(datagram, at + 4).ok_or(TRUNC)?;
                let offset = u32::from(off_flags >> 3) * 8;
                let more = off_flags & 1 != 0;
                at += 8;
                // An atomic fragment (offset 0, no more) is a whole datagram
                // (RFC 6946); otherwise what follows is the fragmentable part,
                // only meaningful once reassembled.
                if offset != 0 || more {
                    return Ok(build(nh, at, id, Some(Fragment { id, offset, more })));
                }
                next = nh;
            }
            // Authentication header: length in 4-octet units, plus 2.
            51 => {
                let nh = *datagram.get(at).ok_or(TRUNC)?;
                let len = (usize::from(*datagram.get(at + 1).ok_or(TRUNC)?) + 2) * 4;
                if datagram.len() < at + len {
                    return Err(TRUNC);
                }
                next = nh;
                at += len;
            }
            _ => return Ok(build(next, at, 0, None)),
        }
    }
    Err(DecodeError::TooManyExtensionHeaders)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn v4_header(proto: u8, payload_len: usize, frag: u16, id: u16) -> Vec<u8> {
        let total = (20 + payload_len) as u16;
        let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        h[6..8].copy_from_slice(&frag.to_be_bytes());
        h
    }

    pub fn v6_header(next: u8, payload_len: usize) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0, 0, 0, next, 64];
        h[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(1));
        h.extend_from_slice(&[0; 11]);
        h.push(1);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        h.extend_from_slice(&[0; 11]);
        h.push(2);
        h
    }

    #[test]
    fn ipv4_padding_is_trimmed() {
        let mut p = v4_header(17, 4, 0, 1);
        p.extend_from_slice(&[1, 2, 3, 4, 0, 0, 0]);
        let d = decode_any(&p).unwrap();
        assert_eq!(d.payload, &[1, 2, 3, 4]);
        assert_eq!(d.src.to_string(), "10.0.0.1");
        assert!(d.fragment.is_none());
    }

    #[test]
    fn ipv4_short_frame_is_truncated() {
        let p = v4_header(17, 8, 0, 1);
        assert_eq!(decode_any(&p), Err(DecodeError::Truncated { layer: "ipv4" }));
    }

    #[test]
    fn ipv4_ihl_below_five_is_refused() {
        let mut p = v4_header(17, 0, 0, 1);
        p[0] = 0x44;
        assert_eq!(decode_any(&p), Err(DecodeError::BadHeaderLength { layer: "ipv4" }));
    }

    #[test]
    fn ipv4_fragment_offset_is_in_bytes() {
        let mut p = v4_header(17, 8, 0x2000 | 3, 7);
        p.extend_from_slice(&[0; 8]);
        let f = decode_any(&p).unwrap().fragment.unwrap();
        assert_eq!(f, Fragment { id: 7, offset: 24, more: true });
    }

    #[test]
    fn ipv6_skips_hop_by_hop_and_dest_options() {
        let mut p = v6_header(0, 8 + 8 + 4);
        p.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[9, 9, 9, 9]);
        let d = decode_any(&p).unwrap();
        assert_eq!(d.proto, 17);
        assert_eq!(d.payload, &[9, 9, 9, 9]);
        assert_eq!(d.header.len(), 56);
    }

    #[test]
    fn ipv6_fragment_header_is_reported() {
        let mut p = v6_header(44, 8 + 4);
        p.extend_from_slice(&[58, 0, 0x00, 0x11, 0, 0, 0, 5]);
        p.extend_from_slice(&[1, 2, 3, 4]);
        let d = decode_any(&p).unwrap();
        assert_eq!(d.proto, 58);
        assert_eq!(d.fragment, Some(Fragment { id: 5, offset: 16, more: true }));
    }

    #[test]
    fn ipv6_extension_chain_is_bounded() {
        let n = 20;
        let mut p = v6_header(60, n * 8);
        for _ in 0..n {
            p.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
        }
        assert_eq!(decode_any(&p), Err(DecodeError::TooManyExtensionHeaders));
    }

    #[test]
    fn ipv6_truncated_extension_is_an_error() {
        let mut p = v6_header(0, 4);
        p.extend_from_slice(&[17, 3, 0, 0]);
        assert_eq!(decode_any(&p), Err(DecodeError::Truncated { layer: "ipv6" }));
    }
}
