//! Errors of the message-level parsers (`parse_client_hello` and friends).

use thiserror::Error;

/// Why a handshake message body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlsError {
    /// The body ended before a field that it announced.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A field holds a value the protocol does not allow.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The message is valid TLS but of a kind this parser does not decode.
    #[error("unsupported {0}")]
    Unsupported(&'static str),
}
