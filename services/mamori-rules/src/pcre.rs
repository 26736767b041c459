//! `pcre:[!]"/regex/flags[,captures]"`.
//!
//! The regex source and its flags are kept as written. Each pattern is
//! classified once: [`RegexEngine::Rust`] when the `regex` crate (bytes, no
//! Unicode) gives exactly PCRE's semantics, [`RegexEngine::Pcre2`] when it
//! needs PCRE (look-around, backreferences, `$` before a final newline,
//! possessive quantifiers, ...). Classification only parses the pattern;
//! compiling is done by [`crate::RuleSet::check_regexes`].

use regex_syntax::ast::{self, AssertionKind, Ast, ClassSetItem, Flag};

use crate::buffer::Buffer;
use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::text;

/// PCRE compile options and Suricata's match modifiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PcreFlags {
    /// `i`
    pub caseless: bool,
    /// `s`
    pub dotall: bool,
    /// `m`
    pub multiline: bool,
    /// `x`
    pub extended: bool,
    /// `A`
    pub anchored: bool,
    /// `E`
    pub dollar_endonly: bool,
    /// `G`
    pub ungreedy: bool,
    /// `R`: start where the previous match in the buffer ended.
    pub relative: bool,
    /// `B`: raw bytes (a no-op in Suricata).
    pub rawbytes: bool,
    /// `O`: use the configured match limit instead of the default.
    pub match_limit: bool,
}

/// Which library should run the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegexEngine {
    /// `regex::bytes` with [`Pcre::rust_pattern`] has PCRE's semantics here.
    Rust,
    /// Needs PCRE2 (compile with the flags, no UTF).
    Pcre2,
}

/// Where a Suricata 8 capture (`,flow:name` or `(?P<flow_name>...)`) goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaptureKind {
    Pkt,
    Flow,
    Alert,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Capture {
    pub kind: CaptureKind,
    pub name: String,
}

/// A parsed pcre keyword.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pcre {
    /// The pattern between the slashes, exactly as written.
    pub source: String,
    /// The modifier letters after the closing slash, as written.
    pub modifiers: String,
    pub flags: PcreFlags,
    pub negated: bool,
    pub engine: RegexEngine,
    pub captures: Vec<Capture>,
}

/// A parsed pcre and the buffer its flags selected, if any.
pub(crate) struct ParsedPcre {
    pub pcre: Pcre,
    pub buffer: Option<Buffer>,
}

/// Longest regex source we accept.
pub const MAX_PCRE_LEN: usize = 16 * 1024;

pub(crate) fn parse(value: &str) -> KwResult<ParsedPcre> {
    let v = value.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, v),
    };
    let v = text::maybe_quoted(v);
    let body = v.strip_prefix('/').ok_or_else(|| invalid("pcre must start with '/'"))?;
    let close = body.rfind('/').ok_or_else(|| invalid("pcre has no closing '/'"))?;
    let source = body.get(..close).unwrap_or("");
    let tail = body.get(close.saturating_add(1)..).unwrap_or("");
    if source.is_empty() {
        return Err(invalid("empty pcre"));
    }
    if source.len() > MAX_PCRE_LEN {
        return Err(RuleErrorKind::TooLarge("pcre longer than 16 KiB"));
    }
    let (mods, capture_spec) = match tail.split_once(',') {
        Some((m, c)) => (m.trim_end(), Some(c)),
        None => (tail.trim_end(), None),
    };
    let mut flags = PcreFlags::default();
    let mut buffer: Option<Buffer> = None;
    for c in mods.chars() {
        match c {
            'i' => flags.caseless = true,
            's' => flags.dotall = true,
            'm' => flags.multiline = true,
            'x' => flags.extended = true,
            'A' => flags.anchored = true,
            'E' => flags.dollar_endonly = true,
            'G' => flags.ungreedy = true,
            'R' => flags.relative = true,
            'O' => flags.match_limit = true,
            'B' => {
                if buffer.is_some() {
                    return Err(RuleErrorKind::Conflict("pcre modifier 'B' inconsistent with chosen buffer"));
                }
                flags.rawbytes = true;
            }
            'K' => return Err(RuleErrorKind::Unsupported("pcre modifier 'K' (Snort raw cookie)".into())),
            other => match Buffer::from_pcre_flag(other) {
                Some(b) => {
                    if buffer.is_some() {
                        return Err(RuleErrorKind::Conflict("only one pcre modifier may select a buffer"));
                    }
                    if flags.rawbytes && !matches!(other, 'D' | 'P' | 'Q' | 'Y' | 'S') {
                        return Err(RuleErrorKind::Conflict("pcre buffer modifier inconsistent with 'B'"));
                    }
                    buffer = Some(b);
                }
                None => return Err(invalid(format!("unknown pcre modifier {other:?}"))),
            },
        }
    }
    if buffer == Some(Buffer::HttpHost) && !flags.caseless && has_upper_outside_escapes(source) {
        return Err(RuleErrorKind::Conflict(
            "pcre 'W' (host) pattern has uppercase letters; the host buffer is lowercase",
        ));
    }
    let mut captures = match capture_spec {
        Some(spec) => parse_capture_spec(spec)?,
        None => Vec::new(),
    };
    captures.extend(named_group_captures(source));
    let engine = classify(source, &flags);
    Ok(ParsedPcre {
        pcre: Pcre { source: source.to_string(), modifiers: mods.to_string(), flags, negated, engine, captures },
        buffer,
    })
}

