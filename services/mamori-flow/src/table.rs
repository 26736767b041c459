//! The flow table.
//!
//! Flows sit in a slab. Each timeout class (protocol family × state) keeps an
//! intrusive list ordered by last activity, so the head of every list is the
//! next flow of that class to expire: expiry and "evict the stalest flow"
//! are O(1) per flow, and a touch is O(1). Hand-written because no crate
//! offers several LRU orders over one slab with class moves.

use std::collections::HashMap;

use mamori_applayer::Direction;

use crate::key::{direction, Endpoint, FlowKey};
use crate::timeouts::{class, FlowState, Timeouts, CLASSES};

#[derive(Clone, Debug)]
pub struct TableConfig {
    /// Flows tracked at once; inserting beyond this evicts the stalest flow.
    pub max_flows: usize,
    pub timeouts: Timeouts,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig { max_flows: 1 << 20, timeouts: Timeouts::default() }
    }
}

/// Index of a flow in the table. Stale after the flow is removed; a
/// generation check makes a stale id miss rather than hit another flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowId {
    index: u32,
    generation: u32,
}

pub struct Flow<T> {
    pub key: FlowKey,
    /// The side that sent the first packet (or the SYN).
    pub client: Endpoint,
    pub server: Endpoint,
    pub first_seen_us: u64,
    pub last_seen_us: u64,
    pub state: FlowState,
    /// Stable id for events (EVE `flow_id`).
    pub flow_id: u64,
    pub data: T,
}

impl<T> Flow<T> {
    pub fn direction_of(&self, src: Endpoint) -> Direction {
        direction(self.client, src)
    }
}

struct Slot<T> {
    flow: Option<Flow<T>>,
    generation: u32,
    class: usize,
    prev: Option<u32>,
    next: Option<u32>,
}

#[derive(Clone, Copy, Default)]
struct List {
    head: Option<u32>,
    tail: Option<u32>,
}

pub struct FlowTable<T> {
    config: TableConfig,
    timeouts_us: [u64; CLASSES],
    /// Keyed by a per-process random seed: flow keys are chosen by whoever
    /// sends packets, so the hash must not be predictable (and SipHash is
    /// more than the per-packet budget allows).
    index: HashMap<FlowKey, u32, foldhash::fast::RandomState>,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    lists: [List; CLASSES],
    next_flow_id: u64,
}

/// Result of a lookup: the flow, the packet's direction, whether the flow is
/// new, and a flow evicted to make room (the caller must finish it).
pub struct Lookup<T> {
    pub id: FlowId,
    pub dir: Direction,
    pub created: bool,
    pub evicted: Option<Flow<T>>,
}

