//! Sans-I/O TLS parser for Mamori.
//!
//! [`TlsParser`] implements [`mamori_applayer::StreamParser`]: it frames TLS
//! records in both directions, reassembles handshake messages across TCP
//! segments and records, and decodes the plaintext part of the handshake
//! (ClientHello, ServerHello, and the Certificate of TLS <= 1.2). Once both
//! directions are encrypted it reports [`TlsEvent::HandshakeDone`] and stops.
//!
//! The message-level decoders ([`parse_client_hello`], [`parse_server_hello`],
//! [`parse_certificate`]) and fingerprints ([`ClientHello::ja3`],
//! [`ClientHello::ja4`]) are public so QUIC can reuse them on CRYPTO frames.

pub mod build;
mod certificate;
mod client_hello;
mod error;
mod extensions;
mod fingerprint;
mod grease;
mod handshake;
mod parser;
mod probe;
mod record;
mod server_hello;
mod session;
mod version;

pub use certificate::{parse_certificate, CertificateInfo, MAX_CHAIN_LEN};
pub use client_hello::{parse_client_hello, ClientHello};
pub use error::TlsError;
pub use fingerprint::{JaFingerprint, Transport};
pub use grease::is_grease;
pub use handshake::MAX_HANDSHAKE_MESSAGE;
pub use parser::{TlsEvent, TlsParser};
pub use probe::probe;
pub use server_hello::{parse_server_hello, ServerHello};
pub use session::{TlsEve, TlsSession};
pub use version::version_name;