/// Suricata's DetectPcreHasUpperCase: uppercase outside `\X` and `\xHH`.
fn has_upper_outside_escapes(re: &str) -> bool {
    let b = re.as_bytes();
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            let next = b.get(i.saturating_add(1)).copied();
            i = i.saturating_add(if next == Some(b'x') { 4 } else { 2 });
            continue;
        }
        if c.is_ascii_uppercase() {
            return true;
        }
        i = i.saturating_add(1);
    }
    false
}

fn parse_capture_spec(spec: &str) -> KwResult<Vec<Capture>> {
    let mut out = Vec::new();
    for item in text::params(spec) {
        let (kind, name) = item.split_once(':').ok_or_else(|| invalid(format!("bad pcre capture {item:?}")))?;
        let kind = match kind.trim() {
            "pkt" => CaptureKind::Pkt,
            "flow" => CaptureKind::Flow,
            "alert" => CaptureKind::Alert,
            other => return Err(invalid(format!("bad pcre capture type {other:?}"))),
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            return Err(invalid(format!("bad pcre capture name {name:?}")));
        }
        out.push(Capture { kind, name: name.to_string() });
    }
    Ok(out)
}

/// `(?P<flow_x>...)`, `(?P<pkt_x>...)`, `(?P<alert_x>...)` capture into variables.
fn named_group_captures(re: &str) -> Vec<Capture> {
    let mut out = Vec::new();
    for (prefix_len, part) in
        re.match_indices("(?P<").map(|(i, _)| (i, 4)).chain(re.match_indices("(?<").map(|(i, _)| (i, 3)))
    {
        let start = prefix_len.saturating_add(part);
        let Some(rest) = re.get(start..) else { continue };
        let Some(end) = rest.find('>') else { continue };
        let name = rest.get(..end).unwrap_or("");
        let (kind, var) = if let Some(v) = name.strip_prefix("flow_") {
            (CaptureKind::Flow, v)
        } else if let Some(v) = name.strip_prefix("pkt_") {
            (CaptureKind::Pkt, v)
        } else if let Some(v) = name.strip_prefix("alert_") {
            (CaptureKind::Alert, v)
        } else {
            continue;
        };
        out.push(Capture { kind, name: var.to_string() });
    }
    out
}

impl Pcre {
    /// The pattern for `regex::bytes::Regex` (meaningful when `engine` is
    /// [`RegexEngine::Rust`]): flags inlined, Unicode off so `.` and classes
    /// work on bytes as PCRE does without UTF.
    pub fn rust_pattern(&self) -> String {
        let f = &self.flags;
        let mut p = String::with_capacity(self.source.len().saturating_add(16));
        // Flags after '-' are turned off: the enabled ones go first.
        p.push_str("(?");
        if f.caseless {
            p.push('i');
        }
        if f.dotall {
            p.push('s');
        }
        if f.multiline {
            p.push('m');
        }
        if f.ungreedy {
            p.push('U');
        }
        p.push_str("-u)");
        if f.anchored {
            p.push_str("\\A(?:");
            p.push_str(&self.source);
            p.push(')');
        } else {
            p.push_str(&self.source);
        }
        p
    }
}

