//! Content-based detection of QUIC from one UDP payload.

use mamori_applayer::Probe;

use crate::version::{Family, QuicVersion};

/// Matches a long-header Initial of a version we read (fixed bit set, sane
/// connection ID length) or a gQUIC public header announcing a `Q0xx` version.
/// A datagram is whole, so this never asks for more.
pub fn probe(payload: &[u8]) -> Probe {
    let Some(&first) = payload.first() else {
        return Probe::NoMatch;
    };
    let version =
        |at: usize| payload.get(at..at + 4).and_then(|v| v.try_into().ok()).map(u32::from_be_bytes).map(QuicVersion);
    let matched = if first & 0x80 != 0 {
        match version(1).and_then(|v| v.family().map(|f| (v, f))) {
            Some((v, Family::Ietf(_))) => {
                first & 0x40 != 0
                    && (first >> 4) & 0x03 == v.initial_type()
                    && payload.get(5).is_some_and(|&l| l <= 20 && payload.len() > 6 + usize::from(l))
            }
            Some((_, Family::GquicQ046)) => payload.len() > 30,
            _ => false,
        }
    } else {
        // gQUIC public header: version flag and 8-byte connection ID.
        first & 0x09 == 0x09
            && version(9).is_some_and(|v| v.family() == Some(Family::GquicPublicHeader))
            && payload.len() > 26
    };
    if matched {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ietf_initial() {
        let mut d = vec![0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0];
        d.resize(1200, 0);
        assert_eq!(probe(&d), Probe::Match);
        d[0] = 0x83; // fixed bit clear
        assert_eq!(probe(&d), Probe::NoMatch);
        d[0] = 0xe3; // Handshake, not Initial
        assert_eq!(probe(&d), Probe::NoMatch);
        d[0] = 0xc3;
        d[1..5].copy_from_slice(&[0x0a, 0x1a, 0x2a, 0x3a]); // unknown version
        assert_eq!(probe(&d), Probe::NoMatch);
    }

    #[test]
    fn gquic_public_header() {
        let mut d = vec![0x09, 1, 2, 3, 4, 5, 6, 7, 8];
        d.extend_from_slice(b"Q025");
        d.resize(100, 0);
        assert_eq!(probe(&d), Probe::Match);
        assert_eq!(probe(b"\x01\x00\x00\x00 hello dns?"), Probe::NoMatch);
        assert_eq!(probe(&[]), Probe::NoMatch);
    }
}
