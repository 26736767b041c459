use serde_json::Value as Json;

use mamori_inspect::replay::{replay_records, ReplayOptions};
use mamori_inspect::rules::RuleFiles;

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
    // A case's own suricata.yaml replaces Suricata's defaults: without a
    // decoder.teredo section, Teredo is looked for on every UDP port.
    if std::fs::read_to_string(case.dir.join("suricata.yaml")).is_ok_and(|y| !y.contains("teredo")) {
        opts.engine.teredo_any_port = true;
    }
    apply_args(&case.args, &mut opts);
    if scope == Scope::Alerts && !case.rules.is_empty() {
        let yaml = case.dir.join("suricata.yaml");
        let classification = case.dir.join("classification.config");
        let files = RuleFiles {
            rules: case.rules.clone(),
            classification: classification.is_file().then_some(classification),
            vars: yaml.is_file().then_some(yaml),
            threshold: case.threshold.clone(),
            cache_dir: None,
        };
        match files.build() {
            Ok((det, _)) => opts.detector = Some(det),
            Err(e) => return CaseOutcome::Error { why: e.to_string() },
        }
    }
    let records = match replay_records(&case.pcap, &opts) {
        Ok((recs, _)) => recs,
        Err(e) => return CaseOutcome::Error { why: e.to_string() },
    };
    let json: Vec<Json> = records.iter().map(|r| serde_json::to_value(r).unwrap_or(Json::Null)).collect();
    let mut failures = Vec::new();
    for f in &filters {
        let want = f.count.unwrap_or(0);
        let got = match scope {
            // shared/testdata/README.md: the number of alerts with the signature id.
            Scope::Alerts => f.signature_id().map_or(0, |sid| count_alerts(json.iter(), sid)),
            Scope::Fields => f.count_matches(json.iter()),
        };
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

/// Alerts of signature `sid`.
pub fn count_alerts<'a>(records: impl Iterator<Item = &'a Json>, sid: u64) -> u64 {
    records
        .filter(|r| {
            r.get("event_type").and_then(Json::as_str) == Some("alert")
                && r.pointer("/alert/signature_id").and_then(Json::as_u64) == Some(sid)
        })
        .count() as u64
}

/// Map the Suricata options of a case that have an engine equivalent
/// (`--simulate-ips`, some `--set`s); others are ignored.
fn apply_args(args: &[String], opts: &mut ReplayOptions) {
    let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    if words.contains(&"--simulate-ips") {
        opts.simulate_ips = true;
    }
    for pair in words.windows(2) {
        if pair[0] != "--set" {
            continue;
        }
        if let Some((key, value)) = pair[1].split_once('=') {
            opts.set(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alerts_are_counted_by_signature_id_only() {
        let recs = [
            json!({"event_type": "alert", "alert": {"signature_id": 1, "action": "blocked"}}),
            json!({"event_type": "alert", "alert": {"signature_id": 1, "action": "allowed"}}),
            json!({"event_type": "alert", "alert": {"signature_id": 2}}),
            json!({"event_type": "drop", "alert": {"signature_id": 1}}),
        ];
        assert_eq!(count_alerts(recs.iter(), 1), 2);
        assert_eq!(count_alerts(recs.iter(), 3), 0);
    }

    #[test]
    fn suricata_args_map_to_options() {
        let mut o = ReplayOptions::default();
        apply_args(&["-k none --simulate-ips".into(), "--set stream.midstream=true".into()], &mut o);
        assert!(o.simulate_ips);
        assert!(o.engine.midstream);
        assert!(!o.engine.async_oneside);
    }
}