/// Decides whether the `regex` crate can run the pattern with PCRE's meaning.
fn classify(source: &str, flags: &PcreFlags) -> RegexEngine {
    // Extended mode differs inside classes; non-ASCII bytes are single
    // characters to PCRE but UTF-8 sequences to regex-syntax.
    if flags.extended || !source.is_ascii() {
        return RegexEngine::Pcre2;
    }
    let mut parser = ast::parse::ParserBuilder::new().nest_limit(64).octal(false).empty_min_range(false).build();
    let Ok(tree) = parser.parse(source) else {
        return RegexEngine::Pcre2;
    };
    let checker = SemanticsCheck { source, multiline: flags.multiline, dollar_endonly: flags.dollar_endonly };
    if ast::visit(&tree, checker).is_err() {
        return RegexEngine::Pcre2;
    }
    // What the byte-mode translator rejects cannot run on `regex::bytes`.
    let translated = regex_syntax::hir::translate::TranslatorBuilder::new()
        .unicode(false)
        .utf8(false)
        .case_insensitive(flags.caseless)
        .multi_line(flags.multiline)
        .dot_matches_new_line(flags.dotall)
        .swap_greed(flags.ungreedy)
        .build()
        .translate(source, &tree);
    match translated {
        Ok(_) => RegexEngine::Rust,
        Err(_) => RegexEngine::Pcre2,
    }
}

struct NeedsPcre;

/// Finds constructs that parse in both dialects but mean different things.
struct SemanticsCheck<'a> {
    source: &'a str,
    multiline: bool,
    dollar_endonly: bool,
}

