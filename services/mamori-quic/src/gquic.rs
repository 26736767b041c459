//! Google QUIC (gQUIC) client hellos: the plaintext CHLO of versions up to
//! Q046, and the CHLO carried in CRYPTO frames of Q050.
//!
//! Hand-written: no maintained crate parses gQUIC, and only the CHLO tag
//! table is needed (SNI and UAID tags).

use crate::version::QuicVersion;

const CHLO: &[u8; 4] = b"CHLO";
/// Most tags read from one CHLO (real ones carry ~20).
const MAX_TAGS: usize = 64;

/// What a CHLO says about the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Chlo {
    pub sni: Option<Vec<u8>>,
    pub user_agent: Option<Vec<u8>>,
}

/// Total length of the CHLO message at the front of `msg`, once its tag
/// table is there: `8 + 8 * tags + last end offset`.
pub(crate) fn chlo_len(msg: &[u8]) -> Option<usize> {
    if msg.get(..4)? != CHLO {
        return None;
    }
    let n = usize::from(u16::from_le_bytes(msg.get(4..6)?.try_into().ok()?));
    let table_end = 8usize.checked_add(n.checked_mul(8)?)?;
    let last = if n == 0 { 0 } else { le_u32(msg.get(table_end - 4..table_end)?)? };
    table_end.checked_add(usize::try_from(last).ok()?)
}

fn le_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Reads the SNI and UAID tags of a CHLO; values cut off by the end of `msg`
/// are skipped (a CHLO may continue in the next packet).
pub(crate) fn parse_chlo(msg: &[u8]) -> Option<Chlo> {
    if msg.get(..4)? != CHLO {
        return None;
    }
    let n = usize::from(u16::from_le_bytes(msg.get(4..6)?.try_into().ok()?)).min(MAX_TAGS);
    let values_start = 8 + 8 * usize::from(u16::from_le_bytes(msg.get(4..6)?.try_into().ok()?));
    let mut chlo = Chlo::default();
    let mut prev_end = 0usize;
    for i in 0..n {
        let entry = msg.get(8 + 8 * i..16 + 8 * i)?;
        let (tag, end) = entry.split_at(4);
        let end = usize::try_from(le_u32(end)?).ok()?;
        if end < prev_end {
            break;
        }
        let value =
            values_start.checked_add(prev_end).zip(values_start.checked_add(end)).and_then(|(s, e)| msg.get(s..e));
        match (tag, value) {
            (b"SNI\0", Some(v)) => chlo.sni = Some(v.to_vec()),
            (b"UAID", Some(v)) => chlo.user_agent = Some(v.to_vec()),
            _ => {}
        }
        prev_end = end;
    }
    Some(chlo)
}

/// The crypto-stream bytes (starting with `CHLO`) of a gQUIC client packet
/// with a plaintext payload: public header (< Q046) or Q046 long header.
pub(crate) fn plaintext_stream_data(d: &[u8], version: QuicVersion) -> Option<&[u8]> {
    let number = version.gquic_number()?;
    let (&flags, _) = d.split_first()?;
    let payload = if flags & 0x80 != 0 {
        // Q046: flags, version, CID lengths (nibbles, +3), CIDs, 4-byte packet number.
        let lens = *d.get(5)?;
        let cid = |n: u8| if n == 0 { 0 } else { usize::from(n) + 3 };
        let header = 6 + cid(lens >> 4) + cid(lens & 0x0f) + 4;
        d.get(header..)?
    } else {
        // Public header: flags, [CID 8], [version 4], packet number. Only
        // servers send a diversification nonce, and before Q033 bit 0x04 was
        // part of the CID length, so it is not looked at here.
        let mut off = 1;
        if flags & 0x08 != 0 {
            off += 8;
        }
        if flags & 0x01 != 0 {
            off += 4;
        }
        off += match (flags >> 4) & 0x03 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 6,
        };
        d.get(off..)?
    };
    // 12-byte message authentication hash, then (before Q034) a private-flags byte.
    let mut frames = payload.get(12..)?;
    if number < 34 {
        frames = frames.get(1..)?;
    }
    stream_frame_data(frames, number)
}

