//! Test helpers: a minimal capture reader (pcap/pcapng; Ethernet, 802.1Q,
//! Linux SLL, raw IP, BSD loopback; IPv4/IPv6; TCP/UDP), per-flow grouping,
//! and a reader for nDPI's expected per-flow results.
//!
//! Kept deliberately small: the real packet decoder lives in another crate.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

/// `shared/testdata` if present.
pub fn testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    p.is_dir().then_some(p)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4 {
    Tcp,
    Udp,
}

#[derive(Clone, Debug)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub l4: L4,
    pub seq: u32,
    pub syn: bool,
    pub payload: Vec<u8>,
}

/// Every TCP/UDP packet of a capture, in capture order.
pub fn read_capture(path: &Path) -> Vec<Segment> {
    let mut out = Vec::new();
    let Ok(bytes) = std::fs::read(path) else {
        return out;
    };
    let is_ng = bytes.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]);
    let file = BufReader::new(File::open(path).expect("capture opens"));
    if is_ng {
        let Ok(mut r) = PcapNgReader::new(file) else {
            return out;
        };
        let mut links: Vec<DataLink> = Vec::new();
        while let Some(block) = r.next_block() {
            let Ok(block) = block else { break };
            match block {
                Block::InterfaceDescription(idb) => links.push(idb.linktype),
                Block::EnhancedPacket(epb) => {
                    let link = links.get(epb.interface_id as usize).copied().unwrap_or(DataLink::ETHERNET);
                    decode_link(link, &epb.data, &mut out);
                }
                Block::SimplePacket(spb) => {
                    let link = links.first().copied().unwrap_or(DataLink::ETHERNET);
                    decode_link(link, &spb.data, &mut out);
                }
                _ => {}
            }
        }
    } else {
        let Ok(mut r) = PcapReader::new(file) else {
            return out;
        };
        let link = r.header().datalink;
        while let Some(pkt) = r.next_packet() {
            let Ok(pkt) = pkt else { break };
            decode_link(link, &pkt.data, &mut out);
        }
    }
    out
}

fn decode_link(link: DataLink, d: &[u8], out: &mut Vec<Segment>) {
    match link {
        DataLink::ETHERNET => {
            let mut off = 12;
            loop {
                let Some(et) = d.get(off..off + 2) else {
                    return;
                };
                let et = u16::from_be_bytes([et[0], et[1]]);
                match et {
                    0x8100 | 0x88a8 | 0x9100 => off += 4,
                    _ => return decode_ethertype(et, d.get(off + 2..).unwrap_or_default(), out),
                }
            }
        }
        DataLink::LINUX_SLL => {
            if let Some(et) = d.get(14..16) {
                decode_ethertype(u16::from_be_bytes([et[0], et[1]]), d.get(16..).unwrap_or_default(), out)
            }
        }
        DataLink::LINUX_SLL2 => {
            if let Some(et) = d.get(0..2) {
                decode_ethertype(u16::from_be_bytes([et[0], et[1]]), d.get(20..).unwrap_or_default(), out)
            }
        }
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => decode_ip(d, out),
        DataLink::NULL | DataLink::LOOP => decode_ip(d.get(4..).unwrap_or_default(), out),
        _ => {}
    }
}

fn decode_ethertype(et: u16, d: &[u8], out: &mut Vec<Segment>) {
    if et == 0x0800 || et == 0x86dd {
        decode_ip(d, out)
    }
}

