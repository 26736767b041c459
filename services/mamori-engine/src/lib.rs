//! The inspection engine, sans-I/O.
//!
//! Packets go in with their timestamps; verdicts and EVE records come out.
//! No sockets and no clocks: the NFQUEUE binary and the pcap replayer are
//! thin shells around [`Engine::process`], so a capture replays to the same
//! events every time.
//!
//! Layers, in the order a packet meets them:
//! decode (`mamori-wire`) → defragment → flow table and TCP state
//! (`mamori-flow`) → reassembly (`mamori-stream`) → protocol detection →
//! app-layer parsers → files (`mamori-files`) → EVE records (`mamori-eve`).

mod app;
mod appid;
pub mod config;
pub mod counters;
mod engine;
mod events;
mod flowdata;
mod inspect;
pub mod web;

pub use config::EngineConfig;
pub use counters::Counters;
pub use engine::{Engine, FlowHandle, FlowInfo, PacketIn, PacketResult, Verdict};
pub use mamori_applayer::AppProto;
pub use mamori_detect::{Detect, Detector, Reject};
pub use mamori_eve::{EveRecord, Timestamp};
pub use mamori_files::{FileDecision, FileGate, FileInfo, PassAll, PassAllSha256};
pub use mamori_flow::Endpoint;
pub use mamori_wire::LinkType;
pub use web::WebProtection;
