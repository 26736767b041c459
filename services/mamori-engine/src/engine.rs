//! The packet pipeline.

use std::collections::VecDeque;

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
use crate::app::{new_stream_session, AppOut, Objects};
use crate::appid;
use crate::config::EngineConfig;
use crate::counters::Counters;
use crate::events::{alert_record, drop_record, flow_record, tuple, EndReason};
use crate::flowdata::{App, AppId, Detection, FlowData, TcpData};
use crate::inspect::Inspector;
use crate::web::{self, WebProtection};
use mamori_detect::{Alert, Detect, DropReason, FlowDetect, FlowFacts, IcmpHdr, Reject, TcpHdr};

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
    /// A reject rule matched: the data path should answer with TCP RST
    /// (both ways for `rejectboth`) or ICMP unreachable. Sending is the data
    /// path's job; the engine only decides.
    pub reject: Option<Reject>,
    /// The flow needs no more inspection: the data path may let the rest of
    /// it skip the engine (conntrack mark).
    pub bypass: bool,
    /// Dropped only because an earlier packet got the flow dropped: the
    /// data path already answered for it (reset, block page) and must not
    /// answer again.
    pub flow_dropped: bool,
    pub flow: Option<FlowHandle>,
}

impl PacketResult {
    const ACCEPT: PacketResult =
        PacketResult { verdict: Verdict::Accept, reject: None, bypass: false, flow_dropped: false, flow: None };
}

/// Link-layer facts carried down to the flow.
struct LinkMeta {
    src_mac: Option<[u8; 6]>,
    vlans: mamori_wire::link::Vlans,
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
    /// The IPS matcher, when rules are loaded.
    detect: Option<Detect>,
    /// Capture position of the packet being processed.
    pcap_cnt: Option<u64>,
    /// Alerts of the current packet (kept to reuse its allocation).
    alerts: Vec<Alert>,
    /// Bumped by each rule reload; flows' detection state from an older
    /// generation is dropped when next seen.
    detect_gen: u64,
    /// Threat-intel and category lookups, when a bundle is loaded.
    web: Option<WebProtection>,
}

