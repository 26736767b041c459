use std::collections::VecDeque;

use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_dns::{parse_datagram, DnsEve, DnsEvent, DnsMessage, DnsTcpParser};

use super::{to_value, AppOut, AppSession};

/// Pairs responses with their requests (by DNS id) to share a `tx_id`, the
/// way Suricata numbers DNS transactions.
#[derive(Default)]
pub(crate) struct DnsTx {
    pending: VecDeque<(u16, u64)>,
    next_tx: u64,
}

/// Requests waiting for a response, at most; older ones are forgotten.
const MAX_PENDING: usize = 64;

impl DnsTx {
    pub fn log(&mut self, events: &mut Vec<DnsEvent>, out: &mut AppOut) {
        for ev in events.drain(..) {
            match ev {
                DnsEvent::Message(m) => self.message(&m, out),
                DnsEvent::Anomaly(a) => out.anomalies.push(a),
            }
        }
    }

    fn message(&mut self, m: &DnsMessage, out: &mut AppOut) {
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
    pub fn datagram(&mut self, payload: &[u8], out: &mut AppOut) {
        parse_datagram(payload, &mut self.events);
        self.tx.log(&mut self.events, out);
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
        self.tx.log(&mut self.events, out);
        st
    }

    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.gap(dir, len, &mut ParseCtx { events: &mut self.events, files });
        self.tx.log(&mut self.events, out);
        st
    }

    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut) {
        self.parser.close(dir, &mut ParseCtx { events: &mut self.events, files });
        self.tx.log(&mut self.events, out);
    }
}
