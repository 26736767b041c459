//! The bridge from the pipeline to the IPS matcher for one packet: stream
//! chunks and transactions are handed over as the app layer produces them,
//! and the app objects of matching transactions are kept for the alerts.

use std::collections::VecDeque;

use mamori_applayer::Direction;
use mamori_detect::{Detect, FlowDetect, FlowFacts, Packet, TxSource};
use serde_json::Value;

/// App objects (`("http", {...})`) of a transaction that raised alerts.
pub(crate) type TxObjects = Vec<(&'static str, Value)>;

/// Objects of transactions with alerts not yet written, by tag. Kept per
/// flow: an alert may be written on a later packet than its match.
#[derive(Default)]
pub(crate) struct TxObjectStore {
    next: u32,
    items: VecDeque<(u32, TxObjects)>,
}

/// Objects kept at most per flow; the oldest go first.
const MAX_OBJECTS: usize = 32;

impl TxObjectStore {
    fn put(&mut self, tag: u32, objects: TxObjects) {
        if self.items.len() >= MAX_OBJECTS {
            self.items.pop_front();
        }
        self.items.push_back((tag, objects));
    }

    pub fn get(&self, tag: u32) -> Option<&TxObjects> {
        self.items.iter().find(|(t, _)| *t == tag).map(|(_, o)| o)
    }

    fn next_tag(&mut self) -> u32 {
        // Tag 0 means "no objects".
        self.next = self.next.wrapping_add(1).max(1);
        self.next
    }
}

pub(crate) struct Inspector<'a, 'p> {
    pub d: &'a mut Detect,
    pub flow: &'a mut FlowDetect,
    pub pkt: &'a Packet<'p>,
    pub facts: FlowFacts,
    /// TCP flows picked up without a SYN (and midstream not allowed) have
    /// no stream or app-layer inspection, only packet rules (as in Suricata,
    /// which does not track such sessions).
    pub stream_on: bool,
    pub objects: &'a mut TxObjectStore,
}

impl Inspector<'_, '_> {
    pub fn stream(&mut self, dir: Direction, data: &[u8]) {
        self.d.stream(self.flow, self.pkt, &self.facts, dir, data);
    }

    pub fn stream_end(&mut self, dir: Direction) {
        self.d.stream_end(self.flow, dir);
    }

    pub fn gap(&mut self, dir: Direction, len: u64) {
        self.d.stream_gap(self.flow, dir, len);
    }

    /// Inspect a transaction; `objects` is only called when it alerted.
    pub fn tx(&mut self, dir: Direction, tx: &dyn TxSource, objects: &dyn Fn() -> TxObjects) {
        let tag = self.objects.next_tag();
        if self.d.tx(self.flow, self.pkt, &self.facts, dir, tx, tag) {
            self.objects.put(tag, objects());
        }
    }
}
