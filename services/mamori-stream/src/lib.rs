//! TCP reassembly for one direction of a connection.
//!
//! Bytes are delivered to the consumer in order, exactly once. Segments that
//! arrive early wait in a bounded buffer. Missing data is reported as an
//! explicit gap (when the receiver acknowledged bytes we never saw, when the
//! buffer overflows, or when the stream ends) and never glued over.
//!
//! Overlapping data that has not been delivered yet is resolved with the
//! Linux policy (as Snort/Suricata define it for target-based reassembly):
//! the newer segment wins where it starts before the older one, or starts at
//! the same place and ends after it; otherwise the older data stays. Data
//! that was already delivered never changes; a retransmission that differs
//! from it is counted, since it is how evasions look.

use std::collections::BTreeMap;

/// A piece of in-order stream output.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// This many bytes are missing and will never be delivered.
    Gap(u64),
}

#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// Bytes delivered at most (0 = no limit). Past it, the direction is
    /// done for inspection and the flow may be bypassed.
    pub depth: u64,
    /// Out-of-order bytes held at most.
    pub max_buffered: usize,
    /// Out-of-order segments held at most (many tiny segments cost more
    /// than their bytes).
    pub max_segments: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig { depth: 1 << 20, max_buffered: 1 << 20, max_segments: 2048 }
    }
}

/// Counts a consumer can turn into anomalies and statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub segments: u64,
    pub out_of_order: u64,
    pub retransmissions: u64,
    /// Retransmitted bytes that differ from what was delivered.
    pub overlap_diff: u64,
    /// Pending data replaced by newer overlapping data.
    pub overlaps: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Segments dropped because the out-of-order buffer was full.
    pub buffer_full: u64,
}

pub struct Reassembler {
    config: StreamConfig,
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Offset of the next byte to deliver.
    next: u64,
    pending: BTreeMap<u64, Vec<u8>>,
    buffered: usize,
    depth_reached: bool,
    closed: bool,
    pub stats: StreamStats,
}

impl Reassembler {
    pub fn new(config: StreamConfig) -> Self {
        Reassembler {
            config,
            base: None,
            next: 0,
            pending: BTreeMap::new(),
            buffered: 0,
            depth_reached: false,
            closed: false,
            stats: StreamStats::default(),
        }
    }

    /// Set where the stream starts. Only possible before any byte was
    /// delivered or buffered; later calls are ignored and return false.
    pub fn start(&mut self, seq: u32) -> bool {
        if self.next > 0 || !self.pending.is_empty() {
            return false;
        }
        self.base = Some(seq);
        true
    }

    pub fn started(&self) -> bool {
        self.base.is_some()
    }

    /// Bytes delivered or skipped as gaps so far.
    pub fn offset(&self) -> u64 {
        self.next
    }

    pub fn buffered(&self) -> usize {
        self.buffered
    }

    pub fn depth_reached(&self) -> bool {
        self.depth_reached
    }

    /// No more bytes will be delivered: past the depth, or the direction ended.
    pub fn finished(&self) -> bool {
        self.depth_reached || self.closed
    }

    /// Stream offset of sequence number `seq`, relative to the delivery point
    /// so that wrap-around is handled (valid within ±2 GiB of it).
    fn offset_of(&self, seq: u32) -> Option<i128> {
        let base = self.base?;
        let next_seq = base.wrapping_add(self.next as u32);
        let delta = seq.wrapping_sub(next_seq) as i32;
        Some(i128::from(self.next) + i128::from(delta))
    }

