//! The streaming TLS parser the engine drives.

use std::ops::ControlFlow;

use mamori_applayer::{Anomaly, Direction, ParseCtx, Status, StreamParser};

use crate::certificate::{parse_certificate, split_chain, CertificateInfo, MAX_CHAIN_LEN};
use crate::client_hello::{parse_client_hello, ClientHello};
use crate::handshake::HandshakeBuffer;
use crate::record::{ContentType, RecordReader};
use crate::server_hello::{parse_server_hello, ServerHello};
use crate::session::{TlsEve, TlsSession};

const LAYER: &str = "tls";

mod msg {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const CERTIFICATE: u8 = 11;
}

/// What the parser reports while it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsEvent {
    ClientHello(Box<ClientHello>),
    ServerHello(Box<ServerHello>),
    /// The server's leaf certificate (the whole chain is in the session).
    Certificate(Box<CertificateInfo>),
    /// Both directions switched to encrypted records; the parser stops.
    HandshakeDone,
    Anomaly(Anomaly),
}

/// Where one direction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Plaintext handshake records are parsed.
    Handshake,
    /// After ChangeCipherSpec / application data: records are only framed.
    Encrypted,
    /// Gap, garbage or close: nothing more is read in this direction.
    Stopped,
}

#[derive(Clone, Debug)]
struct DirState {
    records: RecordReader,
    handshake: HandshakeBuffer,
    phase: Phase,
}

impl DirState {
    fn new(dir: Direction) -> DirState {
        DirState {
            records: RecordReader::new(dir == Direction::ToServer),
            handshake: HandshakeBuffer::default(),
            phase: Phase::Handshake,
        }
    }

    fn stop(&mut self) {
        self.phase = Phase::Stopped;
        self.handshake.clear();
    }
}

/// Sans-I/O TLS parser for one TCP connection.
#[derive(Clone, Debug)]
pub struct TlsParser {
    dirs: [DirState; 2],
    session: TlsSession,
}

impl Default for TlsParser {
    fn default() -> Self {
        TlsParser::new()
    }
}

impl TlsParser {
    pub fn new() -> TlsParser {
        TlsParser {
            dirs: [DirState::new(Direction::ToServer), DirState::new(Direction::ToClient)],
            session: TlsSession::default(),
        }
    }

    pub fn session(&self) -> &TlsSession {
        &self.session
    }

    /// The EVE `tls` object for what has been seen so far.
    pub fn eve(&self) -> TlsEve {
        self.session.eve()
    }

    fn dir_mut(&mut self, dir: Direction) -> &mut DirState {
        match dir {
            Direction::ToServer => &mut self.dirs[0],
            Direction::ToClient => &mut self.dirs[1],
        }
    }

    fn status(&mut self, events: &mut Vec<TlsEvent>) -> Status {
        let [ts, tc] = [self.dirs[0].phase, self.dirs[1].phase];
        if ts == Phase::Encrypted && tc == Phase::Encrypted && !self.session.handshake_done {
            self.session.handshake_done = true;
            events.push(TlsEvent::HandshakeDone);
        }
        let finished = |p: Phase| p != Phase::Handshake;
        let not_tls = ts == Phase::Stopped && self.session.client_hello.is_none();
        if (finished(ts) && finished(tc)) || not_tls {
            Status::Stop
        } else {
            Status::Continue
        }
    }

    fn consume(&mut self, dir: Direction, mut data: &[u8], events: &mut Vec<TlsEvent>) {
        loop {
            let state = self.dir_mut(dir);
            if state.phase == Phase::Stopped {
                return;
            }
            let frag = match state.records.next(&mut data) {
                Ok(Some(frag)) => frag,
                Ok(None) => return,
                Err(e) => {
                    state.stop();
                    events.push(anomaly(e.event()));
                    return;
                }
            };
            match (frag.content_type, state.phase) {
                (ContentType::Handshake, Phase::Handshake) => self.handshake_fragment(dir, frag.data, events),
                (ContentType::ChangeCipherSpec | ContentType::ApplicationData, _) => {
                    if state.handshake.in_progress() {
                        events.push(anomaly("handshake_interrupted"));
                    }
                    state.handshake.clear();
                    state.phase = Phase::Encrypted;
                }
                (ContentType::Sslv2Hello, _) => self.session.sslv2_client_hello = true,
                // Alerts, heartbeats, and anything once encrypted: framed, not read.
                _ => {}
            }
        }
    }