impl<T> FlowTable<T> {
    pub fn new(config: TableConfig) -> Self {
        let timeouts_us = config.timeouts.per_class_us();
        FlowTable {
            config,
            timeouts_us,
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            lists: [List::default(); CLASSES],
            next_flow_id: 1,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Find the flow for a packet from `src` to `dst`, creating it (with `src`
    /// as client, unless `src_is_server` says the packet is a reply such as a
    /// SYN/ACK seen first) when absent.
    pub fn lookup_or_insert(
        &mut self,
        key: FlowKey,
        src: Endpoint,
        dst: Endpoint,
        src_is_server: bool,
        now_us: u64,
        make: impl FnOnce() -> T,
    ) -> Lookup<T> {
        if let Some(&index) = self.index.get(&key) {
            let slot = &mut self.slots[index as usize];
            let generation = slot.generation;
            let dir = slot.flow.as_ref().map_or(Direction::ToServer, |f| f.direction_of(src));
            return Lookup { id: FlowId { index, generation }, dir, created: false, evicted: None };
        }
        let evicted = if self.index.len() >= self.config.max_flows { self.evict_stalest() } else { None };
        let (client, server) = if src_is_server { (dst, src) } else { (src, dst) };
        let flow_id = self.next_flow_id;
        self.next_flow_id = self.next_flow_id.wrapping_add(1).max(1);
        let flow = Flow {
            key,
            client,
            server,
            first_seen_us: now_us,
            last_seen_us: now_us,
            state: FlowState::New,
            flow_id,
            data: make(),
        };
        let cls = class(key.proto, FlowState::New);
        let index = match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.flow = Some(flow);
                slot.class = cls;
                i
            }
            None => {
                self.slots.push(Slot { flow: Some(flow), generation: 0, class: cls, prev: None, next: None });
                (self.slots.len() - 1) as u32
            }
        };
        self.push_tail(cls, index);
        self.index.insert(key, index);
        let generation = self.slots[index as usize].generation;
        let dir = if src_is_server { Direction::ToClient } else { Direction::ToServer };
        Lookup { id: FlowId { index, generation }, dir, created: true, evicted }
    }

    /// Every flow in the table (for statistics; O(table size)).
    pub fn iter(&self) -> impl Iterator<Item = &Flow<T>> {
        self.slots.iter().filter_map(|s| s.flow.as_ref())
    }

    pub fn get(&self, id: FlowId) -> Option<&Flow<T>> {
        let slot = self.slots.get(id.index as usize)?;
        (slot.generation == id.generation).then_some(())?;
        slot.flow.as_ref()
    }

    pub fn get_mut(&mut self, id: FlowId) -> Option<&mut Flow<T>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        (slot.generation == id.generation).then_some(())?;
        slot.flow.as_mut()
    }

    /// Record activity at `now_us` and the flow's current state.
    pub fn touch(&mut self, id: FlowId, now_us: u64, state: FlowState) {
        let Some(flow) = self.get_mut(id) else { return };
        flow.last_seen_us = flow.last_seen_us.max(now_us);
        flow.state = state;
        let cls = class(flow.key.proto, state);
        self.unlink(id.index);
        self.slots[id.index as usize].class = cls;
        self.push_tail(cls, id.index);
    }

    pub fn remove(&mut self, id: FlowId) -> Option<Flow<T>> {
        self.get(id)?;
        self.take(id.index)
    }

    /// Remove and hand over every flow idle past its timeout at `now_us`.
    pub fn expire(&mut self, now_us: u64, mut out: impl FnMut(Flow<T>)) {
        for cls in 0..CLASSES {
            let timeout = self.timeouts_us[cls];
            while let Some(head) = self.lists[cls].head {
                let last = self.slots[head as usize].flow.as_ref().map_or(0, |f| f.last_seen_us);
                if now_us.saturating_sub(last) < timeout {
                    break;
                }
                match self.take(head) {
                    Some(f) => out(f),
                    None => break,
                }
            }
        }
    }

    /// Remove the flow closest to expiry (used when a bound bites).
    pub fn evict_stalest(&mut self) -> Option<Flow<T>> {
        let victim = (0..CLASSES)
            .filter_map(|cls| {
                let head = self.lists[cls].head?;
                let last = self.slots[head as usize].flow.as_ref()?.last_seen_us;
                Some((last.saturating_add(self.timeouts_us[cls]), head))
            })
            .min()?;
        self.take(victim.1)
    }

    /// Remove every flow (end of a capture, shutdown).
    pub fn drain(&mut self, mut out: impl FnMut(Flow<T>)) {
        let indices: Vec<u32> = self.index.values().copied().collect();
        let mut flows: Vec<Flow<T>> = indices.into_iter().filter_map(|i| self.take(i)).collect();
        // Deterministic order: replays must give the same output every time.
        flows.sort_by_key(|f| f.flow_id);
        flows.into_iter().for_each(&mut out);
    }

    fn take(&mut self, index: u32) -> Option<Flow<T>> {
        self.unlink(index);
        let slot = self.slots.get_mut(index as usize)?;
        let flow = slot.flow.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.index.remove(&flow.key);
        self.free.push(index);
        Some(flow)
    }

