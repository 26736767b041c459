//! The order in which a worker handles the packets waiting on its queue.
//!
//! The kernel queues packets first come, first served, and a queue carries
//! many flows. Scanning a 64 KB GSO packet of a download takes a hundred
//! microseconds or more, so a small interactive packet (a keystroke, a DNS
//! query, an HTTP request) queued behind a few of them waits milliseconds
//! for its verdict. Verdicts need not follow the queue's order across flows,
//! only within one (the engine reassembles streams and the wire keeps a
//! flow's order), so the worker takes what is waiting and handles the
//! earliest small packet whose flow has nothing earlier waiting, before the
//! large ones: shortest job first, per flow in order. Small packets may
//! overtake the oldest waiting packet only [`MAX_OVERTAKES`] times, so a
//! steady stream of small packets cannot starve a download.
//!
//! Pure bookkeeping: no sockets, no clock.

use std::collections::VecDeque;

/// Payload bytes above which a packet is large: one that carries more than
/// a couple of wire segments (a GSO aggregate).
pub const LARGE: usize = 4096;

/// How many packets may be handled before the oldest waiting one.
pub const MAX_OVERTAKES: u32 = 8;

struct Entry<T> {
    flow: u64,
    large: bool,
    /// NFQUEUE packet id (None for datagrams without a packet).
    id: Option<u32>,
    item: T,
}

pub struct Scheduler<T> {
    queue: VecDeque<Entry<T>>,
    /// Times the front entry was passed over.
    overtaken: u32,
    /// Flows passed over in the current scan of [`Scheduler::earliest_small`]
    /// (kept to reuse its allocation).
    passed: Vec<u64>,
    /// Small entries waiting: under a download's load the queue often holds
    /// only large ones, and knowing that spares a scan of all of them for
    /// every packet taken.
    small: usize,
}

impl<T> Default for Scheduler<T> {
    fn default() -> Self {
        Scheduler { queue: VecDeque::new(), overtaken: 0, passed: Vec::new(), small: 0 }
    }
}

impl<T> Scheduler<T> {
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queue an item of `flow` (any key equal for both directions of a flow)
    /// that carries `payload` bytes.
    pub fn push(&mut self, flow: u64, payload: usize, id: Option<u32>, item: T) {
        let large = payload > LARGE;
        self.small += usize::from(!large);
        self.queue.push_back(Entry { flow, large, id, item });
    }

    fn take(&mut self, at: usize) -> Option<T> {
        let e = self.queue.remove(at)?;
        self.small -= usize::from(!e.large);
        Some(e.item)
    }

    /// The next item to handle: the earliest small one whose flow has no
    /// earlier item waiting, else (or when the earliest of all has waited
    /// long enough) the earliest of all.
    pub fn pop(&mut self) -> Option<T> {
        let pick = if self.overtaken < MAX_OVERTAKES { self.earliest_small(None).unwrap_or(0) } else { 0 };
        self.overtaken = if pick == 0 { 0 } else { self.overtaken + 1 };
        self.take(pick)
    }

    /// The earliest small item whose flow has nothing earlier waiting and is
    /// not `busy` (the flow of a packet being handled in slices, whose
    /// later packets must wait for it). Large items stay where they are.
    pub fn pop_small(&mut self, busy: u64) -> Option<T> {
        let pick = self.earliest_small(Some(busy))?;
        self.take(pick)
    }

    /// Where the earliest small item is whose flow has no earlier item
    /// waiting and is not `busy`.
    fn earliest_small(&mut self, busy: Option<u64>) -> Option<usize> {
        if self.small == 0 {
            return None;
        }
        self.passed.clear();
        self.passed.extend(busy);
        for (i, e) in self.queue.iter().enumerate() {
            if self.passed.contains(&e.flow) {
                continue;
            }
            if !e.large {
                return Some(i);
            }
            self.passed.push(e.flow);
        }
        None
    }

    /// The lowest packet id still waiting: verdicts for ids at or above it
    /// must not be sent as one batch (a batch verdict covers every id up to
    /// its own).
    pub fn lowest_id(&self) -> Option<u32> {
        // Ids grow with arrival (modulo wrap-around), and the queue keeps
        // arrival order.
        self.queue.iter().find_map(|e| e.id)
    }
}

