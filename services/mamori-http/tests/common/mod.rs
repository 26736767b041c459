//! Test helper: TCP streams of a capture as parser input events, and a
//! driver that runs the HTTP parser over every flow of a capture.
//!
//! Capture reading, decoding, flow grouping and in-order delivery come from
//! mamori-testkit; what is HTTP's own is which side is the client and when a
//! direction closes. Holes left at the end become gaps.

#![allow(dead_code)]

use mamori_applayer::{Direction, MemorySink, ParseCtx, Probe, StreamParser};
use mamori_http::{probe, HttpConfig, HttpEvent, HttpParser, HttpTx};
pub use mamori_testkit::testdata;
use mamori_testkit::{group_flows, read_capture, Delivery, TcpDir, L4};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Data(Direction, Vec<u8>),
    Gap(Direction, u64),
    Close(Direction),
}

/// One TCP connection's events, in capture order.
#[derive(Debug, Default)]
pub struct Flow {
    pub events: Vec<Ev>,
}

/// Reads a capture and splits it into TCP flows (in order of first
/// packet). The client is the SYN sender, else the side whose first bytes
/// probe as an HTTP request, else the higher port.
pub fn read_flows(path: &Path) -> Vec<Flow> {
    let segments = read_capture(path).unwrap_or_else(|e| panic!("{e}"));
    let tcp = segments.into_iter().filter(|s| s.l4() == L4::Tcp).collect();
    group_flows(tcp).iter().map(|f| Flow { events: flow_events(f) }).collect()
}

fn flow_events(flow: &mamori_testkit::Flow) -> Vec<Ev> {
    let segs = || flow.packets.iter().map(|(_, s)| s);
    let (a, b) = (flow.key.a, flow.key.b);
    let client = segs()
        .find(|s| s.syn() && !s.ack())
        .or_else(|| segs().find(|s| !s.payload.is_empty() && probe(Direction::ToServer, &s.payload) == Probe::Match))
        .map(|s| s.src)
        .unwrap_or(if a.port() > b.port() { a } else { b });
    let mut sides = [TcpDir::default(), TcpDir::default()];
    let mut closed = [false; 2];
    let mut events = Vec::new();
    for s in segs() {
        let dir = if s.src == client { Direction::ToServer } else { Direction::ToClient };
        let side = &mut sides[dir.index()];
        let data = side.push(s);
        if s.syn() {
            continue;
        }
        if !data.is_empty() {
            events.push(Ev::Data(dir, data));
        }
        let flags = s.flags();
        if (flags.fin() || flags.rst()) && !closed[dir.index()] && !side.has_held() {
            closed[dir.index()] = true;
            events.push(Ev::Close(dir));
        }
    }
    // Holes never filled become gaps, then the direction closes.
    for dir in [Direction::ToServer, Direction::ToClient] {
        for d in sides[dir.index()].finish() {
            events.push(match d {
                Delivery::Data(b) => Ev::Data(dir, b),
                Delivery::Gap(n) => Ev::Gap(dir, n),
            });
        }
        if !closed[dir.index()] {
            events.push(Ev::Close(dir));
        }
    }
    events
}

/// What running the parser over a flow produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub files: MemorySink,
    pub events: Vec<HttpEvent>,
    /// Transactions as they were when reported complete (plus any still
    /// live at the end), by tx id.
    pub txs: BTreeMap<u64, HttpTx>,
}

impl Outcome {
    pub fn anomalies(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                HttpEvent::Anomaly(a) => Some(a.event),
                _ => None,
            })
            .collect()
    }
}

pub fn run_events(events: &[Ev], cfg: HttpConfig) -> Outcome {
    let mut parser = HttpParser::new(cfg);
    let mut out = Outcome::default();
    for ev in events {
        let mut evs = Vec::new();
        {
            let mut ctx = ParseCtx { events: &mut evs, files: &mut out.files };
            match ev {
                Ev::Data(d, b) => {
                    parser.input(*d, b, &mut ctx);
                }
                Ev::Gap(d, n) => {
                    parser.gap(*d, *n, &mut ctx);
                }
                Ev::Close(d) => parser.close(*d, &mut ctx),
            }
        }
        for e in &evs {
            if let HttpEvent::ResponseComplete { tx_id } = e {
                if let Some(tx) = parser.tx(*tx_id) {
                    out.txs.insert(*tx_id, tx.clone());
                }
            }
        }
        out.events.extend(evs);
    }
    for tx in parser.transactions() {
        out.txs.entry(tx.tx_id).or_insert_with(|| tx.clone());
    }
    out
}

pub fn run_pcap(path: &Path) -> Vec<Outcome> {
    read_flows(path).iter().map(|f| run_events(&f.events, HttpConfig::default())).collect()
}
