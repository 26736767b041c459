//! suricata-verify checks and how EVE records are matched against them.

use serde::Deserialize;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::case::{major, Requires};

#[derive(Debug, Deserialize)]
pub struct Check {
    #[serde(default)]
    pub filter: Option<Filter>,
    /// Other check kinds (`stats`, `shell`, `file-compare`): not scored.
    #[serde(flatten)]
    pub other: serde_yaml::Mapping,
}

#[derive(Debug, Deserialize)]
pub struct Filter {
    pub count: Option<u64>,
    #[serde(rename = "match", default)]
    pub matches: serde_yaml::Mapping,
    #[serde(default)]
    pub requires: Option<Requires>,
    #[serde(rename = "min-version", default)]
    pub min_version: Option<Yaml>,
    #[serde(rename = "lt-version", default)]
    pub lt_version: Option<Yaml>,
}

impl Filter {
    /// For an engine older than 8, or newer than 8: not scored.
    pub fn out_of_scope(&self) -> bool {
        let lt = self.lt_version.as_ref().or(self.requires.as_ref().and_then(|r| r.lt_version.as_ref()));
        let min = self.min_version.as_ref().or(self.requires.as_ref().and_then(|r| r.min_version.as_ref()));
        lt.and_then(major).is_some_and(|m| m <= 8) || min.and_then(major).is_some_and(|m| m > 8)
    }

    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.matches.get(Yaml::String(key.to_owned()))
    }

    pub fn event_type(&self) -> Option<&str> {
        self.get("event_type").and_then(Yaml::as_str)
    }

    pub fn signature_id(&self) -> Option<u64> {
        self.get("alert.signature_id").and_then(Yaml::as_u64)
    }

    /// Records that satisfy every key of the filter.
    pub fn count_matches<'a>(&self, records: impl Iterator<Item = &'a Json>) -> u64 {
        records.filter(|r| self.matches_record(r)).count() as u64
    }

    pub fn matches_record(&self, rec: &Json) -> bool {
        self.matches.iter().all(|(k, want)| {
            let Some(key) = k.as_str() else { return false };
            // suricata-verify's key tests: the value names a key that must
            // (not) be present.
            match (key, want.as_str()) {
                ("has-key", Some(path)) => return lookup(rec, path).is_some(),
                ("not-has-key", Some(path)) => return lookup(rec, path).is_none(),
                _ => {}
            }
            match lookup(rec, key) {
                Some(got) => equal(want, &got),
                None => false,
            }
        })
    }
}

/// Follow a suricata-verify key (`dns.queries[0].rrname`, `packet.__len`).
pub fn lookup(rec: &Json, key: &str) -> Option<Json> {
    let mut cur = rec.clone();
    for part in key.split('.') {
        if part == "__len" {
            return Some(Json::from(match &cur {
                Json::Array(a) => a.len(),
                Json::String(s) => s.len(),
                Json::Object(o) => o.len(),
                _ => return None,
            }));
        }
        let (name, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?.clone();
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get(n)?.clone();
        }
    }
    Some(cur)
}

/// YAML expectation against a JSON value, with suricata-verify's leniency
/// (numbers compare by value; otherwise by string form).
pub fn equal(want: &Yaml, got: &Json) -> bool {
    match (want, got) {
        (Yaml::Number(a), Json::Number(b)) => a.as_f64().zip(b.as_f64()).is_some_and(|(a, b)| a == b),
        (Yaml::String(a), Json::String(b)) => a == b,
        (Yaml::Bool(a), Json::Bool(b)) => a == b,
        (Yaml::Null, Json::Null) => true,
        (Yaml::Sequence(a), Json::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y)),
        (Yaml::Number(a), Json::String(b)) => a.to_string() == *b,
        (Yaml::String(a), Json::Number(b)) => *a == b.to_string(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_follows_paths_indices_and_len() {
        let r = json!({"dns": {"queries": [{"rrname": "a.example"}]}, "packet": "abcd"});
        assert_eq!(lookup(&r, "dns.queries[0].rrname"), Some(json!("a.example")));
        assert_eq!(lookup(&r, "packet.__len"), Some(json!(4)));
        assert_eq!(lookup(&r, "dns.queries[1].rrname"), None);
    }

    #[test]
    fn filter_counts_matching_records() {
        let f: Filter = serde_yaml::from_str("count: 1\nmatch:\n  event_type: http\n  http.status: 200\n").unwrap();
        let recs = [
            json!({"event_type": "http", "http": {"status": 200}}),
            json!({"event_type": "http", "http": {"status": 404}}),
        ];
        assert_eq!(f.count_matches(recs.iter()), 1);
    }

    #[test]
    fn has_key_and_not_has_key() {
        let f: Filter = serde_yaml::from_str(
            "count: 1\nmatch:\n  event_type: http\n  not-has-key: pcap_cnt\n  has-key: http.url\n",
        )
        .unwrap();
        let recs = [
            json!({"event_type": "http", "http": {"url": "/"}}),
            json!({"event_type": "http", "pcap_cnt": 3, "http": {"url": "/"}}),
        ];
        assert_eq!(f.count_matches(recs.iter()), 1);
    }

    #[test]
    fn lt_version_8_is_out_of_scope() {
        let f: Filter = serde_yaml::from_str("lt-version: 8\ncount: 1\nmatch: {}\n").unwrap();
        assert!(f.out_of_scope());
        let g: Filter = serde_yaml::from_str("min-version: 7\ncount: 1\nmatch: {}\n").unwrap();
        assert!(!g.out_of_scope());
    }
}
