//! Assembles a rule option by option, tracking Suricata's parse state: the
//! active sticky buffer, the last content (which modifiers apply to), and
//! byte_extract variables. Semantic checks that need the whole rule run in
//! [`Builder::finish`].

use std::borrow::Cow;
use std::sync::Arc;

use crate::buffer::{self, Buffer, BufferKeyword, Transform};
use crate::bytes::{self, VarLookup};
use crate::classification::Classifications;
use crate::content::{parse_fast_pattern, ByteVar, Content, Value};
use crate::error::Origin;
use crate::error::{invalid, KeywordError, KwResult, RuleErrorKind};
use crate::flow::{self, FlowOpts, Flowbits, FlowbitsKw, Flowint, Xbits, XbitsKw};
use crate::header::{Action, AppLayer, Header, Protocol};
use crate::intern::Interner;
use crate::number::{parse_cmp, parse_dec, parse_i64};
use crate::packet::{self, Condition};
use crate::pcre;
use crate::rule::{Asn1, Base64Decode, Detection, Match, Meta, Reference, Rule, Target, DEFAULT_PRIORITY};
use crate::text::{self, RawOption};
use crate::threshold::{self, DetectionFilter, Threshold};

/// Most byte_extract variables in one rule (indexes are `u8`).
const MAX_BYTE_VARS: usize = 64;
/// Suricata's DETECT_TRANSFORMS_MAX.
const MAX_TRANSFORMS: usize = 16;

struct Sticky {
    buffer: Buffer,
    keyword: String,
    transforms: Vec<Transform>,
    has_match: bool,
}

pub(crate) struct Builder<'a> {
    classes: &'a Classifications,
    strings: &'a mut Interner,
    action: Action,
    header: Header,
    payload: Buffer,
    sticky: Option<Sticky>,
    detections: Vec<Detection>,
    last_content: Option<usize>,
    byte_vars: Vec<String>,
    conditions: Vec<Condition>,
    flow: Option<FlowOpts>,
    flowbits: Vec<Flowbits>,
    flowints: Vec<Flowint>,
    xbits: Vec<Xbits>,
    threshold: Option<Threshold>,
    detection_filter: Option<DetectionFilter>,
    noalert: bool,
    prefilter: Option<String>,
    app_layer: Option<AppLayer>,
    gid: Option<u32>,
    sid: Option<u32>,
    rev: Option<u32>,
    msg: Option<String>,
    classtype: Option<Arc<crate::classification::Classtype>>,
    priority: Option<u32>,
    references: Vec<Reference>,
    metadata: Vec<(Arc<str>, Arc<str>)>,
    target: Option<Target>,
}

struct Vars<'b>(&'b [String]);

impl VarLookup for Vars<'_> {
    fn var(&self, name: &str) -> Option<ByteVar> {
        self.0.iter().position(|v| v == name).and_then(|i| u8::try_from(i).ok()).map(ByteVar)
    }
}

impl<'a> Builder<'a> {
    pub(crate) fn new(classes: &'a Classifications, strings: &'a mut Interner, action: Action, header: Header) -> Self {
        let payload = match header.proto {
            Protocol::TcpPkt => Buffer::Packet,
            Protocol::TcpStream => Buffer::Stream,
            _ => Buffer::Payload,
        };
        let app_layer = header.proto.app_layer();
        Builder {
            classes,
            strings,
            action,
            header,
            payload,
            sticky: None,
            detections: Vec::new(),
            last_content: None,
            byte_vars: Vec::new(),
            conditions: Vec::new(),
            flow: None,
            flowbits: Vec::new(),
            flowints: Vec::new(),
            xbits: Vec::new(),
            threshold: None,
            detection_filter: None,
            noalert: false,
            prefilter: None,
            app_layer,
            gid: None,
            sid: None,
            rev: None,
            msg: None,
            classtype: None,
            priority: None,
            references: Vec::new(),
            metadata: Vec::new(),
            target: None,
        }
    }

    /// Applies all options; the first error names its keyword.
    pub(crate) fn apply_all(&mut self, opts: &[RawOption<'_>]) -> Result<(), KeywordError> {
        let mut prev: Option<&str> = None;
        for o in opts {
            let kw: Cow<'_, str> = if o.keyword.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(o.keyword.to_ascii_lowercase())
            } else {
                Cow::Borrowed(o.keyword)
            };
            let r = if kw == "prefilter" { self.prefilter(prev, o.value) } else { self.apply(&kw, o.value) };
            r.map_err(|kind| KeywordError::new(&kw, kind))?;
            if kw != "prefilter" {
                prev = Some(o.keyword);
            }
        }
        Ok(())
    }

    /// `prefilter` marks the keyword before it as the rule's prefilter.
    fn prefilter(&mut self, prev: Option<&str>, value: Option<&str>) -> KwResult<()> {
        if value.is_some() {
            return Err(RuleErrorKind::UnexpectedValue);
        }
        let prev = prev.ok_or_else(|| invalid("prefilter needs a preceding keyword"))?;
        if self.prefilter.replace(prev.to_ascii_lowercase()).is_some() {
            return Err(RuleErrorKind::Conflict("prefilter given twice"));
        }
        Ok(())
    }

    fn current_buffer(&self) -> Buffer {
        self.sticky.as_ref().map(|s| s.buffer).unwrap_or(self.payload)
    }

