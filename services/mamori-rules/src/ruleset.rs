//! Loading rule files: parse every rule, skip the bad ones with their
//! reasons, drop duplicate sids, and summarize.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::address::IpSet;
use crate::builder::Builder;
use crate::classification::Classifications;
use crate::error::{KeywordError, KwResult, Origin, RuleError, RuleErrorKind};
use crate::header::{Action, Direction, Header, Protocol};
use crate::intern::Interner;
use crate::port::PortSet;
use crate::rule::{Match, Rule};
use crate::text::{self, Line};
use crate::vars::Vars;

/// The rules that loaded, in file order.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

/// What happened during a load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Enabled (non-comment) rules seen.
    pub total: usize,
    /// Rules that loaded.
    pub loaded: usize,
    /// Commented-out rules (`# alert ...`), not counted in `total`.
    pub disabled: usize,
    /// Every skipped rule with its error, in load order.
    pub skipped: Vec<RuleError>,
}

impl LoadSummary {
    /// Skip reasons with their counts, most frequent first.
    pub fn reasons(&self) -> Vec<(String, usize)> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for e in &self.skipped {
            *counts.entry(e.reason()).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Share of enabled rules that loaded, in percent.
    pub fn percent_loaded(&self) -> f64 {
        if self.total == 0 {
            return 100.0;
        }
        // Rule counts are far below 2^52, so the conversion is exact.
        (self.loaded as f64) * 100.0 / (self.total as f64)
    }
}

impl fmt::Display for LoadSummary {
    /// `loaded N of M rules`, then one line per skip reason with its count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "loaded {} of {} rules", self.loaded, self.total)?;
        let reasons = self.reasons();
        if !reasons.is_empty() {
            writeln!(f, "skipped {} rules:", self.skipped.len())?;
            for (reason, n) in reasons {
                writeln!(f, "  {n:>6}  {reason}")?;
            }
        }
        Ok(())
    }
}

/// State shared across the rules of a load: resolved address and port
/// groups (ET uses a handful of distinct ones) and repeated strings.
#[derive(Default)]
pub struct LoadCache {
    addrs: HashMap<String, KwResult<Arc<IpSet>>>,
    ports: HashMap<String, KwResult<Arc<PortSet>>>,
    strings: Interner,
}

impl LoadCache {
    fn addr(&mut self, s: &str, vars: &Vars) -> KwResult<Arc<IpSet>> {
        if let Some(r) = self.addrs.get(s) {
            return r.clone();
        }
        let r = IpSet::parse(s, vars).map(Arc::new);
        self.addrs.insert(s.to_string(), r.clone());
        r
    }

    fn port(&mut self, s: &str, vars: &Vars) -> KwResult<Arc<PortSet>> {
        if let Some(r) = self.ports.get(s) {
            return r.clone();
        }
        let r = PortSet::parse(s, vars).map(Arc::new);
        self.ports.insert(s.to_string(), r.clone());
        r
    }
}

/// Parses one rule. `origin` is used for errors and kept in the rule.
pub fn parse_rule(
    text: &str,
    origin: Origin,
    vars: &Vars,
    classes: &Classifications,
    cache: &mut LoadCache,
) -> Result<Rule, RuleError> {
    match parse_inner(text, vars, classes, cache, &origin) {
        Ok(r) => r,
        Err(e) => Err(e.at(origin)),
    }
}

type Inner = Result<Result<Rule, RuleError>, KeywordError>;

fn parse_inner(text: &str, vars: &Vars, classes: &Classifications, cache: &mut LoadCache, origin: &Origin) -> Inner {
    let parts = text::split_rule(text).map_err(KeywordError::header)?;
    let [action, proto, src, sp, dir, dst, dp] = parts.header.as_slice() else {
        return Err(KeywordError::header(RuleErrorKind::Syntax("header needs 7 fields")));
    };
    let action = Action::parse(action).map_err(KeywordError::header)?;
    let proto = Protocol::parse(proto).map_err(KeywordError::header)?;
    let direction = Direction::parse(dir).map_err(KeywordError::header)?;
    let header = Header {
        proto,
        src: cache.addr(src, vars).map_err(KeywordError::header)?,
        src_ports: cache.port(sp, vars).map_err(KeywordError::header)?,
        direction,
        dst: cache.addr(dst, vars).map_err(KeywordError::header)?,
        dst_ports: cache.port(dp, vars).map_err(KeywordError::header)?,
    };
    let opts = text::split_options(parts.options).map_err(KeywordError::header)?;
    let mut b = Builder::new(classes, &mut cache.strings, action, header);
    b.apply_all(&opts)?;
    Ok(b.finish(origin.clone(), text.to_string()).map_err(|e| e.at(origin.clone())))
}

impl RuleSet {
    /// Loads rule sources (`(file name, text)`), fully validated, including a
    /// compile check of every pcre (see [`RuleSet::check_regexes`]).
    pub fn load(sources: &[(&str, &str)], vars: &Vars, classes: &Classifications) -> (RuleSet, LoadSummary) {
        let (mut set, mut summary) = RuleSet::parse_only(sources, vars, classes);
        set.check_regexes(&mut summary);
        (set, summary)
    }

