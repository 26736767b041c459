//! Alert thresholding: `threshold` / `detection_filter` in rules and
//! `threshold`, `event_filter`, `rate_filter`, `suppress` in threshold.config,
//! with Suricata's counting (detect-engine-threshold.c).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use mamori_rules::{
    Action, IpSet, RateAction, Selector, SuppressBy, ThresholdConfig, ThresholdEntry, ThresholdType, Track,
};

/// How a signature's alerts are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Limit,
    Threshold,
    Both,
    Detection,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Counter {
    pub kind: Kind,
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Rate {
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
    pub new_action: RateAction,
    pub timeout: u32,
}

/// Everything that decides whether one signature's match alerts.
#[derive(Clone, Debug, Default)]
pub(crate) struct SigThresholds {
    pub counter: Option<Counter>,
    pub rate: Option<Rate>,
    pub suppress: Vec<Option<SuppressBy>>,
}

impl SigThresholds {
    pub fn is_empty(&self) -> bool {
        self.counter.is_none() && self.rate.is_none() && self.suppress.is_empty()
    }
}

/// The thresholds of a signature from its rule and threshold.config.
/// A config `threshold`/`event_filter` replaces the rule's own, as in Suricata.
pub(crate) fn for_sig(
    gid: u32,
    sid: u32,
    rule_th: Option<mamori_rules::Threshold>,
    rule_df: Option<mamori_rules::DetectionFilter>,
    cfg: &ThresholdConfig,
) -> SigThresholds {
    let mut out = SigThresholds {
        counter: rule_th
            .map(|t| Counter { kind: kind(t.kind), track: t.track, count: t.count, seconds: t.seconds })
            .or(rule_df.map(|d| Counter { kind: Kind::Detection, track: d.track, count: d.count, seconds: d.seconds })),
        ..Default::default()
    };
    let selected = |s: &Selector| s.matches(gid, sid);
    for e in &cfg.entries {
        match &e.entry {
            // A specific sid beats a wildcard entry.
            ThresholdEntry::Threshold { select, threshold }
                if selected(select) && (select.sid.is_some() || out.counter.is_none()) =>
            {
                out.counter = Some(Counter {
                    kind: kind(threshold.kind),
                    track: threshold.track,
                    count: threshold.count,
                    seconds: threshold.seconds,
                });
            }
            ThresholdEntry::RateFilter { select, track, count, seconds, new_action, timeout } if selected(select) => {
                out.rate = Some(Rate {
                    track: *track,
                    count: *count,
                    seconds: *seconds,
                    new_action: *new_action,
                    timeout: *timeout,
                });
            }
            ThresholdEntry::Suppress { select, by } if selected(select) => out.suppress.push(by.clone()),
            _ => {}
        }
    }
    out
}

fn kind(k: ThresholdType) -> Kind {
    match k {
        ThresholdType::Threshold => Kind::Threshold,
        ThresholdType::Limit => Kind::Limit,
        ThresholdType::Both => Kind::Both,
    }
}

/// What tracking is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Pair(IpAddr, IpAddr),
    Rule,
    Flow(u64),
}

fn key(track: Track, src: IpAddr, dst: IpAddr, flow: u64) -> Key {
    match track {
        Track::BySrc => Key::Ip(src),
        Track::ByDst => Key::Ip(dst),
        Track::ByBoth => Key::Pair(src, dst),
        Track::ByRule => Key::Rule,
        Track::ByFlow => Key::Flow(flow),
        // Only valid for suppress; count per source.
        Track::ByEither => Key::Ip(src),
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    count: u32,
    /// Start of the current window (seconds).
    since: u64,
    /// rate_filter: when the new action took over (0: not active).
    timeout_at: u64,
}

/// Tracked (signature, key) entries at most; when full, expired entries are
/// dropped and, failing that, new keys are not tracked (their matches count
/// as first matches).
const MAX_ENTRIES: usize = 1 << 18;

/// The outcome for one match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Write the alert.
    pub alert: bool,
    /// rate_filter replaced the rule's action.
    pub action: Option<Action>,
}

/// Global threshold state.
#[derive(Default)]
pub(crate) struct ThresholdState {
    counters: HashMap<(u32, u8, Key), Entry>,
}

fn suppressed(s: &[Option<SuppressBy>], src: IpAddr, dst: IpAddr) -> bool {
    s.iter().any(|by| match by {
        None => true,
        Some(SuppressBy { track, ips }) => hit(ips, *track, src, dst),
    })
}

fn hit(ips: &Arc<IpSet>, track: Track, src: IpAddr, dst: IpAddr) -> bool {
    match track {
        Track::BySrc => ips.contains(src),
        Track::ByDst => ips.contains(dst),
        _ => ips.contains(src) || ips.contains(dst),
    }
}

impl ThresholdState {
    fn slot(&mut self, k: (u32, u8, Key), now: u64) -> Option<&mut Entry> {
        if !self.counters.contains_key(&k) && self.counters.len() >= MAX_ENTRIES {
            // Forget windows long gone (an hour) before refusing.
            self.counters.retain(|_, e| now.saturating_sub(e.since) < 3600);
            if self.counters.len() >= MAX_ENTRIES {
                return None;
            }
        }
        Some(self.counters.entry(k).or_insert(Entry { count: 0, since: now, timeout_at: 0 }))
    }

