//! One worker per queue: packets in, engine, verdicts and answers out.
//!
//! The ruleset balances queues by a symmetric hash of the flow, so both
//! directions of a flow reach the same worker and each worker owns a private
//! engine (no locks on the packet path).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mamori_engine::{
    AppProto, Detect, Detector, Engine, EveRecord, LinkType, PacketIn, PacketResult, Reject, Timestamp, Verdict,
    WebProtection,
};
use mamori_nfq::msg::{messages, Message};
use mamori_nfq::verdicts::id_after;
use mamori_nfq::{NfqSocket, Packet, VerdictBatch};
use tracing::{debug, warn};

use super::blockpage::{self, BlockInfo};
use super::hold::HoldHistogram;
use super::inject::{Injector, Neighbours};
use super::poll::PollWindow;
use super::respond::{self, Answer, DnsBlock};
use super::sched::{self, Scheduler};
use super::slice::Slices;

/// EVE records as JSON lines, for the writer thread.
#[derive(Default)]
pub struct EveBatch {
    pub lines: Vec<u8>,
    /// Records in `lines`.
    pub count: u64,
}

impl EveBatch {
    fn append(&mut self, records: &[EveRecord]) {
        for r in records {
            let start = self.lines.len();
            match serde_json::to_writer(&mut self.lines, r) {
                Ok(()) => {
                    self.lines.push(b'\n');
                    self.count += 1;
                }
                Err(e) => {
                    self.lines.truncate(start);
                    warn!(error = %e, event_type = r.event_type, "EVE record could not be serialised");
                }
            }
        }
    }
}

/// EVE lines a worker holds until there are [`EveOutbox::BATCH`] bytes of
/// them or the oldest has waited [`EveOutbox::LINGER`], then hands to the
/// writer. Handing over every turn's few lines woke the writer thousands of
/// times a second at short connections, and each wake-up cost both threads
/// a futex call and the writer a small `write`. Lines wait in memory no
/// longer than they would have waited in the page cache for the disk anyway.
/// Pure: the worker passes the time in.
#[derive(Default)]
pub struct EveOutbox {
    batch: EveBatch,
    /// When the oldest line waiting came.
    since: Option<Instant>,
}

impl EveOutbox {
    pub const BATCH: usize = 64 << 10;
    pub const LINGER: Duration = Duration::from_millis(50);

    pub fn add(&mut self, records: &[EveRecord], now: Instant) {
        if records.is_empty() {
            return;
        }
        if self.batch.lines.capacity() == 0 {
            // The batch went to the writer with its buffer: size the next.
            self.batch.lines.reserve(Self::BATCH + (Self::BATCH >> 2));
        }
        self.batch.append(records);
        if self.batch.count > 0 {
            self.since.get_or_insert(now);
        }
    }

    /// Whether any line waits (so the worker reads the clock only then).
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
    }

    /// The lines to hand over now: a full batch, lines that waited long
    /// enough, or (`all`, at shutdown) whatever there is.
    pub fn take_due(&mut self, now: Instant, all: bool) -> Option<EveBatch> {
        let since = self.since?;
        let due = all || self.batch.lines.len() >= Self::BATCH || now.duration_since(since) >= Self::LINGER;
        if !due {
            return None;
        }
        self.since = None;
        Some(std::mem::take(&mut self.batch))
    }
}

/// Counters a worker publishes (read by the control socket).
#[derive(Default)]
pub struct Stats {
    pub packets: AtomicU64,
    pub accepted: AtomicU64,
    pub drops: AtomicU64,
    pub rejects: AtomicU64,
    pub block_pages: AtomicU64,
    pub flows_bypassed: AtomicU64,
    pub alerts: AtomicU64,
    pub errors: AtomicU64,
    /// GSO super-packets taken whole (NFQA_CFG_F_GSO): one verdict covers
    /// many wire segments.
    pub gso_packets: AtomicU64,
    /// Large TCP packets inspected in slices, with small packets served
    /// between them (see [`super::slice`]).
    pub sliced_packets: AtomicU64,
    /// EVE lines lost because the writer fell behind.
    pub eve_dropped: AtomicU64,
    /// Time from taking a packet off the queue to sending its verdict.
    pub hold: HoldHistogram,
    /// The same for small packets only (at most [`sched::LARGE`] bytes):
    /// what interactive traffic waits.
    pub hold_small: HoldHistogram,
}

