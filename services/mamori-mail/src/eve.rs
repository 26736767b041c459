//! Suricata 8 EVE objects for mail: `smtp` (per SMTP transaction) and
//! `email` (per message), field names and order as Suricata writes them
//! (`output-json-smtp.c`, `rust/src/mime/smtp_log.rs`, the extended email
//! fields `message_id`, `subject`, `date`).

use serde::Serialize;

use crate::mime::MailSummary;

/// The `smtp` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SmtpEve {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helo: Option<String>,
    /// As given after `MAIL FROM:`, up to the first space (`<a@b.c>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rcpt_to: Vec<String>,
}

/// Suricata's `email.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum EmailStatus {
    #[serde(rename = "PARSE_DONE")]
    ParseDone,
}

/// The `email` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmailEve {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    pub status: EmailStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachment: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Decoded from RFC 2047 (Suricata logs the raw header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl From<MailSummary> for EmailEve {
    fn from(s: MailSummary) -> EmailEve {
        EmailEve {
            from: s.from,
            to: s.to,
            cc: s.cc,
            status: EmailStatus::ParseDone,
            attachment: s.attachments,
            message_id: s.message_id,
            subject: s.subject,
            date: s.date,
        }
    }
}

/// A finished mail transaction, for the engine's EVE `smtp` / `email`
/// events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailRecord {
    /// SMTP envelope; `None` for POP3 and IMAP.
    pub smtp: Option<SmtpEve>,
    /// The message, when one was transferred.
    pub email: Option<EmailEve>,
    /// The message was cut short (gap, connection closed mid-mail).
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_shape() {
        let smtp = SmtpEve {
            helo: Some("client.example".into()),
            mail_from: Some("<a@example.com>".into()),
            rcpt_to: vec!["<b@example.com>".into()],
        };
        assert_eq!(
            serde_json::to_string(&smtp).unwrap(),
            r#"{"helo":"client.example","mail_from":"<a@example.com>","rcpt_to":["<b@example.com>"]}"#
        );
        let email = EmailEve::from(MailSummary {
            from: Some("a@example.com".into()),
            to: vec!["b@example.com".into()],
            subject: Some("件名".into()),
            attachments: vec!["x.pdf".into()],
            ..MailSummary::default()
        });
        assert_eq!(
            serde_json::to_string(&email).unwrap(),
            r#"{"from":"a@example.com","to":["b@example.com"],"status":"PARSE_DONE","attachment":["x.pdf"],"subject":"件名"}"#
        );
        assert_eq!(serde_json::to_string(&SmtpEve::default()).unwrap(), "{}");
    }
}