/// What the data path needs to know about a flow to answer for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    pub app: Option<AppProto>,
    /// The side that opened the flow.
    pub client: Endpoint,
    pub server: Endpoint,
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
            detect: None,
            pcap_cnt: None,
            alerts: Vec::new(),
            detect_gen: 0,
            web: None,
        }
    }

    /// Look names up in this intel with this policy (a new bundle or policy
    /// takes effect with the next event).
    pub fn set_web_protection(&mut self, web: Option<WebProtection>) {
        self.web = web;
    }

    /// Swap in a new rule set while traffic flows. Flows keep their state;
    /// their rule state (flowbits, stream windows) starts afresh with the new
    /// rules, except that flows the old rules dropped stay dropped.
    pub fn replace_detect(&mut self, detect: Detect) {
        self.detect = Some(detect);
        self.detect_gen += 1;
    }

    pub fn flow_info(&self, flow: FlowHandle) -> Option<FlowInfo> {
        let f = self.flows.get(flow.0)?;
        Some(FlowInfo { app: f.data.app.proto(), client: f.client, server: f.server })
    }

    /// Inspect traffic with these rules. `detect.ips()` decides whether drop
    /// and reject rules drop packets (inline or simulated inline) or only alert.
    pub fn with_detect(mut self, detect: Detect) -> Engine {
        self.detect = Some(detect);
        self
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

    /// Bytes the flows hold for inspection: bodies kept for `file.data`,
    /// stream windows and the payload heads kept to name the app (a closed
    /// connection lingers in the table for `tcp_closed` seconds, and should
    /// hold none). O(flows).
    pub fn inspection_bytes(&self) -> usize {
        self.flows
            .iter()
            .map(|f| {
                let app = match &f.data.app {
                    App::Stream(s) => s.held_bytes(),
                    _ => 0,
                };
                let naming = match &f.data.app_id {
                    AppId::Collecting(facts) => facts.held_bytes(),
                    _ => 0,
                };
                app + naming + f.data.detect.as_ref().map_or(0, |d| d.held_bytes())
            })
            .sum()
    }

    /// Bytes held in out-of-order buffers across all flows.
    pub fn stream_bytes(&self) -> usize {
        self.stream_bytes
    }

    /// Inspect one packet. Records produced are appended to `out`.
    pub fn process(&mut self, pkt: &PacketIn<'_>, out: &mut Vec<EveRecord>) -> PacketResult {
        self.now_us = self.now_us.max(pkt.ts.micros());
        self.pcap_cnt = pkt.pcap_cnt;
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
        let meta = LinkMeta { src_mac: frame.src_mac, vlans: frame.vlans };
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
        let outer = self.process_flow(meta, &dg, &t, data.len(), out);
        // Teredo (IPv6 in UDP, port 3544): the inner packet is inspected too,
        // as Suricata does.
        if let Transport::Udp(u) = &t {
            let port_ok = self.cfg.teredo_any_port || u.src_port == TEREDO_PORT || u.dst_port == TEREDO_PORT;
            if port_ok && depth < MAX_TUNNEL_DEPTH {
                if let Some(inner) = teredo_inner(u.payload) {
                    self.counters.incr("decoder.teredo");
                    let r = self.process_ip(meta, IpVersion::V6, inner, depth + 1, out);
                    return PacketResult {
                        verdict: if r.verdict == Verdict::Drop { Verdict::Drop } else { outer.verdict },
                        reject: outer.reject.or(r.reject),
                        ..outer
                    };
                }
            }
        }
        outer
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
        let vlan = if self.cfg.vlan_tracking { meta.vlans.as_slice().first().copied().unwrap_or(0) } else { 0 };
        let key = FlowKey::new(dg.proto, vlan, src, dst);
        let src_is_server = match t {
            Transport::Tcp(tcp) if tcp.flags.syn() => tcp.flags.ack(),
            // Picked up mid-stream: a server port talking to an ephemeral
            // one, or an HTTP response, is the server (Suricata reverses
            // such flows too).
            Transport::Tcp(tcp) => (sp < 1024 && dp >= 1024) || tcp.payload.starts_with(b"HTTP/1."),
            _ => false,
        };
        let vlans = &meta.vlans;
        let mut lookup =
            self.flows.lookup_or_insert(key, src, dst, src_is_server, now, || FlowData::new(vlans.as_slice().to_vec()));
        // A new connection on the ports of one that has closed (port reuse)
        // is a new flow: left in the old one, it would go uninspected.
        let bare_syn = matches!(t, Transport::Tcp(tcp) if tcp.flags.syn() && !tcp.flags.ack());
        if bare_syn && !lookup.created {
            let closed = self.flows.get(lookup.id).is_some_and(|f| {
                f.data.app_over || f.data.tcp.as_ref().is_some_and(|td| td.conn.flow_state() == FlowState::Closed)
            });
            if closed {
                if let Some(old) = self.flows.remove(lookup.id) {
                    self.counters.incr("tcp.reused_ports");
                    self.end_flow(old, EndReason::Timeout, out);
                }
                let vlans = &meta.vlans;
                lookup = self
                    .flows
                    .lookup_or_insert(key, src, dst, src_is_server, now, || FlowData::new(vlans.as_slice().to_vec()));
            }
        }
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
            return PacketResult {
                verdict: Verdict::Drop,
                reject: None,
                bypass: false,
                flow_dropped: true,
                flow: Some(FlowHandle(lookup.id)),
            };
        }
        // Detection state is lent out of the flow for this packet.
        let ips = self.detect.as_ref().is_some_and(Detect::ips);
        if flow.data.detect_gen != self.detect_gen {
            if flow.data.detect.take().is_some_and(|f| f.dropped()) {
                flow.data.blocked = true;
            }
            flow.data.det_objects = None;
            flow.data.detect_gen = self.detect_gen;
        }
        let mut fd = match &self.detect {
            Some(_) => Some(flow.data.detect.take().unwrap_or_else(|| {
                let mut f = Box::new(FlowDetect::new(flow.flow_id));
                f.set_ids_timing(!ips && flow.key.proto == 6);
                f
            })),
            None => None,
        };
        let mut objs = flow.data.det_objects.take().unwrap_or_default();
        if ips && fd.as_ref().is_some_and(|f| f.dropped()) {
            flow.data.detect = fd;
            flow.data.det_objects = Some(objs);
            self.counters.incr("ips.dropped_flow");
            out.push(drop_record(flow, dir, Timestamp(now), self.pcap_cnt, dg, DropReason::FlowDrop));
            self.flows.touch(lookup.id, now, FlowState::Established);
            return PacketResult {
                verdict: Verdict::Drop,
                reject: None,
                bypass: false,
                flow_dropped: true,
                flow: Some(FlowHandle(lookup.id)),
            };
        }
        let dpkt = detect_packet(now, dg, t, sp, dp);
        let facts = FlowFacts {
            dir,
            established: flow.data.det_established,
            app_proto: flow.data.app.proto(),
            stream_added: matches!(t, Transport::Tcp(tcp) if !tcp.payload.is_empty()) && !flow.data.bypassed,
            stream_bytes: flow.data.bytes,
        };
        let mut insp = match (self.detect.as_mut(), fd.as_deref_mut()) {
            (Some(d), Some(f)) if !f.passed() && !f.dropped() => {
                Some(Inspector { d, flow: f, pkt: &dpkt, facts, stream_on: true, objects: &mut objs })
            }
            _ => None,
        };
        let mut app_out = AppOut::new(self.web.is_some());
        // The flow's files are lent to the sink for this packet.
        let mut flow_files = std::mem::take(&mut flow.data.files);
        let mut files = flow_files.sink(&mut *self.gate);
        if !flow.data.bypassed {
            match t {
                Transport::Tcp(tcp) => tcp_segment(
                    &self.cfg,
                    &mut self.counters,
                    &mut flow.data,
                    dir,
                    tcp,
                    &mut files,
                    &mut app_out,
                    &mut insp,
                ),
                Transport::Udp(u) => {
                    udp_datagram(&mut self.counters, &mut flow.data, dir, u.payload, &mut app_out, &mut insp)
                }
                _ => {}
            }
        } else if let Transport::Tcp(tcp) = t {
            // Keep TCP state current so the flow event tells the truth.
            if let Some(td) = flow.data.tcp.as_mut() {
                td.conn.on_segment(dir, tcp.seq, tcp.flags.0, tcp.payload.len());
            }
        }
        let finished = flow_files.take_finished();
        flow.data.files = flow_files;
        // Per-packet rules run after the app layer, as in Suricata.
        let mut det_verdict = mamori_detect::Verdict::default();
        if let Some(mut i) = insp {
            let acks = matches!(t, Transport::Tcp(tcp) if tcp.flags.ack());
            if flow.data.det_app.is_none() {
                let known = flow.data.app.proto();
                // Inline, Suricata parses data as it passes.
                let tcp_ids = flow.key.proto == 6 && !ips;
                match (if tcp_ids { 6 } else { 0 }, flow.data.det_app_pending) {
                    (6, None) if known.is_some() => flow.data.det_app_pending = Some(dir),
                    (6, Some(d)) if d != dir && acks && flow.data.det_established => {
                        flow.data.det_app = known;
                        flow.data.det_app_pending = None;
                    }
                    (6, _) => {}
                    _ => flow.data.det_app = known,
                }
            }
            i.facts.app_proto = flow.data.det_app;
            i.facts.established = flow.data.det_established;
            i.d.packet(i.flow, i.pkt, &i.facts);
            det_verdict = i.d.finish(i.flow, i.pkt, &mut self.alerts);
        }
        flow.data.detect = fd;
        let state = match &flow.data.tcp {
            Some(td) => td.conn.flow_state(),
            None if flow.data.pkts[0] > 0 && flow.data.pkts[1] > 0 => FlowState::Established,
            None => FlowState::New,
        };
        let mut verdict = emit(&mut self.counters, flow, now, &mut app_out, finished, self.web.as_ref(), out);
        release_finished(&mut flow.data);
        if flow.data.blocked {
            verdict = Verdict::Drop;
        }
        if !self.alerts.is_empty() {
            let app_proto = flow.data.app.proto().map(|p| p.eve_name());
            for a in self.alerts.drain(..) {
                self.counters.incr("detect.alert");
                flow.data.alerted = true;
                out.push(alert_record(flow, &a, Timestamp(now), self.pcap_cnt, app_proto, objs.get(a.tag)));
            }
        }
        flow.data.det_objects = Some(objs);
        if let Some(reason) = det_verdict.drop {
            self.counters.incr("ips.dropped");
            out.push(drop_record(flow, dir, Timestamp(now), self.pcap_cnt, dg, reason));
            verdict = Verdict::Drop;
        }
        // Memory accounting for out-of-order buffers.
        if let Some(td) = flow.data.tcp.as_mut() {
            let held = td.streams[0].buffered() + td.streams[1].buffered();
            self.stream_bytes = self.stream_bytes + held - td.accounted;
            td.accounted = held;
        }
        if self.cfg.bypass && !flow.data.bypassed {
            let over = self.cfg.bypass_app_over && app_over(&flow.data);
            if over || inspection_done(&flow.data, self.cfg.bypass_one_side) {
                flow.data.bypassed = true;
                flow.data.app_over = over;
                self.counters.incr("flow.bypassed");
                if over {
                    self.counters.incr("flow.bypassed_app_over");
                    release_over(&mut flow.data);
                }
            }
        }
        let bypass = flow.data.bypassed;
        let state = if flow.data.app_over { FlowState::Closed } else { state };
        self.flows.touch(lookup.id, now, state);
        while self.stream_bytes > self.cfg.stream_memcap {
            let Some(victim) = self.flows.evict_stalest() else { break };
            self.counters.incr("flow.evicted_memcap");
            self.end_flow(victim, EndReason::Forced, out);
        }
        PacketResult {
            verdict,
            reject: det_verdict.reject,
            bypass,
            flow_dropped: false,
            flow: Some(FlowHandle(lookup.id)),
        }
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
        let mut app_out = AppOut::new(self.web.is_some());
        // The flow's files are lent to the sink for this packet.
        let mut flow_files = std::mem::take(&mut flow.data.files);
        let mut files = flow_files.sink(&mut *self.gate);
        // What closing the streams completes is inspected on a pseudo packet
        // (Suricata's "stream (flow timeout)").
        let mut fd = flow.data.detect.take();
        let mut objs = flow.data.det_objects.take().unwrap_or_default();
        let pseudo = pseudo_packet(&flow);
        let facts = FlowFacts {
            dir: Direction::ToServer,
            established: flow.data.det_established,
            app_proto: flow.data.app.proto(),
            stream_added: false,
            stream_bytes: flow.data.bytes,
        };
        let mut insp = match (self.detect.as_mut(), fd.as_deref_mut()) {
            (Some(d), Some(f)) if !f.passed() && !f.dropped() && !flow.data.bypassed => Some(Inspector {
                d,
                flow: f,
                pkt: &pseudo,
                facts,
                stream_on: flow.data.det_established,
                objects: &mut objs,
            }),
            _ => None,
        };
        if !flow.data.bypassed {
            let FlowData { tcp, app, .. } = &mut flow.data;
            if let Some(td) = tcp.as_mut() {
                for dir in [Direction::ToServer, Direction::ToClient] {
                    let stream = &mut td.streams[dir.index()];
                    stream.close(&mut |c| {
                        feed(&self.cfg, &mut self.counters, app, dir, c, &mut files, &mut app_out, &mut insp)
                    });
                }
            }
            if let App::Stream(s) = app {
                s.close(Direction::ToServer, &mut files, &mut app_out);
                s.close(Direction::ToClient, &mut files, &mut app_out);
                if let Some(i) = insp.as_mut().filter(|i| i.stream_on) {
                    s.inspect(i);
                }
            }
        }
        if let Some(i) = insp {
            i.d.flush_deferred(i.flow);
            // A TCP session still open gets Suricata's flow-timeout pseudo
            // packet in each direction, which per-packet rules also see.
            let open = flow.data.det_established
                && flow.data.tcp.as_ref().is_some_and(|t| t.conn.flow_state() == FlowState::Established);
            if open && i.stream_on {
                let facts = FlowFacts { app_proto: flow.data.app.proto(), ..i.facts };
                i.d.packet(i.flow, i.pkt, &facts);
                let _ = i.d.finish(i.flow, i.pkt, &mut self.alerts);
                let back =
                    mamori_detect::Packet { src: i.pkt.dst, dst: i.pkt.src, sp: i.pkt.dp, dp: i.pkt.sp, ..*i.pkt };
                let facts = FlowFacts { dir: Direction::ToClient, ..facts };
                i.d.packet(i.flow, &back, &facts);
                let _ = i.d.finish(i.flow, &back, &mut self.alerts);
            } else {
                let _ = i.d.finish(i.flow, i.pkt, &mut self.alerts);
            }
        }
        flow.data.detect = fd;
        if !self.alerts.is_empty() {
            let app_proto = flow.data.app.proto().map(|p| p.eve_name());
            for a in self.alerts.drain(..) {
                self.counters.incr("detect.alert");
                flow.data.alerted = true;
                let mut rec = alert_record(&flow, &a, Timestamp(flow.last_seen_us), None, None, objs.get(a.tag));
                rec.app_proto = app_proto;
                rec.pkt_src = Some("stream (flow timeout)");
                out.push(rec);
            }
        }
        // A bypassed flow still logs what it saw before the bypass.
        match &mut flow.data.app {
            App::Stream(s) => s.flush(&mut app_out),
            App::Quic(q) => q.flush(&mut app_out),
            _ => {}
        }
        let finished = flow_files.take_finished();
        let last_seen = flow.last_seen_us;
        emit(&mut self.counters, &mut flow, last_seen, &mut app_out, finished, self.web.as_ref(), out);
        if let Some(td) = flow.data.tcp.as_ref() {
            self.stream_bytes = self.stream_bytes.saturating_sub(td.accounted);
        }
        let app = appid::finish(&mut flow.data);
        out.push(flow_record(&flow, reason, app.as_ref()));
    }
}

