//! The packet pipeline.

use mamori_applayer::{AppProto, Direction, Probe, Status};
use mamori_eve::{EveRecord, Timestamp};
use mamori_files::{FileDecision, FileGate, FileInfo, FileTracker, PassAll};

use mamori_flow::{Endpoint, Flow, FlowId, FlowKey, FlowState, FlowTable, TcpConn};
use mamori_stream::{Chunk, Reassembler};
use mamori_wire::defrag::{DefragOutcome, Defragmenter};
use mamori_wire::ip::{self, IpDatagram, IpVersion};
use mamori_wire::link::{self, LinkType, NetProto};
use mamori_wire::transport::{self, Tcp, Transport};
use mamori_wire::tunnel;
use serde_json::json;

use crate::app::detect::{probe_datagram, probe_stream};
use crate::app::dns::DnsUdpSession;
use crate::app::quic::QuicSession;
use crate::app::{new_stream_session, AppOut};
use crate::appid;
use crate::config::EngineConfig;
use crate::counters::Counters;
use crate::events::{flow_record, tuple, EndReason};
use crate::flowdata::{App, Detection, FlowData, TcpData};

/// One captured or queued packet.
#[derive(Clone, Copy, Debug)]
pub struct PacketIn<'a> {
    pub ts: Timestamp,
    pub link: LinkType,
    pub data: &'a [u8],
    /// Position in a capture file (EVE `pcap_cnt`), when replaying.
    pub pcap_cnt: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    /// Keep the packet until [`Engine::resolve_file`] decides (a file in this
    /// flow is being judged).
    Hold,
}

/// Opaque handle to a flow, valid until the flow ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowHandle(FlowId);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketResult {
    pub verdict: Verdict,
    /// The flow needs no more inspection: the data path may let the rest of
    /// it skip the engine (conntrack mark).
    pub bypass: bool,
    pub flow: Option<FlowHandle>,
}

impl PacketResult {
    const ACCEPT: PacketResult = PacketResult { verdict: Verdict::Accept, bypass: false, flow: None };
}

/// Link-layer facts carried down to the flow.
struct LinkMeta {
    src_mac: Option<[u8; 6]>,
    vlans: Vec<u16>,
}

/// Tunnels (GRE, IP-in-IP) nested deeper than this are not decoded.
const MAX_TUNNEL_DEPTH: u8 = 4;
/// Anomaly events one flow may write; the rest are only counted.
const MAX_ANOMALY_EVENTS: u32 = 16;
/// Datagrams looked at before a UDP flow is declared unrecognised.
const MAX_DETECT_DATAGRAMS: u32 = 4;

pub struct Engine {
    cfg: EngineConfig,
    flows: FlowTable<FlowData>,
    defrag: Defragmenter,
    counters: Counters,
    gate: Box<dyn FileGate + Send>,
    now_us: u64,
    last_expire_us: u64,
    /// Out-of-order TCP bytes held across all flows.
    stream_bytes: usize,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Engine {
        Engine {
            flows: FlowTable::new(cfg.table()),
            defrag: Defragmenter::new(cfg.defrag()),
            cfg,
            counters: Counters::default(),
            gate: Box::new(PassAll),
            now_us: 0,
            last_expire_us: 0,
            stream_bytes: 0,
        }
    }

