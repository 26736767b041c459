//! Engine settings. Every field has a default that works on the appliance;
//! the inspect binary reads them from the `[engine]` table of its TOML.

use mamori_flow::{TableConfig, Timeouts};
use mamori_stream::StreamConfig;
use mamori_wire::defrag::DefragConfig;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Flows tracked at once.
    pub max_flows: usize,
    /// Bytes held for out-of-order TCP data across all flows. When it bites,
    /// the stalest flows are evicted (and counted).
    pub stream_memcap: usize,
    /// Bytes of each direction inspected; past it the direction is not
    /// reassembled and the flow can be bypassed. 0 = unlimited.
    pub stream_depth: u64,
    /// Out-of-order bytes held per direction.
    pub stream_max_buffered: usize,
    /// Bytes looked at per direction to recognise the app protocol.
    pub detect_max_bytes: usize,
    pub timeouts: Timeouts,
    pub defrag_max_trackers: usize,
    pub defrag_memcap: usize,
    /// Pieces one datagram may have (a bound against tiny-fragment floods).
    pub defrag_max_fragments: usize,
    /// Mark a flow for bypass once nothing in it needs inspecting.
    pub bypass: bool,
    /// Bypass a flow as soon as one direction passes `stream_depth` (inline:
    /// a long download stops costing inspection; the other direction's
    /// later data is then not inspected either). Off: both directions must
    /// be past the depth or closed, as when scoring against Suricata.
    pub bypass_one_side: bool,
    /// Bypass a connection as soon as its app protocol is over (an HTTP
    /// exchange with `Connection: close` has completed and been inspected):
    /// inline, its closing packets then skip the queue, a quarter of a short
    /// connection's queued packets. What the connection still carries is not
    /// read by an honest peer, and two colluding peers can hide their talk
    /// with TLS anyway. Off: the closing packets are inspected, as when
    /// scoring against Suricata.
    pub bypass_app_over: bool,
    /// The outer VLAN id is part of a flow's identity (Suricata's
    /// `vlan.use-for-tracking`). Off for networks that tag one direction only.
    pub vlan_tracking: bool,
    /// Flows picked up mid-stream count as established for rules
    /// (Suricata's `stream.midstream`); off by default, as in Suricata.
    pub midstream: bool,
    /// Only one side of TCP flows is captured (Suricata's
    /// `stream.async-oneside`): a client SYN and ACK make a flow established.
    pub async_oneside: bool,
    /// Look for Teredo (IPv6 in UDP) on every UDP port, not only 3544
    /// (Suricata without `decoder.teredo.ports`).
    pub teredo_any_port: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_flows: 1 << 19,
            stream_memcap: 256 << 20,
            stream_depth: 1 << 20,
            stream_max_buffered: 1 << 20,
            detect_max_bytes: 4096,
            timeouts: Timeouts::default(),
            defrag_max_trackers: 65_536,
            defrag_memcap: 32 << 20,
            defrag_max_fragments: 1024,
            bypass: true,
            bypass_one_side: false,
            bypass_app_over: false,
            vlan_tracking: true,
            midstream: false,
            async_oneside: false,
            teredo_any_port: false,
        }
    }
}

impl EngineConfig {
    pub(crate) fn table(&self) -> TableConfig {
        TableConfig { max_flows: self.max_flows.max(1), timeouts: self.timeouts.clone() }
    }

    pub(crate) fn stream(&self) -> StreamConfig {
        StreamConfig { depth: self.stream_depth, max_buffered: self.stream_max_buffered, max_segments: 4096 }
    }

    pub(crate) fn defrag(&self) -> DefragConfig {
        DefragConfig {
            max_trackers: self.defrag_max_trackers,
            max_bytes: self.defrag_memcap,
            max_fragments: self.defrag_max_fragments,
            ..Default::default()
        }
    }
}