const TEREDO_PORT: u16 = 3544;

/// The IPv6 packet a Teredo datagram carries: after an optional origin
/// indication, an IPv6 header whose payload
/// length accounts for exactly the rest (Suricata's test for Teredo).
fn teredo_inner(p: &[u8]) -> Option<&[u8]> {
    let mut p = p;
    if p.first() == Some(&0) {
        // An origin indication is skipped; an authentication header means
        // qualification traffic, not a tunnelled packet.
        match p.get(1) {
            Some(0) => p = p.get(8..)?,
            _ => return None,
        }
    }
    if p.first()? >> 4 != 6 || p.len() < 40 {
        return None;
    }
    let plen = usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]));
    // Next header "none" with a payload is not a real packet.
    if p.len() != 40 + plen || (*p.get(6)? == 59 && plen > 0) {
        return None;
    }
    Some(p)
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

/// Both directions of a TCP flow are over. The flow lingers in the table for
/// `tcp_closed` seconds (a minute), and at thousands of short connections a
/// second what it holds adds up: what only further payload would use goes
/// now, and the cached transactions too once no file is left open (no
/// `fileinfo` can come that would need one). Called per packet.
fn release_finished(d: &mut FlowData) {
    if !d.tcp.as_ref().is_some_and(|td| td.streams.iter().all(|s| s.finished())) {
        return;
    }
    forget_payload_state(d);
    if d.tx_cache.capacity() != 0 && d.files.open_count() == 0 && d.held_files.is_empty() {
        d.tx_cache = VecDeque::new();
    }
}

