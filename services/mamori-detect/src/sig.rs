//! Rules compiled into signatures: the rule's keywords grouped into
//! inspection lists with prepared needles and regexes, its kind (IP-only,
//! per packet, per transaction), the directions it inspects, and the fast
//! pattern the prefilter keys it on.

use std::collections::HashMap;
use std::sync::Arc;

use mamori_applayer::{AppProto, Direction};
use mamori_rules::{
    Action, Anchor, AppLayer, BitCmd, BitNames, Buffer, Condition, Content, Detection, FlowOpts, Flowint, FlowintOp,
    FlowintValue, IpSet, Match, Only, PortSet, Protocol, Rule, Transform, Value,
};

use crate::inspect::{ContentM, Item, PcreM};
use crate::regex::LazyRegex;
use crate::search::Needle;
use crate::transform::{prepare, Step};

pub(crate) type ListId = u16;

/// A distinct (buffer, transforms) pair: one Suricata inspection list.
pub(crate) struct ListDef {
    pub buffer: Buffer,
    pub steps: Vec<Step>,
    pub has_transforms: bool,
}

/// Static facts about a rule that alerts carry.
#[derive(Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub msg: Arc<str>,
    /// The classtype's description (EVE `alert.category`), empty without one.
    pub category: Arc<str>,
    /// EVE `alert.severity`: the rule's priority.
    pub severity: u32,
    pub action: Action,
    pub metadata: Vec<(Arc<str>, Arc<str>)>,
}

/// IP protocols a rule header can match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtoSel {
    Any,
    V4,
    V6,
    Tcp,
    Udp,
    TcpUdp,
    Icmp,
    Icmp4,
    Icmp6,
    Sctp,
}

impl ProtoSel {
    pub fn matches(self, proto: u8, ipv6: bool) -> bool {
        match self {
            ProtoSel::Any => true,
            ProtoSel::V4 => !ipv6,
            ProtoSel::V6 => ipv6,
            ProtoSel::Tcp => proto == 6,
            ProtoSel::Udp => proto == 17,
            ProtoSel::TcpUdp => proto == 6 || proto == 17,
            ProtoSel::Icmp => proto == 1 || proto == 58,
            ProtoSel::Icmp4 => proto == 1,
            ProtoSel::Icmp6 => proto == 58,
            ProtoSel::Sctp => proto == 132,
        }
    }

    /// Transport classes (see [`class_of`]) this can match.
    pub fn classes(self) -> &'static [usize] {
        match self {
            ProtoSel::Any | ProtoSel::V4 | ProtoSel::V6 => &[0, 1, 2, 3],
            ProtoSel::Tcp => &[0],
            ProtoSel::Udp => &[1],
            ProtoSel::TcpUdp => &[0, 1],
            ProtoSel::Icmp | ProtoSel::Icmp4 | ProtoSel::Icmp6 => &[2],
            ProtoSel::Sctp => &[3],
        }
    }

    fn includes_ports(self) -> bool {
        matches!(self, ProtoSel::Any | ProtoSel::V4 | ProtoSel::V6 | ProtoSel::Tcp | ProtoSel::Udp | ProtoSel::TcpUdp)
    }
}

/// Packets are grouped by transport: 0 TCP, 1 UDP, 2 ICMP, 3 other.
pub(crate) const CLASSES: usize = 4;

pub(crate) fn class_of(proto: u8) -> usize {
    match proto {
        6 => 0,
        17 => 1,
        1 | 58 => 2,
        _ => 3,
    }
}

/// How a per-packet signature looks at TCP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadMode {
    /// Each packet's payload (`tcp-pkt`, dsize, `no_stream`, non-TCP).
    Packet,
    /// Reassembled stream only (`tcp-stream`, `only_stream`).
    Stream,
    /// The stream, or the packet when its data did not go to the stream.
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SigKind {
    /// Header only: checked on the first packet of each flow direction.
    IpOnly,
    Packet,
    /// Inspects app-layer transaction buffers of this protocol.
    Tx(AppProto),
}

pub(crate) struct SigList {
    pub list: ListId,
    pub buffer: Buffer,
    pub items: Vec<Item>,
}

/// A flowbit test or action on interned names.
pub(crate) struct BitOp {
    pub cmd: BitCmd,
    pub names: Vec<u32>,
    /// `a&b` (all) rather than `a|b` (any) for tests.
    pub all: bool,
}

pub(crate) struct IntOp {
    pub name: u32,
    pub op: FlowintOp,
    pub value: Option<IntValue>,
}

