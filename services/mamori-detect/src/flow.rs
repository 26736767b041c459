//! Detection state kept per flow: flowbits, flowints, stream windows and
//! prefilter streams, which signatures already fired on which transaction,
//! and the pass/drop decisions that end inspection.

use std::collections::VecDeque;

use mamori_applayer::Direction;
use mamori_rules::{BitCmd, FlowintOp};

use crate::prefilter::PrefilterStream;
use crate::sig::{BitOp, IntOp, IntValue, ListId};

/// Bytes of earlier stream data kept in front of new data, so patterns that
/// straddle segments verify.
pub(crate) const STREAM_OVERLAP: usize = 2048;
/// Transactions whose fired signatures are remembered per flow.
const TX_MEMORY: usize = 16;
/// Transactions whose scan state (see [`TxScan`]) is remembered per flow.
const TX_SCANS: usize = 4;
/// Candidates a [`TxScan`] keeps; with more, the next inspection of the
/// transaction scans everything again instead.
pub(crate) const MAX_PENDING: usize = 1024;
/// Flowbits and flowints a flow may hold.
const MAX_VARS: usize = 256;

#[derive(Default)]
pub(crate) struct StreamSide {
    /// Recent stream bytes: an overlap tail followed by the newest data.
    pub window: Vec<u8>,
    /// Stream offset of `window[0]`.
    pub base: u64,
    /// The prefilter stream, with the stream group whose database it
    /// was opened on.
    pub hs: Option<(usize, PrefilterStream)>,
    /// The prefilter stream could not be used (open failed): verify all.
    pub hs_failed: bool,
}

/// Signatures that matched one transaction in one direction.
struct TxFired {
    tx_id: u64,
    dir: Direction,
    sigs: Vec<u32>,
}

/// How far the last inspection of a transaction (in one direction) scanned
/// its growing buffers (bodies, which only ever get appended to), and the
/// signatures those bytes made candidates that have not matched yet. The
/// next inspection scans only the new bytes (plus a pattern's length of
/// overlap) and verifies these candidates again, so a body that arrives in
/// many segments is scanned once in all instead of once per segment.
pub(crate) struct TxScan {
    pub tx_id: u64,
    pub dir: Direction,
    /// (list, instance, bytes scanned).
    pub scanned: Vec<(ListId, usize, usize)>,
    pub pending: Vec<u32>,
}

impl TxScan {
    pub fn scanned(&self, list: ListId, idx: usize) -> Option<usize> {
        self.scanned.iter().find(|(l, i, _)| *l == list && *i == idx).map(|s| s.2)
    }
}

/// Per-flow detection state; the engine keeps one in each flow.
#[derive(Default)]
pub struct FlowDetect {
    /// Engine-chosen id for `track by_flow`.
    pub(crate) id: u64,
    bits: Vec<u32>,
    ints: Vec<(u32, u32)>,
    pub(crate) iponly_done: [bool; 2],
    pub(crate) stream: [StreamSide; 2],
    fired: VecDeque<TxFired>,
    tx_scans: VecDeque<TxScan>,
    /// Signatures without a prefilter pattern already fired on the stream.
    pub(crate) stream_fired: Vec<u32>,
    pub(crate) pass: bool,
    pub(crate) drop: bool,
    /// Transaction matches waiting for their packet (IDS timing, see
    /// [`FlowDetect::set_ids_timing`]).
    pub(crate) deferred: Vec<Deferred>,
    pub(crate) ids_timing: bool,
}

/// A transaction match whose alert waits until Suricata's IDS mode would
/// have inspected it: the data is parsed once the other side acknowledged
/// it, and the transaction is inspected on the next packet of its own
/// direction.
pub(crate) struct Deferred {
    pub sig: u32,
    pub dir: Direction,
    pub tuple: crate::packet::Tuple,
    pub tx_id: u64,
    pub tag: u32,
    pub saw_other: bool,
}