    /// Feed a segment. In-order data is passed to `out` without copying.
    pub fn segment(&mut self, seq: u32, data: &[u8], out: &mut dyn FnMut(Chunk<'_>)) {
        if data.is_empty() || self.closed || self.depth_reached {
            return;
        }
        self.stats.segments += 1;
        if self.base.is_none() {
            self.base = Some(seq);
        }
        let Some(start) = self.offset_of(seq) else { return };
        let end = start + data.len() as i128;
        let next = i128::from(self.next);
        if end <= next {
            self.stats.retransmissions += 1;
            return; // all old; comparing against delivered bytes would need them kept
        }
        // Trim what was already delivered.
        let (start, data) = if start < next {
            self.stats.retransmissions += 1;
            let skip = (next - start) as usize;
            (next, data.get(skip..).unwrap_or_default())
        } else {
            (start, data)
        };
        let start = start as u64;
        if start == self.next && self.pending.is_empty() {
            self.deliver(data, out);
            return;
        }
        self.stats.out_of_order += u64::from(start != self.next);
        self.insert_pending(start, data);
        self.drain(out);
    }

    /// The receiver of this direction acknowledged up to `ack`: anything
    /// before it that we never saw is a gap.
    pub fn acked(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        if self.closed || self.depth_reached {
            return;
        }
        let Some(acked) = self.offset_of(ack) else { return };
        if acked <= i128::from(self.next) {
            return;
        }
        let acked = acked as u64;
        let hole_end = self.pending.keys().next().copied().map_or(acked, |first| first.min(acked));
        if hole_end > self.next {
            self.gap(hole_end - self.next, out);
            self.drain(out);
        }
    }

    /// The direction ended: deliver what is buffered, with gaps for holes.
    pub fn close(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some((&first, _)) = self.pending.iter().next() {
            if first > self.next {
                self.gap(first - self.next, out);
            }
            self.drain(out);
            if self.depth_reached {
                break;
            }
        }
        self.pending.clear();
        self.buffered = 0;
        self.closed = true;
    }

    fn gap(&mut self, len: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        self.stats.gaps += 1;
        self.stats.gap_bytes += len;
        self.next += len;
        out(Chunk::Gap(len));
    }

    fn deliver(&mut self, data: &[u8], out: &mut dyn FnMut(Chunk<'_>)) {
        let data = if self.config.depth > 0 {
            let room = self.config.depth.saturating_sub(self.next);
            let take = (data.len() as u64).min(room) as usize;
            if take < data.len() || room == take as u64 {
                self.depth_reached = take < data.len() || self.next + take as u64 >= self.config.depth;
            }
            &data[..take]
        } else {
            data
        };
        if !data.is_empty() {
            self.next += data.len() as u64;
            out(Chunk::Data(data));
        }
        if self.depth_reached {
            self.pending.clear();
            self.buffered = 0;
        }
    }

    /// Deliver pending segments that are now in order.
    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let data = entry.remove();
            self.buffered -= data.len();
            let skip = (self.next - start) as usize;
            if let Some(rest) = data.get(skip..) {
                if !rest.is_empty() {
                    self.deliver(rest, out);
                }
            }
            if self.depth_reached {
                break;
            }
        }
    }

