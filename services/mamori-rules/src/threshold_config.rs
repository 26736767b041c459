//! threshold.config: `threshold`, `event_filter`, `rate_filter` and
//! `suppress` lines.

use std::sync::Arc;

use crate::address::IpSet;
use crate::error::{ConfigError, KwResult};
use crate::number::parse_dec;
use crate::threshold::{get, threshold_type, Threshold, Track};
use crate::vars::Vars;

/// Which rules an entry applies to; `None` (written as `0`) means all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Selector {
    pub gid: Option<u32>,
    pub sid: Option<u32>,
}

impl Selector {
    pub fn matches(&self, gid: u32, sid: u32) -> bool {
        self.gid.is_none_or(|g| g == gid) && self.sid.is_none_or(|s| s == sid)
    }
}

/// `rate_filter`'s `new_action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateAction {
    Alert,
    Drop,
    Pass,
    Reject,
    Log,
    Sdrop,
}

/// `suppress ... track by_src|by_dst|by_either, ip <group>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressBy {
    pub track: Track,
    pub ips: Arc<IpSet>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThresholdEntry {
    /// `threshold` and its alias `event_filter`.
    Threshold {
        select: Selector,
        threshold: Threshold,
    },
    RateFilter {
        select: Selector,
        track: Track,
        count: u32,
        seconds: u32,
        new_action: RateAction,
        timeout: u32,
    },
    /// Without `by`, every alert of the selected rules is suppressed.
    Suppress {
        select: Selector,
        by: Option<SuppressBy>,
    },
}

/// A line-numbered entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    pub line: u32,
    pub entry: ThresholdEntry,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThresholdConfig {
    pub entries: Vec<ConfigEntry>,
}

impl ThresholdConfig {
    /// Parses a threshold.config. `vars` resolves `$VAR` in suppress ip lists.
    /// Bad lines are reported and skipped.
    pub fn parse(file: &str, text: &str, vars: &Vars) -> (ThresholdConfig, Vec<ConfigError>) {
        let mut cfg = ThresholdConfig::default();
        let mut errors = Vec::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = u32::try_from(idx.saturating_add(1)).unwrap_or(u32::MAX);
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            match parse_line(t, vars) {
                Ok(entry) => cfg.entries.push(ConfigEntry { line, entry }),
                Err(e) => errors.push(ConfigError { file: file.to_string(), line, message: e.to_string() }),
            }
        }
        (cfg, errors)
    }
}

