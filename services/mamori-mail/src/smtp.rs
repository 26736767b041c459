//! SMTP (RFC 5321) with ESMTP PIPELINING, CHUNKING (BDAT), AUTH and
//! STARTTLS. One transaction per mail, several per session.
//!
//! Replies are matched to commands through a bounded queue, which is what
//! pipelining needs. DATA is entered as soon as the client sends it (the
//! client only sends content after a 354, and the engine delivers
//! directions in capture order); a non-354 reply before any content
//! cancels it.

use std::collections::VecDeque;

use mamori_applayer::{Anomaly, Direction, ParseCtx, Probe, Status, StreamParser};

use crate::active::ActiveMail;
use crate::dot::DotDecoder;
use crate::eve::{EmailEve, MailRecord, SmtpEve};
use crate::event::{MailEvent, MAX_EVENT_TEXT};
use crate::line::{text, verb_and_rest, Feed, LineReader};

/// Longest command or reply line.
pub const MAX_LINE: usize = 8 * 1024;
/// Most commands awaiting a reply.
const MAX_PENDING: usize = 128;
/// Most recipients kept per transaction.
const MAX_RCPT: usize = 512;
/// Lines in a row that are not SMTP before the parser gives up.
const MAX_INVALID: u32 = 16;
/// Longest address or HELO name kept.
const MAX_FIELD: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Helo,
    Mail,
    Rcpt,
    Data,
    DataEnd,
    Bdat,
    Rset,
    Quit,
    Auth,
    StartTls,
    Other,
}

#[derive(Debug)]
enum ClientMode {
    Command,
    /// SASL exchange after AUTH: lines are credentials and never parsed.
    Auth,
    Data(DotDecoder),
    /// A BDAT chunk; the mail is in `SmtpParser::mail` unless dropped.
    Bdat {
        remaining: u64,
        last: bool,
    },
    /// Lost our place inside DATA (gap): skip to its end.
    SkipData(DotDecoder),
}

#[derive(Debug, Default)]
struct Tx {
    tx_id: u64,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// SMTP stream parser.
#[derive(Debug)]
pub struct SmtpParser {
    client_lines: LineReader,
    server_lines: LineReader,
    mode: ClientMode,
    pending: VecDeque<Pending>,
    helo: Option<String>,
    tx: Option<Tx>,
    mail: Option<ActiveMail>,
    next_tx_id: u64,
    /// First line of a multi-line reply being read.
    reply: Option<(String, String)>,
    greeting_seen: bool,
    starttls_requested: bool,
    tls: bool,
    stopped: bool,
    invalid_client: u32,
    invalid_server: u32,
}

impl Default for SmtpParser {
    fn default() -> Self {
        SmtpParser::new()
    }
}

fn anomaly(ctx: &mut ParseCtx<'_, MailEvent>, name: &'static str) {
    ctx.events.push(MailEvent::Anomaly(Anomaly::new("smtp", name)));
}

/// Suricata's reading of `MAIL FROM:` / `RCPT TO:` arguments: skip spaces,
/// take up to the next space (ESMTP parameters follow it).
fn path_arg<'a>(arg: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_ascii_start();
    Some(rest.split(|&b| b == b' ').next().unwrap_or_default())
}

fn is_verb(v: &[u8]) -> bool {
    !v.is_empty() && v.len() <= 16 && v.iter().all(u8::is_ascii_alphabetic)
}

/// Verbs that end a SASL exchange if the client abandons it (base64
/// responses never contain spaces, and these verbs take arguments).
fn is_command_line(line: &[u8]) -> bool {
    let (verb, _) = verb_and_rest(line);
    let v = verb.to_ascii_uppercase();
    (line.contains(&b' ') && matches!(v.as_slice(), b"MAIL" | b"RCPT" | b"EHLO" | b"HELO" | b"AUTH"))
        || matches!(v.as_slice(), b"QUIT" | b"RSET" | b"NOOP" | b"STARTTLS") && line.len() == v.len()
}

impl SmtpParser {
    pub fn new() -> SmtpParser {
        SmtpParser {
            client_lines: LineReader::new(MAX_LINE),
            server_lines: LineReader::new(MAX_LINE),
            mode: ClientMode::Command,
            pending: VecDeque::new(),
            helo: None,
            tx: None,
            mail: None,
            next_tx_id: 0,
            reply: None,
            greeting_seen: false,
            starttls_requested: false,
            tls: false,
            stopped: false,
            invalid_client: 0,
            invalid_server: 0,
        }
    }

