//! `threshold` and `detection_filter` rule keywords; their types are shared
//! with threshold.config.

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::number::parse_dec;
use crate::text;

/// What the counters are kept per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    BySrc,
    ByDst,
    ByRule,
    /// Per source and destination pair.
    ByBoth,
    ByFlow,
    /// threshold.config `suppress` only: source or destination.
    ByEither,
}

impl Track {
    pub fn parse(s: &str) -> KwResult<Track> {
        Ok(match s.trim() {
            "by_src" => Track::BySrc,
            "by_dst" => Track::ByDst,
            "by_rule" => Track::ByRule,
            "by_both" => Track::ByBoth,
            "by_flow" => Track::ByFlow,
            "by_either" => Track::ByEither,
            other => return Err(invalid(format!("bad track {other:?}"))),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThresholdType {
    /// Alert every `count`-th match in the window.
    Threshold,
    /// Alert on the first `count` matches in the window.
    Limit,
    /// Alert once per window after `count` matches.
    Both,
}

/// `threshold: type T, track B, count C, seconds S` (also threshold.config
/// `threshold` and `event_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Threshold {
    pub kind: ThresholdType,
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
}

/// `detection_filter: track B, count C, seconds S`: alert only after `count`
/// matches in `seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DetectionFilter {
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
}

/// Reads `key value` pairs separated by commas, in any order, each at most once.
pub(crate) fn pairs(value: &str) -> KwResult<Vec<(&str, &str)>> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for item in text::params(value) {
        let (k, v) = item
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .ok_or_else(|| invalid(format!("expected \"key value\", got {item:?}")))?;
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(invalid(format!("{k} given twice")));
        }
        out.push((k, v));
    }
    Ok(out)
}

pub(crate) fn get<'a>(pairs: &[(&str, &'a str)], key: &str) -> KwResult<&'a str> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).ok_or_else(|| invalid(format!("missing {key}")))
}

pub(crate) fn threshold_type(s: &str) -> KwResult<ThresholdType> {
    Ok(match s {
        "threshold" => ThresholdType::Threshold,
        "limit" => ThresholdType::Limit,
        "both" => ThresholdType::Both,
        "backoff" => return Err(RuleErrorKind::Unsupported("threshold type backoff".into())),
        other => return Err(invalid(format!("bad threshold type {other:?}"))),
    })
}

fn track_for_rules(s: &str) -> KwResult<Track> {
    match Track::parse(s)? {
        Track::ByEither => Err(invalid("by_either is only valid for suppress")),
        t => Ok(t),
    }
}

fn only_keys(pairs: &[(&str, &str)], allowed: &[&str]) -> KwResult<()> {
    match pairs.iter().find(|(k, _)| !allowed.contains(k)) {
        Some((k, _)) => Err(invalid(format!("unknown option {k:?}"))),
        None => Ok(()),
    }
}

pub(crate) fn parse_threshold(value: &str) -> KwResult<Threshold> {
    let p = pairs(value)?;
    only_keys(&p, &["type", "track", "count", "seconds"])?;
    let t = Threshold {
        kind: threshold_type(get(&p, "type")?)?,
        track: track_for_rules(get(&p, "track")?)?,
        count: parse_dec(get(&p, "count")?)?,
        seconds: parse_dec(get(&p, "seconds")?)?,
    };
    Ok(t)
}

pub(crate) fn parse_detection_filter(value: &str) -> KwResult<DetectionFilter> {
    let p = pairs(value)?;
    only_keys(&p, &["track", "count", "seconds"])?;
    let d = DetectionFilter {
        track: track_for_rules(get(&p, "track")?)?,
        count: parse_dec(get(&p, "count")?)?,
        seconds: parse_dec(get(&p, "seconds")?)?,
    };
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_any_order() {
        let t = parse_threshold("type limit, track by_src, count 1, seconds 3600").unwrap();
        assert_eq!(t, Threshold { kind: ThresholdType::Limit, track: Track::BySrc, count: 1, seconds: 3600 });
        let t = parse_threshold("track by_flow,type both,seconds 60,count 5").unwrap();
        assert_eq!((t.kind, t.track, t.count), (ThresholdType::Both, Track::ByFlow, 5));
        assert!(parse_threshold("type limit, track by_src, count 1").is_err());
        assert!(parse_threshold("type limit, track by_either, count 1, seconds 1").is_err());
        assert!(parse_threshold("type limit, track by_src, count 1, seconds 1, count 2").is_err());
        assert!(parse_threshold("type often, track by_src, count 1, seconds 1").is_err());
        assert_eq!(
            parse_threshold("type limit, track by_src, count 0, seconds 1").unwrap().count,
            0,
            "Suricata accepts 0"
        );
    }

    #[test]
    fn detection_filter() {
        let d = parse_detection_filter("track by_dst, count 10, seconds 2").unwrap();
        assert_eq!(d, DetectionFilter { track: Track::ByDst, count: 10, seconds: 2 });
        assert!(parse_detection_filter("type limit, track by_dst, count 10, seconds 2").is_err());
    }
}