    fn current_transforms(&self) -> Vec<Transform> {
        self.sticky.as_ref().map(|s| s.transforms.clone()).unwrap_or_default()
    }

    fn push(&mut self, item: Match) -> usize {
        let d = Detection { buffer: self.current_buffer(), transforms: self.current_transforms(), item };
        self.push_detection(d)
    }

    fn push_detection(&mut self, d: Detection) -> usize {
        if let Some(s) = self.sticky.as_mut() {
            s.has_match = true;
        }
        self.detections.push(d);
        self.detections.len().saturating_sub(1)
    }

    /// Whether the list has a content or pcre a relative pcre can follow.
    fn has_prior_content_or_pcre(&self, buffer: Buffer, transforms: &[Transform]) -> bool {
        self.detections.iter().any(|d| {
            d.buffer == buffer && d.transforms == transforms && matches!(d.item, Match::Content(_) | Match::Pcre(_))
        })
    }

    /// The content modifiers apply to. With a sticky buffer active it must
    /// be in that buffer (Suricata looks only in the active list).
    fn last_content_mut(&mut self) -> KwResult<&mut Content> {
        self.last_content_in(self.sticky.as_ref().map(|s| s.buffer))
    }

    fn last_content_in(&mut self, sticky: Option<Buffer>) -> KwResult<&mut Content> {
        let idx = self.last_content.ok_or(RuleErrorKind::NoPrecedingContent)?;
        match self.detections.get_mut(idx) {
            Some(d) if sticky.is_some_and(|b| b != d.buffer) => Err(RuleErrorKind::NoPrecedingContent),
            Some(Detection { item: Match::Content(c), .. }) => Ok(c),
            _ => Err(RuleErrorKind::NoPrecedingContent),
        }
    }

    fn require_app(&mut self, wanted: &[AppLayer]) -> KwResult<()> {
        if wanted.is_empty() {
            return Ok(());
        }
        let current = self.app_layer;
        match current {
            Some(cur) => {
                if wanted.iter().any(|w| cur.compatible(*w) || w.compatible(cur)) {
                    Ok(())
                } else {
                    Err(RuleErrorKind::Conflict("keyword's protocol conflicts with the rule's protocol"))
                }
            }
            None => {
                self.app_layer = wanted.first().copied();
                Ok(())
            }
        }
    }

    fn end_sticky(&mut self) -> KwResult<()> {
        if let Some(s) = self.sticky.take() {
            if !s.has_match {
                return Err(invalid(format!("sticky buffer {} has no match after it", s.keyword)));
            }
        }
        Ok(())
    }