    /// Judge files with `gate` (anti-virus, hash lists) instead of passing all.
    pub fn with_file_gate(mut self, gate: Box<dyn FileGate + Send>) -> Engine {
        self.gate = gate;
        self
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// Bytes held in out-of-order buffers across all flows.
    pub fn stream_bytes(&self) -> usize {
        self.stream_bytes
    }

    /// Inspect one packet. Records produced are appended to `out`.
    pub fn process(&mut self, pkt: &PacketIn<'_>, out: &mut Vec<EveRecord>) -> PacketResult {
        self.now_us = self.now_us.max(pkt.ts.micros());
        self.counters.incr("decoder.pkts");
        self.counters.add("decoder.bytes", pkt.data.len() as u64);
        if self.now_us >= self.last_expire_us.saturating_add(1_000_000) {
            self.advance(out);
        }
        let frame = match link::decode(pkt.link, pkt.data) {
            Ok(f) => f,
            Err(e) => {
                self.counters.incr(e.counter());
                return PacketResult::ACCEPT;
            }
        };
        self.counters.incr(link_counter(pkt.link));
        if !frame.vlans.as_slice().is_empty() {
            self.counters.incr("decoder.vlan");
        }
        let version = match frame.proto {
            NetProto::Ipv4 => IpVersion::V4,
            NetProto::Ipv6 => IpVersion::V6,
            NetProto::Other(_) => {
                // ARP, STP, LLDP, ...: not ours to judge.
                self.counters.incr("decoder.non_ip");
                return PacketResult::ACCEPT;
            }
        };
        let meta = LinkMeta { src_mac: frame.src_mac, vlans: frame.vlans.as_slice().to_vec() };
        self.process_ip(&meta, version, frame.payload, 0, out)
    }

    fn process_ip(
        &mut self,
        meta: &LinkMeta,
        version: IpVersion,
        data: &[u8],
        depth: u8,
        out: &mut Vec<EveRecord>,
    ) -> PacketResult {
        let dg = match ip::decode(version, data) {
            Ok(d) => d,
            Err(e) => {
                self.counters.incr(e.counter());
                return PacketResult::ACCEPT;
            }
        };
        self.counters.incr(match version {
            IpVersion::V4 => "decoder.ipv4",
            IpVersion::V6 => "decoder.ipv6",
        });
        if dg.fragment.is_some() {
            self.counters.incr("defrag.fragments");
            return match self.defrag.insert(self.now_us, &dg) {
                DefragOutcome::Pending => PacketResult::ACCEPT,
                DefragOutcome::Dropped(counter) => {
                    self.counters.incr(counter);
                    PacketResult::ACCEPT
                }
                DefragOutcome::Complete(whole) => {
                    self.counters.incr("defrag.reassembled");
                    if depth >= MAX_TUNNEL_DEPTH {
                        return PacketResult::ACCEPT;
                    }
                    self.process_ip(meta, version, &whole, depth + 1, out)
                }
            };
        }
        match dg.proto {
            tunnel::PROTO_IPIP | tunnel::PROTO_IPV6_IN_IP | tunnel::PROTO_GRE if depth < MAX_TUNNEL_DEPTH => {
                let inner = if dg.proto == tunnel::PROTO_GRE {
                    self.counters.incr("decoder.gre");
                    match tunnel::gre(dg.payload) {
                        Ok(f) => inner_ip(f.proto, f.payload),
                        Err(e) => {
                            self.counters.incr(e.counter());
                            None
                        }
                    }
                } else {
                    let v = if dg.proto == tunnel::PROTO_IPIP { IpVersion::V4 } else { IpVersion::V6 };
                    Some((v, dg.payload))
                };
                return match inner {
                    Some((v, payload)) => {
                        self.counters.incr(match (dg.version, v) {
                            (IpVersion::V4, IpVersion::V6) => "decoder.ipv6_in_ipv4",
                            (IpVersion::V6, IpVersion::V6) => "decoder.ipv6_in_ipv6",
                            (IpVersion::V4, IpVersion::V4) => "decoder.ipv4_in_ipv4",
                            (IpVersion::V6, IpVersion::V4) => "decoder.ipv4_in_ipv6",
                        });
                        self.process_ip(meta, v, payload, depth + 1, out)
                    }
                    None => PacketResult::ACCEPT,
                };
            }
            _ => {}
        }
        let t = match transport::decode(dg.proto, dg.payload) {
            Ok(t) => t,
            Err(e) => {
                self.counters.incr(e.counter());
                return PacketResult::ACCEPT;
            }
        };
        self.counters.incr(match t {
            Transport::Tcp(_) => "decoder.tcp",
            Transport::Udp(_) => "decoder.udp",
            Transport::Icmp(_) => "decoder.icmpv4",
            Transport::Icmpv6(_) => "decoder.icmpv6",
            Transport::Other { .. } => "decoder.other_ip",
        });
        self.process_flow(meta, &dg, &t, data.len(), out)
    }

    fn process_flow(
        &mut self,
        meta: &LinkMeta,
        dg: &IpDatagram<'_>,
        t: &Transport<'_>,
        ip_len: usize,
        out: &mut Vec<EveRecord>,
    ) -> PacketResult {
        let now = self.now_us;
        let (sp, dp) = t.ports();
        let src = Endpoint { ip: dg.src, port: sp };
        let dst = Endpoint { ip: dg.dst, port: dp };
        let vlan = if self.cfg.vlan_tracking { meta.vlans.first().copied().unwrap_or(0) } else { 0 };
        let key = FlowKey::new(dg.proto, vlan, src, dst);
        let src_is_server = matches!(t, Transport::Tcp(tcp) if tcp.flags.syn() && tcp.flags.ack());
        let vlans = &meta.vlans;
        let lookup = self.flows.lookup_or_insert(key, src, dst, src_is_server, now, || FlowData::new(vlans.clone()));
        if let Some(evicted) = lookup.evicted {
            self.counters.incr("flow.evicted");
            self.end_flow(evicted, EndReason::Forced, out);
        }
        let dir = lookup.dir;
        let Some(flow) = self.flows.get_mut(lookup.id) else { return PacketResult::ACCEPT };
        if lookup.created {
            self.counters.incr("flow.total");
            appid::start(flow);
        }
        appid::payload(&mut flow.data, dir, t.payload());
        let i = dir.index();
        flow.data.pkts[i] += 1;
        flow.data.bytes[i] += ip_len as u64;
        if flow.data.macs[i].is_none() {
            flow.data.macs[i] = meta.src_mac;
        }
        if flow.data.blocked {
            return PacketResult { verdict: Verdict::Drop, bypass: false, flow: Some(FlowHandle(lookup.id)) };
        }
        let mut app_out = AppOut::default();
        // The flow's files are lent to the sink for this packet.
        let mut flow_files = std::mem::take(&mut flow.data.files);
        let mut files = flow_files.sink(&mut *self.gate);
        if !flow.data.bypassed {
            match t {
                Transport::Tcp(tcp) => {
                    tcp_segment(&self.cfg, &mut self.counters, &mut flow.data, dir, tcp, &mut files, &mut app_out)
                }
                Transport::Udp(u) => udp_datagram(&mut self.counters, &mut flow.data, dir, u.payload, &mut app_out),
                _ => {}
            }
        } else if let Transport::Tcp(tcp) = t {
            // Keep TCP state current so the flow event tells the truth.
            if let Some(td) = flow.data.tcp.as_mut() {
                td.conn.on_segment(dir, tcp.seq, tcp.flags.0, tcp.payload.len());
            }
        }
        drop(files);
        let finished = flow_files.take_finished();
        flow.data.files = flow_files;
        let state = match &flow.data.tcp {
            Some(td) => td.conn.flow_state(),
            None if flow.data.pkts[0] > 0 && flow.data.pkts[1] > 0 => FlowState::Established,
            None => FlowState::New,
        };
        let mut verdict = emit(&mut self.counters, flow, now, &app_out, finished, out);
        if flow.data.blocked {
            verdict = Verdict::Drop;
        }
        // Memory accounting for out-of-order buffers.
        if let Some(td) = flow.data.tcp.as_mut() {
            let held = td.streams[0].buffered() + td.streams[1].buffered();
            self.stream_bytes = self.stream_bytes + held - td.accounted;
            td.accounted = held;
        }
        let bypass = self.cfg.bypass && !flow.data.bypassed && inspection_done(&flow.data);
        if bypass {
            flow.data.bypassed = true;
            self.counters.incr("flow.bypassed");
        }
        let bypass = flow.data.bypassed;
        self.flows.touch(lookup.id, now, state);
        while self.stream_bytes > self.cfg.stream_memcap {
            let Some(victim) = self.flows.evict_stalest() else { break };
            self.counters.incr("flow.evicted_memcap");
            self.end_flow(victim, EndReason::Forced, out);
        }
        PacketResult { verdict, bypass, flow: Some(FlowHandle(lookup.id)) }
    }

    /// Settle a held file: returns the verdict for the held packets.
    pub fn resolve_file(&mut self, flow: FlowHandle, file_id: u32, decision: FileDecision) -> Verdict {
        let Some(f) = self.flows.get_mut(flow.0) else { return Verdict::Accept };
        f.data.held_files.retain(|id| *id != file_id);
        if decision == FileDecision::Block {
            f.data.blocked = true;
        }
        match (f.data.blocked, f.data.held_files.is_empty()) {
            (true, _) => Verdict::Drop,
            (false, true) => Verdict::Accept,
            (false, false) => Verdict::Hold,
        }
    }

    /// Expire idle flows and fragments as of the latest packet time.
    pub fn advance(&mut self, out: &mut Vec<EveRecord>) {
        self.last_expire_us = self.now_us;
        let expired_frags = self.defrag.expire(self.now_us);
        self.counters.add("defrag.timeouts", expired_frags as u64);
        let mut ended = Vec::new();
        self.flows.expire(self.now_us, |f| ended.push(f));
        for f in ended {
            self.counters.incr("flow.timeout");
            self.end_flow(f, EndReason::Timeout, out);
        }
    }

    /// Move time forward without a packet (idle link).
    pub fn tick(&mut self, ts: Timestamp, out: &mut Vec<EveRecord>) {
        self.now_us = self.now_us.max(ts.micros());
        self.advance(out);
    }

    /// End every flow (end of capture, shutdown) and write the `stats` event.
    pub fn finish(&mut self, out: &mut Vec<EveRecord>) {
        let mut ended = Vec::new();
        self.flows.drain(|f| ended.push(f));
        for f in ended {
            self.end_flow(f, EndReason::Shutdown, out);
        }
        out.push(self.stats_record());
    }

    /// The counters as an EVE `stats` event.
    pub fn stats_record(&self) -> EveRecord {
        EveRecord::new(Timestamp(self.now_us), "stats").with("stats", &self.counters.to_json())
    }

    fn end_flow(&mut self, mut flow: Flow<FlowData>, reason: EndReason, out: &mut Vec<EveRecord>) {
        let mut app_out = AppOut::default();
        // The flow's files are lent to the sink for this packet.
        let mut flow_files = std::mem::take(&mut flow.data.files);
        let mut files = flow_files.sink(&mut *self.gate);
        if !flow.data.bypassed {
            let FlowData { tcp, app, .. } = &mut flow.data;
            if let Some(td) = tcp.as_mut() {
                for dir in [Direction::ToServer, Direction::ToClient] {
                    let stream = &mut td.streams[dir.index()];
                    stream.close(&mut |c| feed(&self.cfg, &mut self.counters, app, dir, c, &mut files, &mut app_out));
                }
            }
            if let App::Stream(s) = app {
                s.close(Direction::ToServer, &mut files, &mut app_out);
                s.close(Direction::ToClient, &mut files, &mut app_out);
            }
        }
        // A bypassed flow still logs what it saw before the bypass.
        match &mut flow.data.app {
            App::Stream(s) => s.flush(&mut app_out),
            App::Quic(q) => q.flush(&mut app_out),
            _ => {}
        }
        drop(files);
        let finished = flow_files.take_finished();
        let last_seen = flow.last_seen_us;
        emit(&mut self.counters, &mut flow, last_seen, &app_out, finished, out);
        if let Some(td) = flow.data.tcp.as_ref() {
            self.stream_bytes = self.stream_bytes.saturating_sub(td.accounted);
        }
        let app = appid::finish(&mut flow.data);
        out.push(flow_record(&flow, reason, app.as_ref()));
    }
}

/// The IP packet a tunnel carries, if it carries one.
fn inner_ip(proto: NetProto, payload: &[u8]) -> Option<(IpVersion, &[u8])> {
    match proto {
        NetProto::Ipv4 => Some((IpVersion::V4, payload)),
        NetProto::Ipv6 => Some((IpVersion::V6, payload)),
        NetProto::Other(_) => None,
    }
}

fn link_counter(link: LinkType) -> &'static str {
    match link {
        LinkType::Ethernet => "decoder.ethernet",
        LinkType::LinuxSll => "decoder.sll",
        LinkType::LinuxSll2 => "decoder.sll2",
        LinkType::Ppp => "decoder.ppp",
        LinkType::CiscoHdlc => "decoder.chdlc",
        LinkType::Null => "decoder.null",
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => "decoder.raw",
    }
}

