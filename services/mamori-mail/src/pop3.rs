//! POP3 (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH).
//!
//! Mails arrive in the dot-stuffed multi-line answers to RETR and TOP. The
//! user name from USER/APOP is logged; PASS and SASL data never are.

use std::collections::VecDeque;

use mamori_applayer::{Anomaly, Direction, ParseCtx, Probe, Status, StreamParser};

use crate::active::ActiveMail;
use crate::dot::DotDecoder;
use crate::eve::{EmailEve, MailRecord};
use crate::event::{MailEvent, MAX_EVENT_TEXT};
use crate::line::{text, verb_and_rest, Feed, LineReader};

/// Longest command or status line.
pub const MAX_LINE: usize = 8 * 1024;
const MAX_PENDING: usize = 128;
const MAX_INVALID: u32 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// RETR / TOP: the answer carries a mail.
    Mail,
    /// LIST, UIDL without argument, CAPA, AUTH without mechanism.
    MultiLine,
    Stls,
    Auth,
    Other,
}

#[derive(Debug)]
enum ServerMode {
    Line,
    /// Inside a multi-line answer; `mail` is set for RETR / TOP.
    MultiLine {
        dot: DotDecoder,
        mail: Option<ActiveMail>,
    },
}

#[derive(Debug)]
pub struct Pop3Parser {
    client_lines: LineReader,
    server_lines: LineReader,
    client_auth: bool,
    server: ServerMode,
    pending: VecDeque<Pending>,
    next_tx_id: u64,
    greeting_seen: bool,
    stls_requested: bool,
    tls: bool,
    stopped: bool,
    invalid_client: u32,
    invalid_server: u32,
}

impl Default for Pop3Parser {
    fn default() -> Self {
        Pop3Parser::new()
    }
}

fn anomaly(ctx: &mut ParseCtx<'_, MailEvent>, name: &'static str) {
    ctx.events.push(MailEvent::Anomaly(Anomaly::new("pop3", name)));
}

const VERBS: &[&[u8]] = &[
    b"USER", b"PASS", b"APOP", b"AUTH", b"STAT", b"LIST", b"RETR", b"DELE", b"NOOP", b"RSET", b"QUIT", b"TOP", b"UIDL",
    b"CAPA", b"STLS", b"UTF8", b"LANG",
];

fn complete(mail: ActiveMail, complete: bool, ctx: &mut ParseCtx<'_, MailEvent>) {
    let tx_id = mail.tx_id;
    let summary = mail.finish(complete, ctx);
    let record = MailRecord { smtp: None, email: Some(EmailEve::from(summary)), truncated: !complete };
    ctx.events.push(MailEvent::MailComplete { tx_id, record: Box::new(record) });
}