    fn handshake_fragment(&mut self, dir: Direction, data: &[u8], events: &mut Vec<TlsEvent>) {
        let idx = dir.index().min(1);
        let Some(state) = self.dirs.get_mut(idx) else {
            return;
        };
        let session = &mut self.session;
        let mut now_encrypted = false;
        let fed = state.handshake.feed(data, |typ, body| {
            let flow = on_message(session, dir, typ, body, events);
            now_encrypted = flow.is_break();
            flow
        });
        if fed.is_err() {
            state.stop();
            events.push(anomaly("handshake_invalid_length"));
        } else if now_encrypted {
            state.handshake.clear();
            state.phase = Phase::Encrypted;
        }
    }
}

/// Handles one complete handshake message. `Break` means the rest of this
/// direction is encrypted (a TLS 1.3 ServerHello).
fn on_message(
    session: &mut TlsSession,
    dir: Direction,
    typ: u8,
    body: &[u8],
    events: &mut Vec<TlsEvent>,
) -> ControlFlow<()> {
    match (dir, typ) {
        (Direction::ToServer, msg::CLIENT_HELLO) => match parse_client_hello(body) {
            Ok(ch) => {
                if !ch.malformed_extensions.is_empty() || ch.extensions_truncated {
                    events.push(anomaly("invalid_extension"));
                }
                events.push(TlsEvent::ClientHello(Box::new(ch.clone())));
                session.client_hello.get_or_insert(ch);
            }
            Err(_) => events.push(anomaly("invalid_handshake_message")),
        },
        (Direction::ToClient, msg::SERVER_HELLO) => match parse_server_hello(body) {
            Ok(sh) => {
                let encrypted_after = sh.is_tls13() && !sh.hello_retry_request;
                events.push(TlsEvent::ServerHello(Box::new(sh.clone())));
                session.server_hello = Some(sh);
                if encrypted_after {
                    return ControlFlow::Break(());
                }
            }
            Err(_) => events.push(anomaly("invalid_handshake_message")),
        },
        (Direction::ToClient, msg::CERTIFICATE) => on_certificate(session, body, events),
        (Direction::ToClient, msg::CLIENT_HELLO) | (Direction::ToServer, msg::SERVER_HELLO) => {
            events.push(anomaly("invalid_handshake_message"))
        }
        _ => {}
    }
    ControlFlow::Continue(())
}

fn on_certificate(session: &mut TlsSession, body: &[u8], events: &mut Vec<TlsEvent>) {
    if !session.certificates.is_empty() {
        return;
    }
    let Ok(chain) = split_chain(body) else {
        events.push(anomaly("invalid_certificate_message"));
        return;
    };
    for der in chain.iter().take(MAX_CHAIN_LEN) {
        match parse_certificate(der) {
            Ok(info) => session.certificates.push(info),
            Err(_) => {
                events.push(anomaly("certificate_invalid_der"));
                break;
            }
        }
    }
    if let Some(leaf) = session.certificates.first() {
        events.push(TlsEvent::Certificate(Box::new(leaf.clone())));
    }
}

fn anomaly(event: &'static str) -> TlsEvent {
    TlsEvent::Anomaly(Anomaly::new(LAYER, event))
}

impl StreamParser for TlsParser {
    type Event = TlsEvent;

    fn input(&mut self, dir: Direction, data: &[u8], ctx: &mut ParseCtx<'_, TlsEvent>) -> Status {
        self.consume(dir, data, ctx.events);
        self.status(ctx.events)
    }

    fn gap(&mut self, dir: Direction, len: u64, ctx: &mut ParseCtx<'_, TlsEvent>) -> Status {
        let state = self.dir_mut(dir);
        if state.phase != Phase::Stopped && len > 0 {
            let in_handshake_record = state.records.in_body_of() == Some(ContentType::Handshake);
            if state.handshake.in_progress() || (in_handshake_record && state.phase == Phase::Handshake) {
                // A handshake message with a hole in it is useless: drop it.
                state.stop();
                ctx.events.push(anomaly("gap_in_handshake"));
            } else if !state.records.skip_gap(len) {
                // The gap swallowed a record header: framing is lost.
                state.stop();
            }
        }
        self.status(ctx.events)
    }

    fn close(&mut self, dir: Direction, _ctx: &mut ParseCtx<'_, TlsEvent>) {
        self.dir_mut(dir).stop();
    }
}