/// Nothing more in this flow needs the engine.
fn inspection_done(d: &FlowData) -> bool {
    if !d.held_files.is_empty() {
        return false;
    }
    match &d.tcp {
        Some(td) => {
            // Each direction is past the depth or over, and at least one is
            // past the depth (a plain close is the flow ending, not a bypass).
            let done = td.streams.iter().all(|s| s.finished()) && td.streams.iter().any(|s| s.depth_reached());
            let no_app = matches!(d.app, App::None { .. });
            done || no_app
        }
        None => false,
    }
}

fn tcp_segment(
    cfg: &EngineConfig,
    counters: &mut Counters,
    d: &mut FlowData,
    dir: Direction,
    tcp: &Tcp<'_>,
    files: &mut FileTracker<'_>,
    out: &mut AppOut,
) {
    let FlowData { tcp: tcp_state, app, .. } = d;
    let td = tcp_state.get_or_insert_with(|| {
        Box::new(TcpData {
            conn: TcpConn::default(),
            streams: [Reassembler::new(cfg.stream()), Reassembler::new(cfg.stream())],
            accounted: 0,
        })
    });
    let ev = td.conn.on_segment(dir, tcp.seq, tcp.flags.0, tcp.payload.len());
    let i = dir.index();
    if let Some(seq) = ev.stream_start {
        if !td.streams[i].start(seq) {
            counters.incr("tcp.ssn_restart_ignored");
        }
    }
    if ev.established && td.conn.midstream {
        counters.incr("tcp.midstream_pickups");
    }
    // This segment's ACK tells what the other side's receiver got.
    if tcp.flags.ack() && !tcp.flags.rst() {
        let other = dir.reverse();
        let stream = &mut td.streams[other.index()];
        stream.acked(tcp.ack, &mut |c| feed(cfg, counters, app, other, c, files, out));
    }
    if !tcp.payload.is_empty() {
        // Data on a SYN (TCP Fast Open) starts after the SYN's own sequence number.
        let seq = if tcp.flags.syn() { tcp.seq.wrapping_add(1) } else { tcp.seq };
        td.streams[i].segment(seq, tcp.payload, &mut |c| feed(cfg, counters, app, dir, c, files, out));
    }
    if ev.reset {
        for d in [Direction::ToServer, Direction::ToClient] {
            td.streams[d.index()].close(&mut |c| feed(cfg, counters, app, d, c, files, out));
            if let App::Stream(s) = app {
                s.close(d, files, out);
            }
        }
    } else if ev.sender_done {
        td.streams[i].close(&mut |c| feed(cfg, counters, app, dir, c, files, out));
        if let App::Stream(s) = app {
            s.close(dir, files, out);
        }
    }
}