/// No payload of the flow will be looked at again: the app naming decides
/// with what it has and frees the payload heads it kept (the flow record
/// reads the same decision), and detection forgets its transactions.
fn forget_payload_state(d: &mut FlowData) {
    appid::finish(d);
    if let Some(det) = d.detect.as_mut() {
        det.forget_transactions();
    }
}

/// The app protocol is over (see `AppSession::over`) with nothing left to
/// settle: no file open or awaiting its verdict, no out-of-order data
/// waiting for a gap to fill.
fn app_over(d: &FlowData) -> bool {
    if d.blocked || !d.held_files.is_empty() || d.files.open_count() != 0 {
        return false;
    }
    let Some(td) = &d.tcp else { return false };
    td.streams.iter().all(|s| s.buffered() == 0) && matches!(&d.app, App::Stream(s) if s.over())
}

/// A connection whose app protocol is over is not inspected again (its
/// closing packets may not even come here): the app session, the stream
/// windows and the cached transactions go now rather than when the flow
/// expires. Everything the session had to log is logged (`AppSession::over`).
fn release_over(d: &mut FlowData) {
    d.app = App::None { proto: d.app.proto() };
    d.tx_cache = VecDeque::new();
    if let Some(det) = d.detect.as_mut() {
        det.stream_end(Direction::ToServer);
        det.stream_end(Direction::ToClient);
    }
    forget_payload_state(d);
}

