use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Named event counters (`decoder.ipv4`, `flow.evicted`, ...). Every odd
/// thing the engine meets is counted here instead of crashing or logging per
/// packet, and the totals go out as an EVE `stats` event.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    map: BTreeMap<String, u64>,
}

impl Counters {
    pub fn incr(&mut self, name: &str) {
        self.add(name, 1);
    }

    pub fn add(&mut self, name: &str, n: u64) {
        // Look up before inserting so the hot path does not allocate.
        match self.map.get_mut(name) {
            Some(v) => *v += n,
            None => {
                self.map.insert(name.to_owned(), n);
            }
        }
    }

    pub fn get(&self, name: &str) -> u64 {
        self.map.get(name).copied().unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.map.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Nested JSON as Suricata's `stats` object: `a.b.c` becomes
    /// `{"a":{"b":{"c":n}}}`.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        for (name, v) in &self.map {
            let parts: Vec<&str> = name.split('.').collect();
            insert(&mut root, &parts, *v);
        }
        Value::Object(root)
    }
}

fn insert(node: &mut Map<String, Value>, path: &[&str], v: u64) {
    match path {
        [] => {}
        [last] => {
            node.insert((*last).to_string(), Value::from(v));
        }
        [first, rest @ ..] => {
            let entry = node.entry((*first).to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                insert(m, rest, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_dotted_names() {
        let mut c = Counters::default();
        c.incr("decoder.ipv4");
        c.add("decoder.tcp", 2);
        c.incr("flow.evicted");
        assert_eq!(c.to_json().to_string(), r#"{"decoder":{"ipv4":1,"tcp":2},"flow":{"evicted":1}}"#);
    }
}
