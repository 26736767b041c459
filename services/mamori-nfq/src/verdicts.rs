//! Verdicts of one receive batch, sent in one `send`.
//!
//! Most packets get a plain accept. A batch verdict (NFQNL_MSG_VERDICT_BATCH)
//! accepts every queued packet up to an id, so one message stands for all of
//! them. Verdicts that carry a mark, a conntrack mark or a new payload, drops,
//! and accepts of packets queued after a held one go out one by one, *before*
//! the batch message, so the batch only catches what is left.

use crate::msg::{self, Verdict, VerdictKind};

/// `a` comes after `b` in the queue's id sequence (ids wrap, as in the
/// kernel's `nfq_id_after`).
pub fn id_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

struct Item {
    id: u32,
    kind: VerdictKind,
    mark: Option<u32>,
    connmark_bits: Option<u32>,
    payload: Option<Vec<u8>>,
}

pub struct VerdictBatch {
    queue: u16,
    items: Vec<Item>,
}

impl VerdictBatch {
    pub fn new(queue: u16) -> VerdictBatch {
        VerdictBatch { queue, items: Vec::new() }
    }

    pub fn push(&mut self, v: Verdict<'_>) {
        self.items.push(Item {
            id: v.id,
            kind: v.kind,
            mark: v.mark,
            connmark_bits: v.connmark_bits,
            payload: v.payload.map(<[u8]>::to_vec),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Encode all verdicts into `out` and forget them. `lowest_held` is the
    /// oldest packet still waiting for a verdict (a batch must not cover it).
    /// Returns the number of netlink messages written.
    pub fn encode(&mut self, lowest_held: Option<u32>, out: &mut Vec<u8>) -> usize {
        let mut batch_to: Option<u32> = None;
        let mut n = 0;
        for it in self.items.drain(..) {
            let plain = it.kind == VerdictKind::Accept && it.mark.is_none() && it.connmark_bits.is_none();
            let plain = plain && it.payload.is_none();
            let before_held = lowest_held.is_none_or(|h| id_after(h, it.id));
            if plain && before_held {
                if batch_to.is_none_or(|b| id_after(it.id, b)) {
                    batch_to = Some(it.id);
                }
                continue;
            }
            let v = Verdict {
                id: it.id,
                kind: it.kind,
                mark: it.mark,
                connmark_bits: it.connmark_bits,
                payload: it.payload.as_deref(),
            };
            msg::verdict(out, self.queue, &v);
            n += 1;
        }
        if let Some(id) = batch_to {
            msg::verdict_batch(out, self.queue, id, VerdictKind::Accept);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (message type, verdict, id) of each encoded message.
    fn decode(buf: &[u8]) -> Vec<(u16, u32, u32)> {
        let mut out = Vec::new();
        let mut rest = buf;
        while rest.len() >= 16 {
            let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap()) as usize;
            let ty = u16::from_ne_bytes([rest[4], rest[5]]) & 0xff;
            // First attribute is always the verdict header.
            let a = &rest[20 + 4..20 + 12];
            out.push((
                ty,
                u32::from_be_bytes(a[0..4].try_into().unwrap()),
                u32::from_be_bytes(a[4..8].try_into().unwrap()),
            ));
            rest = &rest[(len + 3) & !3..];
        }
        out
    }

    #[test]
    fn plain_accepts_become_one_batch_after_the_individual_verdicts() {
        let mut b = VerdictBatch::new(0);
        b.push(Verdict::accept(1));
        b.push(Verdict::accept(2));
        b.push(Verdict::drop(3));
        b.push(Verdict { connmark_bits: Some(1), ..Verdict::accept(4) });
        b.push(Verdict::accept(5));
        let mut out = Vec::new();
        assert_eq!(b.encode(None, &mut out), 3);
        assert_eq!(decode(&out), vec![(1, 0, 3), (1, 1, 4), (3, 1, 5)]);
        assert!(b.is_empty());
    }

    #[test]
    fn a_held_packet_is_never_covered_by_the_batch() {
        let mut b = VerdictBatch::new(0);
        for id in [10, 11, 13, 14] {
            b.push(Verdict::accept(id));
        }
        let mut out = Vec::new();
        b.encode(Some(12), &mut out);
        assert_eq!(decode(&out), vec![(1, 1, 13), (1, 1, 14), (3, 1, 11)]);
    }

    #[test]
    fn ids_wrap_around() {
        assert!(id_after(1, u32::MAX));
        let mut b = VerdictBatch::new(0);
        b.push(Verdict::accept(u32::MAX));
        b.push(Verdict::accept(0));
        let mut out = Vec::new();
        b.encode(None, &mut out);
        assert_eq!(decode(&out), vec![(3, 1, 0)]);
    }
}
