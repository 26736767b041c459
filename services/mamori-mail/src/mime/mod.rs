//! Streaming MIME: headers with folding, nested multiparts, message/rfc822,
//! transfer decodings, filenames in every encoding mailers use. Shared by
//! the SMTP, POP3 and IMAP parsers.

mod anomaly;
pub mod charset;
pub mod decode;
pub mod encoded_word;
mod header;
mod lines;
pub mod params;
mod parser;
mod summary;

#[cfg(test)]
mod tests;

pub use parser::{MimeParser, MAX_BOUNDARY, MAX_DEPTH};
pub use summary::{split_addresses, MailSummary, MAX_LIST};
