//! Flow state keywords: flow, flowbits, flowint, xbits, stream_size.

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    /// `to_server` / `from_client`
    ToServer,
    /// `to_client` / `from_server`
    ToClient,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Only {
    Only,
    Never,
}

/// The `flow` keyword.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowOpts {
    /// `Some(true)`: established; `Some(false)`: not_established.
    pub established: Option<bool>,
    pub stateless: bool,
    pub direction: Option<FlowDirection>,
    /// `only_stream` / `no_stream`
    pub stream: Option<Only>,
    /// `only_frag` / `no_frag`
    pub frag: Option<Only>,
}

pub(crate) fn parse_flow(value: &str) -> KwResult<FlowOpts> {
    let mut f = FlowOpts::default();
    for opt in text::params(value) {
        let opt = opt.to_ascii_lowercase();
        let dup = || RuleErrorKind::Conflict("conflicting or repeated flow options");
        match opt.as_str() {
            "established" | "not_established" => {
                if f.established.is_some() {
                    return Err(dup());
                }
                f.established = Some(opt == "established");
            }
            "stateless" => {
                if f.stateless {
                    return Err(dup());
                }
                f.stateless = true;
            }
            "to_server" | "from_client" | "to_client" | "from_server" => {
                if f.direction.is_some() {
                    return Err(dup());
                }
                f.direction = Some(if opt == "to_server" || opt == "from_client" {
                    FlowDirection::ToServer
                } else {
                    FlowDirection::ToClient
                });
            }
            "only_stream" | "no_stream" => {
                if f.stream.is_some() {
                    return Err(dup());
                }
                f.stream = Some(if opt == "only_stream" { Only::Only } else { Only::Never });
            }
            "only_frag" | "no_frag" => {
                if f.frag.is_some() {
                    return Err(dup());
                }
                f.frag = Some(if opt == "only_frag" { Only::Only } else { Only::Never });
            }
            other => return Err(invalid(format!("unknown flow option {other:?}"))),
        }
    }
    if f.stateless && f.established.is_some() {
        return Err(RuleErrorKind::Conflict("stateless can't be combined with established or not_established"));
    }
    Ok(f)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitCmd {
    Set,
    IsSet,
    IsNotSet,
    Unset,
    Toggle,
}

impl BitCmd {
    /// Conditions are checked before a match; the others act after it.
    pub fn is_condition(self) -> bool {
        matches!(self, BitCmd::IsSet | BitCmd::IsNotSet)
    }
}

/// One bit name, or a group.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BitNames {
    One(String),
    /// `a|b`: any of them (Suricata's OR form).
    AnyOf(Vec<String>),
    /// `a&b`: all of them (Snort's AND form).
    AllOf(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flowbits {
    pub cmd: BitCmd,
    pub names: BitNames,
}

/// `flowbits` parses to a bit operation, or to `noalert`.
pub(crate) enum FlowbitsKw {
    Bits(Flowbits),
    NoAlert,
}

fn bit_cmd(s: &str) -> KwResult<BitCmd> {
    Ok(match s {
        "set" => BitCmd::Set,
        "isset" => BitCmd::IsSet,
        "isnotset" => BitCmd::IsNotSet,
        "unset" => BitCmd::Unset,
        "toggle" => BitCmd::Toggle,
        other => return Err(invalid(format!("unknown command {other:?}"))),
    })
}

fn bit_names(_cmd: BitCmd, s: &str) -> KwResult<BitNames> {
    let s = s.trim();
    let names = |sep: char| -> KwResult<Vec<String>> {
        let v: Vec<String> = s.split(sep).map(|n| n.trim().to_string()).collect();
        if v.iter().any(|n| n.is_empty() || n.contains(char::is_whitespace)) {
            return Err(invalid("bad bit name in group"));
        }
        Ok(v)
    };
    if s.contains('|') {
        // Suricata accepts OR groups with every command.
        return Ok(BitNames::AnyOf(names('|')?));
    }
    if s.contains('&') {
        return Ok(BitNames::AllOf(names('&')?));
    }
    if s.is_empty() || s.contains(char::is_whitespace) {
        return Err(invalid("bit names can't be empty or contain spaces"));
    }
    Ok(BitNames::One(s.to_string()))
}

pub(crate) fn parse_flowbits(value: &str) -> KwResult<FlowbitsKw> {
    let (cmd, rest) = match value.split_once(',') {
        Some((c, r)) => (c.trim(), Some(r)),
        None => (value.trim(), None),
    };
    if cmd == "noalert" {
        if rest.is_some() {
            return Err(invalid("noalert takes no name"));
        }
        return Ok(FlowbitsKw::NoAlert);
    }
    let cmd = bit_cmd(cmd)?;
    let rest = rest.ok_or_else(|| invalid("flowbits needs a name"))?;
    Ok(FlowbitsKw::Bits(Flowbits { cmd, names: bit_names(cmd, rest)? }))
}

/// xbits tracking: per source, destination or address pair (or per transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XbitTrack {
    IpSrc,
    IpDst,
    IpPair,
    Tx,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Xbits {
    pub cmd: BitCmd,
    pub names: BitNames,
    pub track: XbitTrack,
    pub expire: Option<u32>,
}

pub(crate) enum XbitsKw {
    Bits(Xbits),
    NoAlert,
}

pub(crate) fn parse_xbits(value: &str) -> KwResult<XbitsKw> {
    let parts: Vec<&str> = text::params(value).collect();
    if parts.first() == Some(&"noalert") {
        return Ok(XbitsKw::NoAlert);
    }
    let (Some(cmd), Some(name), Some(track)) = (parts.first(), parts.get(1), parts.get(2)) else {
        return Err(invalid("xbits needs command, name and track"));
    };
    let cmd = bit_cmd(cmd)?;
    let track = match track.strip_prefix("track").map(str::trim) {
        Some("ip_src") => XbitTrack::IpSrc,
        Some("ip_dst") => XbitTrack::IpDst,
        Some("ip_pair") => XbitTrack::IpPair,
        Some("tx") => XbitTrack::Tx,
        _ => return Err(invalid(format!("bad xbits track {track:?}"))),
    };
    let mut expire = None;
    if let Some(e) = parts.get(3) {
        let secs = e.strip_prefix("expire").ok_or_else(|| invalid(format!("bad xbits option {e:?}")))?;
        let secs = crate::number::parse_dec::<u32>(secs)?;
        if secs == 0 {
            return Err(invalid("expire must be at least 1"));
        }
        expire = Some(secs);
    }
    if parts.len() > 4 {
        return Err(invalid("too many xbits options"));
    }
    Ok(XbitsKw::Bits(Xbits { cmd, names: bit_names(cmd, name)?, track, expire }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowintOp {
    Set,
    Add,
    Sub,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    IsSet,
    NotSet,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FlowintValue {
    Num(u32),
    /// Another flowint's value.
    Var(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flowint {
    pub name: String,
    pub op: FlowintOp,
    pub value: Option<FlowintValue>,
}

impl Flowint {
    pub fn is_condition(&self) -> bool {
        !matches!(self.op, FlowintOp::Set | FlowintOp::Add | FlowintOp::Sub)
    }
}

pub(crate) fn parse_flowint(value: &str) -> KwResult<Flowint> {
    let parts: Vec<&str> = text::params(value).collect();
    let (Some(name), Some(op)) = (parts.first(), parts.get(1)) else {
        return Err(invalid("flowint needs a name and an operator"));
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(invalid("bad flowint name"));
    }
    let op = match *op {
        "=" => FlowintOp::Set,
        "+" => FlowintOp::Add,
        "-" => FlowintOp::Sub,
        "==" => FlowintOp::Eq,
        "!=" => FlowintOp::Ne,
        "<" => FlowintOp::Lt,
        "<=" => FlowintOp::Le,
        ">" => FlowintOp::Gt,
        ">=" => FlowintOp::Ge,
        "isset" => FlowintOp::IsSet,
        "notset" | "isnotset" => FlowintOp::NotSet,
        other => return Err(invalid(format!("bad flowint operator {other:?}"))),
    };
    let needs_value = !matches!(op, FlowintOp::IsSet | FlowintOp::NotSet);
    let value = match (parts.get(2), needs_value) {
        (Some(v), true) => Some(if v.bytes().all(|b| b.is_ascii_digit()) {
            FlowintValue::Num(crate::number::parse_dec::<u32>(v)?)
        } else {
            FlowintValue::Var((*v).to_string())
        }),
        (None, false) => None,
        (Some(_), false) => return Err(invalid("isset/notset take no value")),
        (None, true) => return Err(invalid("flowint operator needs a value")),
    };
    if parts.len() > 3 {
        return Err(invalid("too many flowint arguments"));
    }
    Ok(Flowint { name: (*name).to_string(), op, value })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamSide {
    Server,
    Client,
    Both,
    Either,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamSize {
    pub side: StreamSide,
    pub cmp: crate::number::NumCmp<u32>,
}

pub(crate) fn parse_stream_size(value: &str) -> KwResult<StreamSize> {
    let parts: Vec<&str> = text::params(value).collect();
    let [side, op, n] = parts.as_slice() else {
        return Err(invalid("stream_size needs side, operator and size"));
    };
    let side = match *side {
        "server" => StreamSide::Server,
        "client" => StreamSide::Client,
        "both" => StreamSide::Both,
        "either" => StreamSide::Either,
        other => return Err(invalid(format!("bad stream_size side {other:?}"))),
    };
    if !matches!(*op, "<" | ">" | "=" | "!=" | "<=" | ">=") {
        return Err(invalid(format!("bad stream_size operator {op:?}")));
    }
    let cmp = crate::number::parse_cmp::<u32>(&format!("{op}{n}"))?;
    Ok(StreamSize { side, cmp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_options() {
        let f = parse_flow("established,to_server").unwrap();
        assert_eq!(f.established, Some(true));
        assert_eq!(f.direction, Some(FlowDirection::ToServer));
        let f = parse_flow("from_server, not_established, only_stream, no_frag").unwrap();
        assert_eq!(f.direction, Some(FlowDirection::ToClient));
        assert_eq!(f.established, Some(false));
        assert_eq!((f.stream, f.frag), (Some(Only::Only), Some(Only::Never)));
        assert!(parse_flow("to_server,to_client").is_err());
        assert!(parse_flow("established,not_established").is_err());
        assert!(parse_flow("only_stream,no_stream").is_err());
        assert!(parse_flow("sideways").is_err());
    }

    #[test]
    fn flowbits_forms() {
        let FlowbitsKw::Bits(b) = parse_flowbits("set,ET.foo").unwrap() else { panic!() };
        assert_eq!(b, Flowbits { cmd: BitCmd::Set, names: BitNames::One("ET.foo".into()) });
        let FlowbitsKw::Bits(b) = parse_flowbits("isset, a|b").unwrap() else { panic!() };
        assert_eq!(b.names, BitNames::AnyOf(vec!["a".into(), "b".into()]));
        let FlowbitsKw::Bits(b) = parse_flowbits("set,a&b").unwrap() else { panic!() };
        assert_eq!(b.names, BitNames::AllOf(vec!["a".into(), "b".into()]));
        assert!(matches!(parse_flowbits("noalert").unwrap(), FlowbitsKw::NoAlert));
        assert!(parse_flowbits("set").is_err());
        assert!(parse_flowbits("flip,a").is_err());
        assert!(parse_flowbits("set,a b").is_err());
    }

    #[test]
    fn flowint_and_xbits_and_stream_size() {
        let f = parse_flowint("count, +, 1").unwrap();
        assert_eq!((f.op, f.value.clone()), (FlowintOp::Add, Some(FlowintValue::Num(1))));
        assert!(!f.is_condition());
        assert!(parse_flowint("count, isset").unwrap().is_condition());
        assert!(parse_flowint("count, >").is_err());
        let XbitsKw::Bits(x) = parse_xbits("set,ET.x,track ip_src,expire 3600").unwrap() else { panic!() };
        assert_eq!((x.track, x.expire), (XbitTrack::IpSrc, Some(3600)));
        assert!(parse_xbits("set,x,track ip_nowhere").is_err());
        let s = parse_stream_size("server,>,100").unwrap();
        assert_eq!(s.side, StreamSide::Server);
        assert!(s.cmp.matches(101) && !s.cmp.matches(100));
        assert!(parse_stream_size("server,~,1").is_err());
    }
}
