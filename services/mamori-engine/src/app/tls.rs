use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_tls::{TlsEvent, TlsParser};

use super::{to_value, AppOut, AppSession};

/// Logs one `tls` event per connection: when the handshake is done, or at
/// flow end if it never finished but a hello was seen.
#[derive(Default)]
pub(crate) struct TlsSession {
    parser: TlsParser,
    events: Vec<TlsEvent>,
    seen_hello: bool,
    logged: bool,
}

impl TlsSession {
    fn drain(&mut self, out: &mut AppOut) {
        for ev in self.events.drain(..) {
            match ev {
                TlsEvent::ClientHello(_) | TlsEvent::ServerHello(_) => self.seen_hello = true,
                TlsEvent::HandshakeDone => {
                    if !self.logged {
                        self.logged = true;
                        out.record("tls", Some(0), None, to_value(&self.parser.eve()));
                    }
                }
                TlsEvent::Anomaly(a) => out.anomalies.push(a),
                TlsEvent::Certificate(_) => {}
            }
        }
    }
}

impl AppSession for TlsSession {
    fn proto(&self) -> AppProto {
        AppProto::Tls
    }

    fn input(&mut self, dir: Direction, data: &[u8], files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.input(dir, data, &mut ParseCtx { events: &mut self.events, files });
        self.drain(out);
        st
    }

    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.gap(dir, len, &mut ParseCtx { events: &mut self.events, files });
        self.drain(out);
        st
    }

    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut) {
        self.parser.close(dir, &mut ParseCtx { events: &mut self.events, files });
        self.drain(out);
    }

    fn tx_objects(&self, _tx_id: u64) -> Vec<(&'static str, serde_json::Value)> {
        vec![("tls", to_value(&self.parser.eve()))]
    }

    fn flush(&mut self, out: &mut AppOut) {
        if self.seen_hello && !self.logged {
            self.logged = true;
            out.record("tls", Some(0), None, to_value(&self.parser.eve()));
        }
    }
}
