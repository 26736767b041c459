//! Sans-I/O mail protocol parsers for Mamori.
//!
//! * [`SmtpParser`], [`Pop3Parser`], [`ImapParser`]: one
//!   [`mamori_applayer::StreamParser`] each, `type Event = MailEvent`, with
//!   content-based probes [`smtp::probe`], [`pop3::probe`], [`imap::probe`].
//! * [`mime::MimeParser`]: the streaming MIME parser they share; it hands
//!   attachments to the [`mamori_applayer::FileSink`] while they stream.
//! * [`SmtpEve`] / [`EmailEve`]: the Suricata 8 EVE `smtp` and `email`
//!   objects, carried by [`MailEvent::MailComplete`] in a [`MailRecord`].
//!
//! Credentials (SMTP AUTH, POP3 PASS, IMAP LOGIN passwords, SASL data) are
//! never parsed into events.

mod active;
pub mod dot;
pub mod eve;
pub mod event;
pub mod imap;
pub mod line;
pub mod mime;
pub mod pop3;
pub mod smtp;

#[doc(hidden)]
pub mod fuzzing;

pub use eve::{EmailEve, EmailStatus, MailRecord, SmtpEve};
pub use event::MailEvent;
pub use imap::ImapParser;
pub use pop3::Pop3Parser;
pub use smtp::SmtpParser;

pub use imap::probe as probe_imap;
pub use pop3::probe as probe_pop3;
pub use smtp::probe as probe_smtp;