fn decode_ip(d: &[u8], out: &mut Vec<Segment>) {
    match d.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(d[0] & 0x0f) * 4;
            let Some(h) = d.get(..20) else { return };
            let total = usize::from(u16::from_be_bytes([h[2], h[3]])).min(d.len());
            let frag = u16::from_be_bytes([h[6], h[7]]);
            if frag & 0x1fff != 0 || frag & 0x2000 != 0 {
                return; // fragments are not reassembled here
            }
            let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
            let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
            if let Some(l4) = d.get(ihl..total) {
                decode_l4(h[9], src, dst, l4, out);
            }
        }
        Some(6) => {
            let Some(h) = d.get(..40) else { return };
            let plen = usize::from(u16::from_be_bytes([h[4], h[5]]));
            let mut next = h[6];
            let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&h[8..24]).expect("16 bytes")));
            let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&h[24..40]).expect("16 bytes")));
            let end = (40 + plen).min(d.len());
            let mut off = 40;
            // Hop-by-hop, routing, destination options.
            while matches!(next, 0 | 43 | 60) {
                let Some(ext) = d.get(off..off + 2) else {
                    return;
                };
                next = ext[0];
                off += (usize::from(ext[1]) + 1) * 8;
            }
            if let Some(l4) = d.get(off..end) {
                decode_l4(next, src, dst, l4, out);
            }
        }
        _ => {}
    }
}

fn decode_l4(proto: u8, src: IpAddr, dst: IpAddr, d: &[u8], out: &mut Vec<Segment>) {
    let Some(h) = d.get(..8) else { return };
    let sport = u16::from_be_bytes([h[0], h[1]]);
    let dport = u16::from_be_bytes([h[2], h[3]]);
    match proto {
        6 => {
            let Some(h) = d.get(..20) else { return };
            let doff = usize::from(h[12] >> 4) * 4;
            out.push(Segment {
                src: SocketAddr::new(src, sport),
                dst: SocketAddr::new(dst, dport),
                l4: L4::Tcp,
                seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                syn: h[13] & 0x02 != 0,
                payload: d.get(doff..).unwrap_or_default().to_vec(),
            });
        }
        17 => out.push(Segment {
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
            l4: L4::Udp,
            seq: 0,
            syn: false,
            payload: d.get(8..).unwrap_or_default().to_vec(),
        }),
        _ => {}
    }
}

/// A flow's key independent of direction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub l4: L4,
    pub a: SocketAddr,
    pub b: SocketAddr,
}

impl FlowKey {
    pub fn new(l4: L4, x: SocketAddr, y: SocketAddr) -> FlowKey {
        let (a, b) = if x <= y { (x, y) } else { (y, x) };
        FlowKey { l4, a, b }
    }
}

/// Segments of one flow in capture order; `from_first` is true for packets
/// sent by whoever sent the flow's first packet.
pub struct Flow {
    pub key: FlowKey,
    pub first_sender: SocketAddr,
    pub packets: Vec<(bool, Segment)>,
}

pub fn group_flows(segments: Vec<Segment>) -> Vec<Flow> {
    let mut index: HashMap<FlowKey, usize> = HashMap::new();
    let mut flows: Vec<Flow> = Vec::new();
    for s in segments {
        let key = FlowKey::new(s.l4, s.src, s.dst);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            flows.push(Flow { key, first_sender: s.src, packets: Vec::new() });
            flows.len() - 1
        });
        let flow = &mut flows[i];
        let from_first = s.src == flow.first_sender;
        flow.packets.push((from_first, s));
    }
    flows
}

/// Online in-order delivery of one TCP direction: out-of-order segments are
/// held until the hole before them fills; retransmitted bytes are dropped.
#[derive(Default)]
pub struct TcpDir {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    held: BTreeMap<u64, Vec<u8>>,
    /// Stream offset of the next byte to deliver.
    delivered: u64,
}

pub enum Delivery {
    Data(Vec<u8>),
    Gap(u64),
}

impl TcpDir {
    /// Feeds one segment; returns the in-order bytes that became available.
    pub fn push(&mut self, seg: &Segment) -> Vec<u8> {
        if seg.syn {
            self.base.get_or_insert(seg.seq.wrapping_add(1));
            return Vec::new();
        }
        if seg.payload.is_empty() {
            return Vec::new();
        }
        let base = *self.base.get_or_insert(seg.seq);
        let start = seg.seq.wrapping_sub(base) as i32 as i64;
        let end = start + seg.payload.len() as i64;
        let delivered = self.delivered as i64;
        if end <= delivered {
            return Vec::new();
        }
        let skip = (delivered - start).max(0) as usize;
        let from = start.max(delivered) as u64;
        let data = seg.payload[skip..].to_vec();
        let keep = match self.held.get(&from) {
            Some(old) => old.len() < data.len(),
            None => true,
        };
        if keep {
            self.held.insert(from, data);
        }
        self.drain()
    }

