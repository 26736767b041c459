//! What one TLS connection revealed, and its EVE rendering.

use serde::Serialize;

use crate::certificate::CertificateInfo;
use crate::client_hello::ClientHello;
use crate::fingerprint::{JaFingerprint, Transport};
use crate::server_hello::ServerHello;
use crate::version::version_name;

/// The handshake facts collected so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSession {
    /// The first ClientHello (a second one after HelloRetryRequest is not kept).
    pub client_hello: Option<ClientHello>,
    /// The last ServerHello (the real one, after a HelloRetryRequest).
    pub server_hello: Option<ServerHello>,
    /// The server's chain as sent, leaf first (TLS <= 1.2 only; encrypted in 1.3).
    pub certificates: Vec<CertificateInfo>,
    /// The client opened with an SSLv2-compatible ClientHello.
    pub sslv2_client_hello: bool,
    /// Both directions switched to encrypted records.
    pub handshake_done: bool,
}

/// Suricata 8's `tls` EVE object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlsEve {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuerdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_resumed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notbefore: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notafter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<JaFingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<JaFingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_alpns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_alpns: Vec<String>,
}

impl TlsSession {
    /// The version Suricata reports: the server's choice, `SSLv2` for an
    /// SSLv2 hello without an answer, else `UNDETERMINED`.
    pub fn version(&self) -> Option<u16> {
        match (&self.server_hello, self.sslv2_client_hello) {
            (Some(sh), _) => Some(sh.version()),
            (None, true) => Some(0x0002),
            (None, false) => None,
        }
    }

    /// Resumed TLS <= 1.2 session: the server echoed the client's session id.
    pub fn session_resumed(&self) -> bool {
        match (&self.client_hello, &self.server_hello) {
            (Some(ch), Some(sh)) => {
                !sh.is_tls13()
                    && !ch.session_id.is_empty()
                    && ch.session_id == sh.session_id
                    && self.certificates.is_empty()
            }
            _ => false,
        }
    }

    pub fn eve(&self) -> TlsEve {
        let leaf = self.certificates.first();
        let ch = self.client_hello.as_ref();
        let sh = self.server_hello.as_ref();
        TlsEve {
            subject: leaf.map(|c| c.subject.clone()),
            issuerdn: leaf.map(|c| c.issuer.clone()),
            serial: leaf.map(|c| c.serial.clone()),
            fingerprint: leaf.map(|c| c.fingerprint.clone()),
            session_resumed: self.session_resumed().then_some(true),
            sni: ch.and_then(|c| c.sni()).map(|s| s.into_owned()),
            version: version_name(self.version().unwrap_or(0)),
            notbefore: leaf.map(|c| c.not_before.clone()),
            notafter: leaf.map(|c| c.not_after.clone()),
            ja3: ch.map(ClientHello::ja3),
            ja3s: sh.map(ServerHello::ja3s),
            ja4: ch.map(|c| c.ja4(Transport::Tcp)),
            client_alpns: ch.map(ClientHello::alpn_strings).unwrap_or_default(),
            server_alpns: sh.map(ServerHello::alpn_strings).unwrap_or_default(),
        }
    }
}
