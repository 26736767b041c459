//! The connection state machine: both directions, transactions, gaps.

use std::collections::{HashSet, VecDeque};

use mamori_applayer::{Direction, FileMeta, ParseCtx, Status, StreamParser};

use crate::anomaly::{Anomalies, HttpAnomaly};
use crate::body::{Body, BodySink, Framing, GapEffect};
use crate::chunked::Chunked;
use crate::config::HttpConfig;
use crate::decompress::{DecoderChain, Limits};
use crate::eol::{cut_line, Cut, Side};
use crate::event::HttpEvent;
use crate::filename::file_name;
use crate::framing::{content_codings, content_length, transfer_encoding, ContentLength, TransferEncoding};
use crate::head::{HeadScanner, Scan};
use crate::headers::{trim, Header, HeaderLookup};
use crate::resync::Resync;
use crate::startline::{looks_like_status_line, parse_request_line, parse_status_line, HttpVersion};
use crate::tx::{HttpTx, Progress};
use crate::uri;

const REQ: usize = 0;
const RES: usize = 1;
const CR: u8 = b'\r';
const LF: u8 = b'\n';
/// Junk lines skipped before a status line before giving up on finding one.
const MAX_JUNK_LINES: usize = 16;
/// Zero-progress steps tolerated in a row; a safety net against loops.
const MAX_IDLE_STEPS: usize = 16;

type Ctx<'a> = ParseCtx<'a, HttpEvent>;

/// Where the head of a message is.
#[derive(Debug)]
enum Phase {
    /// Looking for the start line. `pos`: start of the candidate line.
    StartLine { pos: usize, resume: usize, junk: usize },
    /// Collecting header lines for `tx_id`; the start line began at
    /// `line_start`, the header block at `start`.
    Headers { tx_id: u64, line_start: usize, start: usize, scanner: HeadScanner },
}

#[derive(Debug, Default)]
enum State {
    /// Between messages.
    #[default]
    Idle,
    Head(Phase),
    Body {
        tx_id: u64,
        body: Body,
    },
    /// After a gap or hopeless junk: looking for the start of a message.
    Resync(Resync),
    /// CONNECT or Upgrade: the rest is not HTTP.
    Tunnel,
    /// The direction ended.
    Closed,
}

#[derive(Debug, Default)]
struct Dir {
    state: State,
    /// Head bytes being collected (bounded by `max_head_bytes`).
    buf: Vec<u8>,
}

/// Bytes of input a head's buffer takes per step (see `HttpParser::head`);
/// most heads fit in one.
const HEAD_PIECE: usize = 2048;

/// Result of one step over some input.
#[derive(Debug, Default)]
struct Step {
    consumed: usize,
    /// Bytes the step had buffered but that belong to what follows; they
    /// are processed before the rest of the input.
    spill: Option<Vec<u8>>,
}

impl Step {
    fn consumed(n: usize) -> Step {
        Step { consumed: n, spill: None }
    }
}

/// Streaming HTTP/1.x parser for one TCP flow.
#[derive(Debug)]
pub struct HttpParser {
    cfg: HttpConfig,
    txs: VecDeque<HttpTx>,
    next_tx_id: u64,
    dirs: [Dir; 2],
    stopped: bool,
    /// A request or response said the connection ends after its exchange
    /// (`Connection: close`).
    closing: bool,
}

impl Default for HttpParser {
    fn default() -> Self {
        HttpParser::new(HttpConfig::default())
    }
}

fn side_of(d: usize) -> Side {
    if d == REQ {
        Side::Request
    } else {
        Side::Response
    }
}

fn emit(ctx: &mut Ctx<'_>, a: HttpAnomaly) {
    ctx.events.push(a.into());
}

fn flush_anomalies(ctx: &mut Ctx<'_>, an: &mut Anomalies) {
    for a in an.drain() {
        emit(ctx, a);
    }
}

/// Fields beyond which [`header_names`] finds repeated names with a set.
const PAIRWISE_MAX: usize = 32;

/// Suricata's `http.header_names` buffer: `\r\n`, each name once (libhtp
/// merges repeated fields; first spelling kept) followed by `\r\n`, then a
/// final `\r\n`. Empty when there are no headers.
fn header_names(headers: &[Header]) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.iter().map(|h| h.name().len() + 2).sum::<usize>() + 4);
    // An ordinary head's few fields are compared with the earlier ones, which
    // needs no allocation; a head of thousands of fields (64 KiB of `a:`
    // lines) gets a set, so that it costs linear time, not quadratic.
    let mut seen: Option<HashSet<Vec<u8>>> = (headers.len() > PAIRWISE_MAX).then(HashSet::new);
    for (i, h) in headers.iter().enumerate() {
        let repeated = match seen.as_mut() {
            Some(set) => !set.insert(h.name().to_ascii_lowercase()),
            None => headers.get(..i).unwrap_or_default().iter().any(|e| e.name().eq_ignore_ascii_case(h.name())),
        };
        if repeated {
            continue;
        }
        if out.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(h.name());
        out.extend_from_slice(b"\r\n");
    }
    if !out.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The `Connection` field lists the `close` option (RFC 9112 §9.6): the