impl ast::Visitor for SemanticsCheck<'_> {
    type Output = ();
    type Err = NeedsPcre;

    fn finish(self) -> Result<(), NeedsPcre> {
        Ok(())
    }

    fn visit_pre(&mut self, node: &Ast) -> Result<(), NeedsPcre> {
        match node {
            Ast::Assertion(a) => match a.kind {
                // PCRE's `$` also matches before a final newline.
                AssertionKind::EndLine if !self.multiline && !self.dollar_endonly => Err(NeedsPcre),
                // PCRE's multiline `^` does not match after a final newline.
                AssertionKind::StartLine if self.multiline => Err(NeedsPcre),
                // `\<` `\>` and `\b{start}` are literals or errors in PCRE.
                AssertionKind::WordBoundaryStart
                | AssertionKind::WordBoundaryEnd
                | AssertionKind::WordBoundaryStartAngle
                | AssertionKind::WordBoundaryEndAngle
                | AssertionKind::WordBoundaryStartHalf
                | AssertionKind::WordBoundaryEndHalf => Err(NeedsPcre),
                _ => Ok(()),
            },
            Ast::Flags(f) => check_flags(&f.flags),
            Ast::Group(g) => match &g.kind {
                ast::GroupKind::NonCapturing(f) => check_flags(f),
                _ => Ok(()),
            },
            Ast::ClassUnicode(_) => Err(NeedsPcre),
            // `a++`, `a*+`, `a{2}+` are possessive in PCRE, nested repeats here.
            Ast::Repetition(r) if matches!(*r.ast, Ast::Repetition(_)) => Err(NeedsPcre),
            Ast::ClassBracketed(c) => {
                // Nested classes and set operators are literals in PCRE.
                let text = self.source.get(c.span.start.offset..c.span.end.offset).unwrap_or("");
                if text.contains("&&") || text.contains("--") || text.contains("~~") {
                    return Err(NeedsPcre);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), NeedsPcre> {
        match item {
            ClassSetItem::Bracketed(_) | ClassSetItem::Unicode(_) => Err(NeedsPcre),
            _ => Ok(()),
        }
    }

    fn visit_class_set_binary_op_pre(&mut self, _op: &ast::ClassSetBinaryOp) -> Result<(), NeedsPcre> {
        Err(NeedsPcre)
    }
}

fn check_flags(f: &ast::Flags) -> Result<(), NeedsPcre> {
    for item in &f.items {
        if let ast::FlagsItemKind::Flag(flag) = item.kind {
            // Inline `m` changes `^`/`$` semantics in ways we do not track per
            // scope; `x`, `u` and `R` have no exact PCRE-without-UTF match.
            if matches!(flag, Flag::MultiLine | Flag::IgnoreWhitespace | Flag::Unicode | Flag::CRLF) {
                return Err(NeedsPcre);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &str) -> ParsedPcre {
        parse(v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    #[test]
    fn source_flags_and_buffer() {
        let r = p(r#""/^\/two\//Ui""#);
        assert_eq!(r.pcre.source, r"^\/two\/");
        assert!(r.pcre.flags.caseless);
        assert_eq!(r.buffer, Some(Buffer::HttpUri));
        assert_eq!(r.pcre.modifiers, "Ui");
        let r = p("/blah/U");
        assert_eq!(r.pcre.source, "blah");
        let r = p(r#"!"/two/""#);
        assert!(r.pcre.negated);
        assert_eq!(r.buffer, None);
    }

    #[test]
    fn flag_errors() {
        assert!(parse("\"/x/UH\"").is_err(), "two buffers");
        assert!(parse("\"/x/BU\"").is_err());
        assert!(parse("\"/x/q\"").is_err());
        assert!(matches!(parse("\"/x/K\""), Err(RuleErrorKind::Unsupported(_))));
        assert!(parse("\"x\"").is_err());
        assert!(parse("\"//\"").is_err());
        assert!(parse("\"/Host/W\"").is_err(), "uppercase host pattern");
        assert!(parse("\"/Host/Wi\"").is_ok());
        assert!(parse(r#""/\x41b/W""#).is_ok(), "escapes are not uppercase letters");
    }

    #[test]
    fn suricata8_captures() {
        let r = p(r#""/^([a-zA-Z]+).*Ubuntu\/(\d+\.\d).*Firefox\/(.*)/,alert:user_agent, flow:ubuntu, pkt:firefox""#);
        assert_eq!(r.pcre.source, r"^([a-zA-Z]+).*Ubuntu\/(\d+\.\d).*Firefox\/(.*)");
        assert_eq!(r.pcre.modifiers, "");
        assert_eq!(
            r.pcre.captures,
            vec![
                Capture { kind: CaptureKind::Alert, name: "user_agent".into() },
                Capture { kind: CaptureKind::Flow, name: "ubuntu".into() },
                Capture { kind: CaptureKind::Pkt, name: "firefox".into() },
            ]
        );
        let r = p(r#""/^(?P<alert_ua>[a-zA-Z]+)/""#);
        assert_eq!(r.pcre.captures, vec![Capture { kind: CaptureKind::Alert, name: "ua".into() }]);
    }

    #[test]
    fn engine_classification() {
        let e = |v: &str| p(v).pcre.engine;
        assert_eq!(e(r#""/^GET\s+\/[a-z]{2,8}\.php\?id=\d+/i""#), RegexEngine::Rust);
        assert_eq!(e(r#""/(?=abc)x/""#), RegexEngine::Pcre2, "look-ahead");
        assert_eq!(e(r#""/(a)\1/""#), RegexEngine::Pcre2, "backreference");
        assert_eq!(e(r#""/\.exe$/""#), RegexEngine::Pcre2, "PCRE $ matches before a final newline");
        assert_eq!(e(r#""/\.exe$/E""#), RegexEngine::Rust);
        assert_eq!(e(r#""/a++/""#), RegexEngine::Pcre2, "possessive");
        assert_eq!(e(r#""/\<script/""#), RegexEngine::Pcre2, "\\< is a literal in PCRE");
        assert_eq!(e(r#""/[a[b]]/""#), RegexEngine::Pcre2, "nested class");
        assert_eq!(e(r#""/x{,3}/""#), RegexEngine::Pcre2, "{{,n}} is literal in PCRE2 10.42");
        assert_eq!(e(r#""/a b/x""#), RegexEngine::Pcre2);
        assert_eq!(e(r#""/\x00\xff/""#), RegexEngine::Rust);
    }

    #[test]
    fn rust_pattern_inlines_flags() {
        let r = p(r#""/ab.c/smiAG""#);
        assert_eq!(r.pcre.rust_pattern(), r"(?ismU-u)\A(?:ab.c)");
        let re = regex::bytes::Regex::new(&p(r#""/^get/i""#).pcre.rust_pattern()).unwrap();
        assert!(re.is_match(b"GET /"), "i must stay on");
        let re = regex::bytes::Regex::new(&p(r#""/\xff\x00/""#).pcre.rust_pattern()).unwrap();
        assert!(re.is_match(&[0x41, 0xff, 0x00]));
    }
}
