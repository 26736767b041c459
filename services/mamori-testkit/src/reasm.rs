//! In-order delivery of one TCP direction, for feeding stream parsers from
//! captures.
//!
//! Hand-written rather than mamori-stream's reassembler: that one applies
//! the engine's depth and buffer limits and its overlap policy, which would
//! make the parsers' tests depend on engine tuning. Here every byte of a
//! capture reaches the parser, with the simplest policy to reason about
//! when a result changes.

use std::collections::BTreeMap;

use crate::decode::{Segment, Transport};

/// Online in-order delivery of one TCP direction: out-of-order segments are
/// held until the hole before them fills; bytes already delivered are not
/// delivered again (the first copy wins). Of two held segments starting at
/// the same place the longer is kept.
#[derive(Debug, Default)]
pub struct TcpDir {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    held: BTreeMap<u64, Vec<u8>>,
    /// Stream offset of the next byte to deliver.
    delivered: u64,
}

/// What [`TcpDir::finish`] hands over at the end of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Data(Vec<u8>),
    /// Bytes never seen before the data that follows.
    Gap(u64),
}

impl TcpDir {
    /// Feeds one segment; returns the in-order bytes that became available.
    /// The first SYN fixes the start of the stream; without one, the first
    /// segment does. UDP segments are ignored.
    pub fn push(&mut self, seg: &Segment) -> Vec<u8> {
        let Transport::Tcp { seq, flags } = seg.transport else {
            return Vec::new();
        };
        if flags.syn() {
            self.base.get_or_insert(seq.wrapping_add(1));
            return Vec::new();
        }
        self.push_data(seq, &seg.payload)
    }

    /// Feeds the payload of a non-SYN segment starting at `seq`.
    pub fn push_data(&mut self, seq: u32, payload: &[u8]) -> Vec<u8> {
        if payload.is_empty() {
            return Vec::new();
        }
        let base = *self.base.get_or_insert(seq);
        // Sequence space wraps: a segment is at most 2^31 bytes either side.
        let start = i64::from(seq.wrapping_sub(base) as i32);
        let end = start + payload.len() as i64;
        let delivered = self.delivered as i64;
        if end <= delivered {
            return Vec::new();
        }
        let skip = (delivered - start).max(0) as usize;
        let from = start.max(delivered) as u64;
        let data = payload.get(skip..).unwrap_or_default().to_vec();
        let keep = match self.held.get(&from) {
            Some(old) => old.len() < data.len(),
            None => true,
        };
        if keep {
            self.held.insert(from, data);
        }
        self.drain()
    }

    /// Whether out-of-order data waits for a hole to fill.
    pub fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    fn drain(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some((&off, _)) = self.held.first_key_value() {
            if off > self.delivered {
                break;
            }
            let data = self.held.remove(&off).unwrap_or_default();
            let skip = (self.delivered - off) as usize;
            if let Some(fresh) = data.get(skip..).filter(|f| !f.is_empty()) {
                out.extend_from_slice(fresh);
                self.delivered += fresh.len() as u64;
            }
        }
        out
    }