    fn apply(&mut self, kw: &str, value: Option<&str>) -> KwResult<()> {
        let need = || value.ok_or(RuleErrorKind::MissingValue);
        let flag = || match value {
            None => Ok(()),
            Some(_) => Err(RuleErrorKind::UnexpectedValue),
        };
        match kw {
            "requires" => crate::requires::check(need()?)?,
            "msg" => {
                let v = text::quoted(need()?)?;
                self.msg = Some(text::unescape(v, false)?);
            }
            "sid" => {
                if self.sid.is_some() {
                    return Err(RuleErrorKind::Conflict("sid given twice"));
                }
                let sid: u32 = parse_dec(need()?)?;
                if sid == 0 {
                    return Err(invalid("sid 0"));
                }
                self.sid = Some(sid);
            }
            "rev" => {
                if self.rev.is_some() {
                    return Err(RuleErrorKind::Conflict("rev given twice"));
                }
                self.rev = Some(parse_dec(need()?)?);
            }
            "gid" => {
                if self.gid.is_some() {
                    return Err(RuleErrorKind::Conflict("gid given twice"));
                }
                self.gid = Some(parse_dec(need()?)?);
            }
            "classtype" => {
                let name = text::maybe_quoted(need()?).trim();
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                    return Err(invalid(format!("bad classtype name {name:?}")));
                }
                // A repeated classtype replaces the earlier one (Suricata accepts it).
                // Suricata 7 only warns about unknown classtypes and uses the
                // default priority; the category stays empty.
                let ct = match self.classes.get(name) {
                    Some(ct) => Arc::clone(ct),
                    None => Arc::new(crate::classification::Classtype {
                        name: name.to_ascii_lowercase(),
                        description: String::new(),
                        priority: DEFAULT_PRIORITY,
                    }),
                };
                self.classtype = Some(ct);
            }
            "priority" => {
                self.priority = Some(parse_dec(need()?)?);
            }
            "reference" => {
                let v = need()?;
                let (k, id) = v.split_once(',').ok_or_else(|| invalid("reference needs \"type, id\""))?;
                let (k, id) = (k.trim(), id.trim());
                if k.is_empty() || id.is_empty() {
                    return Err(invalid("reference needs \"type, id\""));
                }
                let kind = self.strings.get(k);
                self.references.push(Reference { kind, id: id.to_string() });
            }
            "metadata" => {
                for item in text::params(need()?) {
                    if item.is_empty() {
                        continue;
                    }
                    let (k, v) = item.split_once(char::is_whitespace).map(|(k, v)| (k, v.trim())).unwrap_or((item, ""));
                    let (k, v) = (self.strings.get(k), self.strings.get(v));
                    self.metadata.push((k, v));
                }
            }
            "target" => {
                if self.target.is_some() {
                    return Err(RuleErrorKind::Conflict("target given twice"));
                }
                self.target = Some(match need()?.trim() {
                    "src_ip" => Target::SrcIp,
                    "dest_ip" => Target::DestIp,
                    other => return Err(invalid(format!("bad target {other:?}"))),
                });
            }
            "content" => {
                let c = Content::parse(need()?)?;
                if !c.negated {
                    if let Some(s) = &self.sticky {
                        check_transform_compat(&s.transforms, &c.pattern)?;
                    }
                }
                let idx = self.push(Match::Content(c));
                self.last_content = Some(idx);
            }
            "uricontent" => {
                let c = Content::parse(need()?)?;
                if self.sticky.is_some() {
                    return Err(RuleErrorKind::Conflict("uricontent with a sticky buffer set"));
                }
                self.require_app(&[AppLayer::Http])?;
                let idx = self.push_detection(Detection {
                    buffer: Buffer::HttpUri,
                    transforms: Vec::new(),
                    item: Match::Content(c),
                });
                self.last_content = Some(idx);
            }
            "nocase" => {
                flag()?;
                self.last_content_mut()?.set_nocase()?;
            }
            "rawbytes" => {
                flag()?;
                let idx = self.last_content.ok_or(RuleErrorKind::NoPrecedingContent)?;
                if self.detections.get(idx).is_some_and(|d| !d.buffer.is_payload()) {
                    return Err(RuleErrorKind::Conflict("rawbytes only applies to payload content"));
                }
                self.last_content_mut()?.set_rawbytes()?;
            }
            "startswith" => {
                flag()?;
                self.last_content_mut()?.set_startswith()?;
            }
            "endswith" => {
                flag()?;
                self.last_content_mut()?.set_endswith()?;
            }
            "depth" => {
                let v = self.u16_value(need()?)?;
                self.last_content_mut()?.set_depth(v)?;
            }
            "offset" => {
                let v = self.u16_value(need()?)?;
                self.last_content_mut()?.set_offset(v)?;
            }
            "distance" => {
                let v = self.i32_value(need()?)?;
                self.last_content_mut()?.set_distance(v)?;
            }
            "within" => {
                let v = self.i32_value(need()?)?;
                self.last_content_mut()?.set_within(v)?;
            }
            "fast_pattern" => {
                let fp = parse_fast_pattern(value)?;
                if self.detections.iter().any(|d| matches!(&d.item, Match::Content(c) if c.fast_pattern.is_some())) {
                    return Err(RuleErrorKind::Conflict("fast_pattern on more than one content"));
                }
                // Unlike the other modifiers, fast_pattern takes the last
                // content of any list.
                self.last_content_in(None)?.set_fast_pattern(fp)?;
            }
            "pcre" => self.pcre(need()?)?,
            "byte_test" => {
                let t = bytes::parse_byte_test(need()?, &Vars(&self.byte_vars))?;
                self.push(Match::ByteTest(t));
            }
            "byte_jump" => {
                let j = bytes::parse_byte_jump(need()?, &Vars(&self.byte_vars))?;
                self.push(Match::ByteJump(j));
            }
            "byte_extract" => {
                let vars = &mut self.byte_vars;
                let mut define = |name: &str| -> KwResult<ByteVar> {
                    // Suricata allows redefining: later uses see the new value.
                    if let Some(i) = vars.iter().position(|v| v == name) {
                        return u8::try_from(i)
                            .map(ByteVar)
                            .map_err(|_| RuleErrorKind::TooLarge("too many byte_extract variables"));
                    }
                    if vars.len() >= MAX_BYTE_VARS {
                        return Err(RuleErrorKind::TooLarge("too many byte_extract variables"));
                    }
                    vars.push(name.to_string());
                    let idx = u8::try_from(vars.len().saturating_sub(1))
                        .map_err(|_| RuleErrorKind::TooLarge("too many byte_extract variables"))?;
                    Ok(ByteVar(idx))
                };
                let e = bytes::parse_byte_extract(need()?, &mut define)?;
                self.push(Match::ByteExtract(e));
            }
            "isdataat" => {
                let i = bytes::parse_isdataat(need()?, &Vars(&self.byte_vars))?;
                self.push(Match::IsDataAt(i));
            }
            "bsize" => {
                if self.sticky.is_none() {
                    return Err(RuleErrorKind::Conflict("bsize needs a sticky buffer"));
                }
                let c = parse_cmp::<u64>(need()?)?;
                self.push(Match::Bsize(c));
            }
            "urilen" => {
                let v = need()?;
                let (cmp, raw) = match v.split_once(',') {
                    Some((c, m)) => match m.trim() {
                        "raw" => (c, true),
                        "norm" => (c, false),
                        other => return Err(invalid(format!("bad urilen mode {other:?}"))),
                    },
                    None => (v, false),
                };
                let cmp = parse_cmp::<u16>(cmp)?;
                self.require_app(&[AppLayer::Http])?;
                let buffer = if raw { Buffer::HttpUriRaw } else { Buffer::HttpUri };
                self.push_detection(Detection { buffer, transforms: Vec::new(), item: Match::Urilen(cmp) });
            }
            "asn1" => {
                let a = parse_asn1(need()?)?;
                self.push(Match::Asn1(a));
            }
            "ftpbounce" => {
                flag()?;
                self.require_app(&[AppLayer::Ftp])?;
                self.conditions.push(Condition::FtpBounce);
            }
            "base64_decode" => {
                let d = parse_base64_decode(value)?;
                self.push(Match::Base64Decode(d));
            }
            "flow" => {
                if self.flow.is_some() {
                    return Err(RuleErrorKind::Conflict("flow given twice"));
                }
                self.flow = Some(flow::parse_flow(need()?)?);
            }
            "flowbits" => match flow::parse_flowbits(need()?)? {
                FlowbitsKw::Bits(b) => self.flowbits.push(b),
                FlowbitsKw::NoAlert => self.noalert = true,
            },
            "xbits" => match flow::parse_xbits(need()?)? {
                XbitsKw::Bits(b) => self.xbits.push(b),
                XbitsKw::NoAlert => self.noalert = true,
            },
            "flowint" => self.flowints.push(flow::parse_flowint(need()?)?),
            "threshold" => {
                if self.detection_filter.is_some() {
                    return Err(RuleErrorKind::Conflict("threshold and detection_filter in one rule"));
                }
                if self.threshold.is_some() {
                    return Err(RuleErrorKind::Conflict("threshold given twice"));
                }
                self.threshold = Some(threshold::parse_threshold(need()?)?);
            }
            "detection_filter" => {
                if self.threshold.is_some() {
                    return Err(RuleErrorKind::Conflict("threshold and detection_filter in one rule"));
                }
                if self.detection_filter.is_some() {
                    return Err(RuleErrorKind::Conflict("detection_filter given twice"));
                }
                self.detection_filter = Some(threshold::parse_detection_filter(need()?)?);
            }
            "noalert" => {
                flag()?;
                self.noalert = true;
            }
            // Tagging extra packets for logging does not change detection.
            "tag" => {
                need()?;
            }
            _ => return self.apply_other(kw, value),
        }
        Ok(())
    }

    fn apply_other(&mut self, kw: &str, value: Option<&str>) -> KwResult<()> {
        if let Some(bk) = buffer::lookup(kw) {
            return match bk {
                BufferKeyword::Sticky(b) => self.sticky_buffer(kw, b, value),
                BufferKeyword::Modifier(b) => {
                    if value.is_some() {
                        return Err(RuleErrorKind::UnexpectedValue);
                    }
                    self.legacy_modifier(b)
                }
            };
        }
        if let Some(t) = Transform::parse(kw, value) {
            let t = t?;
            let s = self.sticky.as_mut().ok_or(RuleErrorKind::Conflict("transform needs a sticky buffer"))?;
            // After matches, a transform starts a new list for what follows
            // (Suricata 7); earlier matches keep the untransformed buffer.
            if s.transforms.len() >= MAX_TRANSFORMS {
                return Err(RuleErrorKind::TooLarge("too many transforms"));
            }
            s.transforms.push(t);
            return Ok(());
        }
        if let Some(c) = packet::parse(kw, value) {
            let c = c?;
            if let Condition::Dsize(_) = c {
                if self.conditions.iter().any(|x| matches!(x, Condition::Dsize(_))) {
                    return Err(RuleErrorKind::Conflict("dsize given twice"));
                }
            }
            if let Condition::TlsVersion(_) = c {
                self.require_app(&[AppLayer::Tls])?;
            }
            if let Condition::IpProto(_) = c {
                if !matches!(self.header.proto, Protocol::Ip | Protocol::Ipv4 | Protocol::Ipv6) {
                    return Err(RuleErrorKind::Conflict("ip_proto needs an ip rule"));
                }
            }
            self.conditions.push(c);
            return Ok(());
        }
        Err(RuleErrorKind::UnsupportedKeyword)
    }

    fn sticky_buffer(&mut self, kw: &str, b: Buffer, value: Option<&str>) -> KwResult<()> {
        if value.is_some() {
            return Err(RuleErrorKind::UnexpectedValue);
        }
        self.end_sticky()?;
        if b == Buffer::Payload {
            // pkt_data: back to the payload.
            return Ok(());
        }
        if b == Buffer::Base64Data && !self.detections.iter().any(|d| matches!(d.item, Match::Base64Decode(_))) {
            return Err(RuleErrorKind::Conflict("base64_data needs a preceding base64_decode"));
        }
        self.require_app(b.app_layers())?;
        // Suricata's "buffer without matches" check is per list, so naming a
        // buffer again that already has matches is fine.
        let has_match = self.detections.iter().any(|d| d.buffer == b && d.transforms.is_empty());
        self.sticky = Some(Sticky { buffer: b, keyword: kw.to_string(), transforms: Vec::new(), has_match });
        Ok(())
    }

    /// `content:"x"; http_uri;`: moves the last content to the end of the
    /// buffer's list, as Suricata does.
    fn legacy_modifier(&mut self, b: Buffer) -> KwResult<()> {
        let idx = self.last_content.ok_or(RuleErrorKind::NoPrecedingContent)?;
        if self.sticky.is_some() {
            return Err(RuleErrorKind::Conflict("content modifier used while a sticky buffer is set"));
        }
        let d = self.detections.get(idx).ok_or(RuleErrorKind::NoPrecedingContent)?;
        if !d.buffer.is_payload() {
            return Err(RuleErrorKind::Conflict("content already has a buffer modifier"));
        }
        if let Match::Content(c) = &d.item {
            if c.rawbytes {
                return Err(RuleErrorKind::Conflict("rawbytes can't be used with http modifiers"));
            }
        }
        self.require_app(b.app_layers())?;
        let mut d = self.detections.remove(idx);
        d.buffer = b;
        self.detections.push(d);
        self.last_content = Some(self.detections.len().saturating_sub(1));
        Ok(())
    }

    fn pcre(&mut self, value: &str) -> KwResult<()> {
        let parsed = pcre::parse(value)?;
        let (buffer, transforms) = match (parsed.buffer, self.sticky.as_ref()) {
            // A buffer flag naming the active sticky buffer is redundant.
            (Some(b), Some(s)) if b == s.buffer => (b, s.transforms.clone()),
            (Some(_), Some(_)) => {
                return Err(RuleErrorKind::Conflict("pcre buffer modifier differs from the active sticky buffer"));
            }
            (Some(b), None) => {
                self.require_app(b.app_layers())?;
                (b, Vec::new())
            }
            (None, _) => (self.current_buffer(), self.current_transforms()),
        };
        if parsed.pcre.flags.relative && buffer.is_payload() && !self.has_prior_content_or_pcre(buffer, &transforms) {
            return Err(RuleErrorKind::NoPrecedingMatch);
        }
        self.push_detection(Detection { buffer, transforms, item: Match::Pcre(parsed.pcre) });
        Ok(())
    }

    fn var_or<T>(&self, s: &str, num: impl Fn(&str) -> KwResult<T>) -> KwResult<Value<T>> {
        let s = s.trim();
        if s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') {
            return Vars(&self.byte_vars)
                .var(s)
                .map(Value::Var)
                .ok_or_else(|| invalid(format!("unknown byte_extract variable {s:?}")));
        }
        num(s).map(Value::Lit)
    }

    fn u16_value(&self, s: &str) -> KwResult<Value<u16>> {
        self.var_or(s, parse_dec::<u16>)
    }

    fn i32_value(&self, s: &str) -> KwResult<Value<i32>> {
        // Suricata reads distance and within as any 32-bit integer.
        self.var_or(s, |t| i32::try_from(parse_i64(t)?).map_err(|_| invalid("out of range")))
    }

    /// Whole-rule checks, then the finished rule.
    pub(crate) fn finish(mut self, origin: Origin, text: String) -> Result<Rule, KeywordError> {
        let sticky_kw = self.sticky.as_ref().map(|s| s.keyword.clone());
        self.end_sticky().map_err(|k| KeywordError { keyword: sticky_kw, kind: k })?;
        for d in &self.detections {
            if let Match::Content(c) = &d.item {
                c.finish().map_err(|k| KeywordError::new("content", k))?;
                if d.transforms.is_empty() {
                    check_buffer_content(d.buffer, &c.pattern).map_err(|k| KeywordError::new(d.buffer.keyword(), k))?;
                }
            }
        }
        let raw_header = self.detections.iter().any(|d| d.buffer == Buffer::HttpHeaderRaw);
        if raw_header && self.flow.is_none_or(|f| f.direction.is_none()) {
            return Err(KeywordError::new(
                Buffer::HttpHeaderRaw.keyword(),
                RuleErrorKind::Conflict("raw headers need flow:to_server or flow:to_client"),
            ));
        }
        self.check_sizes()?;
        let sid = self.sid.ok_or(KeywordError::header(RuleErrorKind::MissingSid))?;
        let priority = self.priority.or(self.classtype.as_ref().map(|c| c.priority)).unwrap_or(DEFAULT_PRIORITY);
        Ok(Rule {
            action: self.action,
            header: self.header,
            meta: Meta {
                gid: self.gid.unwrap_or(1),
                sid,
                rev: self.rev.unwrap_or(0),
                msg: self.msg.unwrap_or_default(),
                classtype: self.classtype,
                priority,
                references: self.references,
                metadata: self.metadata,
                target: self.target,
            },
            app_layer: self.app_layer,
            detections: self.detections,
            conditions: self.conditions,
            flow: self.flow,
            flowbits: self.flowbits,
            flowints: self.flowints,
            xbits: self.xbits,
            threshold: self.threshold,
            detection_filter: self.detection_filter,
            noalert: self.noalert,
            byte_vars: self.byte_vars,
            prefilter: self.prefilter,
            origin,
            text,
        })
    }

    /// bsize and dsize that no content of the list could fit in: Suricata
    /// rejects such rules because they can never match.
    fn check_sizes(&self) -> Result<(), KeywordError> {
        for b in &self.detections {
            let Match::Bsize(cmp) = &b.item else { continue };
            let Some(max) = cmp.max_match() else { continue };
            let too_long = self.detections.iter().any(|d| {
                d.same_list(b)
                    && matches!(&d.item, Match::Content(c) if !c.negated && u64::try_from(c.pattern.len()).unwrap_or(u64::MAX) > max)
            });
            if too_long {
                return Err(KeywordError::new("bsize", RuleErrorKind::Conflict("content longer than bsize allows")));
            }
        }
        let dsize_max = self.conditions.iter().find_map(|c| match c {
            Condition::Dsize(cmp) => cmp.max_match(),
            _ => None,
        });
        if let Some(max) = dsize_max {
            let too_long = self.detections.iter().any(|d| {
                d.buffer.is_payload()
                    && matches!(&d.item, Match::Content(c) if !c.negated && c.pattern.len() > usize::from(max))
            });
            if too_long {
                return Err(KeywordError::new("dsize", RuleErrorKind::Conflict("content longer than dsize allows")));
            }
        }
        Ok(())
    }
}