    /// Parses and validates without compiling regexes.
    pub fn parse_only(sources: &[(&str, &str)], vars: &Vars, classes: &Classifications) -> (RuleSet, LoadSummary) {
        let mut set = RuleSet::default();
        let mut summary = LoadSummary::default();
        let mut cache = LoadCache::default();
        let mut seen: HashMap<(u32, u32), Origin> = HashMap::new();
        for (name, src) in sources {
            let file: Arc<str> = Arc::from(*name);
            for line in text::logical_lines(src) {
                let (lineno, rule_text) = match line {
                    Line::Disabled { .. } => {
                        summary.disabled = summary.disabled.saturating_add(1);
                        continue;
                    }
                    Line::Indented { line } => {
                        summary.total = summary.total.saturating_add(1);
                        summary.skipped.push(RuleError {
                            origin: Origin { file: Arc::clone(&file), line },
                            keyword: None,
                            kind: RuleErrorKind::Syntax("line starts with whitespace (Suricata ignores it)"),
                        });
                        continue;
                    }
                    Line::TooLong { line } => {
                        summary.total = summary.total.saturating_add(1);
                        summary.skipped.push(RuleError {
                            origin: Origin { file: Arc::clone(&file), line },
                            keyword: None,
                            kind: RuleErrorKind::TooLarge("rule longer than 64 KiB"),
                        });
                        continue;
                    }
                    Line::Rule { line, text } => (line, text),
                };
                summary.total = summary.total.saturating_add(1);
                let origin = Origin { file: Arc::clone(&file), line: lineno };
                match parse_rule(&rule_text, origin.clone(), vars, classes, &mut cache) {
                    Ok(rule) => {
                        let key = (rule.meta.gid, rule.meta.sid);
                        if let Some(first) = seen.get(&key) {
                            summary.skipped.push(RuleError {
                                origin,
                                keyword: None,
                                kind: RuleErrorKind::DuplicateSid { sid: rule.meta.sid, first: first.to_string() },
                            });
                            continue;
                        }
                        seen.insert(key, origin);
                        set.rules.push(rule);
                    }
                    Err(e) => summary.skipped.push(e),
                }
            }
        }
        summary.loaded = set.rules.len();
        (set, summary)
    }

    /// Compiles every pcre (and pcrexform) with PCRE2, without JIT: a rule
    /// whose pattern PCRE2 rejects is skipped, as in Suricata. Updates
    /// `summary`. Patterns classified for the `regex` crate were already
    /// translated at parse time; only its size limits are left to the
    /// matcher, which should fall back to PCRE2 when they are hit.
    pub fn check_regexes(&mut self, summary: &mut LoadSummary) {
        let rules = std::mem::take(&mut self.rules);
        for mut rule in rules {
            match check_rule_regexes(&mut rule) {
                Ok(()) => self.rules.push(rule),
                Err(msg) => summary.skipped.push(RuleError {
                    origin: rule.origin.clone(),
                    keyword: Some("pcre".to_string()),
                    kind: RuleErrorKind::PcreCompile(msg),
                }),
            }
        }
        summary.loaded = self.rules.len();
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Looks a rule up by gid and sid.
    pub fn get(&self, gid: u32, sid: u32) -> Option<&Rule> {
        self.rules.iter().find(|r| r.meta.gid == gid && r.meta.sid == sid)
    }
}

fn check_rule_regexes(rule: &mut Rule) -> Result<(), String> {
    for d in &mut rule.detections {
        if let Match::Pcre(p) = &mut d.item {
            // Validity is PCRE2's verdict, as in Suricata.
            pcre2::bytes::RegexBuilder::new()
                .caseless(p.flags.caseless)
                .dotall(p.flags.dotall)
                .extended(p.flags.extended)
                .multi_line(p.flags.multiline)
                .build(&p.source)
                .map_err(|e| e.to_string())?;
        }
        for t in &d.transforms {
            if let crate::buffer::Transform::Pcrexform(re) = t {
                pcre2::bytes::RegexBuilder::new().build(re).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Classifications {
        Classifications::parse("c", "config classification: trojan-activity,A Network Trojan was detected,1\n").0
    }

    fn load(text: &str) -> (RuleSet, LoadSummary) {
        RuleSet::load(&[("test.rules", text)], &Vars::default(), &classes())
    }

    #[test]
    fn summary_counts_and_groups() {
        let text = "\
alert tcp any any -> any any (msg:\"ok\"; content:\"a\"; sid:1;)
# alert tcp any any -> any any (msg:\"off\"; sid:2;)
alert tcp any any -> any any (msg:\"x\"; http_fancy; sid:3;)
alert tcp any any -> any any (msg:\"y\"; http_fancy; sid:4;)
alert tcp any any -> any any (msg:\"dup\"; sid:1;)
alert tcp any any -> $NOPE any (sid:5;)
alert tcp any any -> any any (msg:\"bad re\"; pcre:\"/(?<=a+)b/\"; sid:6;)
";
        let (set, s) = load(text);
        assert_eq!(set.len(), 1);
        assert_eq!((s.loaded, s.total, s.disabled), (1, 6, 1));
        let out = s.to_string();
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("loaded 1 of 6 rules"));
        assert_eq!(lines.next(), Some("skipped 5 rules:"));
        assert_eq!(lines.next(), Some("       2  keyword \"http_fancy\": unsupported keyword"));
        assert!(out.contains("1  duplicate sid"), "{out}");
        assert!(out.contains("1  undefined variable $NOPE"), "{out}");
        assert!(out.contains("1  keyword \"pcre\": pcre does not compile"), "{out}");
        assert_eq!(s.skipped[0].to_string(), "test.rules:3: keyword \"http_fancy\": unsupported keyword");
        assert_eq!(s.skipped[2].to_string(), "test.rules:5: duplicate sid 1 (first at test.rules:1)");
    }

    #[test]
    fn empty_summary() {
        let (_, s) = load("");
        assert_eq!(s.to_string(), "loaded 0 of 0 rules\n");
        assert!((s.percent_loaded() - 100.0).abs() < f64::EPSILON);
    }
}
