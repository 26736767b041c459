//! QUIC versions: which ones we can read, with which Initial salt and labels.

use std::fmt;

/// A QUIC version number as it appears in long headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QuicVersion(pub u32);

const SALT_V1: [u8; 20] = hex20(b"38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
const SALT_V2: [u8; 20] = hex20(b"0dede3def700a6db819381be6e269dcbf9bd2ed9");
const SALT_DRAFT_22: [u8; 20] = hex20(b"7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a");
const SALT_DRAFT_23: [u8; 20] = hex20(b"c3eef712c72ebb5a11a7d2432bb46365bef9f502");
const SALT_DRAFT_29: [u8; 20] = hex20(b"afbfec289993d24c9e9786f19c6111e04390a899");
const SALT_Q050: [u8; 20] = hex20(b"504574efd066fe2f9d945cfcdbd3a7f0d3b56b45");
const SALT_T050: [u8; 20] = hex20(b"7ff579e5acd072915580304c43a2367c60488310");
const SALT_T051: [u8; 20] = hex20(b"7a4edef4e7ccee5fa4506c19124fc8ccda6e033d");

/// Decodes 40 hex digits (spaces ignored) at compile time.
const fn hex20(s: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    let (mut i, mut n) = (0, 0);
    while i < s.len() {
        let c = s[i];
        i += 1;
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => continue,
        };
        if n < 40 {
            out[n / 2] |= if n % 2 == 0 { v << 4 } else { v };
        }
        n += 1;
    }
    out
}

/// How Initial packets of a version are protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InitialProtection {
    pub salt: &'static [u8; 20],
    /// `quic` for v1 and drafts, `quicv2` for v2 (RFC 9369 3.3.2).
    pub label_prefix: &'static str,
}

/// The shape of a version's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// IETF long header with Initial keys derived from the DCID.
    Ietf(InitialProtection),
    /// Google QUIC before Q046: public header, plaintext CHLO.
    GquicPublicHeader,
    /// Google QUIC Q046: long-header shape, plaintext CHLO.
    GquicQ046,
}

#[cfg(test)]
pub(crate) const V1: QuicVersion = QuicVersion(0x0000_0001);
pub(crate) const V2: QuicVersion = QuicVersion(0x6b33_43cf);

impl QuicVersion {
    pub(crate) fn family(self) -> Option<Family> {
        let ietf = |salt, label_prefix| Some(Family::Ietf(InitialProtection { salt, label_prefix }));
        match self.0 {
            0x0000_0001 => ietf(&SALT_V1, "quic"),
            0x6b33_43cf => ietf(&SALT_V2, "quicv2"),
            0xff00_0016 | 0xface_b001 => ietf(&SALT_DRAFT_22, "quic"),
            0xff00_0017..=0xff00_001c | 0xface_b002 | 0xface_b00e => ietf(&SALT_DRAFT_23, "quic"),
            0xff00_001d..=0xff00_0022 => ietf(&SALT_DRAFT_29, "quic"),
            0x5130_3530 => ietf(&SALT_Q050, "quic"),
            0x5430_3530 => ietf(&SALT_T050, "quic"),
            0x5430_3531 => ietf(&SALT_T051, "quic"),
            0x5130_3436 => Some(Family::GquicQ046),
            v if self.gquic_number().is_some_and(|n| n < 46) && v != 0 => Some(Family::GquicPublicHeader),
            _ => None,
        }
    }

    /// `NN` of a `Q0NN` gQUIC version tag.
    pub(crate) fn gquic_number(self) -> Option<u16> {
        let [q, a, b, c] = self.0.to_be_bytes();
        if q == b'Q' && a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        } else {
            None
        }
    }

    /// Long-header packet type bits that mean "Initial" (RFC 9369 changed them).
    pub(crate) fn initial_type(self) -> u8 {
        if self == V2 {
            0b01
        } else {
            0b00
        }
    }

    pub(crate) fn retry_type(self) -> u8 {
        if self == V2 {
            0b00
        } else {
            0b11
        }
    }

    /// The version as Suricata's `quic.version` prints it: gQUIC tags it
    /// knows by name, everything else as lower-case hex (`1`, `ff00001d`).
    pub fn eve_name(self) -> String {
        match self.0 {
            0x5130_3339 | 0x5130_3433 | 0x5130_3434 | 0x5130_3435 | 0x5130_3436 => {
                String::from_utf8_lossy(&self.0.to_be_bytes()).into_owned()
            }
            v => format!("{v:x}"),
        }
    }
}

impl fmt::Display for QuicVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.eve_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_decode() {
        assert_eq!(SALT_V1[0], 0x38);
        assert_eq!(SALT_V1[19], 0x0a);
        assert_eq!(SALT_T050[8], 0x55);
        assert_eq!(SALT_T050[10], 0x30);
        assert_eq!(SALT_T050[19], 0x10);
    }

    #[test]
    fn families() {
        assert!(matches!(V1.family(), Some(Family::Ietf(p)) if p.label_prefix == "quic"));
        assert!(matches!(V2.family(), Some(Family::Ietf(p)) if p.label_prefix == "quicv2"));
        assert!(matches!(QuicVersion(0xff00_001d).family(), Some(Family::Ietf(p)) if *p.salt == SALT_DRAFT_29));
        assert_eq!(QuicVersion(u32::from_be_bytes(*b"Q046")).family(), Some(Family::GquicQ046));
        assert_eq!(QuicVersion(u32::from_be_bytes(*b"Q025")).family(), Some(Family::GquicPublicHeader));
        assert_eq!(QuicVersion(0x1a2a_3a4a).family(), None);
        assert_eq!(QuicVersion(0).family(), None);
    }

    #[test]
    fn eve_names_follow_suricata() {
        assert_eq!(V1.eve_name(), "1");
        assert_eq!(QuicVersion(0xff00_001d).eve_name(), "ff00001d");
        assert_eq!(QuicVersion(u32::from_be_bytes(*b"Q046")).eve_name(), "Q046");
        assert_eq!(QuicVersion(u32::from_be_bytes(*b"Q025")).eve_name(), "51303235");
    }
}
