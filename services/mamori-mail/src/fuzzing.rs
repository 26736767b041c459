//! The path the fuzz targets and the regression test drive.

use mamori_applayer::{Direction, NullSink, ParseCtx, StreamParser};

use crate::mime::MimeParser;
use crate::{imap, pop3, smtp, ImapParser, Pop3Parser, SmtpParser};

fn drive<P: StreamParser<Event = crate::MailEvent>>(parser: &mut P, control: &[u8], mut body: &[u8]) {
    let mut events = Vec::new();
    let mut sink = NullSink::default();
    let mut i = 0usize;
    while !body.is_empty() {
        let c = control.get(i % control.len().max(1)).copied().unwrap_or(0);
        let dir = if c & 0x80 != 0 { Direction::ToClient } else { Direction::ToServer };
        let n = (usize::from(c & 0x3f) * 7 + 1).min(body.len());
        let (chunk, rest) = body.split_at(n);
        let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
        if c & 0x40 != 0 && c & 0x3f == 0x3f {
            let _ = parser.gap(dir, n as u64, &mut ctx);
        } else {
            let _ = parser.input(dir, chunk, &mut ctx);
        }
        body = rest;
        i += 1;
        if events.len() > 4096 {
            events.clear();
        }
    }
    let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
    parser.close(Direction::ToServer, &mut ctx);
    parser.close(Direction::ToClient, &mut ctx);
}

/// SMTP, POP3 or IMAP chosen by the first byte; the next bytes choose
/// chunk sizes, directions and gaps; the rest is the traffic.
pub fn run_protocols(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (control, body) = rest.split_at(rest.len().min(8));
    for dir in [Direction::ToServer, Direction::ToClient] {
        let _ = smtp::probe(dir, body);
        let _ = pop3::probe(dir, body);
        let _ = imap::probe(dir, body);
    }
    match which % 3 {
        0 => drive(&mut SmtpParser::new(), control, body),
        1 => drive(&mut Pop3Parser::new(), control, body),
        _ => drive(&mut ImapParser::new(), control, body),
    }
}

/// The MIME parser directly, split where the first bytes say.
pub fn run_mime(data: &[u8]) {
    let (control, body) = data.split_at(data.len().min(4));
    let mut sink = NullSink::default();
    let mut p = MimeParser::new(Direction::ToServer, 0);
    let mut rest = body;
    let mut i = 0usize;
    while !rest.is_empty() {
        let c = control.get(i % control.len().max(1)).copied().unwrap_or(0);
        let n = (usize::from(c) * 3 + 1).min(rest.len());
        p.feed(&rest[..n], &mut sink);
        let _ = p.take_anomalies();
        rest = &rest[n..];
        i += 1;
    }
    p.finish(control.first().is_some_and(|c| c & 1 == 0), &mut sink);
    let _ = p.take_anomalies();
}