/// Hand one piece of in-order stream output to the app layer.
fn feed(
    cfg: &EngineConfig,
    counters: &mut Counters,
    app: &mut App,
    dir: Direction,
    chunk: Chunk<'_>,
    files: &mut FileTracker<'_>,
    out: &mut AppOut,
) {
    if let Chunk::Gap(_) = chunk {
        counters.incr("tcp.reassembly_gap");
    }
    match app {
        App::Detecting(det) => {
            let det = std::mem::take(det);
            detect(cfg, counters, det, app, dir, chunk, files, out);
        }
        App::Stream(s) => {
            let st = match chunk {
                Chunk::Data(b) => s.input(dir, b, files, out),
                Chunk::Gap(n) => s.gap(dir, n, files, out),
            };
            after_status(counters, app, st, files, out);
        }
        _ => {}
    }
}

/// Act on what a parser asked for.
fn after_status(counters: &mut Counters, app: &mut App, st: Status, _files: &mut FileTracker<'_>, out: &mut AppOut) {
    let App::Stream(s) = app else { return };
    match st {
        Status::Continue => {}
        Status::Stop => {
            counters.incr("app_layer.parser_stopped");
            s.flush(out);
            *app = App::None { proto: Some(s.proto()) };
        }
        Status::StartTls => {
            counters.incr("app_layer.starttls");
            s.flush(out);
            // What follows is TLS: parse its handshake for the SNI and certs.
            if let Some(tls) = new_stream_session(AppProto::Tls) {
                *app = App::Stream(tls);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn detect(
    cfg: &EngineConfig,
    counters: &mut Counters,
    mut det: Detection,
    app: &mut App,
    dir: Direction,
    chunk: Chunk<'_>,
    files: &mut FileTracker<'_>,
    out: &mut AppOut,
) {
    let i = dir.index();
    match chunk {
        Chunk::Gap(_) => det.failed[i] = true,
        Chunk::Data(b) if !det.failed[i] => {
            let room = cfg.detect_max_bytes.saturating_sub(det.bytes[i]);
            let take = b.len().min(room);
            det.chunks.push((dir, b[..take].to_vec()));
            det.bytes[i] += take;
            let joined: Vec<u8> =
                det.chunks.iter().filter(|(d, _)| *d == dir).flat_map(|(_, c)| c.iter().copied()).collect();
            match probe_stream(dir, &joined) {
                Ok(proto) => {
                    counters.incr(detected_counter(proto));
                    let Some(mut s) = new_stream_session(proto) else { return };
                    let mut st = Status::Continue;
                    for (d, c) in det.chunks.drain(..) {
                        if st != Status::Continue {
                            break;
                        }
                        st = s.input(d, &c, files, out);
                    }
                    // Bytes of this segment beyond the detection window.
                    if st == Status::Continue && take < b.len() {
                        st = s.input(dir, &b[take..], files, out);
                    }
                    *app = App::Stream(s);
                    after_status(counters, app, st, files, out);
                    return;
                }
                Err(Probe::NoMatch) => det.failed[i] = true,
                Err(_) if det.bytes[i] >= cfg.detect_max_bytes => det.failed[i] = true,
                Err(_) => {}
            }
        }
        Chunk::Data(_) => {}
    }
    if det.failed[0] && det.failed[1] {
        counters.incr("app_layer.detect_failed");
        *app = App::None { proto: Some(AppProto::Failed) };
    } else {
        // Bytes of a direction that failed are of no further use.
        if det.failed[i] {
            det.chunks.retain(|(d, _)| *d != dir);
        }
        *app = App::Detecting(det);
    }
}

fn detected_counter(p: AppProto) -> &'static str {
    match p {
        AppProto::Http => "app_layer.flow.http",
        AppProto::Tls => "app_layer.flow.tls",
        AppProto::Dns => "app_layer.flow.dns_tcp",
        AppProto::Quic => "app_layer.flow.quic",
        AppProto::Smtp => "app_layer.flow.smtp",
        AppProto::Pop3 => "app_layer.flow.pop3",
        AppProto::Imap => "app_layer.flow.imap",
        AppProto::Failed => "app_layer.flow.failed",
    }
}

fn udp_datagram(counters: &mut Counters, d: &mut FlowData, dir: Direction, payload: &[u8], out: &mut AppOut) {
    if payload.is_empty() {
        return;
    }
    if let App::Detecting(det) = &mut d.app {
        det.datagrams += 1;
        match probe_datagram(payload) {
            Some(AppProto::Dns) => {
                counters.incr("app_layer.flow.dns_udp");
                d.app = App::Dns(DnsUdpSession::default());
            }
            Some(AppProto::Quic) => {
                counters.incr("app_layer.flow.quic");
                d.app = App::Quic(Box::new(QuicSession::default()));
            }
            _ if det.datagrams >= MAX_DETECT_DATAGRAMS => {
                counters.incr("app_layer.detect_failed");
                d.app = App::None { proto: Some(AppProto::Failed) };
            }
            _ => {}
        }
    }
    match &mut d.app {
        App::Dns(s) => s.datagram(payload, out),
        App::Quic(q) => q.datagram(dir, payload, out),
        _ => {}
    }
}

/// Write the records an app layer produced, and the files that finished.
/// Returns the verdict the files call for.
fn emit(
    counters: &mut Counters,
    flow: &mut Flow<FlowData>,
    now_us: u64,
    app_out: &AppOut,
    finished: Vec<FileInfo>,
    out: &mut Vec<EveRecord>,
) -> Verdict {
    let app_proto = flow.data.app.proto().map(|p| p.eve_name());
    let ts = Timestamp(now_us);
    appid::names(&mut flow.data, &app_out.records);
    for a in &app_out.anomalies {
        counters.incr(&format!("app_layer.anomaly.{}.{}", a.layer, a.event));
        if flow.data.anomaly_events < MAX_ANOMALY_EVENTS {
            flow.data.anomaly_events += 1;
            let mut rec = EveRecord::new(ts, "anomaly");
            tuple(&mut rec, flow, Direction::ToServer);
            rec.app_proto = app_proto;
            rec.push(
                "anomaly",
                &json!({"app_proto": a.layer, "type": "applayer", "event": a.event, "layer": "proto_parser"}),
            );
            out.push(rec);
        }
    }
    for r in &app_out.records {
        counters.incr(&format!("app_layer.tx.{}", r.event_type));
        let mut rec = EveRecord::new(ts, r.event_type);
        tuple(&mut rec, flow, r.dir.unwrap_or(Direction::ToServer));
        rec.app_proto = app_proto;
        rec.tx_id = r.tx_id;
        rec.objects.extend(r.objects.iter().cloned());
        if let Some(tx) = r.tx_id {
            flow.data.cache_tx(tx, r.objects.clone());
        }
        out.push(rec);
    }
    let mut verdict = Verdict::Accept;
    for f in finished {
        counters.incr("file.total");
        let mut rec = EveRecord::new(ts, "fileinfo");
        tuple(&mut rec, flow, f.direction.unwrap_or(Direction::ToClient));
        rec.app_proto = app_proto;
        rec.tx_id = Some(f.tx_id);
        let cached = flow.data.tx_cache.iter().rev().find(|(t, _)| *t == f.tx_id).map(|(_, o)| o.clone());
        let objects = cached.unwrap_or_else(|| match &flow.data.app {
            App::Stream(s) => s.tx_objects(f.tx_id),
            _ => Vec::new(),
        });
        rec.objects.extend(objects);
        rec.push("fileinfo", &f);
        out.push(rec);
        match f.decision {
            Some(FileDecision::Block) => {
                counters.incr("file.blocked");
                flow.data.blocked = true;
                verdict = Verdict::Drop;
            }
            Some(FileDecision::Hold) => {
                flow.data.held_files.push(f.id);
                if verdict == Verdict::Accept {
                    verdict = Verdict::Hold;
                }
            }
            _ => {}
        }
    }
    verdict
}