    fn insert_pending(&mut self, start: u64, data: &[u8]) {
        let end = start + data.len() as u64;
        // Existing segments that overlap [start, end).
        let overlapping: Vec<u64> =
            self.pending.range(..end).rev().take_while(|(s, d)| *s + d.len() as u64 > start).map(|(s, _)| *s).collect();
        // Parts of the new segment that survive, as (start, end) ranges.
        let mut keep_new = vec![(start, end)];
        let mut reinsert: Vec<(u64, Vec<u8>)> = Vec::new();
        for s in overlapping {
            let Some(old) = self.pending.remove(&s) else { continue };
            self.buffered -= old.len();
            self.stats.overlaps += 1;
            let e = s + old.len() as u64;
            let new_wins = start < s || (start == s && end > e);
            if new_wins {
                // Keep the old bytes outside the new segment.
                if s < start {
                    reinsert.push((s, old[..(start - s) as usize].to_vec()));
                }
                if e > end {
                    reinsert.push((end, old[(end - s) as usize..].to_vec()));
                }
            } else {
                reinsert.push((s, old));
                keep_new = keep_new
                    .into_iter()
                    .flat_map(|(a, b)| {
                        let mut parts = Vec::with_capacity(2);
                        if a < s.min(b) {
                            parts.push((a, s.min(b)));
                        }
                        if b > e.max(a) {
                            parts.push((e.max(a), b));
                        }
                        parts
                    })
                    .collect();
            }
        }
        for (a, b) in keep_new {
            let slice = &data[(a - start) as usize..(b - start) as usize];
            reinsert.push((a, slice.to_vec()));
        }
        for (s, d) in reinsert {
            if d.is_empty() {
                continue;
            }
            if self.buffered + d.len() > self.config.max_buffered || self.pending.len() >= self.config.max_segments {
                self.stats.buffer_full += 1;
                continue;
            }
            self.buffered += d.len();
            self.pending.insert(s, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Out {
        bytes: Vec<u8>,
        gaps: Vec<u64>,
    }

    fn feed(r: &mut Reassembler, o: &mut Out, seq: u32, data: &[u8]) {
        r.segment(seq, data, &mut |c| match c {
            Chunk::Data(d) => o.bytes.extend_from_slice(d),
            Chunk::Gap(n) => {
                o.gaps.push(n);
                o.bytes.push(b'_');
            }
        });
    }

    fn close(r: &mut Reassembler, o: &mut Out) {
        r.close(&mut |c| match c {
            Chunk::Data(d) => o.bytes.extend_from_slice(d),
            Chunk::Gap(n) => {
                o.gaps.push(n);
                o.bytes.push(b'_');
            }
        });
    }

    fn r() -> Reassembler {
        let mut r = Reassembler::new(StreamConfig::default());
        r.start(1000);
        r
    }

    #[test]
    fn in_order_and_out_of_order_deliver_the_same_bytes() {
        let (mut a, mut oa) = (r(), Out::default());
        feed(&mut a, &mut oa, 1000, b"hello ");
        feed(&mut a, &mut oa, 1006, b"world");
        let (mut b, mut ob) = (r(), Out::default());
        feed(&mut b, &mut ob, 1006, b"world");
        assert!(ob.bytes.is_empty());
        feed(&mut b, &mut ob, 1000, b"hello ");
        assert_eq!(oa.bytes, b"hello world");
        assert_eq!(ob.bytes, b"hello world");
    }

    #[test]
    fn retransmission_is_delivered_once() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 1000, b"abc");
        feed(&mut a, &mut o, 1000, b"abc");
        feed(&mut a, &mut o, 1001, b"bcde");
        assert_eq!(o.bytes, b"abcde");
        assert_eq!(a.stats.retransmissions, 2);
    }

    #[test]
    fn linux_policy_newer_segment_starting_earlier_wins() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 1004, b"OLD!");
        feed(&mut a, &mut o, 1002, b"NEWNEW");
        feed(&mut a, &mut o, 1000, b"..");
        assert_eq!(o.bytes, b"..NEWNEW");
    }

    #[test]
    fn linux_policy_older_segment_wins_when_newer_starts_later() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 1002, b"OLDOLD");
        feed(&mut a, &mut o, 1004, b"newnewXX");
        feed(&mut a, &mut o, 1000, b"..");
        assert_eq!(o.bytes, b"..OLDOLDewXX");
    }

    #[test]
    fn linux_policy_same_start_longer_newer_wins() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 1002, b"OLD");
        feed(&mut a, &mut o, 1002, b"NEWER");
        feed(&mut a, &mut o, 1000, b"..");
        assert_eq!(o.bytes, b"..NEWER");
    }

    #[test]
    fn ack_beyond_missing_data_reports_a_gap_and_continues() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 1000, b"ab");
        feed(&mut a, &mut o, 1010, b"tail");
        a.acked(1014, &mut |c| match c {
            Chunk::Data(d) => o.bytes.extend_from_slice(d),
            Chunk::Gap(n) => {
                o.gaps.push(n);
                o.bytes.push(b'_');
            }
        });
        assert_eq!(o.gaps, vec![8]);
        assert_eq!(o.bytes, b"ab_tail");
        assert_eq!(a.offset(), 14);
    }

    #[test]
    fn close_flushes_with_gaps() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 1005, b"x");
        close(&mut a, &mut o);
        assert_eq!(o.gaps, vec![5]);
        assert_eq!(o.bytes, b"_x");
    }

    #[test]
    fn depth_limits_delivery() {
        let mut a = Reassembler::new(StreamConfig { depth: 4, ..Default::default() });
        a.start(0);
        let mut o = Out::default();
        feed(&mut a, &mut o, 0, b"abcdef");
        feed(&mut a, &mut o, 6, b"gh");
        assert_eq!(o.bytes, b"abcd");
        assert!(a.depth_reached());
    }

    #[test]
    fn sequence_wraparound() {
        let mut a = Reassembler::new(StreamConfig::default());
        a.start(u32::MAX - 1);
        let mut o = Out::default();
        feed(&mut a, &mut o, 0, b"cd");
        feed(&mut a, &mut o, u32::MAX - 1, b"ab");
        assert_eq!(o.bytes, b"abcd");
    }

    #[test]
    fn buffer_bound_holds() {
        let mut a = Reassembler::new(StreamConfig { max_buffered: 8, ..Default::default() });
        a.start(0);
        let mut o = Out::default();
        for i in 0..10u32 {
            feed(&mut a, &mut o, 100 + i * 10, b"12345");
        }
        assert!(a.buffered() <= 8);
        assert!(a.stats.buffer_full > 0);
    }

    #[test]
    fn old_data_before_the_start_is_ignored() {
        let (mut a, mut o) = (r(), Out::default());
        feed(&mut a, &mut o, 990, b"0123456789AB");
        assert_eq!(o.bytes, b"AB");
    }
}