/// Per-buffer content checks Suricata runs when a rule is complete (its
/// buffers' validate callbacks).
fn check_buffer_content(buffer: Buffer, pattern: &[u8]) -> KwResult<()> {
    match buffer {
        Buffer::HttpHost if pattern.iter().any(u8::is_ascii_uppercase) => {
            Err(RuleErrorKind::Conflict("uppercase in http.host content; the host buffer is lowercase"))
        }
        Buffer::HttpMethod
            if pattern.first().is_some_and(|b| matches!(b, b' ' | b'\t'))
                || pattern.last().is_some_and(|b| matches!(b, b' ' | b'\t')) =>
        {
            Err(RuleErrorKind::Conflict("http.method content with leading or trailing whitespace"))
        }
        Buffer::Ja3Hash | Buffer::Ja3sHash | Buffer::SshHassh | Buffer::SshHasshServer if pattern.len() != 32 => {
            Err(invalid("an MD5 hash content must be 32 characters"))
        }
        Buffer::TlsCertFingerprint if pattern.len() != 59 => {
            Err(invalid("a certificate fingerprint content must be 59 characters"))
        }
        _ => Ok(()),
    }
}

/// Suricata rejects content that a transform makes unmatchable.
fn check_transform_compat(transforms: &[Transform], pattern: &[u8]) -> KwResult<()> {
    for t in transforms {
        let bad = match t {
            Transform::ToLowercase => pattern.iter().any(u8::is_ascii_uppercase),
            Transform::ToUppercase => pattern.iter().any(u8::is_ascii_lowercase),
            Transform::StripWhitespace => pattern.iter().any(|b| is_c_space(*b)),
            Transform::CompressWhitespace => pattern.windows(2).any(|w| w.iter().all(|b| is_c_space(*b))),
            _ => false,
        };
        if bad {
            return Err(RuleErrorKind::Conflict("content can't match after the buffer's transform"));
        }
    }
    Ok(())
}

