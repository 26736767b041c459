//! ClientHello decoding and the fingerprints computed from it.

use std::borrow::Cow;
use std::net::IpAddr;

use tls_parser::{parse_tls_client_hello_extension, parse_tls_handshake_client_hello, TlsExtension};

use crate::error::TlsError;
use crate::extensions;
use crate::fingerprint::{ja3_list, ja4, Ja4Input, JaFingerprint, Transport};

/// Extension code points this module decodes.
pub(crate) mod ext {
    pub const SERVER_NAME: u16 = 0x0000;
    pub const SUPPORTED_GROUPS: u16 = 0x000a;
    pub const EC_POINT_FORMATS: u16 = 0x000b;
    pub const SIGNATURE_ALGORITHMS: u16 = 0x000d;
    pub const ALPN: u16 = 0x0010;
    pub const SUPPORTED_VERSIONS: u16 = 0x002b;
    pub const KEY_SHARE: u16 = 0x0033;
    pub const QUIC_TRANSPORT_PARAMETERS: u16 = 0x0039;
    /// The code point QUIC drafts used before 0x39 was assigned.
    pub const QUIC_TRANSPORT_PARAMETERS_DRAFT: u16 = 0xffa5;
}

/// What a client offered in its ClientHello.
///
/// Lists keep wire order and GREASE values; fingerprints drop GREASE.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// First `host_name` entry of the server_name extension, raw bytes.
    pub server_name: Option<Vec<u8>>,
    /// ALPN protocol names in offered order.
    pub alpn: Vec<Vec<u8>>,
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    /// Groups of the key shares sent (e.g. 0x11ec X25519MLKEM768).
    pub key_share_groups: Vec<u16>,
    /// Raw body of the QUIC transport parameters extension (QUIC only).
    pub quic_transport_parameters: Option<Vec<u8>>,
    /// Extensions whose body could not be decoded (the type is still listed
    /// in `extensions`).
    pub malformed_extensions: Vec<u16>,
    /// The extension block ended in the middle of an extension.
    pub extensions_truncated: bool,
}

/// Decodes a ClientHello handshake body (after the 4-byte handshake header).
pub fn parse_client_hello(handshake_body: &[u8]) -> Result<ClientHello, TlsError> {
    let (rest, raw) = parse_tls_handshake_client_hello(handshake_body).map_err(|e| match e {
        tls_parser::Err::Incomplete(_) => TlsError::Truncated("client_hello"),
        _ => TlsError::Malformed("client_hello"),
    })?;
    // tls-parser treats an extension block that overruns the body as absent;
    // what is left over then tells us it was there but cut.
    if raw.ext.is_none() && !rest.is_empty() {
        return Err(TlsError::Truncated("client_hello extensions"));
    }
    let mut ch = ClientHello {
        legacy_version: raw.version.0,
        session_id: raw.session_id.unwrap_or_default().to_vec(),
        cipher_suites: raw.ciphers.iter().map(|c| c.0).collect(),
        compression_methods: raw.comp.iter().map(|c| c.0).collect(),
        ..ClientHello::default()
    };
    let split = extensions::split(raw.ext.unwrap_or_default());
    ch.extensions_truncated = split.truncated;
    for e in &split.extensions {
        ch.extensions.push(e.typ);
        if !ch.decode_extension(e.typ, e.whole, e.body) {
            ch.malformed_extensions.push(e.typ);
        }
    }
    Ok(ch)
}

