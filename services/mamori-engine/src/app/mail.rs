use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_mail::{ImapParser, MailEvent, MailRecord, Pop3Parser, SmtpParser};
use serde_json::Value;

use super::{to_value, AppOut, AppRecord, AppSession, Objects};

enum Parser {
    Smtp(SmtpParser),
    Pop3(Pop3Parser),
    Imap(ImapParser),
}

/// SMTP, POP3 and IMAP: one event per mail, named after the protocol.
pub(crate) struct MailSession {
    parser: Parser,
    events: Vec<MailEvent>,
}

impl MailSession {
    pub fn smtp() -> MailSession {
        MailSession { parser: Parser::Smtp(SmtpParser::default()), events: Vec::new() }
    }
    pub fn pop3() -> MailSession {
        MailSession { parser: Parser::Pop3(Pop3Parser::default()), events: Vec::new() }
    }
    pub fn imap() -> MailSession {
        MailSession { parser: Parser::Imap(ImapParser::default()), events: Vec::new() }
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut dyn StreamParser<Event = MailEvent>, &mut Vec<MailEvent>) -> R) -> R {
        match &mut self.parser {
            Parser::Smtp(p) => f(p, &mut self.events),
            Parser::Pop3(p) => f(p, &mut self.events),
            Parser::Imap(p) => f(p, &mut self.events),
        }
    }

    fn event_type(&self) -> &'static str {
        match self.parser {
            Parser::Smtp(_) => "smtp",
            Parser::Pop3(_) => "pop3",
            Parser::Imap(_) => "imap",
        }
    }

    fn drain(&mut self, out: &mut AppOut) {
        let et = self.event_type();
        for ev in std::mem::take(&mut self.events) {
            match ev {
                MailEvent::MailComplete { tx_id, record } => {
                    out.records.push(AppRecord {
                        event_type: et,
                        tx_id: Some(tx_id),
                        dir: None,
                        objects: Objects::Values(objects(&record)),
                    });
                }
                MailEvent::Anomaly(a) => out.anomalies.push(a),
                _ => {}
            }
        }
    }
}

impl AppSession for MailSession {
    fn proto(&self) -> AppProto {
        match self.parser {
            Parser::Smtp(_) => AppProto::Smtp,
            Parser::Pop3(_) => AppProto::Pop3,
            Parser::Imap(_) => AppProto::Imap,
        }
    }

    fn input(&mut self, dir: Direction, data: &[u8], files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.with(|p, events| p.input(dir, data, &mut ParseCtx { events, files }));
        self.drain(out);
        st
    }

    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.with(|p, events| p.gap(dir, len, &mut ParseCtx { events, files }));
        self.drain(out);
        st
    }

    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut) {
        self.with(|p, events| p.close(dir, &mut ParseCtx { events, files }));
        self.drain(out);
    }
}

/// Suricata's `smtp` event carries the envelope (`smtp`) and the message
/// (`email`); POP3 and IMAP events carry the message only.
fn objects(r: &MailRecord) -> Vec<(&'static str, Value)> {
    let mut v = Vec::new();
    if let Some(s) = &r.smtp {
        v.push(("smtp", to_value(s)));
    }
    if let Some(e) = &r.email {
        v.push(("email", to_value(e)));
    }
    v
}