/// connection ends after this exchange.
fn says_close(headers: &[Header]) -> bool {
    headers
        .header_values("connection")
        .flat_map(|v| v.split(|&c| c == b','))
        .any(|opt| trim(opt).eq_ignore_ascii_case(b"close"))
}

fn mime_type(v: &[u8]) -> Vec<u8> {
    let end = memchr::memchr(b';', v).unwrap_or(v.len());
    trim(v.get(..end).unwrap_or(&[])).to_vec()
}

impl HttpParser {
    pub fn new(cfg: HttpConfig) -> Self {
        HttpParser {
            cfg,
            txs: VecDeque::new(),
            next_tx_id: 0,
            dirs: [Dir::default(), Dir::default()],
            stopped: false,
            closing: false,
        }
    }

    /// The connection carries no more HTTP: a message said the connection
    /// ends after its exchange (`Connection: close`), every transaction is
    /// complete, and neither side has sent a byte since. Whatever else the
    /// connection carries, an HTTP peer does not read it: a client that sent
    /// or received `close` reads no further response, and a server sends no
    /// further one (RFC 9112 §9.6).
    pub fn over(&self) -> bool {
        let quiet = |d: &Dir| matches!(d.state, State::Idle | State::Closed) && d.buf.is_empty();
        self.closing && !self.stopped && self.txs.iter().all(|t| t.done) && self.dirs.iter().all(quiet)
    }

    /// A live transaction by its id.
    pub fn tx(&self, tx_id: u64) -> Option<&HttpTx> {
        self.txs.iter().find(|t| t.tx_id == tx_id)
    }

