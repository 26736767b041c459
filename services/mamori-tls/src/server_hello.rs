//! ServerHello decoding and JA3S.

use tls_parser::{parse_tls_handshake_server_hello, parse_tls_server_hello_extension, TlsExtension};

use crate::client_hello::ext;
use crate::error::TlsError;
use crate::extensions;
use crate::fingerprint::{ja3_list, JaFingerprint};

/// The `random` of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256("HelloRetryRequest").
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11,
    0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What the server chose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The supported_versions extension (TLS 1.3 and its drafts).
    pub selected_version: Option<u16>,
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression_method: u8,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// The ALPN protocol the server picked (RFC 7301 allows exactly one).
    pub alpn: Vec<Vec<u8>>,
    /// A HelloRetryRequest: the handshake goes on in plaintext with a second
    /// ClientHello.
    pub hello_retry_request: bool,
}

/// Decodes a ServerHello handshake body (after the 4-byte handshake header).
pub fn parse_server_hello(handshake_body: &[u8]) -> Result<ServerHello, TlsError> {
    let (_, raw) = parse_tls_handshake_server_hello(handshake_body).map_err(|e| match e {
        tls_parser::Err::Incomplete(_) => TlsError::Truncated("server_hello"),
        _ => TlsError::Malformed("server_hello"),
    })?;
    let mut sh = ServerHello {
        legacy_version: raw.version.0,
        session_id: raw.session_id.unwrap_or_default().to_vec(),
        cipher_suite: raw.cipher.0,
        compression_method: raw.compression.0,
        hello_retry_request: raw.random == HELLO_RETRY_RANDOM,
        ..ServerHello::default()
    };
    for e in extensions::split(raw.ext.unwrap_or_default()).extensions {
        sh.extensions.push(e.typ);
        if e.typ != ext::SUPPORTED_VERSIONS && e.typ != ext::ALPN {
            continue;
        }
        match parse_tls_server_hello_extension(e.whole) {
            Ok((_, TlsExtension::SupportedVersions(v))) => sh.selected_version = v.first().map(|v| v.0),
            Ok((_, TlsExtension::ALPN(protos))) => sh.alpn = protos.iter().map(|p| p.to_vec()).collect(),
            _ => {}
        }
    }
    Ok(sh)
}

impl ServerHello {
    /// The version in force: supported_versions when present, else legacy_version.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// TLS 1.3 (or one of its drafts): everything after this message is encrypted.
    pub fn is_tls13(&self) -> bool {
        let v = self.version();
        v == 0x0304 || (v & 0xff00) == 0x7f00 || (v & 0xff00) == 0x7e00 || v == 0xfb17 || v == 0xfb1a
    }

    pub fn alpn_strings(&self) -> Vec<String> {
        self.alpn.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    /// `SSLVersion,Cipher,Extensions`.
    pub fn ja3s_string(&self) -> String {
        format!("{},{},{}", self.legacy_version, self.cipher_suite, ja3_list(&self.extensions))
    }

    pub fn ja3s(&self) -> JaFingerprint {
        JaFingerprint::from_string(self.ja3s_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn build_server_hello(random: [u8; 32], cipher: u16, extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&random);
        b.push(32);
        b.extend_from_slice(&[0x22; 32]);
        b.extend_from_slice(&cipher.to_be_bytes());
        b.push(0);
        let mut exts = Vec::new();
        for (t, body) in extensions {
            exts.extend_from_slice(&t.to_be_bytes());
            exts.extend_from_slice(&(body.len() as u16).to_be_bytes());
            exts.extend_from_slice(body);
        }
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
        b
    }

    #[test]
    fn tls13_server_hello_reports_selected_version() {
        let body = build_server_hello([1; 32], 0x1301, &[(0x002b, vec![0x03, 0x04]), (0x0033, vec![0, 0x1d, 0, 0])]);
        let sh = parse_server_hello(&body).expect("valid");
        assert_eq!(sh.version(), 0x0304);
        assert!(sh.is_tls13());
        assert!(!sh.hello_retry_request);
        assert_eq!(sh.ja3s_string(), "771,4865,43-51");
        assert_eq!(sh.ja3s().hash.len(), 32);
    }

    #[test]
    fn tls12_server_hello_with_alpn() {
        let body = build_server_hello([1; 32], 0xc02f, &[(0xff01, vec![0]), (0x0010, vec![0, 3, 2, b'h', b'2'])]);
        let sh = parse_server_hello(&body).expect("valid");
        assert_eq!(sh.version(), 0x0303);
        assert!(!sh.is_tls13());
        assert_eq!(sh.alpn_strings(), vec!["h2"]);
        assert_eq!(sh.ja3s_string(), "771,49199,65281-16");
    }

    #[test]
    fn hello_retry_request_is_flagged() {
        let body = build_server_hello(HELLO_RETRY_RANDOM, 0x1301, &[(0x002b, vec![0x03, 0x04])]);
        assert!(parse_server_hello(&body).expect("valid").hello_retry_request);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_server_hello(&[0x03]).is_err());
        assert!(parse_server_hello(&[0x09, 0x09, 0, 0]).is_err());
    }
}
