use fst::raw::Output;

use super::{fst_from_bytes, fst_from_sorted, Code, DecodeError};

/// Domain suffix set with exact-label semantics.
///
/// Keys are the names with their labels reversed (`a.evil.example` is stored
/// as `example.evil.a`), so every suffix of a query is a prefix of its
/// reversed form and one walk down the FST finds all listed suffixes. A hit
/// counts only at a label boundary: `evil.example` matches `a.evil.example`
/// but not `notevil.example`.
#[derive(Clone)]
pub struct DomainSet {
    map: fst::Map<Vec<u8>>,
}

impl std::fmt::Debug for DomainSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DomainSet({} names)", self.map.len())
    }
}

impl Default for DomainSet {
    fn default() -> Self {
        DomainSet::build(Vec::new())
    }
}

fn reversed_key(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len());
    for (i, label) in name.rsplit('.').enumerate() {
        if i > 0 {
            key.push(b'.');
        }
        key.extend_from_slice(label.as_bytes());
    }
    key
}

impl DomainSet {
    /// Builds from normalized names (see [`crate::normalize_domain`]) and
    /// their codes. A name given twice keeps its last code.
    pub fn build(names: Vec<(String, Code)>) -> DomainSet {
        let mut keys: Vec<(Vec<u8>, u64)> = names.into_iter().map(|(n, c)| (reversed_key(&n), u64::from(c))).collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        // Keep the last code of a duplicate key: the input order is the
        // caller's priority.
        let mut dedup: Vec<(Vec<u8>, u64)> = Vec::with_capacity(keys.len());
        for (k, v) in keys {
            match dedup.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => dedup.push((k, v)),
            }
        }
        // Sorted and unique, so building cannot fail.
        DomainSet { map: fst_from_sorted(dedup) }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Size of the FST in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.map.as_fst().as_bytes().len()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.map.as_fst().as_bytes()
    }

    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Result<DomainSet, DecodeError> {
        Ok(DomainSet { map: fst_from_bytes(bytes, "domains")? })
    }

    /// Calls `hit(suffix_start, code)` for every listed suffix of `name`,
    /// shortest first; `suffix_start` is the byte offset in `name` where the
    /// listed suffix begins. ASCII case is folded on the fly and a trailing
    /// dot ignored, so DNS and SNI names need no copy. Non-ASCII names must
    /// be normalized by the caller.
    pub fn for_each_suffix(&self, name: &str, mut hit: impl FnMut(usize, Code)) {
        let name = name.strip_suffix('.').unwrap_or(name);
        let bytes = name.as_bytes();
        let fst = self.map.as_fst();
        let mut node = fst.root();
        let mut out = Output::zero();
        let mut end = bytes.len();
        let mut first = true;
        loop {
            let head = bytes.get(..end).unwrap_or(&[]);
            let start = head.iter().rposition(|&b| b == b'.').map_or(0, |p| p.saturating_add(1));
            let label = bytes.get(start..end).unwrap_or(&[]);
            if label.is_empty() {
                return;
            }
            let sep = if first { None } else { Some(b'.') };
            for b in sep.into_iter().chain(label.iter().map(u8::to_ascii_lowercase)) {
                let Some(i) = node.find_input(b) else { return };
                let t = node.transition(i);
                out = out.cat(t.out);
                node = fst.node(t.addr);
            }
            first = false;
            if node.is_final() {
                let v = out.cat(node.final_output()).value();
                hit(start, Code::try_from(v).unwrap_or(Code::MAX));
            }
            if start == 0 {
                return;
            }
            end = start.saturating_sub(1);
        }
    }

    /// The exact code of a listed name (no suffix search).
    pub fn get_exact(&self, name: &str) -> Option<Code> {
        self.map.get(reversed_key(name)).and_then(|v| Code::try_from(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[(&str, Code)]) -> DomainSet {
        DomainSet::build(names.iter().map(|(n, c)| (n.to_string(), *c)).collect())
    }

    fn hits(s: &DomainSet, q: &str) -> Vec<(String, Code)> {
        let mut v = Vec::new();
        s.for_each_suffix(q, |start, c| v.push((q.get(start..).unwrap().trim_end_matches('.').to_string(), c)));
        v
    }

    #[test]
    fn exact_label_semantics() {
        let s = set(&[("evil.example", 1)]);
        assert_eq!(hits(&s, "evil.example"), vec![("evil.example".into(), 1)]);
        assert_eq!(hits(&s, "a.evil.example"), vec![("evil.example".into(), 1)]);
        assert_eq!(hits(&s, "x.y.a.evil.example"), vec![("evil.example".into(), 1)]);
        assert!(hits(&s, "notevil.example").is_empty());
        assert!(hits(&s, "example").is_empty());
        assert!(hits(&s, "evil.example.com").is_empty());
        assert!(hits(&s, "vil.example").is_empty());
    }

    #[test]
    fn case_trailing_dot_and_all_levels() {
        let s = set(&[("yahoo.co.jp", 1), ("news.yahoo.co.jp", 2), ("jp", 3)]);
        assert_eq!(
            hits(&s, "Topics.NEWS.yahoo.co.jp."),
            vec![("jp".into(), 3), ("yahoo.co.jp".into(), 1), ("NEWS.yahoo.co.jp".into(), 2)]
        );
        assert_eq!(s.get_exact("news.yahoo.co.jp"), Some(2));
        assert_eq!(s.get_exact("co.jp"), None);
    }

    #[test]
    fn degenerate_queries_do_not_match() {
        let s = set(&[("example", 1)]);
        for q in ["", ".", "..", "a..example", "example..", ".example."] {
            let h = hits(&s, q);
            assert!(h.len() <= 1, "{q:?}: {h:?}");
        }
        assert!(hits(&s, "").is_empty());
        assert!(hits(&s, "a..b").is_empty());
    }

    #[test]
    fn duplicates_keep_last_and_round_trip() {
        let s = set(&[("a.example", 1), ("a.example", 2)]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.get_exact("a.example"), Some(2));
        let again = DomainSet::from_bytes(s.as_bytes().to_vec()).unwrap();
        assert_eq!(again.get_exact("a.example"), Some(2));
        assert!(DomainSet::from_bytes(vec![1, 2, 3]).is_err());
    }
}