/// What the control side shares with one worker.
#[derive(Default)]
pub struct WorkerShared {
    pub stats: Stats,
    /// Milliseconds since the epoch of the worker's last loop turn.
    pub heartbeat_ms: AtomicU64,
    /// A new rule set to swap in at the next loop turn.
    pub reload: Mutex<Option<Arc<Detector>>>,
    pub reload_pending: AtomicBool,
    /// New intel/policy to swap in at the next loop turn.
    pub web: Mutex<Option<WebProtection>>,
    pub web_pending: AtomicBool,
    /// Lookups that matched a list or category, and those that blocked.
    pub intel_matched: AtomicU64,
    pub intel_blocked: AtomicU64,
    /// The worker's thread id, once it runs at real-time priority under
    /// `realtime = "auto"` (0: the governor leaves it alone).
    pub tid: AtomicI32,
    /// Whether the worker runs at real-time priority now.
    pub realtime: AtomicBool,
    /// How often the governor moved it between real-time and ordinary.
    pub scheduling_changes: AtomicU64,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub bypass_mark: u32,
    pub block_mark: u32,
    pub contact: String,
    pub dns_block: DnsBlock,
    /// Longest spin on the queue before sleeping (see [`PollWindow`]).
    pub busy_poll: Duration,
}

pub struct Worker {
    sock: NfqSocket,
    engine: Engine,
    shared: Arc<WorkerShared>,
    settings: Settings,
    eve: SyncSender<EveBatch>,
    outbox: EveOutbox,
    injector: Option<Injector>,
    neighbours: Neighbours,
    verdicts: VerdictBatch,
    records: Vec<EveRecord>,
    sendbuf: Vec<u8>,
    last_bypassed: u64,
    /// When the packet being handled was taken off the queue, and the same
    /// for each verdict not sent yet.
    taken: Instant,
    /// With whether the packet was small.
    held: Vec<(Instant, bool)>,
    /// Whether the packet being handled is small, and whether a verdict not
    /// sent yet is for a small packet.
    taken_small: bool,
    /// The id of the packet being inspected in slices: while small packets
    /// are served between its slices, no batch verdict may cover it.
    slicing: Option<u32>,
    /// Where the current slice is built.
    slice_buf: Vec<u8>,
    /// When the last small packet was taken off the queue: large packets
    /// are sliced only while small ones come (see [`SLICE_WHILE`]).
    small_seen: Option<Instant>,
    held_small: bool,
}

/// Packets handled per turn before the loop looks at the control side
/// again and hands its events to the writer.
const BATCH: usize = 64;

/// Small packets handled between two slices of a large one, at most: a
/// steady stream of them cannot stall the large packet's flow.
const MAX_BETWEEN_SLICES: usize = 8;

/// Large packets are sliced while small ones have come within this long.
/// Slicing costs a fifth of the bulk throughput (a look at the queue and an
/// engine pass per slice, a verdict send per packet), which buys nothing
/// when no small packet waits: a queue that carries only downloads
/// inspects them whole.
const SLICE_WHILE: Duration = Duration::from_millis(10);

/// Datagrams taken off the socket to choose from (see [`sched`]); the rest
/// wait in the kernel's queue.
const MAX_WAITING: usize = 64;

/// Receive buffer per waiting datagram: a 64 KB GSO packet and its netlink
/// attributes.
const SLOT: usize = 128 << 10;

/// One send carries the whole turn's verdicts: the kernel forwards a send's
/// packets together and wakes their receivers once, and sending verdicts
/// every 50 µs cost a quarter of the short-connection rate and of the bulk
/// throughput (docs/benchmarks.md). The exception: verdicts of small packets
/// go out before a packet this large is scanned, which would add tens of
/// microseconds to each of them (the small packets were taken first for
/// that reason, see [`sched`]).
const FLUSH_BEFORE: usize = 32 << 10;

/// A datagram taken off the socket: buffer, length, when.
type Taken = (Vec<u8>, usize, Instant);

/// Datagrams taken off the socket and not handled yet, and spare buffers.
#[derive(Default)]
struct Waiting {
    order: Scheduler<Taken>,
    pool: Vec<Vec<u8>>,
    /// Buffers handed to the socket's batched receive.
    rx: Vec<Vec<u8>>,
}