/// C's isspace in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn parse_base64_decode(value: Option<&str>) -> KwResult<Base64Decode> {
    let mut d = Base64Decode::default();
    let Some(v) = value else { return Ok(d) };
    for item in text::params(v) {
        if item == "relative" {
            d.relative = true;
        } else if let Some(n) = item.strip_prefix("bytes") {
            let n: u32 = parse_dec(n)?;
            if n == 0 {
                return Err(invalid("bytes must be at least 1"));
            }
            d.bytes = Some(n);
        } else if let Some(n) = item.strip_prefix("offset") {
            d.offset = Some(parse_dec(n)?);
        } else {
            return Err(invalid(format!("unknown base64_decode option {item:?}")));
        }
    }
    Ok(d)
}

fn parse_asn1(v: &str) -> KwResult<Asn1> {
    let mut a = Asn1::default();
    for item in text::params(v) {
        match item {
            "bitstring_overflow" => a.bitstring_overflow = true,
            "double_overflow" => a.double_overflow = true,
            _ => {
                let (k, n) =
                    item.split_once(char::is_whitespace).ok_or_else(|| invalid(format!("bad asn1 option {item:?}")))?;
                match k {
                    "oversize_length" => a.oversize_length = Some(parse_dec(n)?),
                    "absolute_offset" => a.absolute_offset = Some(parse_dec(n)?),
                    "relative_offset" => {
                        let v = parse_i64(n)?;
                        a.relative_offset = Some(
                            i32::try_from(v)
                                .ok()
                                .filter(|x| (-65535..=65535).contains(x))
                                .ok_or_else(|| invalid("relative_offset out of range"))?,
                        );
                    }
                    other => return Err(invalid(format!("bad asn1 option {other:?}"))),
                }
            }
        }
    }
    if a.absolute_offset.is_some() && a.relative_offset.is_some() {
        return Err(RuleErrorKind::Conflict("asn1 absolute_offset and relative_offset are exclusive"));
    }
    if !a.bitstring_overflow && !a.double_overflow && a.oversize_length.is_none() {
        return Err(invalid("asn1 needs a check"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use crate::ruleset::{parse_rule, LoadCache};
    use crate::*;

    fn rule(text: &str) -> Rule {
        try_rule(text).unwrap_or_else(|e| panic!("{text}\n{e}"))
    }

    fn try_rule(text: &str) -> Result<Rule, RuleError> {
        let (classes, _) =
            Classifications::parse("c", "config classification: trojan-activity,A Network Trojan was detected,1\n");
        let origin = Origin { file: "t.rules".into(), line: 7 };
        parse_rule(text, origin, &Vars::default(), &classes, &mut LoadCache::default())
    }

    fn err(text: &str) -> String {
        match try_rule(text) {
            Ok(_) => panic!("expected an error: {text}"),
            Err(e) => e.to_string(),
        }
    }

    fn content(d: &Detection) -> &Content {
        match &d.item {
            Match::Content(c) => c,
            other => panic!("not a content: {other:?}"),
        }
    }

    #[test]
    fn header_and_meta() {
        let r = rule(
            r#"alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"ET x \"q\""; classtype:trojan-activity; reference:url,example.com/a; metadata:created_at 2024_01_01, former_category MALWARE; target:dest_ip; sid:2000001; rev:3;)"#,
        );
        assert_eq!(r.action, Action::Alert);
        assert_eq!(r.header.proto, Protocol::App(AppLayer::Http));
        assert!(r.header.dst_ports.contains(80) && !r.header.dst_ports.contains(81));
        assert!(r.header.src.contains("10.1.1.1".parse().unwrap()));
        assert_eq!((r.meta.gid, r.meta.sid, r.meta.rev), (1, 2000001, 3));
        assert_eq!(r.meta.msg, "ET x \"q\"");
        assert_eq!(r.meta.priority, 1, "from the classtype");
        assert_eq!(r.meta.classtype.as_ref().unwrap().description, "A Network Trojan was detected");
        assert_eq!(&*r.meta.references[0].kind, "url");
        assert_eq!(r.meta.metadata.len(), 2);
        assert_eq!((&*r.meta.metadata[1].0, &*r.meta.metadata[1].1), ("former_category", "MALWARE"));
        assert_eq!(r.meta.target, Some(Target::DestIp));
        assert_eq!(r.origin.line, 7);
        assert_eq!(rule("alert ip any any -> any any (sid:1; priority:2;)").meta.priority, 2);
        assert_eq!(rule("alert ip any any -> any any (sid:1;)").meta.priority, DEFAULT_PRIORITY);
    }

    #[test]
    fn sticky_buffers_and_modifiers() {
        let r = rule(
            r#"alert http any any -> any any (flow:established,to_server; http.method; content:"POST"; http.uri; content:"/a.php"; fast_pattern; startswith; content:"id="; distance:0; http.header_names; content:!"Referer"; sid:1;)"#,
        );
        let bufs: Vec<Buffer> = r.detections.iter().map(|d| d.buffer).collect();
        assert_eq!(bufs, vec![Buffer::HttpMethod, Buffer::HttpUri, Buffer::HttpUri, Buffer::HttpHeaderNames]);
        let c = content(&r.detections[1]);
        assert_eq!(c.anchor, Anchor::StartsWith);
        assert!(c.fast_pattern.is_some());
        assert_eq!(content(&r.detections[2]).anchor, Anchor::Relative { distance: Some(Value::Lit(0)), within: None });
        assert!(content(&r.detections[3]).negated);
        assert_eq!(r.fast_pattern().map(|(d, _)| d.buffer), Some(Buffer::HttpUri));
        assert_eq!(r.flow.unwrap().direction, Some(FlowDirection::ToServer));
    }

    #[test]
    fn legacy_modifier_moves_content_to_end_of_its_list() {
        let r = rule(
            r#"alert tcp any any -> any any (content:"GET"; http_method; content:"a"; pcre:"/x/U"; content:"/b"; http_uri; nocase; sid:1;)"#,
        );
        let got: Vec<(Buffer, &str)> = r.detections.iter().map(|d| (d.buffer, d.item.keyword())).collect();
        assert_eq!(
            got,
            vec![
                (Buffer::HttpMethod, "content"),
                (Buffer::Payload, "content"),
                (Buffer::HttpUri, "pcre"),
                (Buffer::HttpUri, "content"),
            ]
        );
        assert!(content(&r.detections[3]).nocase, "modifiers still apply to the moved content");
        assert_eq!(r.app_layer, Some(AppLayer::Http));
    }

    #[test]
    fn payload_buffer_follows_protocol() {
        assert_eq!(
            rule(r#"alert tcp-pkt any any -> any any (content:"a"; sid:1;)"#).detections[0].buffer,
            Buffer::Packet
        );
        assert_eq!(
            rule(r#"alert tcp-stream any any -> any any (content:"a"; sid:1;)"#).detections[0].buffer,
            Buffer::Stream
        );
        let r =
            rule(r#"alert ip any any -> any any (content:"a"; file_data; content:"b"; pkt_data; content:"c"; sid:1;)"#);
        let bufs: Vec<Buffer> = r.detections.iter().map(|d| d.buffer).collect();
        assert_eq!(bufs, vec![Buffer::Payload, Buffer::FileData, Buffer::Payload]);
    }

    #[test]
    fn transforms_belong_to_the_section() {
        let r = rule(
            r#"alert dns any any -> any any (dns.query; content:"rs-"; startswith; pcre:"/[a-z]{2}/Ri"; dotprefix; content:".rustdesk.com"; nocase; endswith; sid:1;)"#,
        );
        assert!(r.detections[0].transforms.is_empty());
        assert!(r.detections[1].transforms.is_empty());
        assert_eq!(r.detections[2].transforms, vec![Transform::Dotprefix]);
        assert!(!r.detections[1].same_list(&r.detections[2]));
        assert!(err(r#"alert tcp any any -> any any (to_lowercase; content:"a"; sid:1;)"#)
            .contains("transform needs a sticky buffer"));
    }

    #[test]
    fn pcre_buffers() {
        let r = rule(r#"alert http any any -> any any (http.uri; content:"/x"; pcre:"/\d{13}$/UR"; sid:1;)"#);
        assert_eq!(r.detections[1].buffer, Buffer::HttpUri, "a flag naming the sticky buffer is fine");
        assert!(err(r#"alert http any any -> any any (http.host; content:"x"; pcre:"/a/U"; sid:1;)"#)
            .contains("differs from the active sticky buffer"));
        let r = rule(r#"alert http any any -> any any (http.response_body; content:"a"; pcre:"/b/Q"; sid:1;)"#);
        assert_eq!(r.detections[1].buffer, Buffer::FileData);
        assert_eq!(
            err(r#"alert tcp any any -> any any (pcre:"/abc/R"; sid:14;)"#),
            "t.rules:7: keyword \"pcre\": needs a preceding content or pcre in the same buffer"
        );
    }

    #[test]
    fn byte_extract_variables_flow_into_later_keywords() {
        let r = rule(
            r#"alert tcp any any -> any any (content:"a"; byte_extract:1,0,len,relative; content:"b"; within:len; byte_test:2,>,len,0,relative; sid:1;)"#,
        );
        assert_eq!(r.byte_vars, vec!["len".to_string()]);
        assert_eq!(
            content(&r.detections[2]).anchor,
            Anchor::Relative { distance: None, within: Some(Value::Var(ByteVar(0))) }
        );
        assert!(err(r#"alert tcp any any -> any any (content:"a"; content:"b"; within:nope; sid:1;)"#)
            .contains("unknown byte_extract variable"));
    }

    #[test]
    fn protocol_conflicts() {
        assert!(err(r#"alert dns any any -> any any (http.uri; content:"a"; sid:1;)"#)
            .contains("conflicts with the rule's protocol"));
        assert!(err(r#"alert tcp any any -> any any (http.header; content:"a"; dns.query; content:"b"; sid:1;)"#)
            .contains("conflicts"));
        assert_eq!(
            rule(r#"alert tcp any any -> any any (tls.sni; content:"a"; sid:1;)"#).app_layer,
            Some(AppLayer::Tls)
        );
        assert_eq!(
            rule(r#"alert tcp any any -> any any (ja3.hash; content:"e7d705a3286e19ea42f587b344ee6865"; sid:1;)"#)
                .app_layer,
            Some(AppLayer::Tls)
        );
    }

    #[test]
    fn whole_rule_checks() {
        assert_eq!(err(r#"alert tcp any any -> any any (content:"a";)"#), "t.rules:7: no sid");
        assert!(err(r#"alert http any any -> any any (http.uri; sid:1;)"#)
            .contains("keyword \"http.uri\": invalid value: sticky buffer http.uri has no match"));
        assert!(err(r#"alert http any any -> any any (http.uri; content:"abcdef"; bsize:3; sid:1;)"#).contains("bsize"));
        assert!(err(r#"alert tcp any any -> any any (dsize:3; content:"abcdef"; sid:1;)"#).contains("dsize"));
        assert!(err(
            r#"alert tcp any any -> any any (content:"ab"; fast_pattern; content:"cd"; fast_pattern; sid:1;)"#
        )
        .contains("more than one"));
        assert!(err(r#"alert tcp any any -> any any (threshold:type limit, track by_src, count 1, seconds 1; detection_filter:track by_src, count 1, seconds 1; sid:1;)"#).contains("threshold and detection_filter"));
        let r = rule(r#"alert tcp any any -> any any (classtype:nope; sid:1;)"#);
        assert_eq!((r.meta.classtype.as_ref().unwrap().description.as_str(), r.meta.priority), ("", DEFAULT_PRIORITY));
        assert!(err(r#"alert http any any -> any any (http.uri; content:"a"; content:"b"; http_header; sid:1;)"#)
            .contains("sticky buffer is set"));
        assert!(err(r#"alert tcp any any -> any any (http_uri; sid:1;)"#).contains("needs a preceding content"));
        assert!(err(r#"alert tcp any any -> any any (msg:"x"; sid:1)"#).contains("syntax error"));
    }

    #[test]
    fn flowbits_noalert_and_prefilter() {
        let r = rule(
            r#"alert tcp any any -> any any (flow:established; prefilter; flowbits:set,a; flowbits:noalert; sid:1;)"#,
        );
        assert!(r.noalert);
        assert_eq!(r.flowbits.len(), 1);
        assert_eq!(r.prefilter.as_deref(), Some("flow"));
    }

    #[test]
    fn continuation_rule_from_suricata_verify() {
        let text = "alert dns any any -> any 53 ( \\\nmsg:\"DNS - Transaction ID problem, suricata\"; \\\ncontent:\"suricata\"; \\\nclasstype:trojan-activity; \\\nsid:2; rev:1;)\n";
        let (set, s) = RuleSet::load(
            &[("bug-2736.rules", text)],
            &Vars::default(),
            &Classifications::parse("c", "config classification: trojan-activity,T,1\n").0,
        );
        assert_eq!((s.loaded, s.total), (1, 1));
        assert!(set.rules[0].header.dst_ports.contains(53));
    }
}