pub(crate) enum IntValue {
    Num(u32),
    Var(u32),
}

/// The prefilter key of a signature.
pub(crate) struct Fast {
    pub list: ListId,
    pub bytes: Vec<u8>,
    pub nocase: bool,
    /// How far into its buffer a match of the pattern can end, when the
    /// content is anchored there (`startswith`, `offset`/`depth` given as
    /// numbers); `None` for anywhere.
    pub end: Option<usize>,
}

pub(crate) struct Sig {
    pub num: u32,
    pub info: Arc<SigInfo>,
    pub action: Action,
    pub proto: ProtoSel,
    pub src: Arc<IpSet>,
    pub src_ports: Arc<PortSet>,
    pub dst: Arc<IpSet>,
    pub dst_ports: Arc<PortSet>,
    pub bidir: bool,
    /// Signatures with the same addresses, ports and direction share a class
    /// (set when the detector is built), so one inspection checks each
    /// class once (`packet::AddrMemo`).
    pub addr_class: u32,
    /// The flow's app protocol must be this.
    pub app: Option<AppProto>,
    pub conditions: Vec<Condition>,
    pub flow: FlowOpts,
    pub bits: Vec<BitOp>,
    pub ints: Vec<IntOp>,
    /// An xbits test we cannot evaluate (host/ippair state): never matches.
    pub xbits_test: bool,
    pub lists: Vec<SigList>,
    pub kind: SigKind,
    pub mode: PayloadMode,
    /// Transaction directions inspected (to server, to client).
    pub tx_dirs: [bool; 2],
    pub noalert: bool,
    pub fast: Option<Fast>,
    pub threshold: Option<mamori_rules::Threshold>,
    pub detection_filter: Option<mamori_rules::DetectionFilter>,
}

impl Sig {
    pub fn has_payload_list(&self) -> bool {
        self.lists.iter().any(|l| l.buffer.is_payload())
    }
}

/// Interned names (flowbits, flowints).
#[derive(Default)]
pub(crate) struct Names {
    map: HashMap<String, u32>,
}

impl Names {
    pub fn id(&mut self, name: &str) -> u32 {
        let next = self.map.len() as u32;
        *self.map.entry(name.to_string()).or_insert(next)
    }
}

/// Lists by (buffer, transforms).
#[derive(Default)]
pub(crate) struct ListTable {
    pub defs: Vec<ListDef>,
    index: HashMap<(Buffer, Vec<Transform>), ListId>,
}

impl ListTable {
    fn id(&mut self, buffer: Buffer, transforms: &[Transform]) -> Option<ListId> {
        if let Some(id) = self.index.get(&(buffer, transforms.to_vec())) {
            return Some(*id);
        }
        let id = ListId::try_from(self.defs.len()).ok()?;
        self.defs.push(ListDef { buffer, steps: prepare(transforms), has_transforms: !transforms.is_empty() });
        self.index.insert((buffer, transforms.to_vec()), id);
        Some(id)
    }
}