    /// Live transactions, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &HttpTx> {
        self.txs.iter()
    }

    fn tx_mut(&mut self, tx_id: u64) -> Option<&mut HttpTx> {
        self.txs.iter_mut().find(|t| t.tx_id == tx_id)
    }

    /// Frees transactions reported complete during an earlier call.
    fn reap(&mut self) {
        while self.txs.front().is_some_and(|t| t.done) {
            self.txs.pop_front();
        }
        // A closed connection lingers in the flow table for a minute:
        // an empty queue gives its room (four transactions' worth once
        // grown) back instead of holding it per flow.
        if self.txs.is_empty() && self.txs.capacity() > 0 {
            self.txs = VecDeque::new();
        }
    }

    fn new_tx(&mut self, ctx: &mut Ctx<'_>) -> Option<u64> {
        let live = self.txs.iter().filter(|t| !t.done).count();
        if live >= self.cfg.max_transactions {
            emit(ctx, HttpAnomaly::TooManyTransactions);
            self.stop(ctx);
            return None;
        }
        let id = self.next_tx_id;
        self.next_tx_id = self.next_tx_id.saturating_add(1);
        if self.txs.capacity() == 0 {
            // Most connections carry one transaction at a time.
            self.txs.reserve_exact(1);
        }
        self.txs.push_back(HttpTx { tx_id: id, ..HttpTx::default() });
        Some(id)
    }

    /// The oldest transaction still waiting for its response.
    fn pending_response_tx(&self) -> Option<u64> {
        self.txs.iter().find(|t| t.response.progress == Progress::NotStarted && !t.done).map(|t| t.tx_id)
    }

    fn complete_request(&mut self, tx_id: u64, truncated: bool, ctx: &mut Ctx<'_>) {
        let Some(tx) = self.tx_mut(tx_id) else { return };
        if tx.request.progress == Progress::Complete {
            return;
        }
        tx.request.progress = Progress::Complete;
        if truncated {
            tx.request.body.truncated = true;
        }
        ctx.events.push(HttpEvent::RequestComplete { tx_id });
        self.maybe_done(tx_id, ctx);
    }

    fn complete_response(&mut self, tx_id: u64, truncated: bool, ctx: &mut Ctx<'_>) {
        let Some(tx) = self.tx_mut(tx_id) else { return };
        tx.response.progress = Progress::Complete;
        if truncated {
            tx.response.body.truncated = true;
        }
        self.maybe_done(tx_id, ctx);
    }

    fn maybe_done(&mut self, tx_id: u64, ctx: &mut Ctx<'_>) {
        let Some(tx) = self.tx_mut(tx_id) else { return };
        if !tx.done && tx.request.progress == Progress::Complete && tx.response.progress == Progress::Complete {
            tx.done = true;
            ctx.events.push(HttpEvent::ResponseComplete { tx_id });
        }
    }

    /// Gives up on the flow: closes open files as truncated and finishes
    /// every transaction.
    fn stop(&mut self, ctx: &mut Ctx<'_>) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        for d in [REQ, RES] {
            let state = std::mem::replace(&mut self.dirs[d].state, State::Closed);
            if let State::Body { tx_id, mut body } = state {
                body.sink.kill(ctx);
                self.store_body_progress(d, tx_id, &body);
            }
            self.dirs[d].buf = Vec::new();
        }
        let ids: Vec<u64> = self.txs.iter().filter(|t| !t.done).map(|t| t.tx_id).collect();
        for id in ids {
            self.complete_request(id, true, ctx);
            self.complete_response(id, true, ctx);
        }
    }

    fn store_body_progress(&mut self, d: usize, tx_id: u64, body: &Body) {
        if let Some(tx) = self.tx_mut(tx_id) {
            let p = body.sink.progress;
            if d == REQ {
                tx.request.body = p;
            } else {
                tx.response.body = p;
            }
        }
    }

    // ---------------------------------------------------------------- driving

    /// Runs all of `data` through direction `d`.
    fn feed(&mut self, d: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        // Bytes a finished head had buffered beyond its end are handed back
        // and parsed before the rest of the input (LIFO).
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut rest = data;
        let mut idle = 0usize;
        while !self.stopped {
            let (consumed, spill) = if let Some(owned) = stack.pop() {
                if owned.is_empty() {
                    continue;
                }
                let step = self.step(d, &owned, false, ctx);
                let consumed = step.consumed.min(owned.len());
                if let Some(remainder) = owned.get(consumed..).filter(|r| !r.is_empty()) {
                    stack.push(remainder.to_vec());
                }
                (consumed, step.spill)
            } else {
                if rest.is_empty() {
                    return;
                }
                let step = self.step(d, rest, false, ctx);
                let consumed = step.consumed.min(rest.len());
                rest = rest.get(consumed..).unwrap_or(&[]);
                (consumed, step.spill)
            };
            let progressed = consumed > 0 || spill.is_some();
            if let Some(s) = spill.filter(|s| !s.is_empty()) {
                stack.push(s);
            }
            if progressed {
                idle = 0;
            } else {
                idle += 1;
                if idle > MAX_IDLE_STEPS {
                    debug_assert!(false, "http parser made no progress");
                    return;
                }
            }
        }
    }

    fn step(&mut self, d: usize, input: &[u8], fin: bool, ctx: &mut Ctx<'_>) -> Step {
        let state = std::mem::take(&mut self.dirs[d].state);
        match state {
            State::Idle => {
                let skip = input.iter().take_while(|&&c| c == CR || c == LF).count();
                self.dirs[d].state = if skip < input.len() {
                    self.dirs[d].buf.clear();
                    State::Head(Phase::StartLine { pos: 0, resume: 0, junk: 0 })
                } else {
                    State::Idle
                };
                Step::consumed(skip)
            }
            State::Head(phase) => self.head(d, phase, input, fin, ctx),
            State::Body { tx_id, mut body } => {
                let (n, done) = body.feed(input, ctx);
                self.store_body_progress(d, tx_id, &body);
                if done {
                    body.sink.end(true, ctx);
                    self.store_body_progress(d, tx_id, &body);
                    self.end_message(d, tx_id, false, ctx);
                } else {
                    self.dirs[d].state = State::Body { tx_id, body };
                }
                Step::consumed(n)
            }
            State::Resync(mut r) => {
                let out = r.scan(input);
                match out.found {
                    Some(spill) => {
                        self.dirs[d].state = State::Idle;
                        Step { consumed: out.consumed, spill: Some(spill) }
                    }
                    None => {
                        self.dirs[d].state = State::Resync(r);
                        Step::consumed(out.consumed)
                    }
                }
            }
            State::Tunnel => {
                self.dirs[d].state = State::Tunnel;
                Step::consumed(input.len())
            }
            State::Closed => {
                self.dirs[d].state = State::Closed;
                Step::consumed(input.len())
            }
        }
    }

    /// A message of direction `d` ended; the direction waits for the next.
    fn end_message(&mut self, d: usize, tx_id: u64, truncated: bool, ctx: &mut Ctx<'_>) {
        if self.stopped {
            return;
        }
        if !matches!(self.dirs[d].state, State::Tunnel | State::Closed) {
            self.dirs[d].state = State::Idle;
        }
        if d == REQ {
            self.complete_request(tx_id, truncated, ctx);
        } else {
            self.complete_response(tx_id, truncated, ctx);
        }
    }

    fn resync(&mut self, d: usize) {
        self.dirs[d].buf.clear();
        self.dirs[d].state = State::Resync(Resync::new(side_of(d)));
    }

    // ------------------------------------------------------------------ heads

    fn head(&mut self, d: usize, mut phase: Phase, input: &[u8], fin: bool, ctx: &mut Ctx<'_>) -> Step {
        let limit = self.cfg.max_head_bytes;
        let room = limit.saturating_sub(self.dirs[d].buf.len());
        // The head is parsed from a buffer of its own, filled a piece at a
        // time: what follows a head that ends early (usually the body, most
        // of a segment) is then parsed in place rather than copied in and
        // handed back as spill.
        let take = room.min(input.len()).min(HEAD_PIECE);
        self.dirs[d].buf.extend_from_slice(input.get(..take).unwrap_or(&[]));
        let full = self.dirs[d].buf.len() >= limit;
        loop {
            match phase {
                Phase::StartLine { pos, resume, junk } => {
                    let buf = &self.dirs[d].buf;
                    match cut_line(buf, resume.max(pos), side_of(d), fin) {
                        Cut::NeedMore { resume } => {
                            if full {
                                return self.head_overflow_start(d, pos, take, ctx);
                            }
                            self.dirs[d].state = State::Head(Phase::StartLine { pos, resume, junk });
                            return Step::consumed(take);
                        }
                        Cut::Line { content_end, next } => {
                            if next <= pos {
                                // Nothing at all (close with an empty buffer).
                                self.dirs[d].state = State::Idle;
                                return Step::consumed(take);
                            }
                            let outcome = if d == REQ {
                                self.request_line(pos, content_end, next, ctx)
                            } else {
                                // A full buffer cannot grow to show the next
                                // byte: decide as if the stream ended.
                                self.status_line(pos, content_end, next, junk, fin || full, ctx)
                            };
                            match outcome {
                                LineOutcome::Next(p) => phase = p,
                                LineOutcome::Wait(p) => {
                                    self.dirs[d].state = State::Head(p);
                                    return Step::consumed(take);
                                }
                                LineOutcome::Done { spill_from, state } => {
                                    let spill = self.dirs[d].buf.split_off(spill_from.min(self.dirs[d].buf.len()));
                                    self.dirs[d].buf.clear();
                                    self.dirs[d].state = state;
                                    return Step { consumed: take, spill: Some(spill) };
                                }
                                LineOutcome::Stopped => return Step::consumed(input.len()),
                            }
                        }
                    }
                }
                Phase::Headers { tx_id, line_start, start, mut scanner } => {
                    let scan = scanner.scan(&self.dirs[d].buf, fin);
                    match scan {
                        Scan::NeedMore if !full => {
                            self.dirs[d].state = State::Head(Phase::Headers { tx_id, line_start, start, scanner });
                            return Step::consumed(take);
                        }
                        Scan::NeedMore | Scan::TooManyLines => {
                            let a = match (d == REQ, scan == Scan::TooManyLines) {
                                (true, true) => HttpAnomaly::RequestTooManyHeaders,
                                (false, true) => HttpAnomaly::ResponseTooManyHeaders,
                                (true, false) => HttpAnomaly::RequestFieldTooLong,
                                (false, false) => HttpAnomaly::ResponseFieldTooLong,
                            };
                            emit(ctx, a);
                            self.end_message(d, tx_id, true, ctx);
                            self.resync(d);
                            return Step::consumed(take);
                        }
                        Scan::End(end) => {
                            let end = end.min(self.dirs[d].buf.len());
                            let buf = std::mem::take(&mut self.dirs[d].buf);
                            let head = HeadBytes { buf: &buf, line_start, start, end };
                            if d == REQ {
                                self.request_head(tx_id, head, &scanner, fin, ctx);
                            } else {
                                self.response_head(tx_id, head, &scanner, fin, ctx);
                            }
                            let spill = buf.get(end..).unwrap_or(&[]).to_vec();
                            return Step { consumed: take, spill: Some(spill) };
                        }
                    }
                }
            }
        }
    }

    /// The start-line buffer filled up without a line break.
    fn head_overflow_start(&mut self, d: usize, pos: usize, take: usize, ctx: &mut Ctx<'_>) -> Step {
        let line = self.dirs[d].buf.get(pos..).unwrap_or(&[]);
        if d == RES && !looks_like_status_line(line) {
            if let Some(tx_id) = self.pending_response_tx() {
                // A body without status line (HTTP/0.9 style).
                let spill = self.dirs[d].buf.split_off(pos.min(self.dirs[d].buf.len()));
                self.dirs[d].buf.clear();
                self.start_http09(tx_id, ctx);
                return Step { consumed: take, spill: Some(spill) };
            }
        }
        emit(ctx, if d == REQ { HttpAnomaly::RequestFieldTooLong } else { HttpAnomaly::ResponseFieldTooLong });
        self.resync(d);
        Step::consumed(take)
    }

    fn request_line(&mut self, pos: usize, content_end: usize, next: usize, ctx: &mut Ctx<'_>) -> LineOutcome {
        let buf = &self.dirs[REQ].buf;
        let line = buf.get(pos..content_end).unwrap_or(&[]).to_vec();
        if trim(&line).is_empty() {
            // Blank line between requests.
            return LineOutcome::Next(Phase::StartLine { pos: next, resume: next, junk: 0 });
        }
        let mut an = Anomalies::default();
        let rl = parse_request_line(&line, &mut an);
        flush_anomalies(ctx, &mut an);
        let Some(tx_id) = self.new_tx(ctx) else {
            return LineOutcome::Stopped;
        };
        let http09 = rl.protocol.is_none();
        if let Some(tx) = self.tx_mut(tx_id) {
            let r = &mut tx.request;
            r.line = line;
            r.uri_normalized = uri::normalize_uri(&rl.uri);
            r.uri_raw = rl.uri;
            r.method = rl.method;
            r.protocol = rl.protocol;
            r.version = rl.version;
            r.progress = Progress::Headers;
            let t = uri::split_target(&r.uri_raw);
            if let Some(a) = t.authority {
                let (host, port) = uri::parse_authority(a);
                r.host = Some(host).filter(|h| !h.is_empty());
                r.port = port;
            }
        }
        if http09 {
            ctx.events.push(HttpEvent::RequestHeaders { tx_id });
            self.complete_request(tx_id, false, ctx);
            return LineOutcome::Done { spill_from: next, state: State::Idle };
        }
        LineOutcome::Next(Phase::Headers {
            tx_id,
            line_start: pos,
            start: next,
            scanner: HeadScanner::new(Side::Request, next, self.cfg.max_header_lines),
        })
    }

    fn status_line(
        &mut self,
        pos: usize,
        content_end: usize,
        next: usize,
        junk: usize,
        fin: bool,
        ctx: &mut Ctx<'_>,
    ) -> LineOutcome {
        let buf = &self.dirs[RES].buf;
        let line = buf.get(pos..content_end).unwrap_or(&[]);
        if line.iter().all(|&c| matches!(c, b' ' | b'\t' | 0 | 0x0b | 0x0c | CR)) {
            return LineOutcome::Next(Phase::StartLine { pos: next, resume: next, junk });
        }
        if looks_like_status_line(line) {
            let line = line.to_vec();
            let tx_id = match self.pending_response_tx() {
                Some(id) => id,
                None => {
                    emit(ctx, HttpAnomaly::UnableToMatchResponseToRequest);
                    let Some(id) = self.new_tx(ctx) else {
                        return LineOutcome::Stopped;
                    };
                    if let Some(tx) = self.tx_mut(id) {
                        tx.orphan_response = true;
                        tx.request.progress = Progress::Complete;
                    }
                    id
                }
            };
            let mut an = Anomalies::default();
            let sl = parse_status_line(&line, &mut an);
            flush_anomalies(ctx, &mut an);
            if let Some(tx) = self.tx_mut(tx_id) {
                let r = &mut tx.response;
                r.line = line;
                r.protocol = sl.protocol;
                r.version = sl.version;
                r.status = sl.status;
                r.status_code = sl.code;
                r.status_message = sl.message;
                r.progress = Progress::Headers;
            }
            return LineOutcome::Next(Phase::Headers {
                tx_id,
                line_start: pos,
                start: next,
                scanner: HeadScanner::new(Side::Response, next, self.cfg.max_header_lines),
            });
        }
        // Not a status line. Like libhtp: skip it when a status line seems
        // to follow (next line starts with 'H') or it is tiny; otherwise
        // the response has no head and this is its body.
        let Some(pending) = self.pending_response_tx() else {
            emit(ctx, HttpAnomaly::UnableToMatchResponseToRequest);
            return LineOutcome::Done { spill_from: next, state: State::Resync(Resync::new(Side::Response)) };
        };
        let next_byte = buf.get(next).copied();
        if next_byte.is_none() && !fin {
            return LineOutcome::Wait(Phase::StartLine { pos, resume: content_end, junk });
        }
        let skip = next_byte.is_some_and(|c| c == b'H' || c == b'h') || trim(line).len() <= 2;
        if skip && junk < MAX_JUNK_LINES {
            emit(ctx, HttpAnomaly::ResponseLineJunk);
            return LineOutcome::Next(Phase::StartLine { pos: next, resume: next, junk: junk + 1 });
        }
        self.start_http09(pending, ctx);
        let state = std::mem::take(&mut self.dirs[RES].state);
        LineOutcome::Done { spill_from: pos, state }
    }

    /// Treats what follows as the body of `tx_id`'s response, which has no
    /// status line or headers (HTTP/0.9, or a broken server).
    fn start_http09(&mut self, tx_id: u64, ctx: &mut Ctx<'_>) {
        emit(ctx, HttpAnomaly::ResponseHttp09);
        let meta = match self.tx_mut(tx_id) {
            Some(tx) => {
                tx.response.http09 = true;
                tx.response.progress = Progress::Body;
                tx.response.version = HttpVersion::V0_9;
                FileMeta {
                    name: file_name(None, &tx.request.uri_normalized),
                    tx_id,
                    declared_size: None,
                    content_type: None,
                }
            }
            None => FileMeta::default(),
        };
        ctx.events.push(HttpEvent::ResponseHeaders { tx_id });
        let body = Body::new(Framing::UntilClose, BodySink::new(Direction::ToClient, meta, None), false);
        self.dirs[RES].state = State::Body { tx_id, body };
    }

    fn strict_check(&self, side: Side, head: &[u8]) -> bool {
        let mut slots = [httparse::EMPTY_HEADER; 128];
        let complete = match side {
            Side::Request => matches!(
                httparse::Request::new(&mut slots).parse(head),
                Ok(httparse::Status::Complete(n)) if n == head.len()
            ),
            Side::Response => matches!(
                httparse::Response::new(&mut slots).parse(head),
                Ok(httparse::Status::Complete(n)) if n == head.len()
            ),
        };
        complete
    }

    fn request_head(&mut self, tx_id: u64, head: HeadBytes<'_>, scanner: &HeadScanner, fin: bool, ctx: &mut Ctx<'_>) {
        let mut an = Anomalies::default();
        let fields = scanner.fields(head.buf, &mut an);
        if scanner.saw_deformed_eol() {
            an.push(HttpAnomaly::DeformedEol);
        }
        // RFC 9112 conformance via httparse, which our lenient reading
        // must agree with on every head it accepts.
        let whole = head.buf.get(head.line_start..head.end).unwrap_or(&[]);
        if !fin && !self.strict_check(Side::Request, whole) {
            an.push(HttpAnomaly::RequestNotRfcCompliant);
        }
        let te = transfer_encoding(&fields);
        let cl = content_length(&fields);
        let max_trailer = self.cfg.max_head_bytes;
        let (host, host_ambiguous) = {
            let mut hosts = fields.header_values("host");
            let first = hosts.next();
            (first, first.is_some_and(|h| hosts.any(|o| trim(o) != trim(h))))
        };
        self.closing |= says_close(&fields);
        let Some(tx) = self.tx_mut(tx_id) else { return };
        let r = &mut tx.request;
        match host {
            Some(h) => {
                let (host, port) = uri::parse_authority(h);
                if r.host.is_none() {
                    r.host = Some(host).filter(|h| !h.is_empty());
                    r.port = port;
                }
                if host_ambiguous {
                    an.push(HttpAnomaly::HostHeaderAmbiguous);
                }
            }
            None if r.version == HttpVersion::V1_1 => an.push(HttpAnomaly::MissingHostHeader),
            None => {}
        }
        r.user_agent = fields.header_joined("user-agent");
        r.cookie = fields.header_joined("cookie");
        r.content_type = fields.header("content-type").map(<[u8]>::to_vec);
        r.referer = fields.header("referer").map(<[u8]>::to_vec);
        r.x_forwarded_for = fields.header_joined("x-forwarded-for");
        r.headers_raw = head.buf.get(head.start..head.end).unwrap_or(&[]).to_vec();
        r.header_names = header_names(&fields);
        let framing = match (te, cl) {
            (TransferEncoding::Chunked { .. }, cl) => {
                if cl != ContentLength::Absent {
                    an.push(HttpAnomaly::RequestSmuggling);
                }
                Some(Framing::Chunked(Chunked::new(max_trailer)))
            }
            (te, cl) => {
                if te == TransferEncoding::Other {
                    an.push(HttpAnomaly::InvalidTransferEncodingValueInRequest);
                }
                let n = match cl {
                    ContentLength::Absent => None,
                    ContentLength::Valid(n) => Some(n),
                    ContentLength::Ambiguous { lenient, duplicate } => {
                        an.push(if duplicate {
                            HttpAnomaly::DuplicateContentLengthFieldInRequest
                        } else {
                            HttpAnomaly::InvalidContentLengthFieldInRequest
                        });
                        lenient
                    }
                };
                r.content_length = n;
                n.filter(|&n| n > 0).map(|left| Framing::Length { left })
            }
        };
        let meta = FileMeta {
            name: file_name(fields.header("content-disposition"), &r.uri_normalized),
            tx_id,
            declared_size: r.content_length,
            content_type: r.content_type.as_deref().map(mime_type),
        };
        let decoder = if self.cfg.decompress_requests { self.decoder_for(&fields, &mut an) } else { None };
        let Some(tx) = self.tx_mut(tx_id) else { return };
        tx.request.headers = fields;
        tx.request.progress = if framing.is_some() { Progress::Body } else { Progress::Headers };
        flush_anomalies(ctx, &mut an);
        ctx.events.push(HttpEvent::RequestHeaders { tx_id });
        match framing {
            Some(framing) => {
                let body = Body::new(framing, BodySink::new(Direction::ToServer, meta, decoder), true);
                self.dirs[REQ].state = State::Body { tx_id, body };
            }
            None => {
                self.dirs[REQ].state = State::Idle;
                self.complete_request(tx_id, fin, ctx);
            }
        }
    }

    fn decoder_for(&self, fields: &[Header], an: &mut Anomalies) -> Option<DecoderChain> {
        let (mut codings, unknown) = content_codings(fields);
        if unknown {
            an.push(HttpAnomaly::AbnormalCeHeader);
        }
        if codings.is_empty() {
            return None;
        }
        let limit = self.cfg.decompress_layer_limit;
        if codings.len() > limit {
            an.push(HttpAnomaly::TooManyEncodingLayers);
            // Undo the outermost `limit` layers (the last applied).
            codings.drain(..codings.len() - limit);
        }
        if codings.is_empty() {
            return None;
        }
        Some(DecoderChain::new(
            &codings,
            Limits {
                max_output: self.cfg.decompress_max_output,
                max_ratio: self.cfg.decompress_max_ratio,
                ratio_min_output: self.cfg.decompress_ratio_min_output,
            },
        ))
    }

    fn response_head(&mut self, tx_id: u64, head: HeadBytes<'_>, scanner: &HeadScanner, fin: bool, ctx: &mut Ctx<'_>) {
        let mut an = Anomalies::default();
        let fields = scanner.fields(head.buf, &mut an);
        if scanner.saw_deformed_eol() {
            an.push(HttpAnomaly::DeformedEol);
        }
        let whole = head.buf.get(head.line_start..head.end).unwrap_or(&[]);
        if !fin && !self.strict_check(Side::Response, whole) {
            an.push(HttpAnomaly::ResponseNotRfcCompliant);
        }
        let te = transfer_encoding(&fields);
        let cl = content_length(&fields);
        let max_trailer = self.cfg.max_head_bytes;
        let Some(tx) = self.tx_mut(tx_id) else { return };
        let code = tx.response.status_code;
        let is_head = tx.request.method.eq_ignore_ascii_case(b"HEAD");
        let is_connect = tx.request.method.eq_ignore_ascii_case(b"CONNECT");
        let expects_continue =
            tx.request.headers.header("expect").is_some_and(|v| trim(v).eq_ignore_ascii_case(b"100-continue"));
        let upgrade = fields.header("upgrade").is_some();
        let no_framing = te == TransferEncoding::Absent && cl == ContentLength::Absent;

        // Interim responses (100 Continue, 102, 103): the real one follows.
        if let Some(c @ 100..=199) = code {
            if c != 101 {
                let seen = tx.response.saw_100_continue;
                if c == 100 && seen {
                    an.push(HttpAnomaly::ContinueAlreadySeen);
                }
                tx.response = crate::tx::HttpResponse { saw_100_continue: seen || c == 100, ..Default::default() };
                flush_anomalies(ctx, &mut an);
                self.dirs[RES].state = State::Idle;
                return;
            }
        }

        self.closing |= says_close(&fields);
        let Some(tx) = self.tx_mut(tx_id) else { return };
        let r = &mut tx.response;
        r.content_type = fields.header("content-type").map(<[u8]>::to_vec);
        r.location = fields.header("location").map(<[u8]>::to_vec);
        r.headers_raw = head.buf.get(head.start..head.end).unwrap_or(&[]).to_vec();
        r.header_names = header_names(&fields);
        let old_proto = matches!(r.version, HttpVersion::V1_0 | HttpVersion::V0_9);

        let tunnel = (is_connect && code.is_some_and(|c| (200..300).contains(&c)))
            || (code == Some(101) && upgrade && no_framing);
        let framing = if tunnel || is_head || matches!(code, Some(204) | Some(304)) {
            None
        } else {
            match (te, cl) {
                (TransferEncoding::Chunked { abnormal }, cl) => {
                    if abnormal {
                        an.push(HttpAnomaly::ResponseAbnormalTransferEncoding);
                    }
                    if old_proto {
                        an.push(HttpAnomaly::ResponseChunkedOldProto);
                    }
                    if cl != ContentLength::Absent {
                        an.push(HttpAnomaly::RequestSmuggling);
                    }
                    Some(Framing::Chunked(Chunked::new(max_trailer)))
                }
                (te, cl) => {
                    if te == TransferEncoding::Other {
                        an.push(HttpAnomaly::InvalidTransferEncodingValueInResponse);
                    }
                    match cl {
                        ContentLength::Valid(0) => {
                            r.content_length = Some(0);
                            None
                        }
                        ContentLength::Valid(n) => {
                            r.content_length = Some(n);
                            Some(Framing::Length { left: n })
                        }
                        ContentLength::Ambiguous { lenient, duplicate } => {
                            // Conflicting or junk lengths: read until close
                            // so that no byte escapes inspection.
                            an.push(if duplicate {
                                HttpAnomaly::DuplicateContentLengthFieldInResponse
                            } else {
                                HttpAnomaly::InvalidContentLengthFieldInResponse
                            });
                            r.content_length = lenient;
                            Some(Framing::UntilClose)
                        }
                        ContentLength::Absent => Some(Framing::UntilClose),
                    }
                }
            }
        };
        let meta = FileMeta {
            name: file_name(fields.header("content-disposition"), &tx.request.uri_normalized),
            tx_id,
            declared_size: match framing {
                Some(Framing::Length { left }) => Some(left),
                _ => None,
            },
            content_type: tx.response.content_type.as_deref().map(mime_type),
        };
        let decoder = if framing.is_some() { self.decoder_for(&fields, &mut an) } else { None };
        let Some(tx) = self.tx_mut(tx_id) else { return };
        tx.response.headers = fields;
        tx.response.progress = if framing.is_some() { Progress::Body } else { Progress::Headers };
        let req_waiting_body = expects_continue
            && code.is_some_and(|c| c >= 400)
            && matches!(&self.dirs[REQ].state, State::Body { tx_id: t, body } if *t == tx_id && body.sink.progress.wire_len == 0);
        flush_anomalies(ctx, &mut an);
        ctx.events.push(HttpEvent::ResponseHeaders { tx_id });
        if req_waiting_body {
            // The server refused the body the client was waiting to send.
            self.dirs[REQ].state = State::Idle;
            self.complete_request(tx_id, false, ctx);
        }
        match framing {
            Some(framing) => {
                let body = Body::new(framing, BodySink::new(Direction::ToClient, meta, decoder), false);
                self.dirs[RES].state = State::Body { tx_id, body };
            }
            None => {
                self.dirs[RES].state = State::Idle;
                self.complete_response(tx_id, fin, ctx);
                if tunnel {
                    self.dirs[RES].state = State::Tunnel;
                    self.dirs[REQ].state = State::Tunnel;
                    self.stop(ctx);
                }
            }
        }
    }

    // ------------------------------------------------------------ gap, close

    fn on_gap(&mut self, d: usize, len: u64, ctx: &mut Ctx<'_>) {
        let state = std::mem::take(&mut self.dirs[d].state);
        match state {
            State::Idle => self.resync(d),
            State::Head(Phase::StartLine { .. }) => {
                if d == RES && !self.dirs[d].buf.is_empty() {
                    if let Some(tx_id) = self.pending_response_tx() {
                        emit(ctx, HttpAnomaly::GapInHeaders);
                        self.complete_response(tx_id, true, ctx);
                    }
                }
                self.resync(d);
            }
            State::Head(Phase::Headers { tx_id, .. }) => {
                emit(ctx, HttpAnomaly::GapInHeaders);
                self.end_message(d, tx_id, true, ctx);
                self.resync(d);
            }
            State::Body { tx_id, mut body } => {
                emit(ctx, HttpAnomaly::GapInBody);
                let effect = body.gap(len, ctx);
                self.store_body_progress(d, tx_id, &body);
                match effect {
                    GapEffect::Absorbed => self.dirs[d].state = State::Body { tx_id, body },
                    GapEffect::EndsBody => self.end_message(d, tx_id, true, ctx),
                    GapEffect::Lost => {
                        self.end_message(d, tx_id, true, ctx);
                        self.resync(d);
                    }
                }
            }
            State::Resync(_) => self.resync(d),
            s @ (State::Tunnel | State::Closed) => self.dirs[d].state = s,
        }
    }

    fn on_close(&mut self, d: usize, ctx: &mut Ctx<'_>) {
        // Finish a head cut short by the close; what it leaves over is
        // processed as data, then the close is applied again.
        for _ in 0..MAX_IDLE_STEPS {
            if self.stopped || !matches!(self.dirs[d].state, State::Head(_)) {
                break;
            }
            let step = self.step(d, &[], true, ctx);
            if let Some(spill) = step.spill {
                if !spill.is_empty() {
                    self.feed(d, &spill, ctx);
                }
            }
        }
        if self.stopped {
            return;
        }
        let state = std::mem::replace(&mut self.dirs[d].state, State::Closed);
        if let State::Body { tx_id, mut body } = state {
            body.eof(ctx);
            let truncated = body.sink.progress.truncated;
            self.store_body_progress(d, tx_id, &body);
            if truncated {
                emit(ctx, HttpAnomaly::TruncatedMessage);
            }
            self.end_message(d, tx_id, truncated, ctx);
            self.dirs[d].state = State::Closed;
        }
        self.dirs[d].buf = Vec::new();
        // Once the server side is gone no response can come.
        if matches!(self.dirs[RES].state, State::Closed) {
            let both = matches!(self.dirs[REQ].state, State::Closed);
            let ids: Vec<u64> = self
                .txs
                .iter()
                .filter(|t| !t.done && (both || t.request.progress == Progress::Complete))
                .map(|t| t.tx_id)
                .collect();
            for id in ids {
                if both {
                    self.complete_request(id, true, ctx);
                }
                self.complete_response(id, true, ctx);
            }
        }
    }
}

