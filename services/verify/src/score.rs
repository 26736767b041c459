use serde_json::Value as Json;

use mamori_inspect::replay::{replay_records, ReplayOptions};

use crate::case::Case;
use crate::check::Filter;

/// Which checks to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `event_type: alert` checks with `alert.signature_id`.
    Alerts,
    /// Parsed protocol fields: `http`, `fileinfo`, `dns`, `tls`, `smtp`, `quic`.
    Fields,
}

const FIELD_EVENTS: &[&str] = &["http", "fileinfo", "dns", "tls", "smtp", "quic"];

impl Scope {
    pub fn covers(self, f: &Filter) -> bool {
        if f.out_of_scope() || f.count.is_none() {
            return false;
        }
        match self {
            Scope::Alerts => f.event_type() == Some("alert") && f.signature_id().is_some(),
            Scope::Fields => f.event_type().is_some_and(|e| FIELD_EVENTS.contains(&e)),
        }
    }
}

#[derive(Debug)]
pub enum CaseOutcome {
    Pass {
        checks: usize,
    },
    Fail {
        failures: Vec<String>,
    },
    /// Nothing in scope, or the case is for another engine version.
    Skip {
        why: String,
    },
    Error {
        why: String,
    },
}

/// Run one case and score its in-scope checks.
pub fn run_case(case: &Case, scope: Scope) -> CaseOutcome {
    if case.too_new() {
        return CaseOutcome::Skip { why: "requires a newer engine".into() };
    }
    if case.too_old() {
        return CaseOutcome::Skip { why: "for older engines".into() };
    }
    let filters: Vec<&Filter> =
        case.checks.iter().filter_map(|c| c.filter.as_ref()).filter(|f| scope.covers(f)).collect();
    if filters.is_empty() {
        return CaseOutcome::Skip { why: "no checks in scope".into() };
    }
    let mut opts = ReplayOptions::default();
    apply_args(&case.args, &mut opts);
    let records = match replay_records(&case.pcap, &opts) {
        Ok((recs, _)) => recs,
        Err(e) => return CaseOutcome::Error { why: e.to_string() },
    };
    let json: Vec<Json> = records.iter().map(|r| serde_json::to_value(r).unwrap_or(Json::Null)).collect();
    let mut failures = Vec::new();
    for f in &filters {
        let want = f.count.unwrap_or(0);
        let got = f.count_matches(json.iter());
        if got != want {
            let keys: Vec<String> = f
                .matches
                .iter()
                .map(|(k, v)| {
                    format!("{}={}", k.as_str().unwrap_or("?"), serde_yaml::to_string(v).unwrap_or_default().trim())
                })
                .collect();
            failures.push(format!("{{{}}}: expected {want}, got {got}", keys.join(", ")));
        }
    }
    if failures.is_empty() {
        CaseOutcome::Pass { checks: filters.len() }
    } else {
        CaseOutcome::Fail { failures }
    }
}

/// Map the Suricata `--set` options of a case that have an engine
/// equivalent; others are ignored.
fn apply_args(args: &[String], opts: &mut ReplayOptions) {
    let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    for pair in words.windows(2) {
        if pair[0] != "--set" {
            continue;
        }
        if let Some((key, value)) = pair[1].split_once('=') {
            if key == "vlan.use-for-tracking" {
                opts.engine.vlan_tracking = value != "false";
            }
        }
    }
}
