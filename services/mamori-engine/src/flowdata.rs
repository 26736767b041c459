//! What the engine keeps per flow.

use std::collections::VecDeque;

use mamori_applayer::{AppProto, Direction};
use mamori_apps::{Detection as AppDetection, FlowFacts};
use mamori_detect::FlowDetect;
use mamori_eve::Json;
use mamori_files::FlowFiles;
use mamori_flow::TcpConn;
use mamori_stream::Reassembler;
use serde_json::Value;

use crate::app::dns::DnsUdpSession;
use crate::app::quic::QuicSession;
use crate::app::AppSession;
use crate::inspect::TxObjectStore;

pub(crate) struct TcpData {
    pub conn: TcpConn,
    pub streams: [Reassembler; 2],
    /// Bytes this flow holds in out-of-order buffers, as last accounted in
    /// the engine-wide total.
    pub accounted: usize,
}

/// The app layer of a flow.
pub(crate) enum App {
    /// Looking at the first bytes to find the protocol.
    Detecting(Detection),
    Stream(Box<dyn AppSession>),
    Dns(DnsUdpSession),
    Quic(Box<QuicSession>),
    /// Nothing we parse (or the parser gave up, or STARTTLS without TLS).
    None {
        proto: Option<AppProto>,
    },
}

impl App {
    pub fn proto(&self) -> Option<AppProto> {
        match self {
            App::Detecting(_) => None,
            App::Stream(s) => Some(s.proto()),
            App::Dns(_) => Some(AppProto::Dns),
            App::Quic(_) => Some(AppProto::Quic),
            App::None { proto } => *proto,
        }
    }
}

/// Stream bytes seen before the protocol is known, in arrival order so they
/// can be replayed to the parser once it is.
#[derive(Default)]
pub(crate) struct Detection {
    pub chunks: Vec<(Direction, Vec<u8>)>,
    pub bytes: [usize; 2],
    /// A direction that can no longer be recognised (gap, or no match).
    pub failed: [bool; 2],
    /// Datagrams looked at (UDP).
    pub datagrams: u32,
}

/// Naming the flow's application (nDPI's names).
pub(crate) enum AppId {
    /// Gathering the first payloads and names.
    Collecting(Box<FlowFacts>),
    Known(AppDetection),
    Unknown,
}

pub(crate) struct FlowData {
    pub vlans: Vec<u16>,
    pub tcp: Option<Box<TcpData>>,
    pub app: App,
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    /// Files streaming through this flow.
    pub files: FlowFiles,
    /// Recent transaction objects, for `fileinfo` events of those transactions.
    pub tx_cache: VecDeque<(u64, Vec<(&'static str, Json)>)>,
    pub macs: [Option<[u8; 6]>; 2],
    /// Inspection is over; the data path may skip this flow.
    pub bypassed: bool,
    /// Bypassed because the app protocol is over (see
    /// `EngineConfig::bypass_app_over`): the connection is closing, so the
    /// flow times out as a closed one and a new handshake on its ports is a
    /// new flow, whether or not its closing packets reach the engine.
    pub app_over: bool,
    pub alerted: bool,
    /// Files whose verdict is still pending (see `FileDecision::Hold`).
    pub held_files: Vec<u32>,
    /// A file gate blocked content of this flow: drop the rest.
    pub blocked: bool,
    /// Anomaly events written for this flow (capped to avoid storms).
    pub anomaly_events: u32,
    pub app_id: AppId,
    /// The named app was checked against the blocked apps.
    pub app_judged: bool,
    /// IPS state (flowbits, stream windows, fired rules), when rules are loaded.
    pub detect: Option<Box<FlowDetect>>,
    /// Which rule set `detect` belongs to (see `Engine::replace_detect`).
    pub detect_gen: u64,
    /// App objects for alerts not written yet.
    pub det_objects: Option<Box<TxObjectStore>>,
    /// Handshake seen: 1 = client SYN, 2 = server SYN/ACK.
    pub handshake: u8,
    /// Established as rules' `flow:established` means it.
    pub det_established: bool,
    /// The app protocol as per-packet rules see it. Suricata (IDS mode)
    /// parses a direction's data when the other side acknowledges it, so a
    /// protocol found in a packet becomes visible with the first
    /// acknowledging packet of the other direction.
    pub det_app: Option<AppProto>,
    /// A protocol was found in data of this direction and is not visible yet.
    pub det_app_pending: Option<Direction>,
}

/// Transaction objects kept per flow for `fileinfo` events.
pub(crate) const TX_CACHE: usize = 8;

impl FlowData {
    pub fn new(vlans: Vec<u16>) -> FlowData {
        FlowData {
            vlans,
            tcp: None,
            app: App::Detecting(Detection::default()),
            pkts: [0; 2],
            bytes: [0; 2],
            files: FlowFiles::default(),
            tx_cache: VecDeque::new(),
            macs: [None; 2],
            bypassed: false,
            app_over: false,
            alerted: false,
            held_files: Vec::new(),
            blocked: false,
            anomaly_events: 0,
            app_id: AppId::Unknown,
            app_judged: false,
            detect: None,
            detect_gen: 0,
            det_objects: None,
            handshake: 0,
            det_established: false,
            det_app: None,
            det_app_pending: None,
        }
    }

    /// Keep a transaction's objects for the files it may still finish, as
    /// JSON text: a fileinfo event copies the text instead of a value tree.
    pub fn cache_tx(&mut self, tx_id: u64, objects: &[(&'static str, Value)]) {
        self.cache_tx_json(tx_id, objects.iter().map(|(k, v)| (*k, Json::encode(v))).collect());
    }

    /// [`FlowData::cache_tx`] with the objects already JSON text.
    pub fn cache_tx_json(&mut self, tx_id: u64, objects: Vec<(&'static str, Json)>) {
        if let Some(e) = self.tx_cache.iter_mut().find(|(t, _)| *t == tx_id) {
            e.1 = objects;
            return;
        }
        if self.tx_cache.len() >= TX_CACHE {
            self.tx_cache.pop_front();
        }
        self.tx_cache.push_back((tx_id, objects));
    }
}
