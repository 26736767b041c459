//! Sans-I/O QUIC Initial parsing for Mamori.
//!
//! [`QuicFlow`] takes the UDP payloads of one flow. For IETF QUIC (v1, v2 and
//! drafts 22-34, plus mvfst, Q050 and T05x) it derives the Initial keys from
//! the client's Destination Connection ID, removes header protection, opens
//! the AES-128-GCM payload, reassembles CRYPTO frames in any order across
//! packets and datagrams, and decodes the TLS ClientHello with
//! [`mamori_tls::parse_client_hello`] (SNI, ALPN, JA3, JA4 with the `q`
//! prefix). For Google QUIC up to Q046 it reads the plaintext CHLO (SNI and
//! user agent). [`QuicFlow::eve`] renders Suricata's `quic` EVE object.

mod crypto_stream;
mod eve;
mod flow;
mod frames;
mod gquic;
mod keys;
mod packet;
mod probe;
mod transport_params;
mod varint;
mod version;

pub use crypto_stream::MAX_CRYPTO_STREAM;
pub use eve::{QuicEve, QuicEveExtension};
pub use flow::{QuicClientHello, QuicEvent, QuicFlow};
pub use probe::probe;
pub use version::QuicVersion;
