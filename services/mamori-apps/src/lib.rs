//! Application identification for Mamori, sans-I/O.
//!
//! The engine collects bounded [`FlowFacts`] per flow (transport, ports,
//! the first payloads of each direction, names seen in TLS/QUIC SNI, DNS and
//! HTTP Host, optionally the server address) and calls [`classify`] until it
//! answers or the facts are full. Apps carry nDPI's names ([`App::name`]) so
//! that results compare directly with nDPI and EVE's `app` field reads the
//! same.

mod addresses;
pub mod app;
mod classify;
pub mod facts;
#[doc(hidden)]
pub mod fuzzing;
mod hosts;
mod sig;

pub use app::{App, AppGroup};
pub use classify::{classify, Detection, Evidence};
pub use facts::{
    FlowFacts, NameSource, Payload, Transport, MAX_BYTES_PER_PACKET, MAX_NAMES, MAX_NAME_LEN, MAX_PACKETS_PER_DIR,
};
pub use hosts::app_for_name;
