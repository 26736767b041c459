//! Canonical forms for names and URLs, so that a listed entry and what the
//! wire shows compare byte for byte.

mod domain;
mod url;

pub use domain::{normalize_domain, normalize_host, Host, MAX_DOMAIN_LEN};
pub use url::{normalize_url, NormUrl};

/// Why an indicator was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("empty")]
    Empty,
    #[error("name longer than 253 bytes")]
    TooLong,
    #[error("empty label")]
    EmptyLabel,
    #[error("label longer than 63 bytes")]
    LabelTooLong,
    #[error("invalid character in name")]
    InvalidChar,
    #[error("label starts or ends with a hyphen")]
    BadHyphen,
    #[error("IDNA conversion failed")]
    Idna,
    #[error("an IP address, not a domain")]
    IpLiteral,
    #[error("unparsable URL")]
    BadUrl,
    #[error("URL has no host")]
    NoHost,
}
