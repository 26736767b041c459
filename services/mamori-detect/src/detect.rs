//! Running a [`Detector`]: per packet, per stream chunk and per transaction,
//! prefilter then verification; at the end of each packet, thresholds,
//! pass/drop decisions and alerts in Suricata's order.

use std::borrow::Cow;
use std::sync::Arc;

use mamori_applayer::{AppProto, Direction};
use mamori_rules::{Action, Buffer, Only};

use crate::build::{tx_index, Detector, LARGE_PAYLOAD};
use crate::flow::{Deferred, FlowDetect, TxScan, MAX_DEFERRED, MAX_PENDING};
use crate::groups::server_port;
use crate::hs;
use crate::inspect::{inspect, Buf, Ctx};
use crate::packet::{conditions_match, header_matches, AddrMemo, FlowFacts, Packet, Tuple};
use crate::prefilter::Prefilter;
use crate::sig::{class_of, flow_dir_ok, Sig, SigInfo, SigKind};
use crate::threshold::ThresholdState;
use crate::transform;

/// Instances of a multi-valued buffer (DNS questions, certificates) looked at.
pub const MAX_INSTANCES: usize = 64;
/// Signatures without a prefilter pattern that may fire on one flow's stream.
const MAX_STREAM_FIRED: usize = 256;
/// Matches queued for one packet (Suricata's alert queue bound).
const MAX_QUEUE: usize = 1024;

/// An app-layer transaction as detection sees it.
pub trait TxSource {
    fn proto(&self) -> AppProto;
    fn tx_id(&self) -> u64;
    /// Instance `idx` of `buffer` (0 for single-valued buffers), if present.
    fn buffer(&self, buffer: Buffer, idx: usize) -> Option<Cow<'_, [u8]>>;
    /// `buffer` only ever grows by appending while the transaction lives
    /// (a body), so a later inspection need only scan its new bytes. A
    /// buffer that comes back shorter than before is scanned whole again.
    fn append_only(&self, _buffer: Buffer) -> bool {
        false
    }
    /// `buffer` can no longer change for this transaction (a request's
    /// headers once the body follows), so once scanned it is not scanned
    /// again when the transaction is inspected anew (as the body grows):
    /// the signatures its patterns made candidates stay pending instead,
    /// as Suricata runs each buffer's prefilter once per transaction.
    fn settled(&self, _buffer: Buffer) -> bool {
        false
    }
}

/// Why a packet is dropped (EVE `drop.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// A drop or reject rule matched it.
    Rules,
    /// rate_filter turned a match into a drop.
    RateFilter,
    /// Its flow was condemned earlier.
    FlowDrop,
}

impl DropReason {
    pub fn eve_name(self) -> &'static str {
        match self {
            DropReason::Rules => "rules",
            DropReason::RateFilter => "threshold detection_filter",
            DropReason::FlowDrop => "flow drop",
        }
    }
}

/// Who a reject answers: TCP RST or ICMP unreachable towards these sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    ToSource,
    ToDestination,
    Both,
}

/// The decision for one packet (inline mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub drop: Option<DropReason>,
    pub reject: Option<Reject>,
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub info: Arc<SigInfo>,
    /// The action that applied (a rate_filter may have changed the rule's).
    pub action: Action,
    /// Inline mode dropped the packet for it (EVE `alert.action: blocked`).
    pub blocked: bool,
    /// The inspected direction.
    pub dir: Direction,
    pub tx_id: Option<u64>,
    /// Matched on reassembled stream data.
    pub stream: bool,
    /// The caller's tag for the inspection that matched.
    pub tag: u32,
}

struct Pending {
    sig: u32,
    dir: Direction,
    tuple: Tuple,
    tx_id: Option<u64>,
    stream: bool,
    tag: u32,
}