/// The bytes of a finished head.
struct HeadBytes<'a> {
    buf: &'a [u8],
    line_start: usize,
    start: usize,
    end: usize,
}

enum LineOutcome {
    /// Continue with this phase in the same buffer.
    Next(Phase),
    /// Wait for more bytes in this phase.
    Wait(Phase),
    /// The head is over: bytes from `spill_from` belong to `state`.
    Done { spill_from: usize, state: State },
    /// Parsing stopped.
    Stopped,
}

impl StreamParser for HttpParser {
    type Event = HttpEvent;

    fn input(&mut self, dir: Direction, data: &[u8], ctx: &mut ParseCtx<'_, HttpEvent>) -> Status {
        self.reap();
        if !self.stopped {
            self.feed(dir.index(), data, ctx);
        }
        if self.stopped {
            Status::Stop
        } else {
            Status::Continue
        }
    }

    fn gap(&mut self, dir: Direction, len: u64, ctx: &mut ParseCtx<'_, HttpEvent>) -> Status {
        self.reap();
        if !self.stopped && len > 0 {
            self.on_gap(dir.index(), len, ctx);
        }
        if self.stopped {
            Status::Stop
        } else {
            Status::Continue
        }
    }

    fn close(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, HttpEvent>) {
        self.reap();
        if !self.stopped {
            self.on_close(dir.index(), ctx);
        }
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