    /// At the end of the capture: whatever is still held, with the holes
    /// before it.
    pub fn finish(&mut self) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Some((&off, _)) = self.held.first_key_value() {
            if off > self.delivered {
                out.push(Delivery::Gap(off - self.delivered));
                self.delivered = off;
            }
            let d = self.drain();
            if !d.is_empty() {
                out.push(Delivery::Data(d));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mamori_wire::TcpFlags;

    use super::*;

    fn seg(seq: u32, flags: u8, payload: &[u8]) -> Segment {
        Segment {
            frame: 1,
            ts: Duration::ZERO,
            src: "10.0.0.1:1000".parse().unwrap(),
            dst: "10.0.0.2:80".parse().unwrap(),
            transport: Transport::Tcp { seq, flags: TcpFlags(flags) },
            payload: payload.to_vec(),
        }
    }

    const ACK: u8 = TcpFlags::ACK;

    #[test]
    fn in_order_after_syn() {
        let mut d = TcpDir::default();
        assert!(d.push(&seg(99, TcpFlags::SYN, b"")).is_empty());
        assert_eq!(d.push(&seg(100, ACK, b"abc")), b"abc");
        assert_eq!(d.push(&seg(103, ACK, b"def")), b"def");
        assert_eq!(d.delivered(), 6);
        assert!(d.finish().is_empty());
    }

    #[test]
    fn out_of_order_is_held_until_the_hole_fills() {
        let mut d = TcpDir::default();
        d.push(&seg(0, TcpFlags::SYN, b""));
        assert!(d.push(&seg(4, ACK, b"def")).is_empty());
        assert!(d.push(&seg(7, ACK, b"ghi")).is_empty());
        assert!(d.has_held());
        assert_eq!(d.push(&seg(1, ACK, b"abc")), b"abcdefghi");
        assert!(!d.has_held());
    }

    #[test]
    fn retransmissions_are_not_delivered_twice() {
        let mut d = TcpDir::default();
        d.push(&seg(0, TcpFlags::SYN, b""));
        assert_eq!(d.push(&seg(1, ACK, b"abcd")), b"abcd");
        // Exact and partial retransmissions: only new bytes come out, and
        // bytes already delivered keep their first content.
        assert!(d.push(&seg(1, ACK, b"XXXX")).is_empty());
        assert_eq!(d.push(&seg(3, ACK, b"YYef")), b"ef");
        // A retransmitted out-of-order segment is held once.
        assert!(d.push(&seg(9, ACK, b"ij")).is_empty());
        assert!(d.push(&seg(9, ACK, b"ij")).is_empty());
        assert_eq!(d.push(&seg(7, ACK, b"gh")), b"ghij");
    }

    #[test]
    fn of_two_held_segments_at_one_place_the_longer_is_kept() {
        let mut d = TcpDir::default();
        d.push(&seg(0, TcpFlags::SYN, b""));
        assert!(d.push(&seg(3, ACK, b"c")).is_empty());
        assert!(d.push(&seg(3, ACK, b"cde")).is_empty());
        assert!(d.push(&seg(3, ACK, b"Z")).is_empty());
        assert_eq!(d.push(&seg(1, ACK, b"ab")), b"abcde");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut d = TcpDir::default();
        d.push(&seg(u32::MAX - 2, TcpFlags::SYN, b""));
        assert!(d.push(&seg(1, ACK, b"def")).is_empty());
        assert_eq!(d.push(&seg(u32::MAX - 1, ACK, b"abc")), b"abcdef");
    }

    #[test]
    fn without_a_syn_the_first_segment_starts_the_stream() {
        let mut d = TcpDir::default();
        assert_eq!(d.push(&seg(5000, ACK, b"mid")), b"mid");
        // Older data than the start is before the stream: dropped.
        assert!(d.push(&seg(4990, ACK, b"old")).is_empty());
        assert_eq!(d.push(&seg(5003, ACK, b"dle")), b"dle");
    }

    #[test]
    fn finish_reports_holes_as_gaps() {
        let mut d = TcpDir::default();
        d.push(&seg(0, TcpFlags::SYN, b""));
        assert_eq!(d.push(&seg(1, ACK, b"ab")), b"ab");
        d.push(&seg(6, ACK, b"fg"));
        d.push(&seg(10, ACK, b"jk"));
        assert_eq!(
            d.finish(),
            vec![Delivery::Gap(3), Delivery::Data(b"fg".to_vec()), Delivery::Gap(2), Delivery::Data(b"jk".to_vec())]
        );
        assert_eq!(d.delivered(), 11);
    }

    #[test]
    fn udp_is_ignored() {
        let mut d = TcpDir::default();
        let udp = Segment { transport: Transport::Udp, ..seg(0, 0, b"dgram") };
        assert!(d.push(&udp).is_empty());
        assert_eq!(d.push(&seg(10, ACK, b"x")), b"x");
    }
}
