//! Threat intelligence and web categories for Mamori, sans-I/O.
//!
//! * [`feeds`]: parsers for the published feed formats (abuse.ch Feodo
//!   Tracker, URLhaus, ThreatFox, MalwareBazaar; Spamhaus DROP; Emerging
//!   Threats; OpenPhish; PhishTank; UT1 categories; our own list format).
//! * [`normalize_domain`] / [`normalize_url`]: the canonical forms lists and
//!   the wire are compared in.
//! * [`IntelBuilder`] compiles sources into compact matchers and a signed,
//!   versioned bundle; [`verify_and_load`] checks one; [`IntelHandle`] swaps
//!   the loaded [`Intel`] atomically while readers keep querying.
//! * [`Intel::lookup_domain`], [`Intel::lookup_url`], [`Intel::lookup_http`],
//!   [`Intel::lookup_ip`], [`Intel::lookup_sha256`] answer a [`Verdict`]
//!   under a customer [`Policy`] (malicious: block; categories: log; the
//!   allowlist wins).
//!
//! No clocks, files or sockets here: the caller passes text and bytes in,
//! and the bundle creation time as a number.

mod build;
pub mod bundle;
pub mod category;
pub mod feeds;
#[doc(hidden)]
pub mod fuzzing;
mod handle;
mod intel;
pub mod label;
pub mod matcher;
pub mod normalize;
mod policy;
pub mod supplement;
mod verdict;

pub use build::{BuildError, IntelBuilder};
pub use bundle::{key_id, verify_and_load, BundleError, BundleHeader};
pub use category::Category;
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use feeds::{parse_feed, Entry, FeedError, FeedFormat, Indicator, ParsedFeed, SkipReason};
pub use handle::IntelHandle;
pub use intel::{Intel, IntelStats, SourceInfo, MAX_MATCHES};
pub use label::{Label, ThreatKind};
pub use normalize::{normalize_domain, normalize_url, NormUrl, NormalizeError};
pub use policy::{Action, Allowlist, AllowlistConfig, AllowlistError, Policy, PolicyConfig};
pub use verdict::{IndicatorKind, Match, Verdict};
