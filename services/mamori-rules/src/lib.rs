//! The Suricata 7/8 rule language: parsing, variable resolution, semantic
//! validation and load reporting. Sans-I/O: callers hand in file names and
//! texts; nothing here reads files.
//!
//! ```
//! use mamori_rules::{Classifications, RuleSet, Vars};
//!
//! let rules = "alert http $HOME_NET any -> $EXTERNAL_NET any (msg:\"x\"; http.uri; content:\"/evil\"; sid:1;)\n";
//! let (set, summary) = RuleSet::load(&[("local.rules", rules)], &Vars::default(), &Classifications::empty());
//! assert_eq!(summary.to_string().lines().next(), Some("loaded 1 of 1 rules"));
//! assert_eq!(set.rules[0].detections[0].buffer, mamori_rules::Buffer::HttpUri);
//! ```

mod address;
mod buffer;
mod builder;
mod bytes;
mod classification;
mod content;
mod error;
mod flow;
#[doc(hidden)]
pub mod fuzzing;
mod group;
mod header;
mod intern;
mod number;
mod packet;
mod pcre;
mod ranges;
mod requires;
mod rule;
mod ruleset;
mod text;
mod threshold;
mod threshold_config;
mod vars;

pub use address::IpSet;
pub use buffer::{Buffer, Transform};
pub use bytes::{ByteExtract, ByteJump, ByteOp, ByteTest, Endian, IsDataAt, JumpFrom, NumString};
pub use classification::{Classifications, Classtype};
pub use content::{Anchor, ByteVar, Content, FastPattern, Value};
pub use error::{ConfigError, Origin, RuleError, RuleErrorKind};
pub use flow::{
    BitCmd, BitNames, FlowDirection, FlowOpts, Flowbits, Flowint, FlowintOp, FlowintValue, Only, StreamSide,
    StreamSize, XbitTrack, Xbits,
};
pub use header::{Action, AppLayer, Direction, Header, Protocol};
pub use number::NumCmp;
pub use packet::{frag_bit, tcp_flag, BitMode, Condition, FragBits, IpOpt, TcpFlags};
pub use pcre::{Capture, CaptureKind, Pcre, PcreFlags, RegexEngine};
pub use port::PortSet;
pub use requires::SURICATA_VERSION;
pub use rule::{Asn1, Base64Decode, Detection, Match, Meta, Reference, Rule, Target, DEFAULT_PRIORITY};
pub use ruleset::{parse_rule, LoadCache, LoadSummary, RuleSet};
pub use threshold::{DetectionFilter, Threshold, ThresholdType, Track};
pub use threshold_config::{ConfigEntry, RateAction, Selector, SuppressBy, ThresholdConfig, ThresholdEntry};
pub use vars::Vars;

mod port;