/// Splits on commas outside brackets (ip lists contain commas).
fn split_pairs(s: &str) -> KwResult<Vec<(&str, &str)>> {
    let mut items = Vec::new();
    let mut depth: u32 = 0;
    let mut start = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'[' => depth = depth.saturating_add(1),
            b']' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                items.push(s.get(start..i).unwrap_or("").trim());
                start = i.saturating_add(1);
            }
            _ => {}
        }
    }
    items.push(s.get(start..).unwrap_or("").trim());
    let mut out: Vec<(&str, &str)> = Vec::new();
    for item in items {
        let (k, v) = item
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .ok_or_else(|| crate::error::invalid(format!("expected \"key value\", got {item:?}")))?;
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(crate::error::invalid(format!("{k} given twice")));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn only_keys(pairs: &[(&str, &str)], allowed: &[&str]) -> KwResult<()> {
    match pairs.iter().find(|(k, _)| !allowed.contains(k)) {
        Some((k, _)) => Err(crate::error::invalid(format!("unknown option {k:?}"))),
        None => Ok(()),
    }
}

fn selector(pairs: &[(&str, &str)]) -> KwResult<Selector> {
    let gid: u32 = parse_dec(get(pairs, "gen_id")?)?;
    let sid: u32 = parse_dec(get(pairs, "sig_id")?)?;
    Ok(Selector { gid: (gid != 0).then_some(gid), sid: (sid != 0).then_some(sid) })
}

fn track_in(s: &str, allowed: &[Track]) -> KwResult<Track> {
    let t = Track::parse(s)?;
    if !allowed.contains(&t) {
        return Err(crate::error::invalid(format!("track {s} not valid here")));
    }
    Ok(t)
}

const RULE_TRACKS: &[Track] = &[Track::BySrc, Track::ByDst, Track::ByRule, Track::ByBoth, Track::ByFlow];

fn parse_line(t: &str, vars: &Vars) -> KwResult<ThresholdEntry> {
    let (directive, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
    let pairs = split_pairs(rest)?;
    match directive {
        "threshold" | "event_filter" => {
            only_keys(&pairs, &["gen_id", "sig_id", "type", "track", "count", "seconds"])?;
            let threshold = Threshold {
                kind: threshold_type(get(&pairs, "type")?)?,
                track: track_in(get(&pairs, "track")?, RULE_TRACKS)?,
                count: parse_dec(get(&pairs, "count")?)?,
                seconds: parse_dec(get(&pairs, "seconds")?)?,
            };
            Ok(ThresholdEntry::Threshold { select: selector(&pairs)?, threshold })
        }
        "rate_filter" => {
            only_keys(&pairs, &["gen_id", "sig_id", "track", "count", "seconds", "new_action", "timeout"])?;
            let new_action = match get(&pairs, "new_action")? {
                "alert" => RateAction::Alert,
                "drop" => RateAction::Drop,
                "pass" => RateAction::Pass,
                "reject" => RateAction::Reject,
                "log" => RateAction::Log,
                "sdrop" => RateAction::Sdrop,
                other => return Err(crate::error::invalid(format!("bad new_action {other:?}"))),
            };
            Ok(ThresholdEntry::RateFilter {
                select: selector(&pairs)?,
                track: track_in(get(&pairs, "track")?, RULE_TRACKS)?,
                count: parse_dec(get(&pairs, "count")?)?,
                seconds: parse_dec(get(&pairs, "seconds")?)?,
                new_action,
                timeout: parse_dec(get(&pairs, "timeout")?)?,
            })
        }
        "suppress" => {
            only_keys(&pairs, &["gen_id", "sig_id", "track", "ip"])?;
            let select = selector(&pairs)?;
            let track = pairs.iter().find(|(k, _)| *k == "track").map(|(_, v)| *v);
            let ip = pairs.iter().find(|(k, _)| *k == "ip").map(|(_, v)| *v);
            let by = match (track, ip) {
                (None, None) => None,
                (Some(tr), Some(ip)) => Some(SuppressBy {
                    track: track_in(tr, &[Track::BySrc, Track::ByDst, Track::ByEither])?,
                    ips: Arc::new(IpSet::parse(ip, vars)?),
                }),
                _ => return Err(crate::error::invalid("suppress needs both track and ip, or neither")),
            };
            Ok(ThresholdEntry::Suppress { select, by })
        }
        other => Err(crate::error::invalid(format!("unknown directive {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::ThresholdType;

    #[test]
    fn suricata_verify_forms() {
        let mut vars = Vars::default();
        vars.set_address("SUPPRESS", "[10.0.0.0/8,20.0.0.0/16,145.0.0.0/8]");
        let text = "\
# comment
threshold gen_id 1, sig_id 1000001, type limit, track by_rule, count 3, seconds 1000
rate_filter gen_id 1, sig_id 1000001, track by_dst, count 1, seconds 60, new_action drop, timeout 1000
suppress gen_id 1, sig_id 1000001, track by_either, ip 145.254.160.0/24
suppress gen_id 1, sig_id 1000001, track by_src, ip $SUPPRESS
suppress gen_id 0, sig_id 0
event_filter gen_id 1, sig_id 5, type both, track by_flow, count 5, seconds 60
";
        let (cfg, errs) = ThresholdConfig::parse("threshold.config", text, &vars);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(cfg.entries.len(), 6);
        assert_eq!(cfg.entries[0].line, 2);
        assert_eq!(
            cfg.entries[0].entry,
            ThresholdEntry::Threshold {
                select: Selector { gid: Some(1), sid: Some(1000001) },
                threshold: Threshold { kind: ThresholdType::Limit, track: Track::ByRule, count: 3, seconds: 1000 },
            }
        );
        let ThresholdEntry::RateFilter { new_action, timeout, .. } = &cfg.entries[1].entry else { panic!() };
        assert_eq!((*new_action, *timeout), (RateAction::Drop, 1000));
        let ThresholdEntry::Suppress { by: Some(by), .. } = &cfg.entries[3].entry else { panic!() };
        assert!(by.ips.contains("145.1.2.3".parse().unwrap()) && !by.ips.contains("146.0.0.1".parse().unwrap()));
        let ThresholdEntry::Suppress { select, by: None } = &cfg.entries[4].entry else { panic!() };
        assert!(select.matches(7, 99));
    }

    #[test]
    fn errors_are_line_numbered() {
        let text = "threshold gen_id 1, sig_id 1, type limit, track by_either, count 1, seconds 1\n\nsuppress gen_id 1, sig_id 2, track by_src\nfrobnicate gen_id 1\nsuppress gen_id 1, sig_id 2, track by_src, ip [1.2.3.4,5.6.7.8]\nsuppress gen_id 1, sig_id 2, track by_src, ip $NOPE\n";
        let (cfg, errs) = ThresholdConfig::parse("threshold.config", text, &Vars::default());
        assert_eq!(cfg.entries.len(), 1);
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![1, 3, 4, 6]);
        assert!(errs[3].to_string().starts_with("threshold.config:6: undefined variable $NOPE"), "{}", errs[3]);
    }
}
