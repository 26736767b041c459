//! The IPS matcher, sans-I/O: compiles a [`mamori_rules::RuleSet`] into a
//! [`Detector`] (Hyperscan prefilters on each rule's fast pattern, block
//! mode for packets and transaction buffers, streaming mode for TCP
//! streams), then verifies every candidate with Suricata's semantics.
//!
//! ```no_run
//! use std::sync::Arc;
//! use mamori_detect::{Detect, Detector, FlowDetect};
//! # let (rules, thresholds) = (mamori_rules::RuleSet::default(), mamori_rules::ThresholdConfig::default());
//! let det = Arc::new(Detector::build(&rules, &thresholds, None));
//! let mut d = Detect::new(det, false);
//! let mut flow = FlowDetect::new(1);
//! // per packet: d.packet(..), d.stream(..) for new stream bytes, d.tx(..)
//! // for transactions that progressed, then d.finish(..) for alerts and the verdict.
//! ```
//!
//! The engine owns the per-flow state ([`FlowDetect`]) and one [`Detect`]
//! per thread (scratch space, thresholds, the packet's match queue).

mod build;
mod cache;
mod detect;
mod flow;
#[doc(hidden)]
pub mod fuzzing;
mod groups;
mod hs;
mod inspect;
mod ipindex;
mod packet;
mod prefilter;
mod regex;
mod search;
mod sig;
mod threshold;
mod transform;

pub use build::{BuildOptions, BuildReport, Detector};
pub use cache::{DbCache, DirCache, MemCache};
pub use detect::{Alert, Detect, DropReason, Reject, TxSource, Verdict, MAX_INSTANCES};
pub use flow::FlowDetect;
pub use packet::{ipopt_bit, ipv4_options, FlowFacts, IcmpHdr, IpOptBits, Packet, TcpHdr};
pub use sig::SigInfo;

/// libhs version (for reports).
pub fn hyperscan_version() -> String {
    hs::version()
}
