//! The parsed rule: what the matcher compiles from.

use std::sync::Arc;

use crate::buffer::{Buffer, Transform};
use crate::bytes::{ByteExtract, ByteJump, ByteTest, IsDataAt};
use crate::classification::Classtype;
use crate::content::Content;
use crate::error::Origin;
use crate::flow::{FlowOpts, Flowbits, Flowint, Xbits};
use crate::header::{Action, AppLayer, Header};
use crate::number::NumCmp;
use crate::packet::Condition;
use crate::pcre::Pcre;
use crate::threshold::{DetectionFilter, Threshold};

/// Suricata's default priority when neither `priority` nor a classtype sets one.
pub const DEFAULT_PRIORITY: u32 = 3;

/// `reference: <type>, <id>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub kind: Arc<str>,
    pub id: String,
}

/// `target: src_ip|dest_ip`: which side EVE names as the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    SrcIp,
    DestIp,
}

/// Identification and reporting fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub msg: String,
    pub classtype: Option<Arc<Classtype>>,
    /// `priority`, else the classtype's, else [`DEFAULT_PRIORITY`].
    pub priority: u32,
    pub references: Vec<Reference>,
    /// `metadata: key value, ...` pairs in order.
    pub metadata: Vec<(Arc<str>, Arc<str>)>,
    pub target: Option<Target>,
}

/// `base64_decode[:bytes N][,offset M][,relative]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Base64Decode {
    pub bytes: Option<u32>,
    pub offset: Option<u32>,
    pub relative: bool,
}

/// `asn1: bitstring_overflow, double_overflow, oversize_length N,
/// absolute_offset N | relative_offset N`: decode BER at that position and
/// check for the named anomalies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Asn1 {
    pub bitstring_overflow: bool,
    pub double_overflow: bool,
    pub oversize_length: Option<u32>,
    pub absolute_offset: Option<u16>,
    pub relative_offset: Option<i32>,
}

/// A keyword that inspects a buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Match {
    Content(Content),
    Pcre(Pcre),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    IsDataAt(IsDataAt),
    /// `bsize`: the buffer's length.
    Bsize(NumCmp<u64>),
    /// `urilen`: length of the (normalized or raw) URI buffer it sits in.
    Urilen(NumCmp<u16>),
    Base64Decode(Base64Decode),
    Asn1(Asn1),
}

impl Match {
    /// The canonical keyword name.
    pub fn keyword(&self) -> &'static str {
        match self {
            Match::Content(_) => "content",
            Match::Pcre(_) => "pcre",
            Match::ByteTest(_) => "byte_test",
            Match::ByteJump(_) => "byte_jump",
            Match::ByteExtract(_) => "byte_extract",
            Match::IsDataAt(_) => "isdataat",
            Match::Bsize(_) => "bsize",
            Match::Urilen(_) => "urilen",
            Match::Base64Decode(_) => "base64_decode",
            Match::Asn1(_) => "asn1",
        }
    }

    /// Whether a later relative keyword can anchor on this one.
    pub fn sets_position(&self) -> bool {
        matches!(
            self,
            Match::Content(_) | Match::Pcre(_) | Match::ByteJump(_) | Match::ByteExtract(_) | Match::IsDataAt(_)
        )
    }
}

/// One inspection step, in rule order. Steps with equal `buffer` and
/// `transforms` form one Suricata "list": relative modifiers refer to the
/// previous step in the same list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Detection {
    pub buffer: Buffer,
    /// Transforms of the sticky buffer section, applied in order.
    pub transforms: Vec<Transform>,
    pub item: Match,
}

impl Detection {
    pub fn same_list(&self, other: &Detection) -> bool {
        self.buffer == other.buffer && self.transforms == other.transforms
    }
}

/// A rule that passed parsing and validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub header: Header,
    pub meta: Meta,
    /// The app-layer protocol from the header or implied by its keywords.
    pub app_layer: Option<AppLayer>,
    pub detections: Vec<Detection>,
    /// Packet, flow and header checks (order does not matter).
    pub conditions: Vec<Condition>,
    pub flow: Option<FlowOpts>,
    pub flowbits: Vec<Flowbits>,
    pub flowints: Vec<Flowint>,
    pub xbits: Vec<Xbits>,
    pub threshold: Option<Threshold>,
    pub detection_filter: Option<DetectionFilter>,
    /// `noalert` or `flowbits:noalert`: match (and set bits) without alerting.
    pub noalert: bool,
    /// Names of `byte_extract` variables, indexed by [`crate::ByteVar`].
    pub byte_vars: Vec<String>,
    /// `prefilter` was given after this keyword.
    pub prefilter: Option<String>,
    pub origin: Origin,
    /// The rule text as loaded (continuations joined).
    pub text: String,
}

impl Rule {
    /// The content chosen with `fast_pattern`, if the rule names one.
    pub fn fast_pattern(&self) -> Option<(&Detection, &Content)> {
        self.detections.iter().find_map(|d| match &d.item {
            Match::Content(c) if c.fast_pattern.is_some() => Some((d, c)),
            _ => None,
        })
    }

    /// The buffers this rule inspects, in first-use order.
    pub fn buffers(&self) -> Vec<Buffer> {
        let mut v: Vec<Buffer> = Vec::new();
        for d in &self.detections {
            if !v.contains(&d.buffer) {
                v.push(d.buffer);
            }
        }
        v
    }
}
