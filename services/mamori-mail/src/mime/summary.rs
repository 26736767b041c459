//! What a mail's top-level headers and its parts tell about it.

use super::encoded_word::decode_header_value;
use super::header::{Field, HeaderBlock};

/// Most addresses kept per list (To, Cc) and attachment names per mail.
pub const MAX_LIST: usize = 256;
/// Longest attachment name kept, in bytes of UTF-8.
pub const MAX_NAME: usize = 1024;

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate_utf8(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailSummary {
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// RFC 2047-decoded.
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub date: Option<String>,
    /// Names of the attachments, decoded, in order of appearance.
    pub attachments: Vec<String>,
    /// Some lists were longer than [`MAX_LIST`].
    pub capped: bool,
}

/// Splits an address list on commas outside quotes, angle brackets and
/// comments, so `"Doe, John" <j@x>` stays one address.
pub fn split_addresses(value: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped) = (false, false);
    let (mut angle, mut comment) = (0u32, 0u32);
    let mut start = 0;
    for (i, &b) in value.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'"' if comment == 0 => quoted = !quoted,
            b'<' if !quoted && comment == 0 => angle = angle.saturating_add(1),
            b'>' if !quoted && comment == 0 => angle = angle.saturating_sub(1),
            b'(' if !quoted => comment = comment.saturating_add(1),
            b')' if !quoted => comment = comment.saturating_sub(1),
            b',' if !quoted && angle == 0 && comment == 0 => {
                out.push(value[start..i].trim_ascii());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim_ascii());
    out.retain(|a| !a.is_empty());
    out
}

impl MailSummary {
    /// Takes the fields of the message's own (top-level) header block.
    pub fn fill_from_headers(&mut self, h: &HeaderBlock) {
        let text = |f: Field| h.get(f).map(decode_header_value);
        self.from = text(Field::From);
        self.subject = text(Field::Subject);
        self.message_id = text(Field::MessageId);
        self.date = text(Field::Date);
        let mut capped = false;
        for (field, list) in [(Field::To, &mut self.to), (Field::Cc, &mut self.cc)] {
            for value in h.all(field) {
                for addr in split_addresses(value) {
                    if list.len() >= MAX_LIST {
                        capped = true;
                        break;
                    }
                    list.push(decode_header_value(addr));
                }
            }
        }
        self.capped |= capped;
    }

    /// Records an attachment name; false when the list is full.
    pub fn add_attachment(&mut self, name: &str) -> bool {
        if self.attachments.len() >= MAX_LIST {
            self.capped = true;
            return false;
        }
        self.attachments.push(name.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_on_char_boundaries() {
        assert_eq!(truncate_utf8("日本語".to_owned(), 7), "日本");
        assert_eq!(truncate_utf8("abc".to_owned(), 7), "abc");
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            split_addresses(b"\"Doe, John\" <j@x.org>, a@b.c ,(c, d) e@f.g,, <h,i@j>"),
            vec![&b"\"Doe, John\" <j@x.org>"[..], b"a@b.c", b"(c, d) e@f.g", b"<h,i@j>"]
        );
        assert!(split_addresses(b"  ").is_empty());
    }

    #[test]
    fn summary_from_headers_decodes() {
        let mut h = HeaderBlock::default();
        for l in [
            &b"From: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\r\n"[..],
            b"To: a@x, =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= <b@x>\r\n",
            b"Cc: c@x\r\n",
            b"Subject: =?UTF-8?Q?=E4=BC=9A=E8=AD=B0?=\r\n",
            b"Message-ID: <1@x>\r\n",
            b"Date: Mon, 1 Jan 2024 00:00:00 +0900\r\n",
        ] {
            h.push(l, true, true);
        }
        let mut s = MailSummary::default();
        s.fill_from_headers(&h);
        assert_eq!(s.from.as_deref(), Some("山田 <yamada@example.jp>"));
        assert_eq!(s.to, vec!["a@x".to_owned(), "会議 <b@x>".to_owned()]);
        assert_eq!(s.cc, vec!["c@x".to_owned()]);
        assert_eq!(s.subject.as_deref(), Some("会議"));
        assert_eq!(s.message_id.as_deref(), Some("<1@x>"));
        assert_eq!(s.date.as_deref(), Some("Mon, 1 Jan 2024 00:00:00 +0900"));
    }
}
