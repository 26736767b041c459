//! Why a DNS message could not be parsed at all.

use thiserror::Error;

/// A message is only an error when its header or its questions do not parse;
/// damage further in is reported on the (partial) [`crate::DnsMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DnsError {
    #[error("message shorter than the 12-byte DNS header")]
    ShortHeader,
    #[error("message ends inside a question")]
    TruncatedQuestion,
    #[error("invalid label type in a name")]
    InvalidLabel,
    #[error("compression pointer points outside the message")]
    BadPointer,
    #[error("name has more labels than any real name")]
    TooManyLabels,
}