    fn push_tail(&mut self, cls: usize, index: u32) {
        let old_tail = self.lists[cls].tail;
        {
            let slot = &mut self.slots[index as usize];
            slot.prev = old_tail;
            slot.next = None;
        }
        match old_tail {
            Some(t) => self.slots[t as usize].next = Some(index),
            None => self.lists[cls].head = Some(index),
        }
        self.lists[cls].tail = Some(index);
    }

    fn unlink(&mut self, index: u32) {
        let (cls, prev, next) = {
            let s = &self.slots[index as usize];
            (s.class, s.prev, s.next)
        };
        let in_list = prev.is_some() || next.is_some() || self.lists[cls].head == Some(index);
        if !in_list {
            return;
        }
        match prev {
            Some(p) => self.slots[p as usize].next = next,
            None => self.lists[cls].head = next,
        }
        match next {
            Some(n) => self.slots[n as usize].prev = prev,
            None => self.lists[cls].tail = prev,
        }
        let s = &mut self.slots[index as usize];
        s.prev = None;
        s.next = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint { ip: std::net::IpAddr::from([10, 0, 0, last]), port }
    }

    fn insert(t: &mut FlowTable<u32>, n: u8, proto: u8, now: u64) -> Lookup<u32> {
        let (a, b) = (ep(n, 1000), ep(200, 80));
        t.lookup_or_insert(FlowKey::new(proto, 0, a, b), a, b, false, now, || u32::from(n))
    }

    #[test]
    fn reply_finds_the_same_flow_in_the_other_direction() {
        let mut t = FlowTable::new(TableConfig::default());
        let l = insert(&mut t, 1, 6, 0);
        assert!(l.created);
        let (a, b) = (ep(1, 1000), ep(200, 80));
        let r = t.lookup_or_insert(FlowKey::new(6, 0, b, a), b, a, false, 5, || 99);
        assert!(!r.created);
        assert_eq!(r.id, l.id);
        assert_eq!(r.dir, Direction::ToClient);
        assert_eq!(t.get(r.id).unwrap().data, 1);
    }

    #[test]
    fn idle_flows_expire_per_class_timeout() {
        let mut t = FlowTable::new(TableConfig::default());
        let udp = insert(&mut t, 1, 17, 0);
        let tcp = insert(&mut t, 2, 6, 0);
        t.touch(tcp.id, 0, FlowState::Established);
        let mut gone = Vec::new();
        t.expire(31_000_000, |f| gone.push(f.data));
        assert_eq!(gone, vec![1], "udp new times out at 30 s, tcp established does not");
        assert!(t.get(udp.id).is_none(), "a stale id must miss");
        t.expire(601_000_000, |f| gone.push(f.data));
        assert_eq!(gone, vec![1, 2]);
        assert!(t.is_empty());
    }

    #[test]
    fn touching_moves_a_flow_to_the_back() {
        let mut t = FlowTable::new(TableConfig::default());
        let a = insert(&mut t, 1, 17, 0);
        insert(&mut t, 2, 17, 10);
        t.touch(a.id, 20_000_000, FlowState::New);
        let mut gone = Vec::new();
        t.expire(40_000_000, |f| gone.push(f.data));
        assert_eq!(gone, vec![2]);
    }

    #[test]
    fn max_flows_evicts_the_stalest_and_reports_it() {
        let mut t = FlowTable::new(TableConfig { max_flows: 2, ..Default::default() });
        insert(&mut t, 1, 17, 0);
        insert(&mut t, 2, 17, 1);
        let l = insert(&mut t, 3, 17, 2);
        assert_eq!(l.evicted.map(|f| f.data), Some(1));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn slots_are_reused_without_confusing_ids() {
        let mut t = FlowTable::new(TableConfig { max_flows: 1, ..Default::default() });
        let a = insert(&mut t, 1, 17, 0);
        let b = insert(&mut t, 2, 17, 1);
        assert!(t.get(a.id).is_none());
        assert_eq!(t.get(b.id).unwrap().data, 2);
        assert_ne!(t.get(b.id).unwrap().flow_id, 1);
    }
}