    fn status(&self) -> Status {
        if self.tls {
            Status::StartTls
        } else if self.stopped {
            Status::Stop
        } else {
            Status::Continue
        }
    }

    fn push_pending(&mut self, p: Pending, ctx: &mut ParseCtx<'_, MailEvent>) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            anomaly(ctx, "too_many_pending_commands");
        }
        self.pending.push_back(p);
    }

    fn begin_tx(&mut self, ctx: &mut ParseCtx<'_, MailEvent>) -> &mut Tx {
        if self.tx.is_none() {
            let tx_id = self.next_tx_id;
            self.next_tx_id += 1;
            ctx.events.push(MailEvent::MailStart { tx_id });
            self.tx = Some(Tx { tx_id, ..Tx::default() });
        }
        self.tx.get_or_insert_with(Tx::default)
    }

    /// Ends the transaction, finishing its mail if one is being received.
    fn end_tx(&mut self, complete: bool, ctx: &mut ParseCtx<'_, MailEvent>) {
        let email = self.mail.take().map(|m| m.finish(complete, ctx));
        let Some(tx) = self.tx.take() else { return };
        let record = MailRecord {
            smtp: Some(SmtpEve { helo: self.helo.clone(), mail_from: tx.mail_from, rcpt_to: tx.rcpt_to }),
            email: email.map(EmailEve::from),
            truncated: !complete,
        };
        ctx.events.push(MailEvent::MailComplete { tx_id: tx.tx_id, record: Box::new(record) });
    }

    fn start_mail(&mut self, ctx: &mut ParseCtx<'_, MailEvent>) {
        if self.mail.is_none() {
            let tx_id = self.begin_tx(ctx).tx_id;
            self.mail = Some(ActiveMail::new(Direction::ToServer, tx_id));
        }
    }

    fn start_tls(&mut self, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        self.end_tx(true, ctx);
        self.tls = true;
        ctx.events.push(MailEvent::StartTls);
        Status::StartTls
    }

    // ---- client side ----

    fn client_input(&mut self, mut data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        while !data.is_empty() && !self.tls && !self.stopped {
            let n = match &mut self.mode {
                ClientMode::Command | ClientMode::Auth => {
                    // The TLS ClientHello right after STARTTLS: the 220 may
                    // not have been seen yet.
                    if self.starttls_requested && !self.client_lines.is_mid_line() && data.first() == Some(&0x16) {
                        return self.start_tls(ctx);
                    }
                    let (n, feed) = self.client_lines.feed(data);
                    match feed {
                        Feed::Line => {
                            let line = self.client_lines.line().to_vec();
                            self.client_line(&line, ctx);
                        }
                        Feed::TooLong => anomaly(ctx, "line_too_long"),
                        Feed::NeedMore | Feed::Skipped => {}
                    }
                    n
                }
                ClientMode::Data(dot) => {
                    let (n, ended) = match &mut self.mail {
                        Some(mail) => dot.feed(data, &mut |b| mail.feed(b, ctx)),
                        None => dot.feed(data, &mut |_| {}),
                    };
                    if ended {
                        self.mode = ClientMode::Command;
                        self.end_tx(true, ctx);
                        self.push_pending(Pending::DataEnd, ctx);
                    }
                    n
                }
                ClientMode::SkipData(dot) => {
                    let (n, ended) = dot.feed(data, &mut |_| {});
                    if ended {
                        self.mode = ClientMode::Command;
                    }
                    n
                }
                ClientMode::Bdat { remaining, last } => {
                    let take = usize::try_from(*remaining).unwrap_or(usize::MAX).min(data.len());
                    if let Some(mail) = &mut self.mail {
                        mail.feed(&data[..take], ctx);
                    }
                    *remaining -= take as u64;
                    if *remaining == 0 {
                        let last = *last;
                        self.mode = ClientMode::Command;
                        if last {
                            self.end_tx(true, ctx);
                        }
                    }
                    take
                }
            };
            data = &data[n.min(data.len())..];
        }
        self.status()
    }

    fn client_line(&mut self, line: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) {
        if matches!(self.mode, ClientMode::Auth) {
            if !is_command_line(line) {
                return; // credentials: never parsed, never logged
            }
            self.mode = ClientMode::Command;
        }
        let (verb, arg) = verb_and_rest(line);
        if !is_verb(verb) {
            self.invalid_client += 1;
            anomaly(ctx, "invalid_command");
            if self.invalid_client > MAX_INVALID {
                self.stopped = true;
            }
            return;
        }
        self.invalid_client = 0;
        let verb = verb.to_ascii_uppercase();
        let mut logged_arg = None;
        match verb.as_slice() {
            b"HELO" | b"EHLO" => {
                self.helo = Some(text(arg, MAX_FIELD));
                logged_arg = Some(text(arg, MAX_EVENT_TEXT));
                self.push_pending(Pending::Helo, ctx);
            }
            b"MAIL" => {
                if self.tx.is_some() {
                    // A new MAIL without RSET ends the previous transaction.
                    self.end_tx(true, ctx);
                }
                let from = path_arg(arg, b"FROM:").map(|p| text(p, MAX_FIELD));
                self.begin_tx(ctx).mail_from = from;
                logged_arg = Some(text(arg, MAX_EVENT_TEXT));
                self.push_pending(Pending::Mail, ctx);
            }
            b"RCPT" => {
                let to = path_arg(arg, b"TO:").map(|p| text(p, MAX_FIELD));
                let tx = self.begin_tx(ctx);
                match to {
                    Some(to) if tx.rcpt_to.len() < MAX_RCPT => tx.rcpt_to.push(to),
                    Some(_) => anomaly(ctx, "too_many_recipients"),
                    None => {}
                }
                logged_arg = Some(text(arg, MAX_EVENT_TEXT));
                self.push_pending(Pending::Rcpt, ctx);
            }
            b"DATA" => {
                self.start_mail(ctx);
                self.mode = ClientMode::Data(DotDecoder::new());
                self.push_pending(Pending::Data, ctx);
            }
            b"BDAT" => {
                logged_arg = Some(text(arg, MAX_EVENT_TEXT));
                self.push_pending(Pending::Bdat, ctx);
                let mut words = arg.split(|&b| b == b' ').filter(|w| !w.is_empty());
                let size = words.next().and_then(|w| std::str::from_utf8(w).ok()?.parse::<u64>().ok());
                let last = words.next().is_some_and(|w| w.eq_ignore_ascii_case(b"LAST"));
                match size {
                    Some(size) => {
                        self.start_mail(ctx);
                        if size == 0 {
                            if last {
                                self.end_tx(true, ctx);
                            }
                        } else {
                            self.mode = ClientMode::Bdat { remaining: size, last };
                        }
                    }
                    None => anomaly(ctx, "invalid_bdat"),
                }
            }
            b"RSET" | b"QUIT" => {
                let complete = self.mail.is_none();
                self.end_tx(complete, ctx);
                self.push_pending(if verb == b"RSET" { Pending::Rset } else { Pending::Quit }, ctx);
            }
            b"AUTH" => {
                // Only the mechanism: an initial response is a credential.
                logged_arg = Some(text(verb_and_rest(arg).0, MAX_EVENT_TEXT));
                self.mode = ClientMode::Auth;
                self.push_pending(Pending::Auth, ctx);
            }
            b"STARTTLS" => {
                self.starttls_requested = true;
                self.push_pending(Pending::StartTls, ctx);
            }
            _ => self.push_pending(Pending::Other, ctx),
        }
        ctx.events.push(MailEvent::Command { verb: text(&verb, 16), arg: logged_arg });
    }

    // ---- server side ----

    fn server_input(&mut self, mut data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        while !data.is_empty() && !self.tls && !self.stopped {
            let (n, feed) = self.server_lines.feed(data);
            data = &data[n..];
            match feed {
                Feed::Line => {
                    let line = self.server_lines.line().to_vec();
                    if let Status::StartTls = self.server_line(&line, ctx) {
                        return Status::StartTls;
                    }
                }
                Feed::TooLong => anomaly(ctx, "reply_too_long"),
                Feed::NeedMore | Feed::Skipped => {}
            }
        }
        self.status()
    }

    fn server_line(&mut self, line: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        let code = match line.get(..3) {
            Some(c) if c.iter().all(u8::is_ascii_digit) && matches!(line.get(3), None | Some(b' ' | b'-')) => c,
            _ => {
                self.invalid_server += 1;
                anomaly(ctx, "invalid_reply");
                if self.invalid_server > MAX_INVALID {
                    self.stopped = true;
                }
                return Status::Continue;
            }
        };
        self.invalid_server = 0;
        let code = text(code, 3);
        let line_text = text(line.get(4..).unwrap_or_default(), MAX_EVENT_TEXT);
        if line.get(3) == Some(&b'-') {
            if self.reply.is_none() {
                self.reply = Some((code, line_text));
            }
            return Status::Continue;
        }
        let (code, first) = self.reply.take().unwrap_or((code, line_text));
        let status = self.reply_done(&code, ctx);
        ctx.events.push(MailEvent::Reply { code, text: first });
        if status == Status::StartTls {
            return self.start_tls(ctx);
        }
        status
    }

    fn reply_done(&mut self, code: &str, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        let front = self.pending.front().copied();
        if !self.greeting_seen {
            self.greeting_seen = true;
            let is_greeting = matches!(code, "220" | "421" | "554");
            if is_greeting && front != Some(Pending::StartTls) {
                return Status::Continue;
            }
        }
        match front {
            None => {
                anomaly(ctx, "reply_without_command");
                return Status::Continue;
            }
            Some(Pending::Auth) if code == "334" => return Status::Continue,
            _ => {}
        }
        self.pending.pop_front();
        match front {
            Some(Pending::Data) if code != "354" => {
                // DATA refused: the client will not send content.
                if let (ClientMode::Data(_), Some(mail)) = (&self.mode, &self.mail) {
                    if mail.bytes == 0 {
                        self.mode = ClientMode::Command;
                        self.mail = None;
                    }
                }
            }
            Some(Pending::Auth) => {
                if matches!(self.mode, ClientMode::Auth) {
                    self.mode = ClientMode::Command;
                }
            }
            Some(Pending::StartTls) => {
                self.starttls_requested = false;
                if code == "220" {
                    return Status::StartTls;
                }
            }
            _ => {}
        }
        Status::Continue
    }
}