enum Src<'a> {
    Packet,
    Stream { window: &'a [u8], anchor: usize },
    Tx(&'a dyn TxSource),
}

/// One thread's detection runtime: scratch space, threshold state and the
/// current packet's matches.
pub struct Detect {
    det: Arc<Detector>,
    ips: bool,
    scratch: hs::Scratch,
    th: ThresholdState,
    queue: Vec<Pending>,
    cands: Vec<u32>,
    ctx: Ctx,
    addr: AddrMemo,
    tmp: Vec<u8>,
    scan_buf: Vec<u8>,
    /// Candidates from growing transaction buffers (reused allocation).
    grown: Vec<u32>,
    memo: ScanMemo,
}

impl Detect {
    /// `ips`: inline (or simulated inline) mode, where drop and reject act.
    pub fn new(det: Arc<Detector>, ips: bool) -> Detect {
        let mut scratch = hs::Scratch::default();
        for db in det.prefilters.iter().flatten().flat_map(|pf| pf.databases()) {
            // A scratch that does not fit only fails scans, which then find nothing.
            let _ = scratch.fit(db);
        }
        Detect {
            det,
            ips,
            scratch,
            th: ThresholdState::default(),
            queue: Vec::new(),
            cands: Vec::new(),
            ctx: Ctx::default(),
            addr: AddrMemo::default(),
            tmp: Vec::new(),
            scan_buf: Vec::new(),
            grown: Vec::new(),
            memo: ScanMemo::new(MEMO_SLOTS),
        }
    }

    pub fn detector(&self) -> &Arc<Detector> {
        &self.det
    }

    pub fn ips(&self) -> bool {
        self.ips
    }

    /// Matches queued for the current packet (to tie app objects to them).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Per-packet signatures: IP-only ones on the first packet of each
    /// direction, header/payload ones on every packet.
    pub fn packet(&mut self, flow: &mut FlowDetect, p: &Packet<'_>, f: &FlowFacts) {
        if flow.pass || flow.drop || self.det.sigs.is_empty() {
            return;
        }
        self.release(flow, f.dir, false);
        let det = &*self.det;
        let t = Tuple::of(p);
        let di = f.dir.index();
        if !flow.iponly_done[di] {
            flow.iponly_done[di] = true;
            self.cands.clear();
            det.iponly_index.candidates(t.src, t.dst, &mut self.cands);
            self.cands.sort_unstable();
            self.cands.dedup();
            for &n in &self.cands {
                let Some(sig) = det.sigs.get(n as usize) else { continue };
                if header_matches(sig, p, &t) {
                    post_match(sig, flow);
                    push(&mut self.queue, Pending { sig: n, dir: f.dir, tuple: t, tx_id: None, stream: false, tag: 0 });
                }
            }
        }
        let server_port = server_port(f.dir, t.sp, t.dp);
        let Some(class) = det.pkt.get(class_of(p.proto)) else { return };
        let Some(g) = class.groups.get(f.dir, server_port) else { return };
        self.cands.clear();
        if !p.payload.is_empty() {
            let db = if p.payload.len() > LARGE_PAYLOAD { g.large_db } else { g.db };
            if let Some(pf) = det.prefilter(db) {
                scan(pf, p.payload, &mut self.scratch, &mut self.cands);
            }
        }
        self.cands.extend_from_slice(&g.always);
        if p.proto != 6 || !f.stream_added {
            if !p.payload.is_empty() {
                if let Some(pf) = det.prefilter(class.fallback_db) {
                    scan(pf, p.payload, &mut self.scratch, &mut self.cands);
                }
            }
            self.cands.extend_from_slice(&class.fallback_always);
        }
        self.cands.sort_unstable();
        self.cands.dedup();
        for &n in &self.cands {
            let Some(sig) = det.sigs.get(n as usize) else { continue };
            if matches(det, sig, flow, p, f, &t, f.dir, &Src::Packet, &mut self.ctx, &mut self.addr, &mut self.tmp) {
                post_match(sig, flow);
                push(&mut self.queue, Pending { sig: n, dir: f.dir, tuple: t, tx_id: None, stream: false, tag: 0 });
            }
        }
    }

    /// New in-order stream bytes of direction `dir` (TCP). `p` is the
    /// packet being processed.
    pub fn stream(&mut self, flow: &mut FlowDetect, p: &Packet<'_>, f: &FlowFacts, dir: Direction, data: &[u8]) {
        if flow.pass || flow.drop || data.is_empty() || !self.det.inspects_stream() {
            return;
        }
        let det = &*self.det;
        self.cands.clear();
        let t = if dir == f.dir { Tuple::of(p) } else { Tuple::of(p).reversed() };
        let group = det.stream.index(dir, server_port(dir, t.sp, t.dp));
        let Some(g) = det.stream.groups.get(group) else { return };
        if let Some(pf) = det.prefilter(g.db) {
            let side = &mut flow.stream[dir.index()];
            if side.hs.is_none() && !side.hs_failed {
                match pf.open_stream() {
                    Ok(s) => side.hs = Some((group, s)),
                    Err(_) => side.hs_failed = true,
                }
            }
            match side.hs.as_mut() {
                // A flow's ports never change, but the matches must be read
                // with the database the prefilter stream was opened on.
                Some((opened, s)) => {
                    let pf = det.stream.groups.get(*opened).and_then(|o| det.prefilter(o.db)).unwrap_or(pf);
                    let cands = &mut self.cands;
                    let _ =
                        pf.scan_stream(s, data, &mut self.scratch, &mut |id| cands.extend_from_slice(pf.sigs_of(id)));
                }
                // No prefilter stream: verify everything keyed on the stream.
                None => self.cands.extend_from_slice(pf.all()),
            }
        }
        for &n in &g.always {
            if !flow.stream_fired.contains(&n) {
                self.cands.push(n);
            }
        }
        if self.cands.is_empty() {
            flow.pass_stream(dir, data);
            return;
        }
        let start = flow.push_stream(dir, data);
        self.cands.sort_unstable();
        self.cands.dedup();
        let window = std::mem::take(&mut flow.stream[dir.index()].window);
        for &n in &self.cands {
            let Some(sig) = det.sigs.get(n as usize) else { continue };
            let src = Src::Stream { window: &window, anchor: start };
            if matches(det, sig, flow, p, f, &t, dir, &src, &mut self.ctx, &mut self.addr, &mut self.tmp) {
                post_match(sig, flow);
                if sig.fast.is_none() && flow.stream_fired.len() < MAX_STREAM_FIRED {
                    flow.stream_fired.push(n);
                }
                push(&mut self.queue, Pending { sig: n, dir, tuple: t, tx_id: None, stream: true, tag: 0 });
            }
        }
        flow.stream[dir.index()].window = window;
    }

    /// Move deferred transaction matches that are due (or all, at flow end)
    /// to the packet's queue.
    fn release(&mut self, flow: &mut FlowDetect, dir: Direction, all: bool) {
        if flow.deferred.is_empty() {
            return;
        }
        let queue = &mut self.queue;
        flow.deferred.retain_mut(|d| {
            if all || (d.dir == dir && d.saw_other) {
                push(
                    queue,
                    Pending { sig: d.sig, dir: d.dir, tuple: d.tuple, tx_id: Some(d.tx_id), stream: false, tag: d.tag },
                );
                return false;
            }
            if d.dir != dir {
                d.saw_other = true;
            }
            true
        });
    }

    /// The flow ends: deferred matches are due now (Suricata's flow
    /// timeout pseudo packets).
    pub fn flush_deferred(&mut self, flow: &mut FlowDetect) {
        self.release(flow, Direction::ToServer, true);
    }

    /// The stream of `dir` ended; what was kept to scan it is freed.
    pub fn stream_end(&mut self, flow: &mut FlowDetect, dir: Direction) {
        flow.stream_end(dir);
    }

    /// Stream bytes of `dir` were lost.
    pub fn stream_gap(&mut self, flow: &mut FlowDetect, dir: Direction, len: u64) {
        flow.stream_gap(dir, len);
    }

    /// A transaction progressed in direction `dir`. `tag` comes back on
    /// alerts from this inspection. Returns whether a signature that can
    /// write an alert matched (`noalert` ones, e.g. ET Open's flowbit
    /// setters on ordinary web traffic, need no app objects kept for it).
    pub fn tx(
        &mut self,
        flow: &mut FlowDetect,
        p: &Packet<'_>,
        f: &FlowFacts,
        dir: Direction,
        tx: &dyn TxSource,
        tag: u32,
    ) -> bool {
        if flow.pass || flow.drop {
            return false;
        }
        let det = &*self.det;
        let Some(g) = tx_index(tx.proto(), dir).and_then(|i| det.tx.get(i)) else { return false };
        let tx_id = tx.tx_id();
        // Candidates from growing buffers are kept apart (`grown`): they are
        // what the next inspection must verify again without rescanning.
        let mut prev = flow.take_tx_scan(tx_id, dir);
        // Sized up front: a transaction's settled lists are recorded once each.
        let mut scanned = Vec::with_capacity(prev.as_ref().map_or(0, |s| s.scanned.len()).max(g.dbs.len()));
        let mut grown = std::mem::take(&mut self.grown);
        loop {
            self.cands.clear();
            grown.clear();
            scanned.clear();
            let mut shrunk = false;
            for &(list, db) in &g.dbs {
                let Some(pf) = det.prefilter(Some(db)) else { continue };
                let Some(def) = det.lists.get(usize::from(list)) else { continue };
                let settled = tx.settled(def.buffer);
                for idx in 0..MAX_INSTANCES {
                    if settled {
                        if let Some(len) = prev.as_ref().and_then(|s| s.scanned(list, idx)) {
                            scanned.push((list, idx, len));
                            continue;
                        }
                    }
                    let Some(b) = tx.buffer(def.buffer, idx) else { break };
                    // A settled buffer's candidates are kept (in `grown`) for
                    // the inspections that will not scan it again.
                    let found = if settled { &mut grown } else { &mut self.cands };
                    if def.has_transforms {
                        transform::apply(&def.steps, &b, &mut self.scan_buf);
                        self.memo.scan(db, pf, &self.scan_buf, &mut self.scratch, found);
                        if settled {
                            scanned.push((list, idx, b.len()));
                        }
                    } else if tx.append_only(def.buffer) {
                        let done = prev.as_ref().and_then(|s| s.scanned(list, idx)).unwrap_or(0);
                        shrunk |= done > b.len();
                        let from = done.min(b.len()).saturating_sub(pf.max_len.saturating_sub(1));
                        scan(pf, b.get(from..).unwrap_or_default(), &mut self.scratch, &mut grown);
                        scanned.push((list, idx, b.len()));
                    } else {
                        self.memo.scan(db, pf, &b, &mut self.scratch, found);
                        if settled {
                            scanned.push((list, idx, b.len()));
                        }
                    }
                }
            }
            // A growing buffer was replaced: what was found in its old bytes
            // no longer holds, so scan everything from the start.
            if shrunk && prev.take().is_some() {
                continue;
            }
            break;
        }
        if let Some(s) = prev {
            grown.extend_from_slice(&s.pending);
        }
        grown.sort_unstable();
        grown.dedup();
        self.cands.extend_from_slice(&grown);
        self.cands.extend_from_slice(&g.always);
        self.cands.sort_unstable();
        self.cands.dedup();
        let t = if dir == f.dir { Tuple::of(p) } else { Tuple::of(p).reversed() };
        let mut any = false;
        for &n in &self.cands {
            if flow.tx_fired(tx_id, dir, n) {
                continue;
            }
            let Some(sig) = det.sigs.get(n as usize) else { continue };
            if matches(det, sig, flow, p, f, &t, dir, &Src::Tx(tx), &mut self.ctx, &mut self.addr, &mut self.tmp) {
                flow.mark_tx(tx_id, dir, n);
                post_match(sig, flow);
                any |= !sig.noalert;
                if flow.ids_timing {
                    if flow.deferred.len() < MAX_DEFERRED {
                        flow.deferred.push(Deferred { sig: n, dir, tuple: t, tx_id, tag, saw_other: false });
                    }
                } else {
                    push(&mut self.queue, Pending { sig: n, dir, tuple: t, tx_id: Some(tx_id), stream: false, tag });
                }
            }
        }
        if !scanned.is_empty() {
            grown.retain(|&n| !flow.tx_fired(tx_id, dir, n));
            if grown.len() <= MAX_PENDING {
                flow.put_tx_scan(TxScan { tx_id, dir, scanned, pending: std::mem::take(&mut grown) });
            }
        }
        self.grown = grown;
        any
    }

    /// End of a packet: thresholds, actions and alerts, in signature order.
    /// Returns the packet's verdict (drops only in inline mode).
    pub fn finish(&mut self, flow: &mut FlowDetect, p: &Packet<'_>, alerts: &mut Vec<Alert>) -> Verdict {
        let mut v = Verdict::default();
        if self.queue.is_empty() {
            return v;
        }
        let det = &*self.det;
        self.queue.sort_by_key(|m| m.sig);
        let now = p.ts_us / 1_000_000;
        let mut written = 0usize;
        for m in self.queue.drain(..) {
            let Some(sig) = det.sigs.get(m.sig as usize) else { continue };
            let mut alert = true;
            let mut action = sig.action;
            let mut rate_changed = false;
            if let Some(th) = det.thresholds.get(m.sig as usize).filter(|t| !t.is_empty()) {
                let o = self.th.check(m.sig, th, now, m.tuple.src, m.tuple.dst, flow.id);
                alert = o.alert;
                if let Some(a) = o.action {
                    rate_changed = a != action;
                    action = a;
                }
            }
            // Suricata applies drop and pass to the whole flow when the match
            // was on a transaction or the stream, or the rule is IP-only or
            // names an app-layer protocol; otherwise to this packet only.
            let whole_flow = m.tx_id.is_some() || m.stream || sig.kind != SigKind::Packet || sig.app.is_some();
            let mut blocked = false;
            match action {
                Action::Pass => {
                    // A dropped packet stays dropped; otherwise the first of
                    // pass and drop to reach the flow wins.
                    if whole_flow && v.drop.is_none() && !flow.drop {
                        flow.pass = true;
                    }
                    // A pass ends the packet's alerts: later matches do not count.
                    break;
                }
                Action::Alert => {}
                // Detection mode: nothing is dropped, but a flow-wide drop
                // still ends the flow's inspection, as in Suricata.
                _ if !self.ips => {
                    if whole_flow && !flow.pass {
                        flow.drop = true;
                    }
                }
                a => {
                    blocked = true;
                    if v.drop.is_none() {
                        v.drop = Some(if rate_changed { DropReason::RateFilter } else { DropReason::Rules });
                    }
                    if a.is_reject() && v.reject.is_none() {
                        v.reject = Some(match a {
                            Action::RejectDst => Reject::ToDestination,
                            Action::RejectBoth => Reject::Both,
                            _ => Reject::ToSource,
                        });
                    }
                    if whole_flow && !flow.pass {
                        flow.drop = true;
                    }
                }
            }
            if alert && !sig.noalert && written < det.opts.max_alerts {
                written += 1;
                alerts.push(Alert {
                    info: sig.info.clone(),
                    action,
                    blocked,
                    dir: m.dir,
                    tx_id: m.tx_id,
                    stream: m.stream,
                    tag: m.tag,
                });
            }
        }
        self.queue.clear();
        v
    }
}

fn push(q: &mut Vec<Pending>, p: Pending) {
    if q.len() < MAX_QUEUE {
        q.push(p);
    }
}

fn scan(pf: &Prefilter, data: &[u8], scratch: &mut hs::Scratch, cands: &mut Vec<u32>) {
    let _ = pf.scan(data, scratch, &mut |id| cands.extend_from_slice(pf.sigs_of(id)));
}

/// Slots of a worker's [`ScanMemo`].
const MEMO_SLOTS: usize = 1024;
/// Longest buffer a [`ScanMemo`] keeps results for.
const MEMO_MAX: usize = 256;

/// What the prefilter found in recent short transaction buffers, by
/// database and bytes. Header fields repeat from one transaction to the next
/// (methods, versions, status lines, content types, server names, a site's
/// host and paths), and scanning a few bytes against a database of
/// thousands of patterns costs a few hundred nanoseconds, mostly in reaching
/// the database's tables; a repeat costs a hash and a compare instead. The
/// results are exact: a slot keeps the whole buffer, compared in full, and
/// the pattern ids its scan reported (a scan is a pure function of both).
/// Colliding buffers only take each other's slot.
struct ScanMemo {
    slots: Vec<MemoSlot>,
    /// Seeded per worker: buffers come off the wire, so which collide must
    /// not be predictable (a collision only costs a scan, though).
    hasher: foldhash::fast::RandomState,
}

struct MemoSlot {
    /// The database (prefilter index) scanned; `None`: empty.
    db: Option<u32>,
    bytes: Vec<u8>,
    ids: Vec<u32>,
}

impl ScanMemo {
    fn new(slots: usize) -> ScanMemo {
        ScanMemo {
            slots: (0..slots.max(1)).map(|_| MemoSlot { db: None, bytes: Vec::new(), ids: Vec::new() }).collect(),
            hasher: Default::default(),
        }
    }

    /// [`scan`] database `db` (`pf`) over `data`, or recall what it found.
    fn scan(&mut self, db: u32, pf: &Prefilter, data: &[u8], scratch: &mut hs::Scratch, cands: &mut Vec<u32>) {
        use std::hash::BuildHasher;
        if data.len() > MEMO_MAX {
            return scan(pf, data, scratch, cands);
        }
        let at = (self.hasher.hash_one((db, data)) % self.slots.len() as u64) as usize;
        let Some(slot) = self.slots.get_mut(at) else { return scan(pf, data, scratch, cands) };
        if slot.db != Some(db) || slot.bytes != data {
            slot.ids.clear();
            let ids = &mut slot.ids;
            // A failed scan is not remembered: the next one tries again.
            slot.db = pf.scan(data, scratch, &mut |id| ids.push(id)).is_ok().then_some(db);
            slot.bytes.clear();
            slot.bytes.extend_from_slice(data);
        }
        for &id in &slot.ids {
            cands.extend_from_slice(pf.sigs_of(id));
        }
    }
}

/// Post-match actions: flowbits and flowints (they apply even to
/// thresholded or noalert matches, as in Suricata).
fn post_match(sig: &Sig, flow: &mut FlowDetect) {
    if !sig.bits.is_empty() {
        flow.apply_bits(&sig.bits);
    }
    if !sig.ints.is_empty() {
        flow.apply_ints(&sig.ints);
    }
}

#[allow(clippy::too_many_arguments)]
fn matches(
    det: &Detector,
    sig: &Sig,
    flow: &FlowDetect,
    p: &Packet<'_>,
    f: &FlowFacts,
    t: &Tuple,
    dir: Direction,
    src: &Src<'_>,
    ctx: &mut Ctx,
    addr: &mut AddrMemo,
    tmp: &mut Vec<u8>,
) -> bool {
    // Cheapest checks first (all are pure): the address and port sets come
    // after the flow and header-field conditions, which turn away most of
    // the unfiltered signatures (`flags:S`, `dsize`) on most packets.
    if sig.app.is_some_and(|a| f.app_proto != Some(a)) {
        return false;
    }
    if sig.flow.established.is_some_and(|e| e != f.established) || !flow_dir_ok(&sig.flow, dir) {
        return false;
    }
    match (sig.flow.stream, src) {
        (Some(Only::Only), Src::Packet) | (Some(Only::Never), Src::Stream { .. }) => return false,
        _ => {}
    }
    if !sig.proto.matches(p.proto, p.ipv6) || !conditions_match(sig, p, f, t) {
        return false;
    }
    if !addr.matches(det.addr_classes, sig, p.proto, t) {
        return false;
    }
    if sig.xbits_test || !flow.bits_ok(&sig.bits) || !flow.ints_ok(&sig.ints) {
        return false;
    }
    for l in &sig.lists {
        let Some(def) = det.lists.get(usize::from(l.list)) else { return false };
        let ok = if l.buffer.is_payload() {
            let (data, anchor) = match src {
                Src::Stream { window, anchor } => (*window, *anchor),
                _ => (p.payload, 0),
            };
            if data.is_empty() {
                return false;
            }
            if def.has_transforms {
                transform::apply(&def.steps, data, tmp);
                inspect(&l.items, Buf { data: tmp, anchor: 0 }, ctx)
            } else {
                inspect(&l.items, Buf { data, anchor }, ctx)
            }
        } else {
            let Src::Tx(tx) = src else { return false };
            let mut any = false;
            for idx in 0..MAX_INSTANCES {
                let Some(b) = tx.buffer(l.buffer, idx) else { break };
                if b.is_empty() {
                    continue;
                }
                let hit = if def.has_transforms {
                    transform::apply(&def.steps, &b, tmp);
                    inspect(&l.items, Buf { data: tmp, anchor: 0 }, ctx)
                } else {
                    inspect(&l.items, Buf { data: &b, anchor: 0 }, ctx)
                };
                if hit {
                    any = true;
                    break;
                }
            }
            any
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hs::Mode;
    use crate::prefilter::PatternSet;

    fn prefilter(pats: &[(&[u8], u32)]) -> (Prefilter, hs::Scratch) {
        let mut p = PatternSet::new(Mode::Block);
        for (bytes, sig) in pats {
            p.add(bytes, false, *sig, None);
        }
        let dbs = p.compile().unwrap();
        let pf = p.finish(dbs);
        let mut scratch = hs::Scratch::default();
        for db in pf.databases() {
            scratch.fit(db).unwrap();
        }
        (pf, scratch)
    }

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    /// One slot, so every buffer takes the slot of the one before: what is
    /// recalled must still be what a scan finds, buffer by buffer and
    /// database by database.
    #[test]
    fn remembered_scans_find_what_scans_find_whatever_shares_their_slot() {
        let (a, mut scratch) = prefilter(&[(b"evil", 1), (b"GET", 2)]);
        let (b, _) = prefilter(&[(b"evil", 7)]);
        for db in b.databases() {
            scratch.fit(db).unwrap();
        }
        let inputs: [(u32, &Prefilter, &[u8]); 7] = [
            (0, &a, b"GET /evil"),
            (0, &a, b"GET /evil"),
            (0, &a, b"POST /fine"),
            (1, &b, b"GET /evil"),
            (0, &a, b"GET /evil"),
            (0, &a, b"GET /evi"),
            (0, &a, b"GET /evil"),
        ];
        for slots in [1, MEMO_SLOTS] {
            let mut memo = ScanMemo::new(slots);
            for (n, (db, pf, data)) in inputs.iter().enumerate() {
                let (mut want, mut got) = (Vec::new(), Vec::new());
                scan(pf, data, &mut scratch, &mut want);
                memo.scan(*db, pf, data, &mut scratch, &mut got);
                assert_eq!(sorted(got), sorted(want), "input {n} ({slots} slots)");
            }
        }
    }

    #[test]
    fn long_buffers_are_scanned_not_remembered() {
        let (a, mut scratch) = prefilter(&[(b"evil", 1)]);
        let mut memo = ScanMemo::new(1);
        let long = [&[b'x'; MEMO_MAX][..], b"evil"].concat();
        let mut got = Vec::new();
        memo.scan(0, &a, &long, &mut scratch, &mut got);
        assert_eq!(got, [1]);
        assert!(memo.slots[0].db.is_none(), "nothing kept for a buffer this long");
    }
}
