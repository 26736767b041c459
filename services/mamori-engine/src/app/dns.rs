use std::borrow::Cow;
use std::collections::VecDeque;

use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_detect::TxSource;
use mamori_dns::{parse_datagram, DnsEve, DnsEvent, DnsMessage, DnsTcpParser};
use mamori_rules::Buffer;

use super::{to_value, AppOut, AppSession};
use crate::inspect::Inspector;

/// Pairs responses with their requests (by DNS id) to share a `tx_id`, the
/// way Suricata numbers DNS transactions.
#[derive(Default)]
pub(crate) struct DnsTx {
    pending: VecDeque<(u16, u64)>,
    next_tx: u64,
    /// Detection is on: keep the messages of the last call for inspection.
    pub inspecting: bool,
    recent: Vec<(u64, Direction, DnsMessage)>,
}

/// Messages kept between a parse and its inspection.
const MAX_RECENT: usize = 32;

/// Requests waiting for a response, at most; older ones are forgotten.
const MAX_PENDING: usize = 64;

impl DnsTx {
    /// Log parsed messages; with an inspector they are inspected at once,
    /// else (TCP, where the session trait has none) kept for [`DnsTx::inspect`].
    pub fn log(&mut self, events: &mut Vec<DnsEvent>, out: &mut AppOut, mut insp: Option<&mut Inspector<'_, '_>>) {
        for ev in events.drain(..) {
            match ev {
                DnsEvent::Message(m) => self.message(&m, out, insp.as_deref_mut()),
                DnsEvent::Anomaly(a) => out.anomalies.push(a),
            }
        }
    }

    fn message(&mut self, m: &DnsMessage, out: &mut AppOut, insp: Option<&mut Inspector<'_, '_>>) {
        let id = m.header.id;
        let (tx_id, dir) = if m.header.flags.qr() {
            let tx = match self.pending.iter().position(|(i, _)| *i == id) {
                Some(p) => self.pending.remove(p).map(|(_, t)| t),
                None => None,
            };
            let tx = tx.unwrap_or_else(|| self.alloc());
            (tx, Direction::ToClient)
        } else {
            let tx = self.alloc();
            if self.pending.len() >= MAX_PENDING {
                self.pending.pop_front();
            }
            self.pending.push_back((id, tx));
            (tx, Direction::ToServer)
        };
        out.record("dns", Some(tx_id), Some(dir), to_value(&DnsEve::new(m, tx_id)));
        match insp {
            Some(i) => inspect_message(i, tx_id, dir, m),
            None if self.inspecting && self.recent.len() < MAX_RECENT => self.recent.push((tx_id, dir, m.clone())),
            None => {}
        }
    }

    /// Inspect the messages kept since the last call.
    pub fn inspect(&mut self, insp: &mut Inspector<'_, '_>) {
        for (tx_id, dir, m) in self.recent.drain(..) {
            inspect_message(insp, tx_id, dir, &m);
        }
    }

    fn alloc(&mut self) -> u64 {
        let t = self.next_tx;
        self.next_tx += 1;
        t
    }
}

/// DNS over UDP: one message per datagram.
#[derive(Default)]
pub(crate) struct DnsUdpSession {
    tx: DnsTx,
    events: Vec<DnsEvent>,
}

impl DnsUdpSession {
    pub fn datagram(&mut self, payload: &[u8], out: &mut AppOut, insp: Option<&mut Inspector<'_, '_>>) {
        parse_datagram(payload, &mut self.events);
        self.tx.log(&mut self.events, out, insp);
    }

    pub fn enable_inspection(&mut self) {
        self.tx.inspecting = true;
    }
}

fn inspect_message(insp: &mut Inspector<'_, '_>, tx_id: u64, dir: Direction, m: &DnsMessage) {
    let view = DnsView { tx_id, msg: m };
    insp.tx(dir, &view, &|| vec![("dns", to_value(&DnsEve::new(m, tx_id)))]);
}

/// One DNS message as a transaction.
struct DnsView<'a> {
    tx_id: u64,
    msg: &'a DnsMessage,
}

impl TxSource for DnsView<'_> {
    fn proto(&self) -> AppProto {
        AppProto::Dns
    }

    fn tx_id(&self) -> u64 {
        self.tx_id
    }

    fn buffer(&self, buffer: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::DnsQuery => self.msg.queries.get(idx).map(|q| Cow::Borrowed(q.name.value.as_slice())),
            _ => None,
        }
    }
}

#[derive(Default)]
pub(crate) struct DnsTcpSession {
    parser: DnsTcpParser,
    events: Vec<DnsEvent>,
    tx: DnsTx,
}

impl AppSession for DnsTcpSession {
    fn proto(&self) -> AppProto {
        AppProto::Dns
    }

    fn input(&mut self, dir: Direction, data: &[u8], files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.input(dir, data, &mut ParseCtx { events: &mut self.events, files });
        self.tx.log(&mut self.events, out, None);
        st
    }

    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.gap(dir, len, &mut ParseCtx { events: &mut self.events, files });
        self.tx.log(&mut self.events, out, None);
        st
    }

    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut) {
        self.parser.close(dir, &mut ParseCtx { events: &mut self.events, files });
        self.tx.log(&mut self.events, out, None);
    }

    fn enable_inspection(&mut self) {
        self.tx.inspecting = true;
    }

    fn inspect(&mut self, insp: &mut Inspector<'_, '_>) {
        self.tx.inspect(insp);
    }
}