impl StreamParser for SmtpParser {
    type Event = MailEvent;

    fn input(&mut self, dir: Direction, data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        if self.tls || self.stopped {
            return self.status();
        }
        match dir {
            Direction::ToServer => self.client_input(data, ctx),
            Direction::ToClient => self.server_input(data, ctx),
        }
    }

    fn gap(&mut self, dir: Direction, len: u64, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        if self.tls || self.stopped {
            return self.status();
        }
        anomaly(ctx, "gap");
        match dir {
            Direction::ToClient => {
                // Replies may be lost: pairing them with commands is over.
                self.server_lines.resync();
                self.reply = None;
                self.pending.clear();
            }
            Direction::ToServer => match &mut self.mode {
                ClientMode::Command | ClientMode::Auth => self.client_lines.resync(),
                ClientMode::Data(_) => {
                    self.end_tx(false, ctx);
                    self.mode = ClientMode::SkipData(DotDecoder::mid_line());
                }
                ClientMode::SkipData(_) => self.mode = ClientMode::SkipData(DotDecoder::mid_line()),
                ClientMode::Bdat { remaining, .. } if len < *remaining => {
                    *remaining -= len;
                    if self.mail.is_some() {
                        self.end_tx(false, ctx);
                    }
                }
                ClientMode::Bdat { .. } => {
                    self.end_tx(false, ctx);
                    self.mode = ClientMode::Command;
                    self.client_lines.resync();
                }
            },
        }
        self.status()
    }

