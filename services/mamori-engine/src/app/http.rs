use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_http::{HttpEvent, HttpParser};

use super::{to_value, AppOut, AppSession};

/// Logs one `http` event per transaction when it completes, and the
/// incomplete ones when the flow ends, as Suricata does.
#[derive(Default)]
pub(crate) struct HttpSession {
    parser: HttpParser,
    events: Vec<HttpEvent>,
    /// Transactions seen but not logged yet, oldest first.
    unlogged: Vec<u64>,
}

/// Unlogged transactions remembered at most (the parser bounds its own).
const MAX_UNLOGGED: usize = 256;

impl HttpSession {
    fn drain(&mut self, out: &mut AppOut) {
        let events = std::mem::take(&mut self.events);
        for ev in events {
            match ev {
                HttpEvent::RequestHeaders { tx_id } | HttpEvent::ResponseHeaders { tx_id } => {
                    if !self.unlogged.contains(&tx_id) && self.unlogged.len() < MAX_UNLOGGED {
                        self.unlogged.push(tx_id);
                    }
                }
                HttpEvent::ResponseComplete { tx_id } => self.log(tx_id, out),
                HttpEvent::RequestComplete { .. } => {}
                HttpEvent::Anomaly(a) => out.anomalies.push(a),
            }
        }
    }

    fn log(&mut self, tx_id: u64, out: &mut AppOut) {
        let Some(pos) = self.unlogged.iter().position(|t| *t == tx_id) else { return };
        self.unlogged.remove(pos);
        if let Some(tx) = self.parser.tx(tx_id) {
            out.record("http", Some(tx_id), None, to_value(&tx.eve()));
        }
    }
}

impl AppSession for HttpSession {
    fn proto(&self) -> AppProto {
        AppProto::Http
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

    fn tx_objects(&self, tx_id: u64) -> Vec<(&'static str, serde_json::Value)> {
        self.parser.tx(tx_id).map(|tx| ("http", to_value(&tx.eve()))).into_iter().collect()
    }

    fn flush(&mut self, out: &mut AppOut) {
        for tx_id in self.unlogged.clone() {
            self.log(tx_id, out);
        }
    }
}
