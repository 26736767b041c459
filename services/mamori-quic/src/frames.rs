//! Frames allowed in Initial packets (RFC 9000 12.4): PADDING, PING, ACK,
//! CRYPTO, CONNECTION_CLOSE. Anything else ends the walk.

use crate::varint;

/// A CRYPTO frame's piece of the handshake stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CryptoFrame<'a> {
    pub offset: u64,
    pub data: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    Truncated,
    /// A frame type not allowed in Initial packets.
    Unexpected(u64),
}

/// Collects the CRYPTO frames of a decrypted Initial payload, in packet
/// order. On error, the frames before it are still returned.
pub(crate) fn crypto_frames(payload: &[u8]) -> (Vec<CryptoFrame<'_>>, Option<FrameError>) {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        match next_frame(rest) {
            Ok((crypto, r)) => {
                out.extend(crypto);
                rest = r;
            }
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

fn next_frame(b: &[u8]) -> Result<(Option<CryptoFrame<'_>>, &[u8]), FrameError> {
    let t = FrameError::Truncated;
    let (typ, rest) = varint::read(b).ok_or(t)?;
    match typ {
        0x00 => {
            // A run of PADDING in one step.
            let n = rest.iter().take_while(|&&x| x == 0).count();
            Ok((None, rest.get(n..).unwrap_or_default()))
        }
        0x01 => Ok((None, rest)),
        0x02 | 0x03 => {
            let (_largest, r) = varint::read(rest).ok_or(t)?;
            let (_delay, r) = varint::read(r).ok_or(t)?;
            let (ranges, r) = varint::read(r).ok_or(t)?;
            let (_first, mut r) = varint::read(r).ok_or(t)?;
            // Each range takes at least two bytes, so the loop ends with the
            // input however large the claimed count.
            let mut left = ranges;
            while left > 0 {
                let (_gap, r2) = varint::read(r).ok_or(t)?;
                let (_len, r2) = varint::read(r2).ok_or(t)?;
                r = r2;
                left -= 1;
            }
            if typ == 0x03 {
                for _ in 0..3 {
                    let (_count, r2) = varint::read(r).ok_or(t)?;
                    r = r2;
                }
            }
            Ok((None, r))
        }
        0x06 => {
            let (offset, r) = varint::read(rest).ok_or(t)?;
            let (len, r) = varint::read_len(r).ok_or(t)?;
            let (data, r) = r.split_at_checked(len).ok_or(t)?;
            Ok((Some(CryptoFrame { offset, data }), r))
        }
        0x1c | 0x1d => {
            let (_code, mut r) = varint::read(rest).ok_or(t)?;
            if typ == 0x1c {
                let (_frame_type, r2) = varint::read(r).ok_or(t)?;
                r = r2;
            }
            let (len, r) = varint::read_len(r).ok_or(t)?;
            let (_reason, r) = r.split_at_checked(len).ok_or(t)?;
            Ok((None, r))
        }
        other => Err(FrameError::Unexpected(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_allowed_frames() {
        let payload = [
            0x01, // PING
            0x06, 0x03, 0x02, b'l', b'o', // CRYPTO offset 3
            0x00, 0x00, // PADDING
            0x02, 0x00, 0x00, 0x01, 0x00, 0x05, 0x01, // ACK with one range
            0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, // ACK_ECN
            0x06, 0x00, 0x03, b'h', b'e', b'l', // CRYPTO offset 0
            0x1c, 0x0a, 0x06, 0x02, b'h', b'i', // CONNECTION_CLOSE
            0x00,
        ];
        let (frames, err) = crypto_frames(&payload);
        assert_eq!(err, None);
        assert_eq!(frames, vec![CryptoFrame { offset: 3, data: b"lo" }, CryptoFrame { offset: 0, data: b"hel" }]);
    }

    #[test]
    fn stops_at_unexpected_or_truncated() {
        let (frames, err) = crypto_frames(&[0x06, 0x00, 0x01, b'x', 0x08, 0x00]);
        assert_eq!(frames.len(), 1);
        assert_eq!(err, Some(FrameError::Unexpected(0x08)));
        let (frames, err) = crypto_frames(&[0x06, 0x00, 0x09, b'x']);
        assert!(frames.is_empty());
        assert_eq!(err, Some(FrameError::Truncated));
        // An ACK claiming 2^62 ranges in a few bytes ends quickly.
        let (_, err) = crypto_frames(&[0x02, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2]);
        assert_eq!(err, Some(FrameError::Truncated));
    }
}