/// Why a loaded rule cannot match here.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Inactive {
    AppLayer(&'static str),
    Buffer(&'static str),
}

impl Inactive {
    pub fn reason(&self) -> String {
        match self {
            Inactive::AppLayer(a) => format!("app-layer protocol {a} is not inspected"),
            Inactive::Buffer(b) => format!("buffer {b} is not filled"),
        }
    }
}

/// App-layer protocols whose transactions the engine hands to detection.
fn tx_proto(buffer: Buffer) -> Option<AppProto> {
    use Buffer::*;
    match buffer {
        HttpUri | HttpUriRaw | HttpMethod | HttpHost | HttpHostRaw | HttpUserAgent | HttpHeader | HttpHeaderRaw
        | HttpHeaderNames | HttpCookie | HttpContentType | HttpContentLen | HttpRequestLine | HttpRequestBody
        | HttpStatCode | HttpStatMsg | HttpResponseLine | HttpProtocol | HttpStart | HttpReferer | HttpAccept
        | HttpAcceptEnc | HttpAcceptLang | HttpConnection | HttpLocation | HttpServer | HttpRequestHeader
        | HttpResponseHeader | FileData | FileName => Some(AppProto::Http),
        TlsSni | TlsCertSubject | TlsCertIssuer | TlsCertSerial | TlsCertFingerprint | TlsCerts | TlsSubjectAltName
        | Ja3Hash | Ja3String | Ja3sHash | Ja3sString | Ja4Hash => Some(AppProto::Tls),
        DnsQuery => Some(AppProto::Dns),
        _ => None,
    }
}

/// Directions a buffer exists in: (to server, to client).
pub(crate) fn buffer_dirs(buffer: Buffer) -> [bool; 2] {
    use Buffer::*;
    match buffer {
        HttpUri | HttpUriRaw | HttpMethod | HttpHost | HttpHostRaw | HttpUserAgent | HttpRequestLine
        | HttpRequestBody | HttpReferer | HttpAccept | HttpAcceptEnc | HttpAcceptLang | HttpRequestHeader | TlsSni
        | Ja3Hash | Ja3String | Ja4Hash | DnsQuery => [true, false],
        HttpStatCode | HttpStatMsg | HttpResponseLine | HttpLocation | HttpServer | HttpResponseHeader
        | TlsCertSubject | TlsCertIssuer | TlsCertSerial | TlsCertFingerprint | TlsCerts | TlsSubjectAltName
        | Ja3sHash | Ja3sString => [false, true],
        _ => [true, true],
    }
}

fn app_proto_of(a: AppLayer) -> Result<AppProto, Inactive> {
    a.app_proto().ok_or(Inactive::AppLayer(a.as_str()))
}

fn proto_sel(p: Protocol) -> Result<(ProtoSel, Option<AppProto>), Inactive> {
    Ok(match p {
        Protocol::Ip => (ProtoSel::Any, None),
        Protocol::Ipv4 => (ProtoSel::V4, None),
        Protocol::Ipv6 => (ProtoSel::V6, None),
        Protocol::Tcp | Protocol::TcpPkt | Protocol::TcpStream => (ProtoSel::Tcp, None),
        Protocol::Udp => (ProtoSel::Udp, None),
        Protocol::Icmp => (ProtoSel::Icmp, None),
        Protocol::Icmpv4 => (ProtoSel::Icmp4, None),
        Protocol::Icmpv6 => (ProtoSel::Icmp6, None),
        Protocol::Sctp => (ProtoSel::Sctp, None),
        Protocol::App(a) => {
            let ap = app_proto_of(a)?;
            let sel = match ap {
                AppProto::Dns => ProtoSel::TcpUdp,
                AppProto::Quic => ProtoSel::Udp,
                _ => ProtoSel::Tcp,
            };
            (sel, Some(ap))
        }
    })
}

fn compile_item(m: &Match) -> Item {
    match m {
        Match::Content(c) => {
            Item::Content(Box::new(ContentM { needle: Needle::new(&c.pattern, c.nocase), c: c.clone() }))
        }
        Match::Pcre(p) => Item::Pcre(Box::new(PcreM {
            negated: p.negated,
            relative: p.flags.relative,
            re: LazyRegex::new(p.clone()),
        })),
        Match::ByteTest(b) => Item::ByteTest(b.clone()),
        Match::ByteJump(b) => Item::ByteJump(b.clone()),
        Match::ByteExtract(b) => Item::ByteExtract(b.clone()),
        Match::IsDataAt(i) => Item::IsDataAt(i.clone()),
        Match::Bsize(c) => Item::Bsize(*c),
        Match::Urilen(c) => Item::Urilen(*c),
        Match::Base64Decode(_) | Match::Asn1(_) => Item::Never,
    }
}

/// Group detections into lists in first-use order (Suricata keeps one
/// list per buffer; relative keywords refer to the previous keyword of the
/// same list).
fn build_lists(dets: &[Detection], table: &mut ListTable) -> Option<Vec<SigList>> {
    let mut out: Vec<SigList> = Vec::new();
    for d in dets {
        let id = table.id(d.buffer, &d.transforms)?;
        let item = if d.buffer == Buffer::Base64Data { Item::Never } else { compile_item(&d.item) };
        match out.iter_mut().find(|l| l.list == id) {
            Some(l) => l.items.push(item),
            None => out.push(SigList { list: id, buffer: d.buffer, items: vec![item] }),
        }
    }
    Some(out)
}

/// The prefilter pattern: an explicit `fast_pattern`, else the longest
/// positive content of the lists that decide the signature.
fn choose_fast(rule: &Rule, lists: &[SigList], table: &ListTable, tx: bool) -> Option<Fast> {
    let eligible = |d: &Detection| if tx { !d.buffer.is_payload() } else { d.buffer.is_payload() };
    let pick = |d: &Detection, c: &Content| -> Option<Fast> {
        let list = lists_id(d, lists, table)?;
        let bytes = match c.fast_pattern.and_then(|f| f.slice) {
            Some((off, len)) => c.pattern.get(usize::from(off)..usize::from(off) + usize::from(len))?.to_vec(),
            None => c.pattern.clone(),
        };
        // Payload is scanned as it came, so a bound that counts in a
        // transformed payload does not hold for it.
        let end = if d.buffer.is_payload() && !d.transforms.is_empty() { None } else { match_end(c) };
        Some(Fast { list, bytes, nocase: c.nocase, end })
    };
    if let Some((d, c)) = rule.fast_pattern() {
        if !c.negated && eligible(d) {
            return pick(d, c);
        }
        // A transaction rule whose `fast_pattern` is on the packet payload
        // (common in ET Open: `content:"…"; fast_pattern; http.method; …`)
        // would otherwise be verified for every transaction; any positive
        // content of its transaction buffers is as necessary a condition.
        if !tx || c.negated {
            return None;
        }
    }
    let mut best: Option<(&Detection, &Content)> = None;
    for d in &rule.detections {
        if !eligible(d) {
            continue;
        }
        if let Match::Content(c) = &d.item {
            if c.negated {
                continue;
            }
            if best.is_none_or(|(_, b)| c.pattern.len() > b.pattern.len()) {
                best = Some((d, c));
            }
        }
    }
    let (d, c) = best?;
    pick(d, c)
}

/// The furthest a match of `c` can end in its buffer, when absolute
/// numbers bound it (`depth` counts from `offset`, as the matcher reads
/// it). A chopped fast pattern lies inside the content, so the bound holds
/// for it too.
fn match_end(c: &Content) -> Option<usize> {
    match &c.anchor {
        Anchor::StartsWith => Some(c.pattern.len()),
        Anchor::Absolute { offset, depth: Some(Value::Lit(depth)) } => {
            let offset = match offset {
                None => 0,
                Some(Value::Lit(o)) => usize::from(*o),
                Some(Value::Var(_)) => return None,
            };
            Some(offset + usize::from(*depth))
        }
        _ => None,
    }
}

fn lists_id(d: &Detection, lists: &[SigList], table: &ListTable) -> Option<ListId> {
    lists.iter().map(|l| l.list).find(|id| table.index.get(&(d.buffer, d.transforms.clone())).is_some_and(|x| x == id))
}

fn bit_names(n: &BitNames, names: &mut Names) -> (Vec<u32>, bool) {
    match n {
        BitNames::One(s) => (vec![names.id(s)], true),
        BitNames::AnyOf(v) => (v.iter().map(|s| names.id(s)).collect(), false),
        BitNames::AllOf(v) => (v.iter().map(|s| names.id(s)).collect(), true),
    }
}

fn int_op(f: &Flowint, names: &mut Names) -> IntOp {
    IntOp {
        name: names.id(&f.name),
        op: f.op,
        value: f.value.as_ref().map(|v| match v {
            FlowintValue::Num(n) => IntValue::Num(*n),
            FlowintValue::Var(s) => IntValue::Var(names.id(s)),
        }),
    }
}

/// Compile one rule. `num` is its place in evaluation order.
pub(crate) fn compile(
    rule: &Rule,
    num: u32,
    table: &mut ListTable,
    bits: &mut Names,
    ints: &mut Names,
) -> Result<Sig, Inactive> {
    let (proto, header_app) = proto_sel(rule.header.proto)?;
    let app = match rule.app_layer {
        Some(a) => Some(app_proto_of(a)?),
        None => header_app,
    };
    let lists = build_lists(&rule.detections, table).ok_or(Inactive::Buffer("too many lists"))?;
    let mut tx_app: Option<AppProto> = None;
    let mut tx_dirs = [true, true];
    let mut has_tx = false;
    for l in &lists {
        if l.buffer.is_payload() {
            continue;
        }
        let Some(p) = tx_proto(l.buffer) else { return Err(Inactive::Buffer(l.buffer.keyword())) };
        has_tx = true;
        // file.data belongs to whichever protocol the rule names.
        let p = if l.buffer == Buffer::FileData { app.unwrap_or(p) } else { p };
        if p != AppProto::Http && p != AppProto::Tls && p != AppProto::Dns {
            return Err(Inactive::Buffer(l.buffer.keyword()));
        }
        tx_app = Some(tx_app.unwrap_or(p));
        let d = buffer_dirs(l.buffer);
        tx_dirs = [tx_dirs[0] && d[0], tx_dirs[1] && d[1]];
    }
    if has_tx && !tx_dirs[0] && !tx_dirs[1] {
        // Request and response buffers together: inspected with the response.
        tx_dirs = [false, true];
    }
    let flow = rule.flow.unwrap_or_default();
    if let Some(fd) = flow.direction {
        let want = match fd {
            mamori_rules::FlowDirection::ToServer => 0,
            mamori_rules::FlowDirection::ToClient => 1,
        };
        tx_dirs = [tx_dirs[0] && want == 0, tx_dirs[1] && want == 1];
    }
    let bits_ops: Vec<BitOp> = rule
        .flowbits
        .iter()
        .map(|f| {
            let (names, all) = bit_names(&f.names, bits);
            BitOp { cmd: f.cmd, names, all }
        })
        .collect();
    let int_ops: Vec<IntOp> = rule.flowints.iter().map(|f| int_op(f, ints)).collect();
    let xbits_test = rule.xbits.iter().any(|x| x.cmd == BitCmd::IsSet);
    let ports_any = rule.header.src_ports.is_any() && rule.header.dst_ports.is_any();
    let kind = if has_tx {
        SigKind::Tx(tx_app.unwrap_or(AppProto::Http))
    } else if lists.is_empty()
        && rule.conditions.is_empty()
        && rule.flow.is_none()
        // Setting flowbits is fine for IP-only rules (Suricata allows it); testing them is not.
        && rule.flowbits.iter().all(|f| !f.cmd.is_condition())
        && rule.flowints.is_empty()
        && rule.xbits.is_empty()
        && app.is_none()
        && (!proto.includes_ports() || ports_any)
    {
        SigKind::IpOnly
    } else {
        SigKind::Packet
    };
    let has_dsize = rule.conditions.iter().any(|c| matches!(c, Condition::Dsize(_)));
    let mode = match rule.header.proto {
        Protocol::TcpPkt => PayloadMode::Packet,
        Protocol::TcpStream => PayloadMode::Stream,
        _ if has_dsize => PayloadMode::Packet,
        _ => match flow.stream {
            Some(Only::Only) => PayloadMode::Stream,
            Some(Only::Never) => PayloadMode::Packet,
            None => PayloadMode::Both,
        },
    };
    let fast = choose_fast(rule, &lists, table, has_tx);
    let meta = &rule.meta;
    let info = Arc::new(SigInfo {
        gid: meta.gid,
        sid: meta.sid,
        rev: meta.rev,
        msg: Arc::from(meta.msg.as_str()),
        category: meta.classtype.as_ref().map_or_else(|| Arc::from(""), |c| Arc::from(c.description.as_str())),
        severity: meta.priority,
        action: rule.action,
        metadata: meta.metadata.clone(),
    });
    Ok(Sig {
        num,
        info,
        action: rule.action,
        proto,
        src: rule.header.src.clone(),
        src_ports: rule.header.src_ports.clone(),
        dst: rule.header.dst.clone(),
        dst_ports: rule.header.dst_ports.clone(),
        bidir: rule.header.direction == mamori_rules::Direction::Both,
        addr_class: 0,
        app,
        conditions: rule.conditions.clone(),
        flow,
        bits: bits_ops,
        ints: int_ops,
        xbits_test,
        lists,
        kind,
        mode,
        tx_dirs,
        noalert: rule.noalert,
        fast,
        threshold: rule.threshold,
        detection_filter: rule.detection_filter,
    })
}

/// Suricata's evaluation order: by action (`action-order`, default pass,
/// drop, reject, alert); within
/// an action, rules that only set flowbits before those that set and test,
/// before those that only test, before the rest; then priority.
pub(crate) fn order_key(rule: &Rule, action_order: &[Action]) -> (u8, u8, u32) {
    let class = |a: Action| if a.is_reject() { Action::Reject } else { a };
    let action = action_order.iter().position(|a| class(*a) == class(rule.action)).unwrap_or(action_order.len()) as u8;
    let sets = rule.flowbits.iter().any(|f| !f.cmd.is_condition());
    let tests = rule.flowbits.iter().any(|f| f.cmd.is_condition());
    let bits = match (sets, tests) {
        (true, false) => 0,
        (true, true) => 1,
        (false, true) => 2,
        (false, false) => 3,
    };
    (action, bits, rule.meta.priority)
}

/// The direction index a flow option allows, if it restricts one.
pub(crate) fn flow_dir_ok(flow: &FlowOpts, dir: Direction) -> bool {
    match flow.direction {
        None => true,
        Some(mamori_rules::FlowDirection::ToServer) => dir == Direction::ToServer,
        Some(mamori_rules::FlowDirection::ToClient) => dir == Direction::ToClient,
    }
}