    /// Decide one match of signature `sig` at `now` (seconds).
    pub fn check(&mut self, sig: u32, th: &SigThresholds, now: u64, src: IpAddr, dst: IpAddr, flow: u64) -> Outcome {
        let mut out = Outcome { alert: true, action: None };
        if suppressed(&th.suppress, src, dst) {
            out.alert = false;
        }
        if let Some(c) = th.counter {
            let k = (sig, 0, key(c.track, src, dst, flow));
            let ok = match self.slot(k, now) {
                Some(e) => counter(e, &c, now),
                None => true,
            };
            out.alert &= ok;
        }
        if let Some(r) = th.rate {
            let k = (sig, 1, key(r.track, src, dst, flow));
            if let Some(e) = self.slot(k, now) {
                if rate(e, &r, now) {
                    out.action = Some(match r.new_action {
                        RateAction::Alert | RateAction::Log => Action::Alert,
                        RateAction::Drop | RateAction::Sdrop => Action::Drop,
                        RateAction::Pass => Action::Pass,
                        RateAction::Reject => Action::Reject,
                    });
                }
            }
        }
        out
    }
}

/// Limit/threshold/both/detection_filter counting; true to alert.
fn counter(e: &mut Entry, c: &Counter, now: u64) -> bool {
    let fresh = e.count == 0;
    let in_window = now.saturating_sub(e.since) < u64::from(c.seconds);
    if fresh || !in_window {
        e.since = now;
        e.count = 1;
        return match c.kind {
            Kind::Limit => true,
            Kind::Threshold => {
                if c.count <= 1 {
                    e.count = 0;
                    true
                } else {
                    false
                }
            }
            Kind::Both => c.count <= 1,
            Kind::Detection => c.count == 0,
        };
    }
    e.count = e.count.saturating_add(1);
    match c.kind {
        Kind::Limit => e.count <= c.count,
        Kind::Threshold => {
            if e.count >= c.count {
                // Restart the count; the window keeps its start.
                e.count = 0;
                e.since = e.since.min(now);
                true
            } else {
                false
            }
        }
        Kind::Both => e.count == c.count,
        Kind::Detection => e.count > c.count,
    }
}

/// rate_filter: true while the new action applies.
fn rate(e: &mut Entry, r: &Rate, now: u64) -> bool {
    if e.count == 0 {
        e.count = 1;
        e.since = now;
        return r.count == 0;
    }
    if e.timeout_at != 0 {
        if now.saturating_sub(e.timeout_at) > u64::from(r.timeout) {
            e.timeout_at = 0;
            return false;
        }
        return true;
    }
    if now.saturating_sub(e.since) < u64::from(r.seconds) {
        e.count = e.count.saturating_add(1);
        if e.count > r.count {
            e.timeout_at = now.max(1);
            return true;
        }
    } else {
        e.since = now;
        e.count = 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn th(kind: Kind, count: u32) -> SigThresholds {
        SigThresholds { counter: Some(Counter { kind, track: Track::BySrc, count, seconds: 60 }), ..Default::default() }
    }

    fn run(t: &SigThresholds, times: &[u64]) -> Vec<bool> {
        let mut s = ThresholdState::default();
        times.iter().map(|&now| s.check(1, t, now, A, B, 0).alert).collect()
    }

    #[test]
    fn limit_threshold_both_detection() {
        assert_eq!(run(&th(Kind::Limit, 2), &[0, 1, 2, 61]), [true, true, false, true]);
        assert_eq!(run(&th(Kind::Threshold, 2), &[0, 1, 2, 3]), [false, true, false, true]);
        assert_eq!(run(&th(Kind::Both, 2), &[0, 1, 2, 3]), [false, true, false, false]);
        assert_eq!(run(&th(Kind::Detection, 2), &[0, 1, 2, 3]), [false, false, true, true]);
        assert_eq!(run(&th(Kind::Limit, 1), &[0, 1]), [true, false]);
    }

    #[test]
    fn tracking_keys_separate_sources() {
        let t = th(Kind::Limit, 1);
        let mut s = ThresholdState::default();
        assert!(s.check(1, &t, 0, A, B, 0).alert);
        assert!(!s.check(1, &t, 0, A, B, 0).alert);
        assert!(s.check(1, &t, 0, B, A, 0).alert, "another source has its own count");
        assert!(s.check(2, &t, 0, A, B, 0).alert, "another signature has its own count");
    }

    #[test]
    fn rate_filter_switches_action_after_count() {
        let t = SigThresholds {
            rate: Some(Rate { track: Track::ByRule, count: 1, seconds: 60, new_action: RateAction::Drop, timeout: 10 }),
            ..Default::default()
        };
        let mut s = ThresholdState::default();
        let acts: Vec<Option<Action>> = [0, 1, 2, 30].iter().map(|&n| s.check(1, &t, n, A, B, 0).action).collect();
        assert_eq!(acts, [None, Some(Action::Drop), Some(Action::Drop), None]);
    }

    #[test]
    fn suppress_by_source_list() {
        let mut vars = mamori_rules::Vars::default();
        vars.set_address("BAD", "10.0.0.1");
        let (cfg, errs) = ThresholdConfig::parse("t", "suppress gen_id 1, sig_id 5, track by_src, ip $BAD\n", &vars);
        assert!(errs.is_empty());
        let t = for_sig(1, 5, None, None, &cfg);
        let mut s = ThresholdState::default();
        assert!(!s.check(1, &t, 0, A, B, 0).alert);
        assert!(s.check(1, &t, 0, B, A, 0).alert);
        assert!(for_sig(1, 6, None, None, &cfg).is_empty());
    }
}
