//! IMAP4 (RFC 9051 / 3501) with literals (RFC 7888 LITERAL+), STARTTLS and
//! AUTHENTICATE.
//!
//! A "logical line" is a tagged or untagged line plus the literals embedded
//! in it (`{n}` / `{n+}` then n bytes, then the line goes on). Literals
//! holding a whole message (FETCH `BODY[]` / `RFC822` answers, APPEND
//! uploads) stream into MIME; other literals are skipped without being kept,
//! so their size does not matter. LOGIN passwords and SASL data are never
//! recorded.

use mamori_applayer::{Anomaly, Direction, ParseCtx, Probe, Status, StreamParser};

use crate::active::ActiveMail;
use crate::eve::{EmailEve, MailRecord};
use crate::event::{MailEvent, MAX_EVENT_TEXT};
use crate::line::{text, verb_and_rest, Feed, LineReader};

/// Longest line segment from the client.
pub const MAX_CLIENT_LINE: usize = 16 * 1024;
/// Longest line segment from the server (FETCH answers with BODYSTRUCTURE
/// and ENVELOPE get long).
pub const MAX_SERVER_LINE: usize = 64 * 1024;
const MAX_TAG: usize = 64;
const MAX_INVALID: u32 = 16;

#[derive(Debug)]
enum Sink {
    /// A message; the transaction starts with its first byte, so a literal
    /// the server refuses never becomes a transaction.
    Mail(Option<ActiveMail>),
    Discard,
}

#[derive(Debug)]
enum Mode {
    Line,
    Literal { remaining: u64, untouched: bool, sync: bool, sink: Sink },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Fetch,
    Append { mailbox_seen: bool },
    Other,
}

#[derive(Clone, Debug)]
struct Logical {
    tag: Vec<u8>,
    kind: Kind,
}

#[derive(Debug)]
struct Half {
    lines: LineReader,
    mode: Mode,
    logical: Option<Logical>,
    invalid: u32,
}

impl Half {
    fn new(max: usize) -> Half {
        Half { lines: LineReader::new(max), mode: Mode::Line, logical: None, invalid: 0 }
    }
}

#[derive(Debug)]
pub struct ImapParser {
    client: Half,
    server: Half,
    next_tx_id: u64,
    starttls_tag: Option<Vec<u8>>,
    /// Tag of an AUTHENTICATE in progress: client lines are SASL data.
    auth_tag: Option<Vec<u8>>,
    /// Tag of a COMPRESS command: once accepted the stream is deflated.
    compress_tag: Option<Vec<u8>>,
    tls: bool,
    stopped: bool,
}

impl Default for ImapParser {
    fn default() -> Self {
        ImapParser::new()
    }
}

fn anomaly(ctx: &mut ParseCtx<'_, MailEvent>, name: &'static str) {
    ctx.events.push(MailEvent::Anomaly(Anomaly::new("imap", name)));
}

/// `... {123}` / `{123+}` / `{123-}` at the end of a segment.
fn trailing_literal(seg: &[u8]) -> Option<Result<(u64, bool, usize), ()>> {
    let body = seg.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let inner = &body[open + 1..];
    let (digits, sync) = match inner.last() {
        Some(b'+' | b'-') => (&inner[..inner.len() - 1], false),
        _ => (inner, true),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0'))).ok_or(());
    Some(n.map(|n| (n, sync, open)))
}

/// Does the FETCH item before a literal carry the whole message?
fn is_full_message(item: &[u8]) -> bool {
    let mut item = item.trim_ascii_end().to_ascii_uppercase();
    // A partial fetch ("BODY[]<0>") is a message only from its start.
    if item.ends_with(b">") {
        match item.iter().rposition(|&b| b == b'<') {
            Some(p) if &item[p..] == b"<0>" => item.truncate(p),
            _ => return false,
        }
    }
    [&b"BODY[]"[..], b"BODY.PEEK[]", b"RFC822", b"BINARY[]"].iter().any(|s| item.ends_with(s))
        && !item.ends_with(b".RFC822")
}

fn valid_tag(tag: &[u8]) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_TAG
        && tag
            .iter()
            .all(|&b| b.is_ascii_graphic() && !matches!(b, b'(' | b')' | b'{' | b'"' | b'\\' | b'%' | b'*' | b'+'))
}