impl Pop3Parser {
    pub fn new() -> Pop3Parser {
        Pop3Parser {
            client_lines: LineReader::new(MAX_LINE),
            server_lines: LineReader::new(MAX_LINE),
            client_auth: false,
            server: ServerMode::Line,
            pending: VecDeque::new(),
            next_tx_id: 0,
            greeting_seen: false,
            stls_requested: false,
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

    fn start_tls(&mut self, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        if let ServerMode::MultiLine { mail: Some(mail), .. } = std::mem::replace(&mut self.server, ServerMode::Line) {
            complete(mail, false, ctx);
        }
        self.tls = true;
        ctx.events.push(MailEvent::StartTls);
        Status::StartTls
    }

    fn client_input(&mut self, mut data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        while !data.is_empty() && !self.tls && !self.stopped {
            if self.stls_requested && !self.client_lines.is_mid_line() && data.first() == Some(&0x16) {
                return self.start_tls(ctx);
            }
            let (n, feed) = self.client_lines.feed(data);
            data = &data[n..];
            match feed {
                Feed::Line => {
                    let line = self.client_lines.line().to_vec();
                    self.client_line(&line, ctx);
                }
                Feed::TooLong => anomaly(ctx, "line_too_long"),
                Feed::NeedMore | Feed::Skipped => {}
            }
        }
        self.status()
    }

    fn client_line(&mut self, line: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) {
        let (verb, arg) = verb_and_rest(line);
        let upper = verb.to_ascii_uppercase();
        let known = VERBS.contains(&upper.as_slice());
        if self.client_auth {
            // A SASL response (credentials) unless it plainly is a command.
            // Base64 never holds a space; a bare verb must be one that
            // takes no argument.
            let bare = matches!(upper.as_slice(), b"QUIT" | b"NOOP" | b"RSET" | b"STAT" | b"CAPA");
            if !(known && (line.contains(&b' ') || bare)) {
                return;
            }
            self.client_auth = false;
        }
        if upper.is_empty() || upper.len() > 8 || !upper.iter().all(u8::is_ascii_alphanumeric) {
            self.invalid_client += 1;
            anomaly(ctx, "invalid_command");
            if self.invalid_client > MAX_INVALID {
                self.stopped = true;
            }
            return;
        }
        self.invalid_client = 0;
        let first_arg = verb_and_rest(arg).0;
        let (pending, logged) = match upper.as_slice() {
            b"RETR" | b"TOP" => (Pending::Mail, Some(arg)),
            b"LIST" | b"UIDL" if arg.is_empty() => (Pending::MultiLine, None),
            b"CAPA" => (Pending::MultiLine, None),
            b"AUTH" if arg.is_empty() => (Pending::MultiLine, None),
            b"AUTH" => {
                self.client_auth = true;
                (Pending::Auth, Some(first_arg))
            }
            b"STLS" => {
                self.stls_requested = true;
                (Pending::Stls, None)
            }
            b"USER" | b"APOP" => (Pending::Other, Some(first_arg)),
            b"PASS" => (Pending::Other, None),
            b"LIST" | b"UIDL" | b"DELE" => (Pending::Other, Some(arg)),
            _ => (Pending::Other, None),
        };
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            anomaly(ctx, "too_many_pending_commands");
        }
        self.pending.push_back(pending);
        ctx.events.push(MailEvent::Command { verb: text(&upper, 8), arg: logged.map(|a| text(a, MAX_EVENT_TEXT)) });
    }

    fn server_input(&mut self, mut data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        while !data.is_empty() && !self.tls && !self.stopped {
            match &mut self.server {
                ServerMode::MultiLine { dot, mail } => {
                    let (n, ended) = match mail {
                        Some(m) => dot.feed(data, &mut |b| m.feed(b, ctx)),
                        None => dot.feed(data, &mut |_| {}),
                    };
                    data = &data[n.min(data.len())..];
                    if ended {
                        if let ServerMode::MultiLine { mail: Some(m), .. } =
                            std::mem::replace(&mut self.server, ServerMode::Line)
                        {
                            complete(m, true, ctx);
                        }
                    }
                }
                ServerMode::Line => {
                    let (n, feed) = self.server_lines.feed(data);
                    data = &data[n..];
                    match feed {
                        Feed::Line => {
                            let line = self.server_lines.line().to_vec();
                            if self.server_line(&line, ctx) == Status::StartTls {
                                return Status::StartTls;
                            }
                        }
                        Feed::TooLong => anomaly(ctx, "reply_too_long"),
                        Feed::NeedMore | Feed::Skipped => {}
                    }
                }
            }
        }
        self.status()
    }

    fn server_line(&mut self, line: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        let (code, rest) = verb_and_rest(line);
        let ok = match code {
            b"+OK" => true,
            b"-ERR" => false,
            b"+" if self.pending.front() == Some(&Pending::Auth) => return Status::Continue,
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
        ctx.events.push(MailEvent::Reply { code: text(code, 4), text: text(rest, MAX_EVENT_TEXT) });
        if !self.greeting_seen && self.pending.is_empty() {
            self.greeting_seen = true;
            return Status::Continue;
        }
        self.greeting_seen = true;
        let Some(front) = self.pending.pop_front() else {
            anomaly(ctx, "reply_without_command");
            return Status::Continue;
        };
        match front {
            Pending::Auth => self.client_auth = false,
            Pending::Stls => {
                self.stls_requested = false;
                if ok {
                    return self.start_tls(ctx);
                }
            }
            Pending::Mail if ok => {
                let tx_id = self.next_tx_id;
                self.next_tx_id += 1;
                ctx.events.push(MailEvent::MailStart { tx_id });
                self.server = ServerMode::MultiLine {
                    dot: DotDecoder::new(),
                    mail: Some(ActiveMail::new(Direction::ToClient, tx_id)),
                };
            }
            Pending::MultiLine if ok => {
                self.server = ServerMode::MultiLine { dot: DotDecoder::new(), mail: None };
            }
            _ => {}
        }
        Status::Continue
    }
}

impl StreamParser for Pop3Parser {
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

    fn gap(&mut self, dir: Direction, _len: u64, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        if self.tls || self.stopped {
            return self.status();
        }
        anomaly(ctx, "gap");
        match dir {
            Direction::ToServer => self.client_lines.resync(),
            Direction::ToClient => {
                self.pending.clear();
                match std::mem::replace(&mut self.server, ServerMode::Line) {
                    ServerMode::MultiLine { mail, .. } => {
                        if let Some(m) = mail {
                            complete(m, false, ctx);
                        }
                        self.server = ServerMode::MultiLine { dot: DotDecoder::mid_line(), mail: None };
                    }
                    ServerMode::Line => self.server_lines.resync(),
                }
            }
        }
        self.status()
    }

    fn close(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, MailEvent>) {
        if dir == Direction::ToClient {
            if let ServerMode::MultiLine { mail: Some(m), .. } = std::mem::replace(&mut self.server, ServerMode::Line) {
                complete(m, false, ctx);
            }
        }
    }
}

/// Content-based detection: the `+OK` greeting, or a client opening with a
/// POP3-only command (USER is shared with FTP, so it does not count).
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    let candidates: &[&[u8]] = match dir {
        Direction::ToClient => &[b"+OK ", b"+OK\r"],
        Direction::ToServer => &[b"CAPA\r", b"CAPA\n", b"STLS\r", b"STLS\n", b"APOP "],
    };
    let n = data.len().min(5);
    let head = if dir == Direction::ToServer { data[..n].to_ascii_uppercase() } else { data[..n].to_vec() };
    let mut maybe = false;
    for c in candidates {
        if head.len() >= c.len() && head.starts_with(c) {
            return Probe::Match;
        }
        if c.starts_with(&head) {
            maybe = true;
        }
    }
    if maybe {
        Probe::NeedMore
    } else {
        Probe::NoMatch
    }
}