impl ClientHello {
    /// Records what one extension says; false if its body is malformed.
    fn decode_extension(&mut self, typ: u16, whole: &[u8], body: &[u8]) -> bool {
        if typ == ext::QUIC_TRANSPORT_PARAMETERS || typ == ext::QUIC_TRANSPORT_PARAMETERS_DRAFT {
            self.quic_transport_parameters.get_or_insert_with(|| body.to_vec());
            return true;
        }
        if typ == ext::KEY_SHARE {
            return match key_share_groups(body) {
                Some(groups) => {
                    self.key_share_groups = groups;
                    true
                }
                None => false,
            };
        }
        let interesting = matches!(
            typ,
            ext::SERVER_NAME
                | ext::SUPPORTED_GROUPS
                | ext::EC_POINT_FORMATS
                | ext::SIGNATURE_ALGORITHMS
                | ext::ALPN
                | ext::SUPPORTED_VERSIONS
        );
        if !interesting {
            return true;
        }
        let Ok((_, parsed)) = parse_tls_client_hello_extension(whole) else {
            return false;
        };
        match parsed {
            TlsExtension::SNI(names) => {
                // Only the first SNI extension counts, as for every TLS stack.
                if self.server_name.is_none() {
                    self.server_name = names.iter().find(|(t, _)| t.0 == 0).map(|(_, n)| n.to_vec());
                }
            }
            TlsExtension::EllipticCurves(groups) => self.supported_groups = groups.iter().map(|g| g.0).collect(),
            TlsExtension::EcPointFormats(formats) => self.ec_point_formats = formats.to_vec(),
            TlsExtension::SignatureAlgorithms(algs) => self.signature_algorithms = algs,
            TlsExtension::ALPN(protos) => self.alpn = protos.iter().map(|p| p.to_vec()).collect(),
            TlsExtension::SupportedVersions(versions) => {
                self.supported_versions = versions.iter().map(|v| v.0).collect()
            }
            _ => return false,
        }
        true
    }

    /// SNI as text (lossy for non-UTF-8 bytes), as Suricata logs it.
    pub fn sni(&self) -> Option<Cow<'_, str>> {
        self.server_name.as_deref().map(String::from_utf8_lossy)
    }

    /// ALPN names as text.
    pub fn alpn_strings(&self) -> Vec<String> {
        self.alpn.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    /// `SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats`.
    pub fn ja3_string(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.legacy_version,
            ja3_list(&self.cipher_suites),
            ja3_list(&self.extensions),
            ja3_list(&self.supported_groups),
            ja3_list(&self.ec_point_formats.iter().map(|&f| u16::from(f)).collect::<Vec<_>>()),
        )
    }

    pub fn ja3(&self) -> JaFingerprint {
        JaFingerprint::from_string(self.ja3_string())
    }

    /// JA4 per FoxIO's specification.
    ///
    /// `d` requires an SNI host name that is not an IP literal (RFC 6066
    /// forbids literals; nDPI and FoxIO's tools treat them as "no domain").
    pub fn ja4(&self, transport: Transport) -> String {
        let sni_is_domain = self.server_name.as_deref().is_some_and(|n| !n.is_empty() && !is_ip_literal(n));
        ja4(&Ja4Input {
            transport,
            legacy_version: self.legacy_version,
            supported_versions: &self.supported_versions,
            sni_is_domain,
            ciphers: &self.cipher_suites,
            extensions: &self.extensions,
            first_alpn: self.alpn.first().map(Vec::as_slice),
            signature_algorithms: &self.signature_algorithms,
        })
    }
}

fn is_ip_literal(name: &[u8]) -> bool {
    std::str::from_utf8(name).is_ok_and(|s| s.parse::<IpAddr>().is_ok())
}

/// Groups of a ClientHello key_share extension: `u16 len, (u16 group, u16 len, key)*`.
/// Hand-written because tls-parser leaves the client form undecoded.
fn key_share_groups(body: &[u8]) -> Option<Vec<u16>> {
    let (len, mut rest) = split_u16(body)?;
    if usize::from(len) != rest.len() {
        return None;
    }
    let mut groups = Vec::new();
    while !rest.is_empty() {
        let (group, r) = split_u16(rest)?;
        let (klen, r) = split_u16(r)?;
        rest = r.get(usize::from(klen)..)?;
        groups.push(group);
    }
    Some(groups)
}