    fn drain(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some((&off, _)) = self.held.first_key_value() {
            if off > self.delivered {
                break;
            }
            let data = self.held.remove(&off).unwrap_or_default();
            let skip = (self.delivered - off) as usize;
            if skip < data.len() {
                out.extend_from_slice(&data[skip..]);
                self.advance((data.len() - skip) as u64);
            }
        }
        out
    }

    fn advance(&mut self, n: u64) {
        self.delivered += n;
    }

    /// At the end of the capture: whatever is still held, with the holes.
    pub fn finish(&mut self) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Some((&off, _)) = self.held.first_key_value() {
            if off > self.delivered {
                out.push(Delivery::Gap(off - self.delivered));
                self.advance(off - self.delivered);
            }
            let d = self.drain();
            if !d.is_empty() {
                out.push(Delivery::Data(d));
            }
        }
        out
    }
}

/// One flow line of an nDPI result file.
#[derive(Clone, Debug, Default)]
pub struct NdpiFlow {
    pub proto: String,
    pub sni: Option<String>,
    pub ja3c: Option<String>,
    pub ja4: Option<String>,
    pub ua: Option<String>,
    pub quic_version: Option<String>,
    pub alpns: Option<String>,
}

pub fn read_ndpi(path: &Path) -> HashMap<FlowKey, NdpiFlow> {
    let mut out = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(_n), Some(l4), Some(x), Some(_arrow), Some(y)) =
            (words.next(), words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let l4 = match l4 {
            "TCP" => L4::Tcp,
            "UDP" => L4::Udp,
            _ => continue,
        };
        let (Some(x), Some(y)) = (parse_ndpi_addr(x), parse_ndpi_addr(y)) else {
            continue;
        };
        let field = |name: &str| -> Option<String> {
            let start = line.find(&format!("[{name}: "))? + name.len() + 3;
            let end = line[start..].find(']')? + start;
            Some(line[start..end].to_string())
        };
        out.insert(
            FlowKey::new(l4, x, y),
            NdpiFlow {
                proto: field("proto").unwrap_or_default(),
                sni: field("Hostname/SNI"),
                ja3c: field("JA3C"),
                ja4: field("JA4"),
                ua: field("User-Agent"),
                quic_version: field("QUIC ver"),
                alpns: field("(Advertised) ALPNs"),
            },
        );
    }
    out
}

/// nDPI sometimes prints a lone zero IPv6 group as `::` too
/// (`2600:1901::7a0b::`); read that as `:0:` when the plain parse fails.
fn parse_ndpi_addr(s: &str) -> Option<SocketAddr> {
    s.parse().ok().or_else(|| s.replacen("::", ":0:", 1).parse().ok())
}

/// Captures that have an nDPI result file.
pub fn ndpi_captures() -> Vec<(PathBuf, PathBuf)> {
    let Some(td) = testdata() else {
        return Vec::new();
    };
    let dir = td.join("ndpi/pcap");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let res = td.join("ndpi/result").join(format!("{name}.out"));
        if res.is_file() {
            out.push((p, res));
        }
    }
    out.sort();
    out
}

/// Agreement counter for one field.
#[derive(Default, Clone, Copy, Debug)]
pub struct Score {
    pub total: usize,
    pub equal: usize,
    /// Differs only in a documented, systematic way.
    pub explained: usize,
}

impl Score {
    pub fn add(&mut self, other: Score) {
        self.total += other.total;
        self.equal += other.equal;
        self.explained += other.explained;
    }

    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * (self.equal + self.explained) as f64 / self.total as f64
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} (+{} explained) {:.1}%", self.equal, self.total, self.explained, self.percent())
    }
}