/// The data of the first STREAM frame on stream 1, skipping PADDING and an
/// ACK that may precede it.
fn stream_frame_data(frames: &[u8], number: u16) -> Option<&[u8]> {
    let mut b = frames;
    loop {
        let (&typ, rest) = b.split_first()?;
        match typ {
            0x00 => b = rest,
            // gQUIC STREAM frame: 1 f d ooo ss.
            t if t & 0x80 != 0 => {
                let id_len = usize::from(t & 0x03) + 1;
                let off_len = match (t >> 2) & 0x07 {
                    0 => 0,
                    n => usize::from(n) + 1,
                };
                let (id, rest) = rest.split_at_checked(id_len)?;
                // The crypto handshake runs on stream 1, in either byte order.
                let be = id.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x));
                let le = id.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
                if be != 1 && le != 1 {
                    return None;
                }
                let rest = rest.get(off_len..)?;
                return if t & 0x20 != 0 {
                    let len_bytes: [u8; 2] = rest.get(..2)?.try_into().ok()?;
                    // Lengths turned big-endian in Q039.
                    let len = if number < 39 { u16::from_le_bytes(len_bytes) } else { u16::from_be_bytes(len_bytes) };
                    let data = rest.get(2..)?;
                    Some(data.get(..usize::from(len)).unwrap_or(data))
                } else {
                    Some(rest)
                };
            }
            // An ACK before the stream frame: too version-specific to walk.
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chlo(tags: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut m = CHLO.to_vec();
        m.extend_from_slice(&(tags.len() as u16).to_le_bytes());
        m.extend_from_slice(&[0, 0]);
        let mut end = 0u32;
        for (t, v) in tags {
            end += v.len() as u32;
            m.extend_from_slice(*t);
            m.extend_from_slice(&end.to_le_bytes());
        }
        for (_, v) in tags {
            m.extend_from_slice(v);
        }
        m
    }

    #[test]
    fn reads_sni_and_uaid() {
        let m = chlo(&[(b"PAD\0", &[0; 5]), (b"SNI\0", b"www.example.com"), (b"UAID", b"Chrome/80")]);
        assert_eq!(chlo_len(&m), Some(m.len()));
        let c = parse_chlo(&m).expect("chlo");
        assert_eq!(c.sni.as_deref(), Some(&b"www.example.com"[..]));
        assert_eq!(c.user_agent.as_deref(), Some(&b"Chrome/80"[..]));
        // Cut inside the UAID value: SNI still there.
        let c = parse_chlo(&m[..m.len() - 2]).expect("chlo");
        assert!(c.sni.is_some() && c.user_agent.is_none());
        assert_eq!(parse_chlo(b"SHLO\0\0\0\0"), None);
    }

    #[test]
    fn public_header_packet() {
        // flags 0x0d: version + 8-byte CID + nonce? no: 0x0c = CID, 0x01 = version.
        let mut d = vec![0x09];
        d.extend_from_slice(&[1; 8]);
        d.extend_from_slice(b"Q025");
        d.push(1); // packet number
        d.extend_from_slice(&[0xee; 12]); // hash
        d.push(0x00); // private flags (< Q034)
        let m = chlo(&[(b"SNI\0", b"a.example")]);
        d.push(0xa0); // stream, data length present, 1-byte id, no offset
        d.push(1);
        d.extend_from_slice(&(m.len() as u16).to_le_bytes());
        d.extend_from_slice(&m);
        let data = plaintext_stream_data(&d, QuicVersion(u32::from_be_bytes(*b"Q025"))).expect("stream data");
        assert_eq!(data, &m[..]);
    }
}