/// Deferred matches held per flow.
pub(crate) const MAX_DEFERRED: usize = 64;

impl FlowDetect {
    pub fn new(id: u64) -> FlowDetect {
        FlowDetect { id, ..Default::default() }
    }

    /// Alert transaction matches when Suricata's IDS mode would (TCP,
    /// not inline): after the other side acknowledged the data, on the next
    /// packet of the transaction's direction.
    pub fn set_ids_timing(&mut self, on: bool) {
        self.ids_timing = on;
    }

    /// A pass rule matched: nothing more of this flow is inspected.
    pub fn passed(&self) -> bool {
        self.pass
    }

    /// A drop rule (inline) condemned the rest of the flow.
    pub fn dropped(&self) -> bool {
        self.drop
    }

    pub(crate) fn bits_ok(&self, ops: &[BitOp]) -> bool {
        ops.iter().all(|op| {
            let has = |n: &u32| self.bits.binary_search(n).is_ok();
            match op.cmd {
                BitCmd::IsSet => {
                    if op.all {
                        op.names.iter().all(has)
                    } else {
                        op.names.iter().any(has)
                    }
                }
                BitCmd::IsNotSet => {
                    if op.all {
                        !op.names.iter().any(has)
                    } else {
                        !op.names.iter().all(has)
                    }
                }
                _ => true,
            }
        })
    }

    pub(crate) fn apply_bits(&mut self, ops: &[BitOp]) {
        for op in ops {
            for n in &op.names {
                let pos = self.bits.binary_search(n);
                match (op.cmd, pos) {
                    (BitCmd::Set, Err(i)) | (BitCmd::Toggle, Err(i)) if self.bits.len() < MAX_VARS => {
                        self.bits.insert(i, *n)
                    }
                    (BitCmd::Unset, Ok(i)) | (BitCmd::Toggle, Ok(i)) => {
                        self.bits.remove(i);
                    }
                    _ => {}
                }
            }
        }
    }

