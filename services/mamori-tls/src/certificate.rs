//! X.509 certificates of the (TLS <= 1.2, plaintext) Certificate message,
//! rendered the way Suricata's EVE prints them.

use serde::Serialize;
use sha1::{Digest as _, Sha1};
use x509_parser::prelude::{parse_x509_certificate, ASN1Time};

use crate::error::TlsError;

/// Most certificates kept per chain; the rest are counted but not decoded.
pub const MAX_CHAIN_LEN: usize = 16;

/// One certificate, with Suricata's field formats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// RFC 4514-like, e.g. `C=US, O=Let's Encrypt, CN=R3`.
    pub subject: String,
    pub issuer: String,
    /// Raw serial bytes, upper-case hex, `:`-separated (`00:AB:12`).
    pub serial: String,
    /// SHA-1 of the DER, lower-case hex, `:`-separated.
    pub fingerprint: String,
    /// `YYYY-MM-DDTHH:MM:SS` (UTC).
    pub not_before: String,
    pub not_after: String,
}

/// Decodes one DER certificate.
pub fn parse_certificate(der: &[u8]) -> Result<CertificateInfo, TlsError> {
    let (_, cert) = parse_x509_certificate(der).map_err(|_| TlsError::Malformed("certificate der"))?;
    let validity = cert.validity();
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_colon(cert.raw_serial(), true),
        fingerprint: hex_colon(&Sha1::digest(der), false),
        not_before: suricata_time(&validity.not_before),
        not_after: suricata_time(&validity.not_after),
    })
}

/// Splits a Certificate handshake body (TLS <= 1.2) into DER certificates.
pub(crate) fn split_chain(handshake_body: &[u8]) -> Result<Vec<&[u8]>, TlsError> {
    match tls_parser::parse_tls_handshake_msg_certificate(handshake_body) {
        Ok((_, tls_parser::TlsMessageHandshake::Certificate(c))) => Ok(c.cert_chain.iter().map(|c| c.data).collect()),
        _ => Err(TlsError::Malformed("certificate message")),
    }
}

fn suricata_time(t: &ASN1Time) -> String {
    let dt = t.to_datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

fn hex_colon(bytes: &[u8], upper: bool) -> String {
    let parts: Vec<String> =
        bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect();
    parts.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    const R3: &[u8] = include_bytes!("../tests/fixtures/r3.der");

    #[test]
    fn renders_like_suricata() {
        let c = parse_certificate(R3).expect("valid certificate");
        assert_eq!(c.subject, "C=US, O=Let's Encrypt, CN=R3");
        assert_eq!(c.issuer, "C=US, O=Let's Encrypt, CN=R3");
        assert_eq!(c.serial, "00:AB:12:CD");
        assert_eq!(c.fingerprint, "b8:af:d1:4f:c9:bc:04:b4:c4:59:c8:b3:6e:8b:90:43:17:32:00:f8");
        assert_eq!(c.not_before, "2026-11-26T08:56:04");
        assert_eq!(c.not_after, "2027-11-26T08:56:04");
    }

    #[test]
    fn splits_a_chain() {
        let mut body = Vec::new();
        let list_len = 2 * (3 + R3.len());
        body.extend_from_slice(&(list_len as u32).to_be_bytes()[1..]);
        for _ in 0..2 {
            body.extend_from_slice(&(R3.len() as u32).to_be_bytes()[1..]);
            body.extend_from_slice(R3);
        }
        let chain = split_chain(&body).expect("valid chain");
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1], R3);
    }

    #[test]
    fn bad_der_is_an_error() {
        assert!(parse_certificate(&R3[..R3.len() - 1]).is_err());
        assert!(parse_certificate(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(split_chain(&[0, 0, 9, 0]).is_err());
    }
}
