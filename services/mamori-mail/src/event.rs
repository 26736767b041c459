//! What the mail parsers report.

use mamori_applayer::Anomaly;

use crate::eve::MailRecord;

/// Longest command argument or reply text carried in an event.
pub const MAX_EVENT_TEXT: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailEvent {
    /// A client command. `arg` is only set where it is safe to log (never
    /// passwords or SASL data).
    Command {
        verb: String,
        arg: Option<String>,
    },
    /// A server reply: SMTP code (`250`), POP3 `+OK`/`-ERR`, IMAP
    /// `OK`/`NO`/`BAD`/`BYE`/`PREAUTH`. `text` is its first line, bounded.
    Reply {
        code: String,
        text: String,
    },
    /// A mail transaction began (SMTP `MAIL FROM`, a POP3 `RETR`/`TOP`
    /// body, an IMAP `FETCH` body or `APPEND` literal).
    MailStart {
        tx_id: u64,
    },
    /// The transaction ended; its record carries the EVE objects.
    MailComplete {
        tx_id: u64,
        record: Box<MailRecord>,
    },
    /// The server accepted STARTTLS / STLS: the rest of the flow is TLS.
    StartTls,
    Anomaly(Anomaly),
}