    fn int(&self, name: u32) -> Option<u32> {
        self.ints.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn value(&self, v: &Option<IntValue>) -> Option<u32> {
        match v {
            Some(IntValue::Num(n)) => Some(*n),
            Some(IntValue::Var(name)) => self.int(*name),
            None => None,
        }
    }

    pub(crate) fn ints_ok(&self, ops: &[IntOp]) -> bool {
        ops.iter().all(|op| {
            let cur = self.int(op.name);
            let want = self.value(&op.value);
            match op.op {
                FlowintOp::IsSet => cur.is_some(),
                FlowintOp::NotSet => cur.is_none(),
                FlowintOp::Set | FlowintOp::Add | FlowintOp::Sub => true,
                cmp => match (cur, want) {
                    (Some(c), Some(w)) => match cmp {
                        FlowintOp::Eq => c == w,
                        FlowintOp::Ne => c != w,
                        FlowintOp::Lt => c < w,
                        FlowintOp::Le => c <= w,
                        FlowintOp::Gt => c > w,
                        FlowintOp::Ge => c >= w,
                        _ => false,
                    },
                    _ => false,
                },
            }
        })
    }

    pub(crate) fn apply_ints(&mut self, ops: &[IntOp]) {
        for op in ops {
            let Some(v) = self.value(&op.value) else { continue };
            let cur = self.int(op.name);
            let new = match op.op {
                FlowintOp::Set => v,
                FlowintOp::Add => cur.unwrap_or(0).saturating_add(v),
                FlowintOp::Sub => cur.unwrap_or(0).saturating_sub(v),
                _ => continue,
            };
            if let Some(e) = self.ints.iter_mut().find(|(n, _)| *n == op.name) {
                e.1 = new;
            } else if self.ints.len() < MAX_VARS {
                self.ints.push((op.name, new));
            }
        }
    }

    /// Whether `sig` already fired on this transaction and direction.
    pub(crate) fn tx_fired(&self, tx_id: u64, dir: Direction, sig: u32) -> bool {
        self.fired.iter().any(|f| f.tx_id == tx_id && f.dir == dir && f.sigs.contains(&sig))
    }

    /// The scan state of a transaction, taken out (put it back with
    /// [`FlowDetect::put_tx_scan`]).
    pub(crate) fn take_tx_scan(&mut self, tx_id: u64, dir: Direction) -> Option<TxScan> {
        let pos = self.tx_scans.iter().position(|s| s.tx_id == tx_id && s.dir == dir)?;
        self.tx_scans.remove(pos)
    }

    pub(crate) fn put_tx_scan(&mut self, scan: TxScan) {
        if self.tx_scans.len() >= TX_SCANS {
            self.tx_scans.pop_front();
        }
        self.tx_scans.push_back(scan);
    }

    pub(crate) fn mark_tx(&mut self, tx_id: u64, dir: Direction, sig: u32) {
        if let Some(f) = self.fired.iter_mut().find(|f| f.tx_id == tx_id && f.dir == dir) {
            f.sigs.push(sig);
            return;
        }
        if self.fired.len() >= TX_MEMORY {
            self.fired.pop_front();
        }
        self.fired.push_back(TxFired { tx_id, dir, sigs: vec![sig] });
    }

    /// Append new stream bytes to the window of `dir`, trimming what is
    /// older than the overlap. Returns where the new bytes start.
    pub(crate) fn push_stream(&mut self, dir: Direction, data: &[u8]) -> usize {
        let side = &mut self.stream[dir.index()];
        if side.window.len() > STREAM_OVERLAP {
            let cut = side.window.len() - STREAM_OVERLAP;
            side.window.drain(..cut);
            side.base = side.base.saturating_add(cut as u64);
        }
        // A window that once held a huge chunk gives the memory back.
        if side.window.capacity() > 64 * 1024 && side.window.len() + data.len() < 16 * 1024 {
            side.window.shrink_to(16 * 1024);
        }
        let start = side.window.len();
        side.window.extend_from_slice(data);
        start
    }

    /// New in-order bytes of `dir` that no signature needs to verify: only
    /// the tail a later straddling match may need is kept, leaving the
    /// window as [`Self::push_stream`] of the next bytes would, without
    /// copying all of these. Most stream data takes this path: the
    /// prefilter rarely has candidates.
    pub(crate) fn pass_stream(&mut self, dir: Direction, data: &[u8]) {
        let side = &mut self.stream[dir.index()];
        let keep_old = STREAM_OVERLAP.saturating_sub(data.len()).min(side.window.len());
        let cut = side.window.len() - keep_old;
        let new = &data[data.len().saturating_sub(STREAM_OVERLAP)..];
        side.base = side.base.saturating_add((cut + data.len() - new.len()) as u64);
        side.window.drain(..cut);
        side.window.extend_from_slice(new);
    }

    /// Bytes held to scan this flow's streams (windows).
    pub fn held_bytes(&self) -> usize {
        self.stream.iter().map(|s| s.window.capacity()).sum()
    }

    /// The stream of `dir` ended (FIN or RST): its window and prefilter
    /// stream are freed now rather than when the lingering flow expires.
    pub fn stream_end(&mut self, dir: Direction) {
        let side = &mut self.stream[dir.index()];
        side.base = side.base.saturating_add(side.window.len() as u64);
        side.window = Vec::new();
        side.hs = None;
    }

    /// No transaction of this flow will be inspected again (its app
    /// protocol is over): what was kept about them is freed.
    pub fn forget_transactions(&mut self) {
        self.fired = VecDeque::new();
        self.tx_scans = VecDeque::new();
    }

    /// A gap in the stream: earlier bytes are no longer contiguous.
    pub(crate) fn stream_gap(&mut self, dir: Direction, len: u64) {
        let side = &mut self.stream[dir.index()];
        side.base = side.base.saturating_add(side.window.len() as u64).saturating_add(len);
        side.window.clear();
        // The prefilter stream saw contiguous data up to the gap; start over.
        side.hs = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flowbits_set_test_unset_toggle() {
        let mut f = FlowDetect::default();
        let set = |n: u32| BitOp { cmd: BitCmd::Set, names: vec![n], all: true };
        let isset = |names: Vec<u32>, all| BitOp { cmd: BitCmd::IsSet, names, all };
        assert!(!f.bits_ok(&[isset(vec![1], true)]));
        f.apply_bits(&[set(1)]);
        assert!(f.bits_ok(&[isset(vec![1], true)]));
        assert!(f.bits_ok(&[isset(vec![1, 2], false)]), "any of");
        assert!(!f.bits_ok(&[isset(vec![1, 2], true)]), "all of");
        f.apply_bits(&[BitOp { cmd: BitCmd::Toggle, names: vec![1, 2], all: true }]);
        assert!(f.bits_ok(&[isset(vec![2], true), BitOp { cmd: BitCmd::IsNotSet, names: vec![1], all: true }]));
    }

    #[test]
    fn flowints_count() {
        let mut f = FlowDetect::default();
        let op = |op, value| IntOp { name: 0, op, value };
        assert!(f.ints_ok(&[op(FlowintOp::NotSet, None)]));
        f.apply_ints(&[op(FlowintOp::Add, Some(IntValue::Num(2)))]);
        f.apply_ints(&[op(FlowintOp::Add, Some(IntValue::Num(3)))]);
        assert!(f.ints_ok(&[op(FlowintOp::Eq, Some(IntValue::Num(5)))]));
        assert!(f.ints_ok(&[op(FlowintOp::Gt, Some(IntValue::Num(4)))]));
        assert!(!f.ints_ok(&[op(FlowintOp::Lt, Some(IntValue::Num(5)))]));
    }

    #[test]
    fn stream_window_keeps_an_overlap() {
        let mut f = FlowDetect::default();
        let big = vec![b'a'; STREAM_OVERLAP + 100];
        assert_eq!(f.push_stream(Direction::ToServer, &big), 0);
        let start = f.push_stream(Direction::ToServer, b"xyz");
        assert_eq!(start, STREAM_OVERLAP);
        assert_eq!(f.stream[0].base, 100);
        assert_eq!(f.stream[0].window.len(), STREAM_OVERLAP + 3);
    }

    #[test]
    fn passing_stream_bytes_leaves_the_window_a_push_would() {
        // What verification of the next chunk sees: its anchor, the window
        // and the stream offset of the window's first byte.
        fn next_view(side: &StreamSide) -> (usize, Vec<u8>, u64) {
            let mut f = FlowDetect::default();
            f.stream[1].window = side.window.clone();
            f.stream[1].base = side.base;
            let start = f.push_stream(Direction::ToClient, b"next");
            (start, f.stream[1].window.clone(), f.stream[1].base)
        }
        let chunks: [&[u8]; 5] = [&[b'a'; 3000], b"xyz", &[b'b'; 2040], &[b'c'; 5000], b"q"];
        let (mut pushed, mut passed) = (FlowDetect::default(), FlowDetect::default());
        for (i, c) in chunks.iter().enumerate() {
            pushed.push_stream(Direction::ToClient, c);
            passed.pass_stream(Direction::ToClient, c);
            assert_eq!(next_view(&pushed.stream[1]), next_view(&passed.stream[1]), "after chunk {i}");
            assert!(passed.stream[1].window.len() <= STREAM_OVERLAP, "only the overlap is kept");
        }
    }

    #[test]
    fn tx_memory_is_bounded() {
        let mut f = FlowDetect::default();
        for tx in 0..100 {
            f.mark_tx(tx, Direction::ToServer, 7);
        }
        assert!(f.tx_fired(99, Direction::ToServer, 7));
        assert!(!f.tx_fired(99, Direction::ToClient, 7));
        assert!(!f.tx_fired(0, Direction::ToServer, 7), "old transactions are forgotten");
    }
}