fn split_u16(b: &[u8]) -> Option<(u16, &[u8])> {
    match b {
        [a, c, rest @ ..] => Some((u16::from_be_bytes([*a, *c]), rest)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a ClientHello body from parts; shared by other modules' tests.
    pub(crate) fn build_client_hello(ciphers: &[u16], extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[0x11; 32]);
        b.push(0); // session id
        b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            b.extend_from_slice(&c.to_be_bytes());
        }
        b.extend_from_slice(&[1, 0]); // null compression
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

    pub(crate) fn sni_ext(name: &str) -> (u16, Vec<u8>) {
        let mut v = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name.as_bytes());
        (0, v)
    }

    pub(crate) fn alpn_ext(names: &[&str]) -> (u16, Vec<u8>) {
        let mut list = Vec::new();
        for n in names {
            list.push(n.len() as u8);
            list.extend_from_slice(n.as_bytes());
        }
        let mut v = (list.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(&list);
        (0x10, v)
    }

    pub(crate) fn sample_client_hello() -> Vec<u8> {
        build_client_hello(
            &[0x2a2a, 0x1301, 0x1302, 0xc02b],
            &[
                (0x3a3a, vec![]),
                sni_ext("www.example.com"),
                (0x0017, vec![]),
                (0x000a, vec![0, 6, 0x4a, 0x4a, 0x00, 0x1d, 0x00, 0x17]),
                (0x000b, vec![1, 0]),
                alpn_ext(&["h2", "http/1.1"]),
                (0x000d, vec![0, 4, 0x04, 0x03, 0x08, 0x04]),
                (0x002b, vec![4, 0x0a, 0x0a, 0x03, 0x04]),
                (0x0033, vec![0, 8, 0x11, 0xec, 0, 0, 0x00, 0x1d, 0, 0]),
            ],
        )
    }

    #[test]
    fn decodes_fields_in_wire_order() {
        let ch = parse_client_hello(&sample_client_hello()).expect("valid hello");
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.sni().as_deref(), Some("www.example.com"));
        assert_eq!(ch.alpn_strings(), vec!["h2", "http/1.1"]);
        assert_eq!(ch.cipher_suites, vec![0x2a2a, 0x1301, 0x1302, 0xc02b]);
        assert_eq!(ch.extensions, vec![0x3a3a, 0, 0x17, 0x0a, 0x0b, 0x10, 0x0d, 0x2b, 0x33]);
        assert_eq!(ch.supported_groups, vec![0x4a4a, 0x1d, 0x17]);
        assert_eq!(ch.ec_point_formats, vec![0]);
        assert_eq!(ch.signature_algorithms, vec![0x0403, 0x0804]);
        assert_eq!(ch.supported_versions, vec![0x0a0a, 0x0304]);
        assert_eq!(ch.key_share_groups, vec![0x11ec, 0x1d]);
        assert!(ch.malformed_extensions.is_empty());
    }

    #[test]
    fn ja3_drops_grease_everywhere() {
        let ch = parse_client_hello(&sample_client_hello()).expect("valid hello");
        assert_eq!(ch.ja3_string(), "771,4865-4866-49195,0-23-10-11-16-13-43-51,29-23,0");
        assert_eq!(ch.ja3().hash, crate::fingerprint::hex_lower(&<md5::Md5 as md5::Digest>::digest(ch.ja3_string())));
    }

    #[test]
    fn ja4_uses_supported_versions_and_transport() {
        let ch = parse_client_hello(&sample_client_hello()).expect("valid hello");
        let t = ch.ja4(Transport::Tcp);
        assert!(t.starts_with("t13d0308h2_"), "{t}");
        let q = ch.ja4(Transport::Quic);
        assert_eq!(&q[1..], &t[1..]);
        assert!(q.starts_with('q'));
    }

    #[test]
    fn ip_literal_sni_is_not_a_domain() {
        let body = build_client_hello(&[0x1301], &[sni_ext("192.0.2.1")]);
        let ch = parse_client_hello(&body).expect("valid hello");
        assert!(ch.ja4(Transport::Tcp).starts_with("t12i0101"), "{}", ch.ja4(Transport::Tcp));
    }

    #[test]
    fn malformed_extension_body_keeps_the_rest() {
        let body = build_client_hello(&[0x1301], &[(0x0010, vec![0, 9, 2]), sni_ext("a.example")]);
        let ch = parse_client_hello(&body).expect("valid hello");
        assert_eq!(ch.malformed_extensions, vec![0x10]);
        assert_eq!(ch.sni().as_deref(), Some("a.example"));
        assert_eq!(ch.extensions, vec![0x10, 0]);
    }

    #[test]
    fn truncated_hello_is_an_error() {
        let body = sample_client_hello();
        for cut in [0, 10, 34, 40, body.len() - 1] {
            assert!(parse_client_hello(&body[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn hello_without_extensions_is_valid() {
        let mut body = build_client_hello(&[0x002f, 0x0035], &[]);
        body.truncate(body.len() - 2);
        let ch = parse_client_hello(&body).expect("valid hello");
        assert_eq!(ch.ja3_string(), "771,47-53,,,");
        assert!(ch.extensions.is_empty());
    }
}
