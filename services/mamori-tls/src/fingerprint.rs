//! JA3 / JA3S / JA4 fingerprints of hellos.
//!
//! JA3 (Salesforce): decimal fields joined by `,`, list items by `-`, GREASE
//! removed, MD5 of the string. JA4 (FoxIO, `technical_details/JA4.md`):
//! `{t|q|d}{version}{d|i}{#ciphers}{#extensions}{alpn}_{hash(ciphers)}_{hash(extensions_sigalgs)}`.

use md5::{Digest as _, Md5};
use serde::Serialize;
use sha2::Sha256;

use crate::grease::is_grease;

/// Carrier of a TLS handshake, the first character of JA4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Quic,
    Dtls,
}

impl Transport {
    fn ja4_char(self) -> char {
        match self {
            Transport::Tcp => 't',
            Transport::Quic => 'q',
            Transport::Dtls => 'd',
        }
    }
}

/// A JA3-style fingerprint as Suricata's EVE prints it (`{"hash": .., "string": ..}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JaFingerprint {
    pub hash: String,
    pub string: String,
}

impl JaFingerprint {
    pub fn from_string(string: String) -> JaFingerprint {
        let hash = hex_lower(&Md5::digest(string.as_bytes()));
        JaFingerprint { hash, string }
    }
}

/// Decimal values without GREASE, joined by `-`.
pub(crate) fn ja3_list<T: Copy + Into<u16>>(values: &[T]) -> String {
    let mut out = String::new();
    for v in values.iter().map(|&v| v.into()).filter(|&v| !is_grease(v)) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&v.to_string());
    }
    out
}

/// The inputs of a JA4 client fingerprint, borrowed from a parsed ClientHello.
pub(crate) struct Ja4Input<'a> {
    pub transport: Transport,
    pub legacy_version: u16,
    pub supported_versions: &'a [u16],
    pub sni_is_domain: bool,
    pub ciphers: &'a [u16],
    pub extensions: &'a [u16],
    pub first_alpn: Option<&'a [u8]>,
    pub signature_algorithms: &'a [u16],
}

pub(crate) fn ja4(input: &Ja4Input<'_>) -> String {
    let version =
        input.supported_versions.iter().copied().filter(|&v| !is_grease(v)).max().unwrap_or(input.legacy_version);
    let mut ciphers: Vec<u16> = input.ciphers.iter().copied().filter(|&v| !is_grease(v)).collect();
    let mut extensions: Vec<u16> = input.extensions.iter().copied().filter(|&v| !is_grease(v)).collect();
    let ext_count = extensions.len();
    ciphers.sort_unstable();
    // SNI and ALPN are counted in part a but left out of the hash: they say
    // where the client goes, not what it is.
    extensions.retain(|&e| e != 0x0000 && e != 0x0010);
    extensions.sort_unstable();

    let sigalgs: Vec<u16> = input.signature_algorithms.iter().copied().filter(|&v| !is_grease(v)).collect();
    let mut c_raw = hex4_list(&extensions);
    if !sigalgs.is_empty() {
        c_raw.push('_');
        c_raw.push_str(&hex4_list(&sigalgs));
    }

    format!(
        "{}{}{}{:02}{:02}{}_{}_{}",
        input.transport.ja4_char(),
        ja4_version(version),
        if input.sni_is_domain { 'd' } else { 'i' },
        ciphers.len().min(99),
        ext_count.min(99),
        ja4_alpn(input.first_alpn),
        hash12(&hex4_list(&ciphers)),
        hash12(&c_raw),
    )
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some((&a, &b)) = first.and_then(|v| Some((v.first()?, v.last()?))) else {
        return "00".to_string();
    };
    if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() {
        format!("{}{}", char::from(a), char::from(b))
    } else {
        // The spec falls back to the first and last characters of the
        // value's hex form when the ALPN is not printable.
        let hex = hex_lower(first.unwrap_or_default());
        let mut chars = hex.chars();
        let first_char = chars.next().unwrap_or('0');
        let last_char = chars.next_back().unwrap_or('0');
        format!("{first_char}{last_char}")
    }
}

fn hex4_list(values: &[u16]) -> String {
    let mut out = String::with_capacity(values.len() * 5);
    for v in values {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&format!("{v:04x}"));
    }
    out
}

fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let digest = Sha256::digest(s.as_bytes());
    hex_lower(digest.get(..6).unwrap_or_default())
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ja3_list_drops_grease_and_keeps_order() {
        assert_eq!(ja3_list(&[0x0a0au16, 4865, 0x1a1a, 47]), "4865-47");
        assert_eq!(ja3_list::<u16>(&[]), "");
    }

    #[test]
    fn md5_of_ja3_string() {
        let fp = JaFingerprint::from_string("769,47-53,0-10,23,0".to_string());
        assert_eq!(fp.hash.len(), 32);
        assert_eq!(JaFingerprint::from_string(String::new()).hash, "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn ja4_alpn_rules() {
        assert_eq!(ja4_alpn(Some(b"h2")), "h2");
        assert_eq!(ja4_alpn(Some(b"http/1.1")), "h1");
        assert_eq!(ja4_alpn(Some(b"h3-29")), "h9");
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(ja4_alpn(Some(b"")), "00");
        assert_eq!(ja4_alpn(None), "00");
    }

    // The worked example of FoxIO's JA4 technical details.
    #[test]
    fn ja4_matches_foxio_example() {
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
            0x002f, 0x0035,
        ];
        let extensions = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
            0x000b, 0x000a, 0x0015,
        ];
        let sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
        let s = ja4(&Ja4Input {
            transport: Transport::Tcp,
            legacy_version: 0x0303,
            supported_versions: &[0x0304, 0x0303],
            sni_is_domain: true,
            ciphers: &ciphers,
            extensions: &extensions,
            first_alpn: Some(b"h2"),
            signature_algorithms: &sigalgs,
        });
        assert_eq!(s, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn ja4_without_ciphers_or_extensions_uses_zero_hashes() {
        let s = ja4(&Ja4Input {
            transport: Transport::Quic,
            legacy_version: 0x0303,
            supported_versions: &[],
            sni_is_domain: false,
            ciphers: &[],
            extensions: &[],
            first_alpn: None,
            signature_algorithms: &[],
        });
        assert_eq!(s, "q12i000000_000000000000_000000000000");
    }
}