/// The user name of `LOGIN user pass`, unless it is a literal.
fn login_user(args: &[u8]) -> Option<&[u8]> {
    if let Some(q) = args.strip_prefix(b"\"") {
        let end = q.iter().position(|&b| b == b'"')?;
        return Some(&q[..end]);
    }
    let user = verb_and_rest(args).0;
    (!user.is_empty() && !user.starts_with(b"{")).then_some(user)
}

fn complete(mail: ActiveMail, done: bool, ctx: &mut ParseCtx<'_, MailEvent>) {
    let tx_id = mail.tx_id;
    let summary = mail.finish(done, ctx);
    let record = MailRecord { smtp: None, email: Some(EmailEve::from(summary)), truncated: !done };
    ctx.events.push(MailEvent::MailComplete { tx_id, record: Box::new(record) });
}

impl ImapParser {
    pub fn new() -> ImapParser {
        ImapParser {
            client: Half::new(MAX_CLIENT_LINE),
            server: Half::new(MAX_SERVER_LINE),
            next_tx_id: 0,
            starttls_tag: None,
            auth_tag: None,
            compress_tag: None,
            tls: false,
            stopped: false,
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

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    fn start_tls(&mut self, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        for dir in [Direction::ToServer, Direction::ToClient] {
            self.abort_literal(dir, ctx);
        }
        self.tls = true;
        ctx.events.push(MailEvent::StartTls);
        Status::StartTls
    }

    /// Ends a literal in progress; a mail in it is truncated.
    fn abort_literal(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, MailEvent>) {
        if let Mode::Literal { sink: Sink::Mail(Some(mail)), .. } =
            std::mem::replace(&mut self.half(dir).mode, Mode::Line)
        {
            complete(mail, false, ctx);
        }
    }

    fn input_dir(&mut self, dir: Direction, mut data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        while !data.is_empty() && !self.tls && !self.stopped {
            if dir == Direction::ToServer
                && self.starttls_tag.is_some()
                && matches!(self.client.mode, Mode::Line)
                && !self.client.lines.is_mid_line()
                && data.first() == Some(&0x16)
            {
                return self.start_tls(ctx);
            }
            let next_tx_id = &mut self.next_tx_id;
            let half = match dir {
                Direction::ToServer => &mut self.client,
                Direction::ToClient => &mut self.server,
            };
            match &mut half.mode {
                Mode::Literal { remaining, untouched, sink, .. } => {
                    let take = usize::try_from(*remaining).unwrap_or(usize::MAX).min(data.len());
                    if let Sink::Mail(slot) = sink {
                        let mail = slot.get_or_insert_with(|| {
                            let tx_id = *next_tx_id;
                            *next_tx_id += 1;
                            ctx.events.push(MailEvent::MailStart { tx_id });
                            ActiveMail::new(dir, tx_id)
                        });
                        mail.feed(&data[..take], ctx);
                    }
                    *untouched = false;
                    *remaining -= take as u64;
                    data = &data[take..];
                    if *remaining == 0 {
                        if let Mode::Literal { sink: Sink::Mail(Some(mail)), .. } =
                            std::mem::replace(&mut half.mode, Mode::Line)
                        {
                            complete(mail, true, ctx);
                        }
                    }
                }
                Mode::Line => {
                    let (n, feed) = half.lines.feed(data);
                    data = &data[n..];
                    match feed {
                        Feed::Line => {
                            let seg = half.lines.line().to_vec();
                            if self.segment(dir, &seg, ctx) == Status::StartTls {
                                return Status::StartTls;
                            }
                        }
                        Feed::TooLong => {
                            half.logical = None;
                            anomaly(ctx, "line_too_long");
                        }
                        Feed::NeedMore | Feed::Skipped => {}
                    }
                }
            }
        }
        self.status()
    }

    /// One line segment (up to CRLF) in line mode.
    fn segment(&mut self, dir: Direction, seg: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        let mut status = Status::Continue;
        let continuing = self.half(dir).logical.is_some();
        if !continuing {
            let start = match dir {
                Direction::ToServer => self.client_start(seg, ctx),
                Direction::ToClient => self.server_start(seg, ctx),
            };
            match start {
                Some((logical, s)) => {
                    self.half(dir).logical = Some(logical);
                    status = s;
                }
                None => return Status::Continue,
            }
        }
        match trailing_literal(seg) {
            None => self.half(dir).logical = None,
            Some(Err(())) => {
                anomaly(ctx, "invalid_literal");
                self.stopped = true;
            }
            Some(Ok((0, _, _))) => {}
            Some(Ok((n, sync, open))) => {
                let before = &seg[..open];
                let half = self.half(dir);
                let mail = match half.logical.as_mut().map(|l| &mut l.kind) {
                    Some(Kind::Fetch) => dir == Direction::ToClient && is_full_message(before),
                    Some(Kind::Append { mailbox_seen }) => {
                        // The first literal of "tag APPEND {n}" is the
                        // mailbox name; every later one is a message.
                        let was = *mailbox_seen;
                        *mailbox_seen = true;
                        was || (!continuing && append_has_mailbox(before))
                    }
                    _ => false,
                };
                let sink = if mail { Sink::Mail(None) } else { Sink::Discard };
                half.mode = Mode::Literal { remaining: n, untouched: true, sync, sink };
            }
        }
        status
    }

    fn client_start(&mut self, seg: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Option<(Logical, Status)> {
        if self.auth_tag.is_some() {
            return None; // SASL response: never parsed or logged
        }
        let (tag, rest) = verb_and_rest(seg);
        if tag.eq_ignore_ascii_case(b"DONE") && rest.is_empty() {
            ctx.events.push(MailEvent::Command { verb: "DONE".into(), arg: None });
            return None;
        }
        let (cmd, args) = verb_and_rest(rest);
        if !valid_tag(tag) || cmd.is_empty() || cmd.len() > 32 || !cmd.iter().all(u8::is_ascii_alphabetic) {
            self.client.invalid += 1;
            anomaly(ctx, "invalid_command");
            if self.client.invalid > MAX_INVALID {
                self.stopped = true;
            }
            return None;
        }
        self.client.invalid = 0;
        let cmd = cmd.to_ascii_uppercase();
        let mut kind = Kind::Other;
        let arg = match cmd.as_slice() {
            b"LOGIN" => login_user(args),
            b"AUTHENTICATE" => {
                self.auth_tag = Some(tag.to_vec());
                Some(verb_and_rest(args).0)
            }
            b"STARTTLS" => {
                self.starttls_tag = Some(tag.to_vec());
                None
            }
            b"COMPRESS" => {
                self.compress_tag = Some(tag.to_vec());
                Some(args)
            }
            b"APPEND" => {
                kind = Kind::Append { mailbox_seen: false };
                Some(args)
            }
            _ if args.is_empty() => None,
            _ => Some(args),
        };
        ctx.events.push(MailEvent::Command { verb: text(&cmd, 32), arg: arg.map(|a| text(a, MAX_EVENT_TEXT)) });
        Some((Logical { tag: tag.to_vec(), kind }, Status::Continue))
    }

    fn server_start(&mut self, seg: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Option<(Logical, Status)> {
        let (tag, rest) = verb_and_rest(seg);
        if tag == b"+" {
            return Some((Logical { tag: tag.to_vec(), kind: Kind::Other }, Status::Continue));
        }
        let (word, text_rest) = verb_and_rest(rest);
        let word_up = word.to_ascii_uppercase();
        let is_status = matches!(word_up.as_slice(), b"OK" | b"NO" | b"BAD" | b"BYE" | b"PREAUTH");
        if tag == b"*" {
            self.server.invalid = 0;
            let kind = match verb_and_rest(text_rest).0.to_ascii_uppercase().as_slice() {
                b"FETCH" if word.iter().all(u8::is_ascii_digit) => Kind::Fetch,
                _ => Kind::Other,
            };
            if is_status {
                ctx.events.push(MailEvent::Reply { code: text(&word_up, 8), text: text(text_rest, MAX_EVENT_TEXT) });
            }
            return Some((Logical { tag: tag.to_vec(), kind }, Status::Continue));
        }
        if !valid_tag(tag) || !is_status {
            self.server.invalid += 1;
            anomaly(ctx, "invalid_reply");
            if self.server.invalid > MAX_INVALID {
                self.stopped = true;
            }
            return None;
        }
        self.server.invalid = 0;
        ctx.events.push(MailEvent::Reply { code: text(&word_up, 8), text: text(text_rest, MAX_EVENT_TEXT) });
        let mut status = Status::Continue;
        if self.auth_tag.as_deref() == Some(tag) {
            self.auth_tag = None;
        }
        if self.compress_tag.as_deref() == Some(tag) {
            self.compress_tag = None;
            if word_up == b"OK" {
                // RFC 4978: everything after this is deflate data we do not
                // inflate.
                anomaly(ctx, "compressed_session");
                self.stopped = true;
                status = Status::Stop;
            }
        }
        if self.starttls_tag.as_deref() == Some(tag) {
            self.starttls_tag = None;
            if word_up == b"OK" {
                status = self.start_tls(ctx);
            }
        }
        // A refused synchronizing literal is never sent: stop waiting for it.
        if let (Mode::Literal { untouched: true, sync: true, .. }, Some(l)) = (&self.client.mode, &self.client.logical)
        {
            if l.tag == tag {
                self.client.mode = Mode::Line;
                self.client.logical = None;
            }
        }
        Some((Logical { tag: tag.to_vec(), kind: Kind::Other }, status))
    }
}

/// `tag APPEND mailbox ... {n}`: is a mailbox named before the literal?
fn append_has_mailbox(before: &[u8]) -> bool {
    let (_tag, rest) = verb_and_rest(before);
    let (_cmd, args) = verb_and_rest(rest);
    !args.trim_ascii().is_empty()
}

impl StreamParser for ImapParser {
    type Event = MailEvent;

    fn input(&mut self, dir: Direction, data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        if self.tls || self.stopped {
            return self.status();
        }
        self.input_dir(dir, data, ctx)
    }

    fn gap(&mut self, dir: Direction, len: u64, ctx: &mut ParseCtx<'_, MailEvent>) -> Status {
        if self.tls || self.stopped {
            return self.status();
        }
        anomaly(ctx, "gap");
        let half = self.half(dir);
        if let Mode::Literal { remaining, untouched, sink, .. } = &mut half.mode {
            if len < *remaining {
                // Still inside the literal: we know where it ends.
                *remaining -= len;
                *untouched = false;
                if let Sink::Mail(slot) = sink {
                    if let Some(mail) = slot.take() {
                        complete(mail, false, ctx);
                    }
                }
                *sink = Sink::Discard;
                return self.status();
            }
        }
        self.abort_literal(dir, ctx);
        let half = self.half(dir);
        half.logical = None;
        half.lines.resync();
        self.status()
    }

    fn close(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, MailEvent>) {
        self.abort_literal(dir, ctx);
    }
}

/// Content-based detection: an untagged `OK`/`PREAUTH`/`BYE` greeting, or
/// a tagged client command IMAP clients open with.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToClient => {
            let candidates: [&[u8]; 3] = [b"* OK", b"* PREAUTH", b"* BYE"];
            let mut maybe = false;
            for c in candidates {
                let n = data.len().min(c.len());
                if data[..n].eq_ignore_ascii_case(&c[..n]) {
                    if n == c.len() {
                        return Probe::Match;
                    }
                    maybe = true;
                }
            }
            if maybe {
                Probe::NeedMore
            } else {
                Probe::NoMatch
            }
        }
        Direction::ToServer => {
            let Some(eol) = memchr::memchr(b'\n', data) else {
                return if data.len() < 256 { Probe::NeedMore } else { Probe::NoMatch };
            };
            let line = data[..eol].strip_suffix(b"\r").unwrap_or(&data[..eol]);
            let (tag, rest) = verb_and_rest(line);
            let cmd = verb_and_rest(rest).0.to_ascii_uppercase();
            let known = matches!(
                cmd.as_slice(),
                b"CAPABILITY"
                    | b"LOGIN"
                    | b"AUTHENTICATE"
                    | b"STARTTLS"
                    | b"NOOP"
                    | b"ID"
                    | b"SELECT"
                    | b"LOGOUT"
                    | b"ENABLE"
            );
            if valid_tag(tag) && known {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
    }
}