impl Waiting {
    fn buffer(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_else(|| vec![0u8; SLOT])
    }
}

#[derive(Clone, Copy)]
enum Toward {
    Source,
    Destination,
}

/// The earlier of a waiting packet (if any) and packet `id`, in the queue's
/// wrapping id order.
fn earliest(waiting: Option<u32>, id: u32) -> u32 {
    match waiting {
        Some(w) if id_after(id, w) => w,
        _ => id,
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn now_ts() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_secs_micros(d.as_secs(), d.subsec_micros())
}

/// Source and destination address of an IP packet, cheaply.
fn addrs(pkt: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match pkt.first()? >> 4 {
        4 => {
            let s: [u8; 4] = pkt.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = pkt.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        6 => {
            let s: [u8; 16] = pkt.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = pkt.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        _ => None,
    }
}

/// Source port of a TCP/UDP packet without options parsing beyond IHL.
fn src_port(pkt: &[u8]) -> Option<u16> {
    let l4 = match pkt.first()? >> 4 {
        4 => usize::from(pkt[0] & 0x0f) * 4,
        6 => 40,
        _ => return None,
    };
    Some(u16::from_be_bytes([*pkt.get(l4)?, *pkt.get(l4 + 1)?]))
}

impl Worker {
    pub fn new(
        sock: NfqSocket,
        engine: Engine,
        shared: Arc<WorkerShared>,
        settings: Settings,
        eve: SyncSender<EveBatch>,
    ) -> Worker {
        let injector = match Injector::open() {
            Ok(i) => Some(i),
            Err(e) => {
                warn!(error = %e, "cannot open a packet socket: blocked flows get silent drops, not resets");
                None
            }
        };
        let queue = sock.queue();
        Worker {
            sock,
            engine,
            shared,
            settings,
            eve,
            outbox: EveOutbox::default(),
            injector,
            neighbours: Neighbours::default(),
            verdicts: VerdictBatch::new(queue),
            records: Vec::new(),
            sendbuf: Vec::with_capacity(1 << 16),
            last_bypassed: 0,
            taken: Instant::now(),
            held: Vec::with_capacity(BATCH),
            taken_small: false,
            held_small: false,
            slicing: None,
            slice_buf: Vec::with_capacity(super::slice::SLICE + 128),
            small_seen: None,
        }
    }

    /// Run until `stop` is set. Never returns early on bad packets.
    pub fn run(mut self, stop: &AtomicBool) {
        let mut poll = PollWindow::new(self.settings.busy_poll);
        let mut waiting = Waiting::default();
        while !stop.load(Ordering::Relaxed) {
            self.shared.heartbeat_ms.store(now_ms(), Ordering::Relaxed);
            if waiting.order.is_empty() {
                let mut buf = waiting.buffer();
                let n = match self.next(&mut buf, &mut poll) {
                    Ok(n) => n,
                    Err(e) => {
                        waiting.pool.push(buf);
                        self.shared.stats.errors.fetch_add(1, Ordering::Relaxed);
                        warn!(queue = self.sock.queue(), error = %e, "receive failed");
                        continue;
                    }
                };
                if n == 0 {
                    waiting.pool.push(buf);
                    self.engine.tick(now_ts(), &mut self.records);
                } else {
                    self.admit(&mut waiting, buf, n);
                }
            }
            // After the wait: a reload answered before this packet was sent
            // applies to it.
            self.take_reload();
            if !waiting.order.is_empty() {
                self.turn(&mut waiting);
            }
            self.flush(waiting.order.lowest_id());
        }
        // Packets already taken would be dropped with the socket; take no
        // more (under traffic that would never end).
        while let Some((buf, n, taken)) = waiting.order.pop() {
            self.taken = taken;
            self.handle(&buf[..n], &mut waiting, false);
        }
        self.engine.finish(&mut self.records);
        self.flush(None);
        self.send_eve(true);
    }

    /// Handle up to [`BATCH`] packets, small ones first (see [`sched`]).
    fn turn(&mut self, waiting: &mut Waiting) {
        let mut drain = true;
        for _ in 0..BATCH {
            // Look for newcomers when the last packet took long enough for
            // some to arrive, or when nothing else waits.
            if drain || waiting.order.is_empty() {
                self.take_waiting(waiting);
            }
            let Some((buf, n, taken)) = waiting.order.pop() else { break };
            if n > FLUSH_BEFORE && self.held_small {
                self.send_verdicts(waiting.order.lowest_id());
            }
            self.taken_small = n <= sched::LARGE;
            self.taken = taken;
            if self.taken_small {
                self.small_seen = Some(taken);
            }
            self.handle(&buf[..n], waiting, true);
            drain = n > sched::LARGE;
            waiting.pool.push(buf);
        }
    }

    /// Take what the socket holds, up to [`MAX_WAITING`] waiting datagrams,
    /// in as few system calls as it takes.
    fn take_waiting(&mut self, waiting: &mut Waiting) {
        let mut lens = [0usize; MAX_WAITING];
        let mut bufs = std::mem::take(&mut waiting.rx);
        loop {
            let room = MAX_WAITING.saturating_sub(waiting.order.len());
            if room == 0 {
                break;
            }
            while bufs.len() < room {
                bufs.push(waiting.buffer());
            }
            let got = self.sock.try_recv_many(&mut bufs[..room], &mut lens).unwrap_or(0);
            for (buf, &n) in bufs.drain(..got).zip(&lens) {
                self.admit(waiting, buf, n);
            }
            if got < room {
                break;
            }
        }
        // Spare buffers stay ready for the next look.
        waiting.rx = bufs;
    }

    /// Queue a received datagram by its flow; datagrams without a packet
    /// (acknowledgements) are handled at once.
    fn admit(&mut self, waiting: &mut Waiting, buf: Vec<u8>, n: usize) {
        let first = messages(&buf[..n]).next();
        match first {
            Some(Ok(Message::Packet(p))) => {
                let (key, len, id) = (sched::flow_key(p.payload), p.payload.len(), p.id);
                waiting.order.push(key, len, Some(id), (buf, n, Instant::now()));
            }
            _ => {
                self.handle(&buf[..n], waiting, false);
                waiting.pool.push(buf);
            }
        }
    }

    /// The next datagram: spin for the poll window, then sleep. `Ok(0)`
    /// when the receive timeout passed without traffic.
    fn next(&mut self, buf: &mut [u8], poll: &mut PollWindow) -> std::io::Result<usize> {
        let window = poll.window();
        if !window.is_zero() {
            let start = Instant::now();
            loop {
                let n = self.sock.try_recv(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                if start.elapsed() >= window {
                    break;
                }
                // Spin only on a core nobody else wants: other runnable
                // threads (the bridge's own softirq work, other workers)
                // go first.
                std::thread::yield_now();
            }
        }
        let start = Instant::now();
        let n = self.sock.recv(buf)?;
        poll.slept(start.elapsed());
        Ok(n)
    }

    fn take_reload(&mut self) {
        if self.shared.web_pending.swap(false, Ordering::AcqRel) {
            let web = self.shared.web.lock().ok().and_then(|g| g.clone());
            self.engine.set_web_protection(web);
        }
        if !self.shared.reload_pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let det = self.shared.reload.lock().ok().and_then(|g| g.clone());
        if let Some(det) = det {
            self.engine.replace_detect(Detect::new(det, true));
        }
    }

    /// Handle one datagram's messages. `waiting`: the packets taken but not
    /// handled yet, which no batch verdict sent meanwhile may cover. With
    /// `serve`, small ones among them may be handled between the slices of
    /// a large packet.
    fn handle(&mut self, datagram: &[u8], waiting: &mut Waiting, serve: bool) {
        for m in messages(datagram) {
            match m {
                Ok(Message::Packet(p)) => self.packet(&p, waiting, serve),
                Ok(Message::Ack { errno, .. }) if errno != 0 => {
                    // A verdict the kernel refused (e.g. for a packet that
                    // timed out of the queue): nothing to undo.
                    self.shared.stats.errors.fetch_add(1, Ordering::Relaxed);
                    debug!(errno, "kernel refused a verdict");
                }
                Ok(_) => {}
                Err(e) => {
                    self.shared.stats.errors.fetch_add(1, Ordering::Relaxed);
                    debug!(error = %e, "malformed netlink message");
                }
            }
        }
    }

    fn packet(&mut self, p: &Packet<'_>, waiting: &mut Waiting, serve: bool) {
        let st = &self.shared.stats;
        st.packets.fetch_add(1, Ordering::Relaxed);
        if p.is_gso() {
            st.gso_packets.fetch_add(1, Ordering::Relaxed);
        }
        let ends = addrs(p.payload);
        if let (Some((src, _)), Some(mac)) = (ends, p.hwaddr) {
            self.neighbours.learn(src, mac);
        }
        let link = match p.hw_protocol {
            0x0800 => LinkType::Ipv4,
            0x86dd => LinkType::Ipv6,
            _ => LinkType::Raw,
        };
        let interactive = self.small_seen.is_some_and(|t| self.taken.saturating_duration_since(t) < SLICE_WHILE);
        let slices = if serve && interactive { Slices::of(p.payload) } else { None };
        let sliced = slices.is_some();
        if sliced {
            st.sliced_packets.fetch_add(1, Ordering::Relaxed);
        }
        let r = match slices {
            Some(s) => self.inspect_sliced(p.id, link, s, waiting),
            None => {
                let before = self.records.len();
                self.inspect(p.payload, link).map(|r| (r, before))
            }
        };
        let Some((r, before)) = r else {
            self.accept(p.id, 0, None);
            return;
        };
        self.decide(p, ends, &r, before, waiting.order.lowest_id());
        // Its forwarding (and the receiver's wake-up) should not delay the
        // small packets that are next.
        if sliced {
            self.send_verdicts(waiting.order.lowest_id());
        }
    }

    /// Run the engine on one IP packet. The engine is fuzzed not to panic;
    /// should it anyway, `None`: the packet passes (fail-open) and the
    /// worker lives on.
    fn inspect(&mut self, data: &[u8], link: LinkType) -> Option<PacketResult> {
        let before = self.records.len();
        let pkt = PacketIn { ts: now_ts(), link, data, pcap_cnt: None };
        let (engine, records) = (&mut self.engine, &mut self.records);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.process(&pkt, records))) {
            Ok(r) => Some(r),
            Err(_) => {
                self.shared.stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(len = data.len(), "the engine panicked on a packet; it passes uninspected");
                self.records.truncate(before);
                None
            }
        }
    }

    /// Inspect a large TCP packet slice by slice (see [`super::slice`]),
    /// serving the small packets of other flows that wait meanwhile. The
    /// result is the last slice's: the first blocked slice ends it, and the
    /// packet then goes nowhere, earlier slices included. With it, where
    /// the packet's records start: after those of the packets served
    /// meanwhile, so the answer to a block reads this packet's own.
    fn inspect_sliced(
        &mut self,
        id: u32,
        link: LinkType,
        mut slices: Slices<'_>,
        waiting: &mut Waiting,
    ) -> Option<(PacketResult, usize)> {
        let flow = sched::flow_key(slices.packet());
        let mut buf = std::mem::take(&mut self.slice_buf);
        let mut mine = Vec::new();
        let mut last = None;
        self.slicing = Some(id);
        while slices.next_into(&mut buf) {
            self.serve_between(flow, waiting);
            let start = self.records.len();
            let r = self.inspect(&buf, link);
            mine.extend(self.records.drain(start..));
            let Some(r) = r else {
                last = None;
                break;
            };
            let blocked = r.verdict == Verdict::Drop || r.reject.is_some();
            last = Some(r);
            if blocked {
                break;
            }
        }
        self.slicing = None;
        self.slice_buf = buf;
        let before = self.records.len();
        self.records.append(&mut mine);
        last.map(|r| (r, before))
    }

    /// Between two slices of a packet of `busy_flow`: take what arrived,
    /// handle the small packets of other flows, and send their verdicts.
    fn serve_between(&mut self, busy_flow: u64, waiting: &mut Waiting) {
        self.take_waiting(waiting);
        let (taken, small) = (self.taken, self.taken_small);
        for _ in 0..MAX_BETWEEN_SLICES {
            let Some((buf, n, t)) = waiting.order.pop_small(busy_flow) else { break };
            self.taken = t;
            self.taken_small = true;
            self.small_seen = Some(t);
            self.handle(&buf[..n], waiting, false);
            waiting.pool.push(buf);
        }
        (self.taken, self.taken_small) = (taken, small);
        if self.held_small {
            self.send_verdicts(waiting.order.lowest_id());
        }
    }

    /// The verdict for packet `p` (between `ends`) from the engine's result
    /// `r`; its records start at `before`.
    fn decide(
        &mut self,
        p: &Packet<'_>,
        ends: Option<(IpAddr, IpAddr)>,
        r: &PacketResult,
        before: usize,
        lowest_waiting: Option<u32>,
    ) {
        let shared = self.shared.clone();
        let st = &shared.stats;
        let alerts = self.records[before..].iter().filter(|r| r.event_type == "alert").count();
        if alerts > 0 {
            st.alerts.fetch_add(alerts as u64, Ordering::Relaxed);
        }
        for rec in &self.records[before..] {
            if let Some(i) = rec.object("intel") {
                let blocked = i.get("action").and_then(|a| a.as_str()) == Some("block");
                let c = if blocked { &self.shared.intel_blocked } else { &self.shared.intel_matched };
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        let blocked = r.verdict == Verdict::Drop || r.reject.is_some();
        if !blocked {
            let bits = if r.bypass { self.settings.bypass_mark } else { 0 };
            self.accept(p.id, bits, None);
            st.accepted.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let answer = if r.flow_dropped { None } else { self.answer(p, r, before) };
        let block = self.settings.block_mark;
        match answer {
            Some(a) => {
                // The answer is sequenced after the packets of this flow
                // that passed before this one: they must be on their way
                // first, or the endpoints get a reset or page beyond what
                // they have and drop it as out of window (RFC 5961).
                self.send_verdicts(Some(earliest(lowest_waiting, p.id)));
                if let Some(back) = &a.back {
                    self.inject(p, ends, back, Toward::Source);
                }
                match a.forward {
                    Some(fwd) if !self.inject(p, ends, &fwd, Toward::Destination) => {
                        // The destination's MAC is unknown: let the kernel
                        // carry the answer in place of the packet. Its block
                        // mark reaches the connection through the ruleset.
                        self.accept(p.id, block, Some(&fwd));
                    }
                    _ => self.drop(p.id),
                }
                if r.reject.is_some() {
                    st.rejects.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => self.drop(p.id),
        }
        st.drops.fetch_add(1, Ordering::Relaxed);
    }

    /// How to answer a blocked packet: a block page for HTTP, resets for
    /// other TCP when a reject rule asked for them, ICMP for other rejects.
    fn answer(&self, p: &Packet<'_>, r: &PacketResult, first_record: usize) -> Option<Answer> {
        let pkt = p.payload;
        let proto = match pkt.first()? >> 4 {
            4 => *pkt.get(9)?,
            6 => *pkt.get(6)?,
            _ => return None,
        };
        let info = r.flow.and_then(|f| self.engine.flow_info(f));
        let intel = self.intel_block(first_record);
        if let Some(rec) = intel {
            if rec.event_type == "dns" && proto == 17 {
                return respond::dns_block(pkt, self.settings.dns_block);
            }
        }
        if proto == 6 {
            if let Some(info) = info.filter(|i| i.app == Some(AppProto::Http)) {
                let from_client =
                    addrs(pkt).map(|(s, _)| s) == Some(info.client.ip) && src_port(pkt) == Some(info.client.port);
                let page = self.block_page(first_record);
                if let Some(a) = respond::http_block(pkt, from_client, &page) {
                    self.shared.stats.block_pages.fetch_add(1, Ordering::Relaxed);
                    return Some(a);
                }
            }
            // A listed TLS name (or any other intel block on TCP) is reset.
            let mut a = match (r.reject, intel) {
                (Some(_), _) | (None, Some(_)) => respond::tcp_reset(pkt)?,
                (None, None) => return None,
            };
            // `reject`/`rejectsrc` reset both ends too: a server left with a
            // half-open connection keeps resources (and retries) for nothing.
            // Only `rejectdst` spares the source.
            if r.reject == Some(Reject::ToDestination) {
                a.back = None;
            }
            return Some(a);
        }
        r.reject?;
        Some(Answer { forward: None, back: respond::icmp_unreachable(pkt) })
    }

    /// The event of this packet whose intel verdict blocks, if any.
    fn intel_block(&self, first_record: usize) -> Option<&EveRecord> {
        self.records[first_record..]
            .iter()
            .find(|r| r.object("intel").and_then(|i| i.get("action")).and_then(|a| a.as_str()) == Some("block"))
    }

    fn block_page(&self, first_record: usize) -> Vec<u8> {
        let alert = self.records[first_record..].iter().rev().find(|r| r.event_type == "alert");
        let intel = self.intel_block(first_record);
        let intel_reason = intel.and_then(|r| r.object("intel")).and_then(|i| {
            let m = i.get("matches")?.get(0)?;
            let what = m.get("threat_ja").or_else(|| m.get("category_ja"))?.as_str()?;
            let en = m.get("threat_en").or_else(|| m.get("category_en")).and_then(|v| v.as_str()).unwrap_or("");
            let list = m.get("list").and_then(|v| v.as_str()).unwrap_or("");
            Some(format!("{what} ({en}) — {list}"))
        });
        let reason = alert
            .and_then(|a| a.object("alert"))
            .and_then(|a| a.get("signature"))
            .and_then(|s| s.as_str())
            .map(str::to_owned)
            .or(intel_reason)
            .unwrap_or_default();
        let reason = reason.as_str();
        // An HTTP event's object is JSON text (`object_value` reads it back).
        let url = alert.or(intel).and_then(|a| a.object_value("http")).and_then(|h| {
            let host = h.get("hostname")?.as_str()?;
            let path = h.get("url").and_then(|u| u.as_str()).unwrap_or("/");
            Some(format!("http://{host}{path}"))
        });
        blockpage::response(&BlockInfo { url: url.as_deref(), reason, contact: &self.settings.contact })
    }

    /// Send an answer out of a bridge port as if from the blocked packet's
    /// peer. Returns false when it could not be sent.
    fn inject(&mut self, p: &Packet<'_>, ends: Option<(IpAddr, IpAddr)>, ip: &[u8], to: Toward) -> bool {
        let (Some(inj), Some(pkt_src_mac), Some((_, dst))) = (self.injector.as_mut(), p.hwaddr, ends) else {
            return false;
        };
        let sent = match to {
            // Back out of the port it came in on, to the MAC that sent it,
            // from the MAC that stands for its destination.
            Toward::Source => p.physindev.or(p.indev).and_then(|port| {
                let from = self.neighbours.get(&dst).or_else(|| inj.port_mac(port))?;
                Some(inj.send(port, from, pkt_src_mac, ip))
            }),
            // On out of the port it was headed for, from its own source MAC.
            Toward::Destination => p.physoutdev.and_then(|port| {
                let to = self.neighbours.get(&dst)?;
                Some(inj.send(port, pkt_src_mac, to, ip))
            }),
        };
        match sent {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                self.shared.stats.errors.fetch_add(1, Ordering::Relaxed);
                debug!(error = %e, "could not send an answer");
                false
            }
            None => false,
        }
    }

    fn accept(&mut self, id: u32, bits: u32, payload: Option<&[u8]>) {
        self.held.push((self.taken, self.taken_small));
        self.held_small |= self.taken_small;
        let mark = (bits != 0).then_some(bits);
        let ct = mark.filter(|_| self.sock.conntrack());
        self.verdicts.push(mamori_nfq::Verdict {
            id,
            kind: mamori_nfq::VerdictKind::Accept,
            mark,
            connmark_bits: ct,
            payload,
        });
    }

    fn drop(&mut self, id: u32) {
        self.held.push((self.taken, self.taken_small));
        self.held_small |= self.taken_small;
        let ct = Some(self.settings.block_mark).filter(|_| self.sock.conntrack());
        self.verdicts.push(mamori_nfq::Verdict { connmark_bits: ct, ..mamori_nfq::Verdict::drop(id) });
    }

    /// Send the verdicts held. `lowest_waiting`: the lowest id of a packet
    /// taken but not handled yet, which no batch verdict may cover.
    fn send_verdicts(&mut self, lowest_waiting: Option<u32>) {
        if self.verdicts.is_empty() {
            return;
        }
        let lowest_waiting = match self.slicing {
            Some(id) => Some(earliest(lowest_waiting, id)),
            None => lowest_waiting,
        };
        self.sendbuf.clear();
        self.verdicts.encode(lowest_waiting, &mut self.sendbuf);
        if let Err(e) = self.sock.send(&self.sendbuf) {
            // The packets stay queued until the kernel gives up on them;
            // count it, the next turn goes on.
            self.shared.stats.errors.fetch_add(1, Ordering::Relaxed);
            warn!(queue = self.sock.queue(), error = %e, "sending verdicts failed");
        }
        self.held_small = false;
        let now = Instant::now();
        for (t, small) in self.held.drain(..) {
            let us = now.duration_since(t).as_micros() as u64;
            self.shared.stats.hold.record(us);
            if small {
                self.shared.stats.hold_small.record(us);
            }
        }
    }

    fn flush(&mut self, lowest_waiting: Option<u32>) {
        self.send_verdicts(lowest_waiting);
        let bypassed = self.engine.counters().get("flow.bypassed");
        if bypassed != self.last_bypassed {
            self.shared.stats.flows_bypassed.fetch_add(bypassed - self.last_bypassed, Ordering::Relaxed);
            self.last_bypassed = bypassed;
        }
        if !self.records.is_empty() {
            // Serialised here, after the turn's verdicts are out, and
            // dropped here: a record is dozens of small allocations, which
            // an allocator's per-thread caches take back cheaply only on
            // the thread that made them. Dropped on the writer's thread
            // they went through glibc's arena locks and slow paths both
            // ways, a quarter of the worker's user time at thousands of
            // connections a second (docs/benchmarks.md, session 11).
            self.outbox.add(&self.records, Instant::now());
            self.records.clear();
        }
        self.send_eve(false);
    }

    /// Hand the gathered EVE lines to the writer when they are due.
    fn send_eve(&mut self, all: bool) {
        if self.outbox.is_empty() {
            return;
        }
        let Some(batch) = self.outbox.take_due(Instant::now(), all) else { return };
        // The writer being gone means we are shutting down.
        // Never wait for the disk on the packet path: when the writer is
        // this far behind, events are dropped and counted instead.
        if let Err(TrySendError::Full(lost)) = self.eve.try_send(batch) {
            self.shared.stats.eve_dropped.fetch_add(lost.count, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use mamori_engine::Timestamp;
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn records_reach_the_writer_as_one_json_line_each() {
        let mut alert = EveRecord::new(Timestamp(1_700_000_000_000_000), "alert");
        alert.push("alert", &json!({ "signature_id": 1, "signature": "ダウンロード \"x\"\n" }));
        let flow = EveRecord::new(Timestamp(1_700_000_000_000_001), "flow");
        let mut outbox = EveOutbox::default();
        let t0 = Instant::now();
        outbox.add(&[alert.clone(), flow], t0);
        let batch = outbox.take_due(t0, true).expect("lines at shutdown");
        assert_eq!(batch.count, 2);
        let text = std::str::from_utf8(&batch.lines).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], serde_json::to_value(&alert).unwrap());
        assert_eq!(lines[1]["event_type"], "flow");
    }

    #[test]
    fn lines_wait_for_a_full_batch_or_the_linger_time_and_no_longer() {
        let rec = EveRecord::new(Timestamp(1_700_000_000_000_000), "flow");
        let one = serde_json::to_vec(&rec).unwrap().len() + 1;
        let mut outbox = EveOutbox::default();
        let t0 = Instant::now();
        assert!(outbox.is_empty() && outbox.take_due(t0 + EveOutbox::LINGER * 10, false).is_none(), "nothing waits");
        outbox.add(std::slice::from_ref(&rec), t0);
        assert!(outbox.take_due(t0 + EveOutbox::LINGER / 2, false).is_none(), "one line waits for more");
        outbox.add(std::slice::from_ref(&rec), t0 + EveOutbox::LINGER / 2);
        let b = outbox.take_due(t0 + EveOutbox::LINGER, false).expect("the oldest line waited LINGER");
        assert_eq!(b.count, 2);
        assert!(outbox.is_empty() && outbox.take_due(t0 + EveOutbox::LINGER * 3, false).is_none(), "all handed over");

        // A full batch goes at once, however new.
        let t1 = t0 + EveOutbox::LINGER * 4;
        let many = vec![rec; EveOutbox::BATCH / one + 1];
        outbox.add(&many, t1);
        let b = outbox.take_due(t1, false).expect("a full batch is due at once");
        assert_eq!(b.count as usize, many.len());
        assert!(b.lines.len() >= EveOutbox::BATCH);
    }
}