/// Nothing more in this flow needs the engine.
fn inspection_done(d: &FlowData, one_side: bool) -> bool {
    if !d.held_files.is_empty() || d.blocked {
        return false;
    }
    match &d.tcp {
        Some(td) => {
            // Each direction is past the depth or over, and at least one is
            // past the depth (a plain close is the flow ending, not a bypass).
            let depth = td.streams.iter().any(|s| s.depth_reached());
            let done = depth && (one_side || td.streams.iter().all(|s| s.finished()));
            let no_app = matches!(d.app, App::None { .. });
            done || no_app
        }
        None => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn tcp_segment(
    cfg: &EngineConfig,
    counters: &mut Counters,
    d: &mut FlowData,
    dir: Direction,
    tcp: &Tcp<'_>,
    files: &mut FileTracker<'_>,
    out: &mut AppOut,
    insp: &mut Option<Inspector<'_, '_>>,
) {
    let FlowData { tcp: tcp_state, app, handshake, det_established, .. } = d;
    let td = tcp_state.get_or_insert_with(|| {
        Box::new(TcpData {
            conn: TcpConn::default(),
            streams: [Reassembler::new(cfg.stream()), Reassembler::new(cfg.stream())],
            accounted: 0,
        })
    });
    let ev = td.conn.on_segment(dir, tcp.seq, tcp.flags.0, tcp.payload.len());
    // Rules' `established` needs the handshake itself, unless midstream
    // pickups are allowed (Suricata's stream.midstream).
    match (dir, tcp.flags.syn(), tcp.flags.ack()) {
        (Direction::ToServer, true, false) => *handshake |= 1,
        (Direction::ToClient, true, _) => *handshake |= 2,
        _ => {}
    }
    let one_side_ok = cfg.async_oneside && *handshake & 1 != 0;
    let past_handshake = ev.established || td.conn.flow_state() != FlowState::New;
    if !*det_established && past_handshake && (*handshake == 3 || cfg.midstream || one_side_ok) {
        *det_established = true;
    }
    if let Some(i) = insp.as_mut() {
        i.facts.established = *det_established;
        i.stream_on = *det_established;
    }
    // Whether this segment's data went into the stream (new or buffered):
    // retransmissions and data before the stream start did not, and are
    // inspected as packets.
    let before = (td.streams[dir.index()].offset(), td.streams[dir.index()].buffered());
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
        stream.acked(tcp.ack, &mut |c| feed(cfg, counters, app, other, c, files, out, insp));
    }
    if !tcp.payload.is_empty() {
        // Data on a SYN (TCP Fast Open) starts after the SYN's own sequence number.
        let seq = if tcp.flags.syn() { tcp.seq.wrapping_add(1) } else { tcp.seq };
        td.streams[i].segment(seq, tcp.payload, &mut |c| feed(cfg, counters, app, dir, c, files, out, insp));
        let after = (td.streams[i].offset(), td.streams[i].buffered());
        if let Some(ins) = insp.as_mut() {
            ins.facts.stream_added = ins.stream_on && after != before;
        }
    }
    if ev.reset {
        for d in [Direction::ToServer, Direction::ToClient] {
            td.streams[d.index()].close(&mut |c| feed(cfg, counters, app, d, c, files, out, insp));
            if let App::Stream(s) = app {
                s.close(d, files, out);
                if let Some(i) = insp.as_mut().filter(|i| i.stream_on) {
                    s.inspect(i);
                }
            }
            if let Some(i) = insp.as_mut() {
                i.stream_end(d);
            }
        }
    } else if ev.sender_done {
        td.streams[i].close(&mut |c| feed(cfg, counters, app, dir, c, files, out, insp));
        if let App::Stream(s) = app {
            s.close(dir, files, out);
            if let Some(i) = insp.as_mut().filter(|i| i.stream_on) {
                s.inspect(i);
            }
        }
        if let Some(i) = insp.as_mut() {
            i.stream_end(dir);
        }
    }
}

/// Hand one piece of in-order stream output to the app layer, then to
/// stream and transaction inspection.
#[allow(clippy::too_many_arguments)]
fn feed(
    cfg: &EngineConfig,
    counters: &mut Counters,
    app: &mut App,
    dir: Direction,
    chunk: Chunk<'_>,
    files: &mut FileTracker<'_>,
    out: &mut AppOut,
    insp: &mut Option<Inspector<'_, '_>>,
) {
    if let Chunk::Gap(_) = chunk {
        counters.incr("tcp.reassembly_gap");
    }
    let piece = match &chunk {
        Chunk::Data(b) => Ok(*b),
        Chunk::Gap(n) => Err(*n),
    };
    match app {
        App::Detecting(det) => {
            let det = std::mem::take(det);
            detect(cfg, counters, det, app, dir, chunk, files, out, insp.is_some());
        }
        App::Stream(s) => {
            let st = match chunk {
                Chunk::Data(b) => s.input(dir, b, files, out),
                Chunk::Gap(n) => s.gap(dir, n, files, out),
            };
            after_status(counters, app, st, files, out, insp.is_some());
        }
        _ => {}
    }
    if let Some(i) = insp.as_mut().filter(|i| i.stream_on) {
        i.facts.app_proto = app.proto();
        if let App::Stream(s) = app {
            s.inspect(i);
        }
        match piece {
            Ok(b) => i.stream(dir, b),
            Err(n) => i.gap(dir, n),
        }
    }
}

/// Act on what a parser asked for.
fn after_status(
    counters: &mut Counters,
    app: &mut App,
    st: Status,
    _files: &mut FileTracker<'_>,
    out: &mut AppOut,
    inspecting: bool,
) {
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
            if let Some(mut tls) = new_stream_session(AppProto::Tls) {
                if inspecting {
                    tls.enable_inspection();
                }
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
    inspecting: bool,
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
                    if inspecting {
                        s.enable_inspection();
                    }
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
                    after_status(counters, app, st, files, out, inspecting);
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

fn udp_datagram(
    counters: &mut Counters,
    d: &mut FlowData,
    dir: Direction,
    payload: &[u8],
    out: &mut AppOut,
    insp: &mut Option<Inspector<'_, '_>>,
) {
    if payload.is_empty() {
        return;
    }
    if let App::Detecting(det) = &mut d.app {
        det.datagrams += 1;
        match probe_datagram(payload) {
            Some(AppProto::Dns) => {
                counters.incr("app_layer.flow.dns_udp");
                let mut s = DnsUdpSession::default();
                if insp.is_some() {
                    s.enable_inspection();
                }
                d.app = App::Dns(s);
            }
            Some(AppProto::Quic) => {
                counters.incr("app_layer.flow.quic");
                d.app = App::Quic(Box::default());
            }
            _ if det.datagrams >= MAX_DETECT_DATAGRAMS => {
                counters.incr("app_layer.detect_failed");
                d.app = App::None { proto: Some(AppProto::Failed) };
            }
            _ => {}
        }
    }
    if let Some(i) = insp.as_mut() {
        i.facts.app_proto = d.app.proto();
    }
    match &mut d.app {
        App::Dns(s) => s.datagram(payload, out, insp.as_mut()),
        App::Quic(q) => q.datagram(dir, payload, out),
        _ => {}
    }
}

/// The packet as rules see it.
fn detect_packet<'a>(
    now: u64,
    dg: &IpDatagram<'_>,
    t: &'a Transport<'_>,
    sp: u16,
    dp: u16,
) -> mamori_detect::Packet<'a> {
    let (mut frag_bits, mut frag_offset, mut ipopts) = (0u8, 0u16, 0);
    if dg.version == IpVersion::V4 {
        if let (Some(&f0), Some(&f1)) = (dg.header.get(6), dg.header.get(7)) {
            frag_bits = (f0 >> 5) & 0x07;
            frag_offset = u16::from_be_bytes([f0 & 0x1f, f1]);
        }
        let ihl = usize::from(dg.header.first().copied().unwrap_or(0x45) & 0x0f) * 4;
        if let Some(opts) = dg.header.get(20..ihl) {
            ipopts = mamori_detect::ipv4_options(opts);
        }
    }
    mamori_detect::Packet {
        ts_us: now,
        src: dg.src,
        dst: dg.dst,
        sp,
        dp,
        proto: dg.proto,
        ipv6: dg.version == IpVersion::V6,
        ttl: dg.ttl,
        tos: dg.tos,
        ip_id: dg.id,
        frag_bits,
        frag_offset,
        ipopts,
        tcp: match t {
            Transport::Tcp(tcp) => Some(TcpHdr {
                flags: tcp.flags.0,
                seq: tcp.seq,
                ack: tcp.ack,
                window: tcp.window,
                mss: tcp.options.mss,
            }),
            _ => None,
        },
        icmp: match t {
            Transport::Icmp(i) | Transport::Icmpv6(i) => Some(IcmpHdr { kind: i.kind, code: i.code, rest: i.rest }),
            _ => None,
        },
        payload: t.payload(),
        pseudo: false,
    }
}

/// A packet-less inspection point at flow end: client to server, no payload.
fn pseudo_packet(flow: &Flow<FlowData>) -> mamori_detect::Packet<'static> {
    mamori_detect::Packet {
        ts_us: flow.last_seen_us,
        src: flow.client.ip,
        dst: flow.server.ip,
        sp: flow.client.port,
        dp: flow.server.port,
        proto: flow.key.proto,
        ipv6: flow.client.ip.is_ipv6(),
        ttl: 0,
        tos: 0,
        ip_id: 0,
        frag_bits: 0,
        frag_offset: 0,
        ipopts: 0,
        tcp: None,
        icmp: None,
        payload: &[],
        pseudo: true,
    }
}

