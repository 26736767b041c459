//! Test helper: minimal pcap -> TCP stream extraction and a driver that
//! runs the HTTP parser over every flow of a capture.
//!
//! Ethernet / Linux SLL / BSD loopback / raw IP, IPv4 and IPv6, TCP only.
//! Per direction, segments are ordered by sequence number; retransmitted
//! bytes are dropped; holes left at the end become gaps.

#![allow(dead_code)]

use mamori_applayer::{Direction, MemorySink, ParseCtx, Probe, StreamParser};
use mamori_http::{probe, HttpConfig, HttpEvent, HttpParser, HttpTx};
use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The shared test data folder, or `None` (test skipped) when absent.
pub fn testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("NOTICE: {} not found, skipping", p.display());
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Data(Direction, Vec<u8>),
    Gap(Direction, u64),
    Close(Direction),
}

type Endpoint = (Vec<u8>, u16);

struct Seg {
    src: Endpoint,
    dst: Endpoint,
    seq: u32,
    syn: bool,
    ack: bool,
    fin_or_rst: bool,
    payload: Vec<u8>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

fn parse_ip(ip: &[u8]) -> Option<Seg> {
    let version = ip.first()? >> 4;
    let (src, dst, proto, l4) = match version {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let end = total.min(ip.len());
            (ip.get(12..16)?.to_vec(), ip.get(16..20)?.to_vec(), *ip.get(9)?, ip.get(ihl..end)?)
        }
        6 => {
            let plen = usize::from(be16(ip, 4)?);
            let end = (40 + plen).min(ip.len());
            (ip.get(8..24)?.to_vec(), ip.get(24..40)?.to_vec(), *ip.get(6)?, ip.get(40..end)?)
        }
        _ => return None,
    };
    if proto != 6 {
        return None;
    }
    let sport = be16(l4, 0)?;
    let dport = be16(l4, 2)?;
    let seq = be32(l4, 4)?;
    let doff = usize::from(l4.get(12)? >> 4) * 4;
    let flags = *l4.get(13)?;
    Some(Seg {
        src: (src, sport),
        dst: (dst, dport),
        seq,
        syn: flags & 0x02 != 0,
        ack: flags & 0x10 != 0,
        fin_or_rst: flags & 0x05 != 0,
        payload: l4.get(doff..)?.to_vec(),
    })
}

fn parse_frame(link: DataLink, f: &[u8]) -> Option<Seg> {
    match link {
        DataLink::ETHERNET => {
            let mut et = be16(f, 12)?;
            let mut off = 14;
            while et == 0x8100 || et == 0x88a8 {
                et = be16(f, off + 2)?;
                off += 4;
            }
            match et {
                0x0800 | 0x86dd => parse_ip(f.get(off..)?),
                _ => None,
            }
        }
        DataLink::LINUX_SLL => parse_ip(f.get(16..)?),
        DataLink::NULL | DataLink::LOOP => parse_ip(f.get(4..)?),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => parse_ip(f),
        _ => None,
    }
}

/// One TCP connection's events, in capture order.
#[derive(Debug, Default)]
pub struct Flow {
    pub events: Vec<Ev>,
}

#[derive(Default)]
struct Side {
    next: Option<u32>,
    pending: BTreeMap<u32, Vec<u8>>,
    closed: bool,
}

fn rel(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

impl Side {
    /// Takes a segment; returns in-order bytes now deliverable.
    fn take(&mut self, seq: u32, payload: Vec<u8>, out: &mut Vec<Vec<u8>>) {
        let next = *self.next.get_or_insert(seq);
        let d = rel(seq, next);
        if d > 0 {
            self.pending.entry(seq).or_insert(payload);
            return;
        }
        let skip = usize::try_from(-d).unwrap_or(usize::MAX);
        if skip >= payload.len() {
            return; // retransmission
        }
        let fresh = payload[skip..].to_vec();
        self.next = Some(next.wrapping_add(fresh.len() as u32));
        out.push(fresh);
        // Drain buffered segments that now fit.
        loop {
            let next = self.next.unwrap_or(0);
            let Some((&s, _)) = self.pending.iter().find(|(&s, _)| rel(s, next) <= 0) else {
                break;
            };
            let p = self.pending.remove(&s).unwrap_or_default();
            let skip = usize::try_from(-rel(s, next)).unwrap_or(usize::MAX);
            if skip < p.len() {
                let fresh = p[skip..].to_vec();
                self.next = Some(next.wrapping_add(fresh.len() as u32));
                out.push(fresh);
            }
        }
    }
}

/// Reads a capture and splits it into TCP flows (in order of first
/// packet). The client is the SYN sender, else the side whose first bytes
/// probe as an HTTP request, else the higher port.
pub fn read_flows(path: &Path) -> Vec<Flow> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(file).expect("pcap header");
    let link = reader.header().datalink;
    let mut segs = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let Ok(pkt) = pkt else { break };
        if let Some(s) = parse_frame(link, &pkt.data) {
            segs.push(s);
        }
    }
    // Group by unordered endpoint pair.
    let mut order: Vec<(Endpoint, Endpoint)> = Vec::new();
    let mut groups: HashMap<(Endpoint, Endpoint), Vec<Seg>> = HashMap::new();
    for s in segs {
        let key = if s.src <= s.dst { (s.src.clone(), s.dst.clone()) } else { (s.dst.clone(), s.src.clone()) };
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(s);
    }
    let mut flows = Vec::new();
    for key in order {
        let segs = groups.remove(&key).unwrap_or_default();
        let client = segs
            .iter()
            .find(|s| s.syn && !s.ack)
            .map(|s| s.src.clone())
            .or_else(|| {
                segs.iter()
                    .find(|s| !s.payload.is_empty() && probe(Direction::ToServer, &s.payload) == Probe::Match)
                    .map(|s| s.src.clone())
            })
            .unwrap_or_else(|| if key.0 .1 > key.1 .1 { key.0.clone() } else { key.1.clone() });
        let mut sides = [Side::default(), Side::default()];
        let mut events = Vec::new();
        for s in segs {
            let dir = if s.src == client { Direction::ToServer } else { Direction::ToClient };
            let side = &mut sides[dir.index()];
            if s.syn {
                side.next = Some(s.seq.wrapping_add(1));
                continue;
            }
            if !s.payload.is_empty() {
                let mut out = Vec::new();
                side.take(s.seq, s.payload, &mut out);
                events.extend(out.into_iter().map(|b| Ev::Data(dir, b)));
            }
            if s.fin_or_rst && !side.closed && side.pending.is_empty() {
                side.closed = true;
                events.push(Ev::Close(dir));
            }
        }
        // Holes never filled become gaps, then the direction closes.
        for dir in [Direction::ToServer, Direction::ToClient] {
            let side = &mut sides[dir.index()];
            while let Some((&s, _)) = side.pending.iter().next() {
                let p = side.pending.remove(&s).unwrap_or_default();
                let next = side.next.unwrap_or(s);
                let d = rel(s, next);
                if d > 0 {
                    events.push(Ev::Gap(dir, d as u64));
                    side.next = Some(s);
                }
                let mut out = Vec::new();
                side.take(s, p, &mut out);
                events.extend(out.into_iter().map(|b| Ev::Data(dir, b)));
            }
            if !side.closed {
                side.closed = true;
                events.push(Ev::Close(dir));
            }
        }
        flows.push(Flow { events });
    }
    flows
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