/// A key equal for both directions of a flow: protocol, addresses and ports
/// of an IP packet, read without validation (a wrong key only changes the
/// order of handling, never a verdict). Fragments and packets of other
/// protocols key on addresses only.
pub fn flow_key(pkt: &[u8]) -> u64 {
    let (a, b, proto, l4): (&[u8], &[u8], u8, Option<usize>) = match pkt.first().map(|v| v >> 4) {
        Some(4) if pkt.len() >= 20 => {
            let frag = u16::from_be_bytes([pkt[6], pkt[7]]) & 0x3fff != 0;
            let ihl = usize::from(pkt[0] & 0x0f) * 4;
            (&pkt[12..16], &pkt[16..20], pkt[9], (!frag).then_some(ihl))
        }
        Some(6) if pkt.len() >= 40 => (&pkt[8..24], &pkt[24..40], pkt[6], Some(40)),
        _ => return 0,
    };
    let ports = match (proto, l4) {
        (6 | 17 | 132, Some(o)) => match pkt.get(o..o + 4) {
            Some(p) => [u16::from_be_bytes([p[0], p[1]]), u16::from_be_bytes([p[2], p[3]])],
            None => [0, 0],
        },
        _ => [0, 0],
    };
    // Order the two ends so both directions give the same key.
    let (lo, hi) =
        if (a, ports[0]) <= (b, ports[1]) { ((a, ports[0]), (b, ports[1])) } else { ((b, ports[1]), (a, ports[0])) };
    // FNV-1a: a few dozen bytes, no need for anything stronger (the key only
    // groups packets; a collision just keeps two flows in one order).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &x in bytes {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&[proto]);
    eat(lo.0);
    eat(&lo.1.to_be_bytes());
    eat(hi.0);
    eat(&hi.1.to_be_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(s: &mut Scheduler<&'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| s.pop()).collect()
    }

    #[test]
    fn a_small_packet_goes_before_the_large_ones_of_other_flows() {
        let mut s = Scheduler::default();
        s.push(1, 60_000, Some(1), "bulk-1");
        s.push(1, 60_000, Some(2), "bulk-2");
        s.push(2, 60_000, Some(3), "other-bulk");
        s.push(3, 80, Some(4), "probe");
        assert_eq!(order(&mut s), ["probe", "bulk-1", "bulk-2", "other-bulk"]);
    }

    #[test]
    fn small_packets_are_still_found_first_after_the_queue_held_only_large_ones() {
        let mut s = Scheduler::default();
        s.push(1, 60_000, Some(1), "bulk-1");
        s.push(2, 60_000, Some(2), "bulk-2");
        assert_eq!(s.pop(), Some("bulk-1"));
        s.push(3, 80, Some(3), "probe");
        s.push(2, 80, Some(4), "after-bulk-2");
        assert_eq!(s.pop_small(2), Some("probe"));
        assert_eq!(s.pop_small(9), None, "flow 2's small packet waits behind its large one");
        s.push(4, 80, Some(5), "late-probe");
        assert_eq!(order(&mut s), ["late-probe", "bulk-2", "after-bulk-2"]);
    }

    #[test]
    fn a_stream_of_small_packets_cannot_starve_a_large_one() {
        let mut s = Scheduler::default();
        s.push(1, 60_000, Some(0), "bulk");
        let mut order = Vec::new();
        for i in 0..(MAX_OVERTAKES + 4) {
            s.push(2 + u64::from(i), 60, Some(i + 1), "small");
            order.push(s.pop().unwrap());
        }
        let at = order.iter().position(|&x| x == "bulk");
        assert_eq!(at, Some(MAX_OVERTAKES as usize), "the download waits for at most {MAX_OVERTAKES} packets");
    }

    #[test]
    fn a_flow_keeps_its_own_order() {
        let mut s = Scheduler::default();
        s.push(1, 60_000, Some(1), "data");
        s.push(1, 0, Some(2), "fin");
        s.push(2, 100, Some(3), "query");
        assert_eq!(order(&mut s), ["query", "data", "fin"], "the FIN must not overtake its flow's data");
    }

    #[test]
    fn small_packets_stay_first_come_first_served() {
        let mut s = Scheduler::default();
        for (i, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
            s.push(i as u64 % 2, 60, Some(i as u32), name);
        }
        assert_eq!(order(&mut s), ["a", "b", "c", "d"]);
    }

    #[test]
    fn the_lowest_waiting_id_holds_back_batch_verdicts() {
        let mut s = Scheduler::default();
        s.push(1, 60_000, Some(7), "bulk");
        s.push(2, 60, Some(8), "small");
        assert_eq!(s.pop(), Some("small"));
        assert_eq!(s.lowest_id(), Some(7), "packet 7 still waits: a batch verdict up to 8 would accept it unseen");
        assert_eq!(s.pop(), Some("bulk"));
        assert_eq!(s.lowest_id(), None);
    }

    #[test]
    fn between_slices_only_small_packets_of_other_flows_are_served() {
        let mut s = Scheduler::default();
        s.push(1, 100, Some(2), "same-flow-ack");
        s.push(2, 60_000, Some(3), "other-bulk");
        s.push(2, 100, Some(4), "behind-other-bulk");
        s.push(3, 100, Some(5), "probe");
        assert_eq!(s.pop_small(1), Some("probe"), "flow 1 is being sliced; flow 2's small packet follows its data");
        assert_eq!(s.pop_small(1), None, "nothing else may go ahead");
        assert_eq!(order(&mut s), ["same-flow-ack", "other-bulk", "behind-other-bulk"]);
    }

    fn tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[9] = 6;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        p[22..24].copy_from_slice(&dport.to_be_bytes());
        p
    }

    #[test]
    fn both_directions_share_a_key_and_other_ports_do_not() {
        let c = [192, 168, 77, 2];
        let s = [198, 51, 100, 1];
        let out = flow_key(&tcp4(c, s, 40000, 80));
        assert_eq!(out, flow_key(&tcp4(s, c, 80, 40000)));
        assert_ne!(out, flow_key(&tcp4(c, s, 40001, 80)), "a second connection between the same hosts is another flow");
        assert_eq!(flow_key(&[0x45, 0, 0]), 0, "a truncated packet gets a key, not a panic");
        assert_eq!(flow_key(&[]), 0);
    }
}