/// Write the records an app layer produced, and the files that finished.
/// Returns the verdict the files call for. The records' objects move into
/// the events (`app_out` is left drained).
fn emit(
    counters: &mut Counters,
    flow: &mut Flow<FlowData>,
    now_us: u64,
    app_out: &mut AppOut,
    finished: Vec<FileInfo>,
    web: Option<&WebProtection>,
    out: &mut Vec<EveRecord>,
) -> Verdict {
    let app_proto = flow.data.app.proto().map(|p| p.eve_name());
    let mut intel_block = false;
    let mut dns_block = false;
    let ts = Timestamp(now_us);
    appid::names(&mut flow.data, &app_out.records);
    for a in &app_out.anomalies {
        counters.incr_path("app_layer.anomaly", a.layer, a.event);
        if flow.data.anomaly_events < MAX_ANOMALY_EVENTS {
            flow.data.anomaly_events += 1;
            let mut rec = EveRecord::new(ts, "anomaly");
            tuple(&mut rec, flow, Direction::ToServer);
            rec.app_proto = app_proto;
            rec.push_value(
                "anomaly",
                json!({"app_proto": a.layer, "type": "applayer", "event": a.event, "layer": "proto_parser"}),
            );
            out.push(rec);
        }
    }
    for r in app_out.records.drain(..) {
        counters.incr_path("app_layer.tx", r.event_type, "");
        let mut rec = EveRecord::new(ts, r.event_type);
        tuple(&mut rec, flow, r.dir.unwrap_or(Direction::ToServer));
        rec.app_proto = app_proto;
        rec.tx_id = r.tx_id;
        let verdict = match r.objects {
            Objects::Values(objects) => {
                if let Some(tx) = r.tx_id {
                    flow.data.cache_tx(tx, &objects);
                }
                rec.objects = objects;
                web.and_then(|w| w.judge(&rec))
            }
            Objects::Http { json, hostname, url } => {
                if let Some(tx) = r.tx_id {
                    flow.data.cache_tx_json(tx, vec![("http", json.clone())]);
                }
                rec.push_encoded("http", json);
                web.and_then(|w| w.judge_http(hostname.as_deref()?, url.as_deref()))
            }
        };
        if let Some(v) = verdict {
            counters.incr(if web::blocks(&v) { "intel.blocked" } else { "intel.matched" });
            if web::blocks(&v) {
                // DNS is judged query by query: a resolver asks for A and
                // AAAA from one socket, and each gets its own answer.
                if r.event_type == "dns" {
                    dns_block = true;
                } else {
                    intel_block = true;
                }
            }
            rec.push("intel", &v);
        }
        out.push(rec);
    }
    for (event_type, object) in app_out.early.drain(..) {
        let Some(w) = web else { break };
        let mut rec = EveRecord::new(ts, event_type);
        tuple(&mut rec, flow, Direction::ToServer);
        rec.app_proto = app_proto;
        rec.objects.push((event_type, object));
        // Only a block is reported now; a logged match rides on the event
        // when it is written (the handshake's or the transaction's end).
        let Some(v) = w.judge(&rec).filter(web::blocks) else { continue };
        counters.incr("intel.blocked");
        intel_block = true;
        rec.push("intel", &v);
        out.push(rec);
    }
    if let (Some(w), false, AppId::Known(det)) = (web, flow.data.app_judged, &flow.data.app_id) {
        flow.data.app_judged = true;
        if let Some(v) = w.judge_app(det.app) {
            counters.incr("intel.blocked_app");
            intel_block = true;
            let mut rec = EveRecord::new(ts, "app");
            tuple(&mut rec, flow, Direction::ToServer);
            rec.app_proto = app_proto;
            rec.push_value("app", json!({ "name": det.app.name(), "group_ja": det.app.group().name_ja() }));
            rec.push("intel", &v);
            out.push(rec);
        }
    }
    let mut verdict = Verdict::Accept;
    if intel_block {
        // The rest of the flow goes too; the data path answers for this
        // packet (block page, resets).
        flow.data.blocked = true;
        verdict = Verdict::Drop;
    } else if dns_block {
        // This query only; the data path answers it (sinkhole, NXDOMAIN).
        verdict = Verdict::Drop;
    }
    for f in finished {
        counters.incr("file.total");
        let mut rec = EveRecord::new(ts, "fileinfo");
        tuple(&mut rec, flow, f.direction.unwrap_or(Direction::ToClient));
        rec.app_proto = app_proto;
        rec.tx_id = Some(f.tx_id);
        match flow.data.tx_cache.iter().rev().find(|(t, _)| *t == f.tx_id) {
            Some((_, cached)) => {
                for (k, j) in cached {
                    rec.push_encoded(k, j.clone());
                }
            }
            None => {
                if let App::Stream(s) = &flow.data.app {
                    rec.objects.extend(s.tx_objects(f.tx_id));
                }
            }
        }
        rec.push_json("fileinfo", &f);
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

#[cfg(test)]
mod tests {
    use mamori_applayer::{FileEnd, FileMeta, FileSink};

    use super::*;

    #[test]
    fn a_finished_flow_lets_go_of_its_cached_transactions() {
        let cfg = EngineConfig::default();
        let mut d = FlowData::new(Vec::new());
        d.cache_tx(0, &[("http", json!({ "hostname": "www.example.jp" }))]);
        d.tcp = Some(Box::new(TcpData {
            conn: TcpConn::default(),
            streams: [Reassembler::new(cfg.stream()), Reassembler::new(cfg.stream())],
            accounted: 0,
        }));
        let mut gate = PassAll;
        let file = d.files.sink(&mut gate).open(Direction::ToClient, FileMeta::default());
        let close = |d: &mut FlowData, dir: Direction| {
            if let Some(td) = d.tcp.as_mut() {
                td.streams[dir.index()].close(&mut |_| {});
            }
        };
        close(&mut d, Direction::ToServer);
        release_finished(&mut d);
        assert_eq!(d.tx_cache.len(), 1, "the response is still open");
        close(&mut d, Direction::ToClient);
        release_finished(&mut d);
        assert_eq!(d.tx_cache.len(), 1, "a file is still open: its fileinfo needs the transaction");
        d.files.sink(&mut gate).close(file, FileEnd::Closed);
        release_finished(&mut d);
        assert_eq!((d.tx_cache.len(), d.tx_cache.capacity()), (0, 0));
    }
}
