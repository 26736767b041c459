//! IETF long-header packets: locating them in a datagram and opening Initials.

use crate::keys::DirectionKeys;
use crate::varint;
use crate::version::QuicVersion;

/// Connection IDs are at most 20 bytes in every version we read (RFC 9000 17.2).
const MAX_CID_LEN: usize = 20;
const SAMPLE_LEN: usize = 16;
const TAG_LEN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketKind {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Truncated,
    ConnectionIdTooLong,
    FixedBitClear,
}

/// A long-header packet within a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LongHeader<'a> {
    pub version: QuicVersion,
    pub kind: PacketKind,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Where the (protected) packet number starts.
    pub pn_offset: usize,
    /// Where this packet ends (the next coalesced packet starts).
    pub end: usize,
}

fn take(b: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    b.split_at_checked(n)
}

/// Parses the long header at the front of `d` (RFC 9000 17.2, RFC 9369 3.2).
pub(crate) fn parse_long_header(d: &[u8]) -> Result<LongHeader<'_>, HeaderError> {
    let t = HeaderError::Truncated;
    let (&first, rest) = d.split_first().ok_or(t)?;
    if first & 0x40 == 0 {
        return Err(HeaderError::FixedBitClear);
    }
    let (v, rest) = take(rest, 4).ok_or(t)?;
    let version = QuicVersion(u32::from_be_bytes(v.try_into().map_err(|_| t)?));
    let (&dcid_len, rest) = rest.split_first().ok_or(t)?;
    if usize::from(dcid_len) > MAX_CID_LEN {
        return Err(HeaderError::ConnectionIdTooLong);
    }
    let (dcid, rest) = take(rest, usize::from(dcid_len)).ok_or(t)?;
    let (&scid_len, rest) = rest.split_first().ok_or(t)?;
    if usize::from(scid_len) > MAX_CID_LEN {
        return Err(HeaderError::ConnectionIdTooLong);
    }
    let (scid, mut rest) = take(rest, usize::from(scid_len)).ok_or(t)?;
    let type_bits = (first >> 4) & 0x03;
    let kind = if type_bits == version.initial_type() {
        PacketKind::Initial
    } else if type_bits == version.retry_type() {
        PacketKind::Retry
    } else if type_bits == (version.initial_type() + 1) & 0x03 {
        PacketKind::ZeroRtt
    } else {
        PacketKind::Handshake
    };
    if kind == PacketKind::Retry {
        let pn_offset = d.len() - rest.len();
        return Ok(LongHeader { version, kind, dcid, scid, pn_offset, end: d.len() });
    }
    if kind == PacketKind::Initial {
        let (token_len, r) = varint::read_len(rest).ok_or(t)?;
        let (_token, r) = take(r, token_len).ok_or(t)?;
        rest = r;
    }
    let (length, rest) = varint::read_len(rest).ok_or(t)?;
    let pn_offset = d.len() - rest.len();
    let end = pn_offset.checked_add(length).filter(|&e| e <= d.len()).ok_or(t)?;
    Ok(LongHeader { version, kind, dcid, scid, pn_offset, end })
}

/// RFC 9000 A.3: the full packet number closest to the next expected one.
pub(crate) fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: u32) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << bits;
    let hwin = win / 2;
    let candidate = (expected & !(win - 1)) | truncated;
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// An opened Initial packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Opened {
    pub packet_number: u64,
    pub payload: Vec<u8>,
}

/// Removes header protection and decrypts the Initial packet `packet`
/// (exactly one packet, `header.end` bytes). `None` when authentication fails.
pub(crate) fn open_initial(
    packet: &[u8],
    header: &LongHeader<'_>,
    keys: &DirectionKeys,
    largest: Option<u64>,
) -> Option<Opened> {
    let pn_offset = header.pn_offset;
    let sample_start = pn_offset.checked_add(4)?;
    let sample: &[u8; SAMPLE_LEN] = packet.get(sample_start..sample_start + SAMPLE_LEN)?.try_into().ok()?;
    let mask = keys.mask(sample);
    let first = packet.first()? ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let header_end = pn_offset + pn_len;
    let mut aad = packet.get(..header_end)?.to_vec();
    *aad.first_mut()? = first;
    let mut truncated = 0u64;
    for (i, m) in mask.iter().skip(1).take(pn_len).enumerate() {
        let b = aad.get_mut(pn_offset + i)?;
        *b ^= m;
        truncated = (truncated << 8) | u64::from(*b);
    }
    let packet_number = decode_packet_number(largest, truncated, 8 * pn_len as u32);
    let mut payload = packet.get(header_end..header.end)?.to_vec();
    if payload.len() < TAG_LEN {
        return None;
    }
    let len = keys.open(packet_number, &aad, &mut payload)?;
    payload.truncate(len);
    Some(Opened { packet_number, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_number_decoding_rfc_example() {
        // RFC 9000 A.3: largest 0xa82f30ea, truncated 0x9b32 (16 bits).
        assert_eq!(decode_packet_number(Some(0xa82f_30ea), 0x9b32, 16), 0xa82f_9b32);
        assert_eq!(decode_packet_number(None, 2, 32), 2);
        assert_eq!(decode_packet_number(Some(u64::MAX), 0, 8), u64::MAX - 255);
    }

    #[test]
    fn header_fields() {
        let mut d = vec![0xc3, 0, 0, 0, 1, 2, 0xaa, 0xbb, 1, 0xcc, 0x01, 0x77, 0x04, 1, 2, 3, 4];
        let h = parse_long_header(&d).expect("valid");
        assert_eq!(h.kind, PacketKind::Initial);
        assert_eq!(h.dcid, &[0xaa, 0xbb]);
        assert_eq!(h.scid, &[0xcc]);
        assert_eq!((h.pn_offset, h.end), (13, 17));
        d.truncate(16);
        assert_eq!(parse_long_header(&d), Err(HeaderError::Truncated));
    }

    #[test]
    fn header_errors() {
        assert_eq!(parse_long_header(&[0x83, 0, 0, 0, 1, 0, 0, 0]), Err(HeaderError::FixedBitClear));
        let mut long_cid = vec![0xc3, 0, 0, 0, 1, 21];
        long_cid.extend([0; 30]);
        assert_eq!(parse_long_header(&long_cid), Err(HeaderError::ConnectionIdTooLong));
        assert_eq!(parse_long_header(&[]), Err(HeaderError::Truncated));
    }

    #[test]
    fn v2_type_bits() {
        // 0xd0: type bits 01 = Initial in v2, 0-RTT in v1.
        let v2 = [0xd0, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1, 0];
        assert_eq!(parse_long_header(&v2).expect("valid").kind, PacketKind::Initial);
        let v1 = [0xd0, 0, 0, 0, 1, 0, 0, 1, 0];
        assert_eq!(parse_long_header(&v1).expect("valid").kind, PacketKind::ZeroRtt);
        let retry = [0xf0, 0, 0, 0, 1, 0, 0, 9, 9];
        assert_eq!(parse_long_header(&retry).expect("valid").kind, PacketKind::Retry);
    }
}
