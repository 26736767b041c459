use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_http::{HttpEvent, HttpParser};

use super::http_detect::{Bodies, HttpView, TeeSink};
use super::{to_value, AppOut, AppSession};
use crate::inspect::Inspector;

/// Logs one `http` event per transaction when it completes, and the
/// incomplete ones when the flow ends, as Suricata does.
#[derive(Default)]
pub(crate) struct HttpSession {
    parser: HttpParser,
    events: Vec<HttpEvent>,
    /// Transactions seen but not logged yet, oldest first.
    unlogged: Vec<u64>,
    /// Detection is on: keep bodies and note which transactions progressed.
    inspecting: bool,
    bodies: Bodies,
    /// (transaction, direction) that progressed since the last inspection.
    dirty: Vec<(u64, Direction)>,
    /// Transactions whose response completed: their bodies go after the
    /// inspection that sees them complete (a closed connection lingers in
    /// the flow table for a minute, its bodies need not).
    finished: Vec<u64>,
}

/// Unlogged transactions remembered at most (the parser bounds its own).
const MAX_UNLOGGED: usize = 256;
/// Progressed transactions remembered between inspections.
const MAX_DIRTY: usize = 64;

impl HttpSession {
    fn drain(&mut self, out: &mut AppOut) {
        // Taken out for the loop and put back, so it keeps its allocation.
        let mut events = std::mem::take(&mut self.events);
        for ev in events.drain(..) {
            let progressed = match &ev {
                HttpEvent::RequestHeaders { tx_id } | HttpEvent::RequestComplete { tx_id } => {
                    Some((*tx_id, Direction::ToServer))
                }
                HttpEvent::ResponseHeaders { tx_id } | HttpEvent::ResponseComplete { tx_id } => {
                    Some((*tx_id, Direction::ToClient))
                }
                HttpEvent::Anomaly(_) => None,
            };
            match ev {
                HttpEvent::RequestHeaders { tx_id } | HttpEvent::ResponseHeaders { tx_id } => {
                    if !self.unlogged.contains(&tx_id) && self.unlogged.len() < MAX_UNLOGGED {
                        self.unlogged.push(tx_id);
                    }
                    // Host and URL are known now: a listed URL is stopped
                    // before the request reaches the server.
                    if matches!(ev, HttpEvent::RequestHeaders { .. }) {
                        if let Some(tx) = self.parser.tx(tx_id) {
                            out.early("http", || to_value(&tx.eve()));
                        }
                    }
                }
                HttpEvent::ResponseComplete { tx_id } => {
                    self.log(tx_id, out);
                    if self.inspecting && !self.finished.contains(&tx_id) && self.finished.len() < MAX_DIRTY {
                        self.finished.push(tx_id);
                    }
                }
                HttpEvent::RequestComplete { .. } => {}
                HttpEvent::Anomaly(a) => out.anomalies.push(a),
            }
            if let (true, Some(p)) = (self.inspecting, progressed) {
                self.mark(p);
            }
        }
        self.events = events;
        let HttpSession { bodies, dirty, .. } = self;
        for p in bodies.grew.drain(..) {
            if !dirty.contains(&p) && dirty.len() < MAX_DIRTY {
                dirty.push(p);
            }
        }
    }

    fn mark(&mut self, p: (u64, Direction)) {
        if !self.dirty.contains(&p) && self.dirty.len() < MAX_DIRTY {
            self.dirty.push(p);
        }
    }

    fn log(&mut self, tx_id: u64, out: &mut AppOut) {
        let Some(pos) = self.unlogged.iter().position(|t| *t == tx_id) else { return };
        self.unlogged.remove(pos);
        if let Some(tx) = self.parser.tx(tx_id) {
            out.http(tx_id, &tx.eve());
        }
    }

    fn with_files<R>(
        &mut self,
        files: &mut dyn FileSink,
        f: impl FnOnce(&mut HttpParser, &mut ParseCtx<'_, HttpEvent>) -> R,
    ) -> R {
        if self.inspecting {
            let mut tee = TeeSink { inner: files, bodies: &mut self.bodies };
            f(&mut self.parser, &mut ParseCtx { events: &mut self.events, files: &mut tee })
        } else {
            f(&mut self.parser, &mut ParseCtx { events: &mut self.events, files })
        }
    }
}

impl AppSession for HttpSession {
    fn proto(&self) -> AppProto {
        AppProto::Http
    }

    fn input(&mut self, dir: Direction, data: &[u8], files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.with_files(files, |p, ctx| p.input(dir, data, ctx));
        self.drain(out);
        st
    }

    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.with_files(files, |p, ctx| p.gap(dir, len, ctx));
        self.drain(out);
        st
    }

    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut) {
        self.with_files(files, |p, ctx| p.close(dir, ctx));
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

    fn enable_inspection(&mut self) {
        self.inspecting = true;
    }

    fn held_bytes(&self) -> usize {
        self.bodies.bufs.iter().map(|b| b.data.capacity()).sum()
    }

    fn over(&self) -> bool {
        self.parser.over() && self.unlogged.is_empty() && self.dirty.is_empty()
    }

    fn inspect(&mut self, insp: &mut Inspector<'_, '_>) {
        if self.dirty.is_empty() {
            return;
        }
        // Drained in place: the list keeps its allocation across packets.
        let HttpSession { parser, bodies, dirty, finished, .. } = self;
        for (tx_id, dir) in dirty.drain(..) {
            let Some(tx) = parser.tx(tx_id) else { continue };
            let view = HttpView {
                tx,
                dir,
                req_body: bodies.get(tx_id, Direction::ToServer),
                resp_body: bodies.get(tx_id, Direction::ToClient),
            };
            insp.tx(dir, &view, &|| vec![("http", to_value(&tx.eve()))]);
        }
        bodies.retain(|t| parser.tx(t).is_some() && !finished.contains(&t));
        finished.clear();
    }
}
