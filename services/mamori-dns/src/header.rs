//! The fixed 12-byte header and its flag word.

use crate::error::DnsError;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;

/// The 16-bit flag word, kept raw so every bit pattern round-trips and the
/// EVE `flags` field is exactly what was on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Flags(pub u16);

impl Flags {
    /// Query (false) or response (true).
    pub fn qr(self) -> bool {
        self.0 & 0x8000 != 0
    }
    pub fn opcode(self) -> u8 {
        ((self.0 >> 11) & 0x0f) as u8
    }
    pub fn aa(self) -> bool {
        self.0 & 0x0400 != 0
    }
    pub fn tc(self) -> bool {
        self.0 & 0x0200 != 0
    }
    pub fn rd(self) -> bool {
        self.0 & 0x0100 != 0
    }
    pub fn ra(self) -> bool {
        self.0 & 0x0080 != 0
    }
    /// The reserved bit; must be zero, Suricata raises `z_flag_set` when not.
    pub fn z(self) -> bool {
        self.0 & 0x0040 != 0
    }
    pub fn ad(self) -> bool {
        self.0 & 0x0020 != 0
    }
    pub fn cd(self) -> bool {
        self.0 & 0x0010 != 0
    }
    pub fn rcode(self) -> u8 {
        (self.0 & 0x000f) as u8
    }
}

/// The DNS header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    pub id: u16,
    pub flags: Flags,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn parse(data: &[u8]) -> Result<Header, DnsError> {
        let h = data.get(..HEADER_LEN).ok_or(DnsError::ShortHeader)?;
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        Ok(Header {
            id: word(0),
            flags: Flags(word(2)),
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_bits_decode() {
        let f = Flags(0x8180);
        assert!(f.qr() && f.rd() && f.ra());
        assert!(!f.aa() && !f.tc() && !f.z() && !f.ad() && !f.cd());
        assert_eq!(f.opcode(), 0);
        assert_eq!(f.rcode(), 0);
        let f = Flags(0x2c33);
        assert_eq!(f.opcode(), 5);
        assert!(f.aa() && f.ad() && f.cd());
        assert_eq!(f.rcode(), 3);
    }

    #[test]
    fn short_header_is_error() {
        assert_eq!(Header::parse(&[0; 11]), Err(DnsError::ShortHeader));
        let h = Header::parse(&[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 2, 0, 3, 0, 4]).unwrap();
        assert_eq!(h.id, 0x1234);
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 2, 3, 4));
    }
}