    fn close(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, MailEvent>) {
        if dir == Direction::ToServer {
            let complete = self.mail.is_none();
            self.end_tx(complete, ctx);
            self.mode = ClientMode::Command;
        }
    }
}

/// Content-based detection: a `220` greeting that is not an FTP banner
/// from the server, or `EHLO` / `HELO` from the client.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => {
            let n = data.len().min(5);
            let head = data[..n].to_ascii_uppercase();
            if [&b"EHLO "[..], b"HELO "].iter().any(|v| v.starts_with(&head)) {
                if n == 5 {
                    Probe::Match
                } else {
                    Probe::NeedMore
                }
            } else {
                Probe::NoMatch
            }
        }
        Direction::ToClient => {
            let n = data.len().min(4);
            let ok_prefix = b"220".iter().zip(&data[..n]).all(|(a, b)| a == b);
            if !ok_prefix || (n == 4 && !matches!(data[3], b' ' | b'-' | b'\r')) {
                return Probe::NoMatch;
            }
            let Some(end) = memchr::memchr(b'\n', data) else {
                return if data.len() < 512 { Probe::NeedMore } else { Probe::Match };
            };
            let line = data[..end].to_ascii_uppercase();
            // "220 ProFTPD", "220 (vsFTPd 3.0.3)", "220 Microsoft FTP Service".
            if memchr::memmem::find(&line, b"FTP").is_some() && memchr::memmem::find(&line, b"SMTP").is_none() {
                Probe::NoMatch
            } else {
                Probe::Match
            }
        }
    }
}
