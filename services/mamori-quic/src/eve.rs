//! Suricata 8's `quic` EVE object.

use serde::Serialize;

use mamori_tls::{is_grease, JaFingerprint, Transport};

use crate::flow::QuicFlow;

/// One TLS extension of the ClientHello, as Suricata lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuicEveExtension {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    #[serde(rename = "type")]
    pub typ: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuicEve {
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ua: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<JaFingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<JaFingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<QuicEveExtension>,
}

impl QuicFlow {
    /// The EVE `quic` object, once a long-header packet has been seen.
    pub fn eve(&self) -> Option<QuicEve> {
        let version = self.client_hello().map(|h| h.version).or(self.version())?;
        let hello = self.client_hello();
        let tls = hello.and_then(|h| h.tls.as_ref());
        Some(QuicEve {
            version: version.eve_name(),
            sni: hello.and_then(|h| h.sni.clone()),
            ua: hello.and_then(|h| h.user_agent.clone()),
            ja3: tls.map(|c| c.ja3()),
            ja3s: self.server_hello().map(|s| s.ja3s()),
            ja4: tls.map(|c| c.ja4(Transport::Quic)),
            extensions: tls.map(extensions).unwrap_or_default(),
        })
    }
}

fn extensions(ch: &mamori_tls::ClientHello) -> Vec<QuicEveExtension> {
    ch.extensions
        .iter()
        .filter(|&&t| !is_grease(t))
        .map(|&typ| QuicEveExtension {
            name: extension_name(typ),
            typ,
            values: match typ {
                0x0000 => ch.sni().map(|s| vec![s.into_owned()]).unwrap_or_default(),
                0x0010 => ch.alpn_strings(),
                _ => Vec::new(),
            },
        })
        .collect()
}

/// IANA names as Suricata's QUIC logger spells them.
fn extension_name(t: u16) -> Option<&'static str> {
    const NAMES: [&str; 60] = [
        "server_name",
        "max_fragment_length",
        "client_certificate_url",
        "trusted_ca_keys",
        "truncated_hmac",
        "status_request",
        "user_mapping",
        "client_authz",
        "server_authz",
        "cert_type",
        "supported_groups",
        "ec_point_formats",
        "srp",
        "signature_algorithms",
        "use_srtp",
        "heartbeat",
        "alpn",
        "status_request_v2",
        "signed_certificate_timestamp",
        "client_certificate_type",
        "server_certificate_type",
        "padding",
        "encrypt_then_mac",
        "extended_master_secret",
        "token_binding",
        "cached_info",
        "tls_lts",
        "compress_certificate",
        "record_size_limit",
        "pwd_protect",
        "pwd_clear",
        "password_salt",
        "ticket_pinning",
        "tls_cert_with_extern_psk",
        "delegated_credentials",
        "session_ticket",
        "tlmsp",
        "tlmsp_proxying",
        "tlmsp_delegate",
        "supported_ekt_ciphers",
        "",
        "pre_shared_key",
        "early_data",
        "supported_versions",
        "cookie",
        "psk_key_exchange_modes",
        "",
        "certificate_authorities",
        "oid_filters",
        "post_handshake_auth",
        "signature_algorithms_cert",
        "key_share",
        "transparency_info",
        "connection_id_deprecated",
        "connection_id",
        "external_id_hash",
        "external_session_id",
        "quic_transport_parameters",
        "ticket_request",
        "dnssec_chain",
    ];
    match t {
        13172 => Some("next_protocol_negotiation"),
        65281 => Some("renegotiation_info"),
        _ => NAMES.get(usize::from(t)).copied().filter(|n| !n.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(extension_name(0), Some("server_name"));
        assert_eq!(extension_name(16), Some("alpn"));
        assert_eq!(extension_name(40), None);
        assert_eq!(extension_name(41), Some("pre_shared_key"));
        assert_eq!(extension_name(57), Some("quic_transport_parameters"));
        assert_eq!(extension_name(59), Some("dnssec_chain"));
        assert_eq!(extension_name(60), None);
        assert_eq!(extension_name(65281), Some("renegotiation_info"));
    }
}
