use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::{Map, Value};

/// Named event counters (`decoder.ipv4`, `flow.evicted`, ...). Every odd
/// thing the engine meets is counted here instead of crashing or logging per
/// packet, and the totals go out as an EVE `stats` event.
///
/// Names are static strings and counting is on the per-packet path, so an
/// entry is found by the name's address, not by comparing text. The same
/// text at two addresses (one literal per crate) makes two entries that
/// reading merges.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    map: HashMap<NameKey, u64, BuildHasherDefault<AddrHasher>>,
    /// Names made of parts (`app_layer.tx.` + event type), kept apart so
    /// counting them needs no string building either.
    paths: HashMap<[NameKey; 3], u64, BuildHasherDefault<AddrHasher>>,
}

#[derive(Clone, Copy, Debug)]
struct NameKey(&'static str);

impl PartialEq for NameKey {
    fn eq(&self, o: &NameKey) -> bool {
        std::ptr::eq(self.0, o.0)
    }
}

impl Eq for NameKey {}

fn join(k: &[NameKey; 3]) -> String {
    let mut s = format!("{}.{}", k[0].0, k[1].0);
    if !k[2].0.is_empty() {
        s.push('.');
        s.push_str(k[2].0);
    }
    s
}

/// Whether `join(k) == name`, without joining.
fn path_is(k: &[NameKey; 3], name: &str) -> bool {
    let Some(rest) = name.strip_prefix(k[0].0).and_then(|r| r.strip_prefix('.')) else { return false };
    let Some(rest) = rest.strip_prefix(k[1].0) else { return false };
    if k[2].0.is_empty() {
        return rest.is_empty();
    }
    rest.strip_prefix('.') == Some(k[2].0)
}

impl std::hash::Hash for NameKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_usize(self.0.as_ptr() as usize ^ self.0.len());
    }
}

/// Addresses are already well spread; one multiply mixes the low bits.
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl Counters {
    pub fn incr(&mut self, name: &'static str) {
        self.add(name, 1);
    }

    pub fn add(&mut self, name: &'static str, n: u64) {
        *self.map.entry(NameKey(name)).or_insert(0) += n;
    }

    /// Count the name `a.b.c` (`c` may be empty: `a.b`).
    pub fn incr_path(&mut self, a: &'static str, b: &'static str, c: &'static str) {
        *self.paths.entry([NameKey(a), NameKey(b), NameKey(c)]).or_insert(0) += 1;
    }

    /// The total of `name`. Cheap enough for a loop that polls a counter:
    /// no name is built to compare.
    pub fn get(&self, name: &str) -> u64 {
        self.map.iter().filter(|(k, _)| k.0 == name).map(|(_, v)| *v).sum::<u64>()
            + self.paths.iter().filter(|(k, _)| path_is(k, name)).map(|(_, v)| *v).sum::<u64>()
    }

    /// Totals by name, in name order.
    fn merged(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (k, v) in &self.map {
            *m.entry(k.0.to_string()).or_insert(0) += *v;
        }
        for (k, v) in &self.paths {
            *m.entry(join(k)).or_insert(0) += *v;
        }
        m
    }

    pub fn iter(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        self.merged().into_iter()
    }

    /// Nested JSON as Suricata's `stats` object: `a.b.c` becomes
    /// `{"a":{"b":{"c":n}}}`.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        for (name, v) in &self.merged() {
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

    #[test]
    fn get_reads_names_made_of_parts() {
        let mut c = Counters::default();
        c.incr_path("app_layer", "tx", "http");
        c.incr_path("app_layer", "tx", "http");
        c.incr_path("app_layer", "flow", "");
        c.incr("app_layer.tx.http");
        assert_eq!(c.get("app_layer.tx.http"), 3, "parts and a whole name add up");
        assert_eq!(c.get("app_layer.flow"), 1);
        assert_eq!(c.get("app_layer.tx"), 0, "a prefix is another name");
        assert_eq!(c.get("app_layer.tx.httpx"), 0);
        assert_eq!(c.get("app_layer.flow."), 0);
    }
}
