//! IP fragment reassembly with hard bounds.
//!
//! Overlaps follow Linux: since CVE-2018-5391 Linux discards a whole datagram
//! when one fragment overlaps another (RFC 5722 demands the same for IPv6),
//! and ignores exact duplicates. Reassembling the way the protected hosts do
//! keeps an attacker from showing the engine one payload and the host another.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::ip::{Fragment, IpDatagram, IpVersion};

#[derive(Clone, Debug)]
pub struct DefragConfig {
    /// Datagrams being reassembled at once.
    pub max_trackers: usize,
    /// Bytes held across all trackers.
    pub max_bytes: usize,
    /// Pieces one datagram may have (tiny-fragment floods).
    pub max_fragments: usize,
    /// A datagram whose pieces do not all arrive within this is dropped.
    pub timeout_us: u64,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig { max_trackers: 65_536, max_bytes: 32 << 20, max_fragments: 256, timeout_us: 60_000_000 }
    }
}

/// What became of a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum DefragOutcome {
    /// Kept; the datagram is not complete yet.
    Pending,
    /// The datagram is complete: a full IP packet (header of the first piece,
    /// with lengths and fragment fields rewritten) ready to decode again.
    Complete(Vec<u8>),
    /// Dropped, with the counter to bump.
    Dropped(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    version: IpVersion,
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

struct Tracker {
    first_seen_us: u64,
    /// Pieces sorted by offset, never overlapping.
    pieces: Vec<(u32, Vec<u8>)>,
    /// Header of the piece at offset 0, once seen.
    header: Option<Vec<u8>>,
    /// Total payload length, once the last piece is seen.
    total: Option<u32>,
    bytes: usize,
}

#[derive(Default)]
pub struct Defragmenter {
    config: DefragConfig,
    trackers: HashMap<Key, Tracker>,
    bytes: usize,
}

/// IPv4 payloads cannot exceed 65535 - 20; IPv6 without jumbograms 65535.
const MAX_PAYLOAD: u32 = 65_535;

impl Defragmenter {
    pub fn new(config: DefragConfig) -> Self {
        Defragmenter { config, trackers: HashMap::new(), bytes: 0 }
    }

    pub fn tracked(&self) -> usize {
        self.trackers.len()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Drop trackers older than the timeout; returns how many were dropped.
    pub fn expire(&mut self, now_us: u64) -> usize {
        let timeout = self.config.timeout_us;
        let before = self.trackers.len();
        let mut freed = 0;
        self.trackers.retain(|_, t| {
            let keep = now_us.saturating_sub(t.first_seen_us) < timeout;
            if !keep {
                freed += t.bytes;
            }
            keep
        });
        self.bytes -= freed;
        before - self.trackers.len()
    }

    /// Add one fragment. `dgram.fragment` must be `Some`.
    pub fn insert(&mut self, now_us: u64, dgram: &IpDatagram<'_>) -> DefragOutcome {
        let Some(Fragment { id, offset, more }) = dgram.fragment else {
            return DefragOutcome::Dropped("defrag.not_a_fragment");
        };
        let key = Key { version: dgram.version, src: dgram.src, dst: dgram.dst, id, proto: dgram.proto };
        let len = dgram.payload.len() as u32;
        let end = match offset.checked_add(len) {
            Some(e) if e <= MAX_PAYLOAD => e,
            _ => {
                self.remove(&key);
                return DefragOutcome::Dropped("defrag.too_large");
            }
        };
        if !self.trackers.contains_key(&key) {
            if self.trackers.len() >= self.config.max_trackers {
                self.expire(now_us);
                if self.trackers.len() >= self.config.max_trackers {
                    return DefragOutcome::Dropped("defrag.max_trackers_reached");
                }
            }
            self.trackers.insert(
                key,
                Tracker { first_seen_us: now_us, pieces: Vec::new(), header: None, total: None, bytes: 0 },
            );
        }
        if self.bytes + dgram.payload.len() > self.config.max_bytes {
            self.remove(&key);
            return DefragOutcome::Dropped("defrag.memcap");
        }
        let Some(t) = self.trackers.get_mut(&key) else {
            return DefragOutcome::Dropped("defrag.internal");
        };
        if !more {
            if t.total.is_some_and(|total| total != end) {
                self.remove(&key);
                return DefragOutcome::Dropped("defrag.overlap");
            }
            t.total = Some(end);
        }
        if t.total.is_some_and(|total| end > total) {
            self.remove(&key);
            return DefragOutcome::Dropped("defrag.overlap");
        }
        // Find where the piece goes and check both neighbours for overlap.
        let pos = t.pieces.partition_point(|(o, _)| *o < offset);
        if let Some((o, d)) = t.pieces.get(pos) {
            if *o == offset && d.as_slice() == dgram.payload {
                return DefragOutcome::Pending; // exact duplicate
            }
            if *o < end {
                self.remove(&key);
                return DefragOutcome::Dropped("defrag.overlap");
            }
        }
        if let Some((o, d)) = pos.checked_sub(1).and_then(|p| t.pieces.get(p)) {
            if o + d.len() as u32 > offset {
                self.remove(&key);
                return DefragOutcome::Dropped("defrag.overlap");
            }
        }
        if t.pieces.len() >= self.config.max_fragments {
            self.remove(&key);
            return DefragOutcome::Dropped("defrag.max_frags_reached");
        }
        if offset == 0 {
            t.header = Some(dgram.header.to_vec());
        }
        t.pieces.insert(pos, (offset, dgram.payload.to_vec()));
        t.bytes += dgram.payload.len();
        self.bytes += dgram.payload.len();
        self.try_complete(&key)
    }

    fn remove(&mut self, key: &Key) {
        if let Some(t) = self.trackers.remove(key) {
            self.bytes -= t.bytes;
        }
    }

    fn try_complete(&mut self, key: &Key) -> DefragOutcome {
        let Some(t) = self.trackers.get(key) else { return DefragOutcome::Pending };
        let (Some(total), Some(_)) = (t.total, t.header.as_ref()) else { return DefragOutcome::Pending };
        let mut next = 0u32;
        for (o, d) in &t.pieces {
            if *o != next {
                return DefragOutcome::Pending;
            }
            next = o + d.len() as u32;
        }
        if next != total {
            return DefragOutcome::Pending;
        }
        let Some(t) = self.trackers.remove(key) else { return DefragOutcome::Pending };
        self.bytes -= t.bytes;
        let header = t.header.unwrap_or_default();
        let mut out = Vec::with_capacity(header.len() + total as usize);
        out.extend_from_slice(&header);
        for (_, d) in &t.pieces {
            out.extend_from_slice(d);
        }
        match rewrite_header(key.version, &mut out, header.len(), key.proto) {
            Some(()) => DefragOutcome::Complete(out),
            None => DefragOutcome::Dropped("defrag.too_large"),
        }
    }
}

/// Make the reassembled packet a valid unfragmented datagram: fix the length
/// and clear the fragment fields (IPv4), or drop the fragment header (IPv6).
fn rewrite_header(version: IpVersion, pkt: &mut Vec<u8>, hlen: usize, proto: u8) -> Option<()> {
    match version {
        IpVersion::V4 => {
            let total = u16::try_from(pkt.len()).ok()?;
            pkt.get_mut(2..4)?.copy_from_slice(&total.to_be_bytes());
            pkt.get_mut(6..8)?.copy_from_slice(&[0, 0]);
            Some(())
        }
        IpVersion::V6 => {
            // The stored header ends with the 8-byte fragment header; remove it
            // and point the previous next-header field at the upper protocol.
            let frag_at = hlen.checked_sub(8)?;
            pkt.drain(frag_at..hlen);
            if frag_at == 40 {
                *pkt.get_mut(6)? = proto;
            } else {
                // Find the extension header that precedes the fragment header.
                let mut at = 40usize;
                let mut nh_field = 6usize;
                while at < frag_at {
                    nh_field = at;
                    let len = (usize::from(*pkt.get(at + 1)?) + 1) * 8;
                    at += len;
                }
                *pkt.get_mut(nh_field)? = proto;
            }
            let plen = u16::try_from(pkt.len().checked_sub(40)?).ok()?;
            pkt.get_mut(4..6)?.copy_from_slice(&plen.to_be_bytes());
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::{decode_any, tests::v4_header, tests::v6_header};

    fn v4_frag(offset: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let flags = (offset / 8) | if more { 0x2000 } else { 0 };
        let mut p = v4_header(17, payload.len(), flags, 42);
        p.extend_from_slice(payload);
        p
    }

    fn feed(d: &mut Defragmenter, pkt: &[u8]) -> DefragOutcome {
        d.insert(0, &decode_any(pkt).unwrap())
    }

    #[test]
    fn out_of_order_v4_fragments_reassemble() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert_eq!(feed(&mut d, &v4_frag(8, false, b"BBBB")), DefragOutcome::Pending);
        let DefragOutcome::Complete(p) = feed(&mut d, &v4_frag(0, true, b"AAAAAAAA")) else { panic!() };
        let dg = decode_any(&p).unwrap();
        assert_eq!(dg.payload, b"AAAAAAAABBBB");
        assert!(dg.fragment.is_none());
        assert_eq!(d.tracked(), 0);
        assert_eq!(d.bytes(), 0);
    }

    #[test]
    fn overlapping_fragment_drops_the_datagram() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert_eq!(feed(&mut d, &v4_frag(0, true, b"AAAAAAAAAAAAAAAA")), DefragOutcome::Pending);
        assert_eq!(feed(&mut d, &v4_frag(8, false, b"EVILEVIL")), DefragOutcome::Dropped("defrag.overlap"));
        assert_eq!(d.tracked(), 0);
    }

    #[test]
    fn exact_duplicate_is_ignored() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert_eq!(feed(&mut d, &v4_frag(0, true, b"AAAAAAAA")), DefragOutcome::Pending);
        assert_eq!(feed(&mut d, &v4_frag(0, true, b"AAAAAAAA")), DefragOutcome::Pending);
        assert!(matches!(feed(&mut d, &v4_frag(8, false, b"B")), DefragOutcome::Complete(_)));
    }

    #[test]
    fn datagram_beyond_64k_is_dropped() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert_eq!(feed(&mut d, &v4_frag(65528, false, b"0123456789")), DefragOutcome::Dropped("defrag.too_large"));
    }

    #[test]
    fn memcap_and_tracker_bounds_hold() {
        let cfg = DefragConfig { max_trackers: 2, max_bytes: 20, ..Default::default() };
        let mut d = Defragmenter::new(cfg);
        for id in 0..2u16 {
            let mut p = v4_header(17, 8, 0x2000, id);
            p.extend_from_slice(b"AAAAAAAA");
            assert_eq!(feed(&mut d, &p), DefragOutcome::Pending);
        }
        let mut p = v4_header(17, 8, 0x2000, 9);
        p.extend_from_slice(b"AAAAAAAA");
        assert_eq!(feed(&mut d, &p), DefragOutcome::Dropped("defrag.max_trackers_reached"));
        assert_eq!(d.expire(60_000_001), 2);
        assert_eq!(d.bytes(), 0);
    }

    #[test]
    fn v6_fragments_reassemble_and_lose_the_fragment_header() {
        let mk = |off: u16, more: bool, data: &[u8]| {
            let mut p = v6_header(44, 8 + data.len());
            let of = (off / 8) << 3 | u16::from(more);
            p.extend_from_slice(&[17, 0]);
            p.extend_from_slice(&of.to_be_bytes());
            p.extend_from_slice(&7u32.to_be_bytes());
            p.extend_from_slice(data);
            p
        };
        let mut d = Defragmenter::new(DefragConfig::default());
        assert_eq!(feed(&mut d, &mk(0, true, b"01234567")), DefragOutcome::Pending);
        let DefragOutcome::Complete(p) = feed(&mut d, &mk(8, false, b"89")) else { panic!() };
        let dg = decode_any(&p).unwrap();
        assert_eq!(dg.proto, 17);
        assert_eq!(dg.payload, b"0123456789");
        assert!(dg.fragment.is_none());
    }
}
