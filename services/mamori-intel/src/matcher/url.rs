use super::{fst_from_bytes, fst_from_sorted, Code, DecodeError};

/// URL set keyed by [`crate::NormUrl::key`] (`host[:port]/path[?query]`).
///
/// Exact entries match the whole key. Prefix entries (UT1 `urls`, our
/// `url-prefix`) match a key that continues at a path boundary:
/// `example.com/games` matches `example.com/games`, `example.com/games/x`
/// and `example.com/games?id=1`, but not `example.com/gamesx`.
#[derive(Clone, Default)]
pub struct UrlSet {
    exact: fst::Map<Vec<u8>>,
    prefix: fst::Map<Vec<u8>>,
}

impl std::fmt::Debug for UrlSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UrlSet({} exact, {} prefix)", self.exact.len(), self.prefix.len())
    }
}

fn sorted(mut v: Vec<(String, Code)>) -> Vec<(Vec<u8>, u64)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.dedup_by(|b, a| a.0 == b.0);
    v.into_iter().map(|(k, c)| (k.into_bytes(), u64::from(c))).collect()
}

impl UrlSet {
    pub fn build(exact: Vec<(String, Code)>, prefix: Vec<(String, Code)>) -> UrlSet {
        UrlSet { exact: fst_from_sorted(sorted(exact)), prefix: fst_from_sorted(sorted(prefix)) }
    }

    pub fn len(&self) -> usize {
        self.exact.len().saturating_add(self.prefix.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn heap_bytes(&self) -> usize {
        self.exact.as_fst().as_bytes().len().saturating_add(self.prefix.as_fst().as_bytes().len())
    }

    pub(crate) fn exact_bytes(&self) -> &[u8] {
        self.exact.as_fst().as_bytes()
    }

    pub(crate) fn prefix_bytes(&self) -> &[u8] {
        self.prefix.as_fst().as_bytes()
    }

    pub(crate) fn from_bytes(exact: Vec<u8>, prefix: Vec<u8>) -> Result<UrlSet, DecodeError> {
        Ok(UrlSet { exact: fst_from_bytes(exact, "url_exact")?, prefix: fst_from_bytes(prefix, "url_prefix")? })
    }

    /// Calls `hit(matched_len, code)` for the exact entry and every prefix
    /// entry of `key`; `matched_len` is how much of `key` the entry covers.
    pub fn for_each_match(&self, key: &str, mut hit: impl FnMut(usize, Code)) {
        let bytes = key.as_bytes();
        let fst = self.prefix.as_fst();
        let mut node = fst.root();
        let mut out = fst::raw::Output::zero();
        for (i, &b) in bytes.iter().enumerate() {
            let Some(t) = node.find_input(b).map(|x| node.transition(x)) else { break };
            out = out.cat(t.out);
            node = fst.node(t.addr);
            let consumed = i.saturating_add(1);
            let at_boundary = b == b'/' || matches!(bytes.get(consumed), None | Some(b'/') | Some(b'?'));
            if at_boundary && node.is_final() {
                let v = out.cat(node.final_output()).value();
                hit(consumed, Code::try_from(v).unwrap_or(Code::MAX));
            }
        }
        if let Some(v) = self.exact.get(bytes) {
            hit(bytes.len(), Code::try_from(v).unwrap_or(Code::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(s: &UrlSet, key: &str) -> Vec<(usize, Code)> {
        let mut v = Vec::new();
        s.for_each_match(key, |n, c| v.push((n, c)));
        v
    }

    #[test]
    fn exact_and_prefix_boundaries() {
        let s = UrlSet::build(
            vec![("x.example/a?b=1".into(), 1)],
            vec![("example.com/games".into(), 2), ("example.com/".into(), 3)],
        );
        assert_eq!(hits(&s, "x.example/a?b=1"), vec![(15, 1)]);
        assert!(hits(&s, "x.example/a?b=12").is_empty());
        assert!(hits(&s, "x.example/a").is_empty());
        assert_eq!(hits(&s, "example.com/games"), vec![(12, 3), (17, 2)]);
        assert_eq!(hits(&s, "example.com/games/pacman"), vec![(12, 3), (17, 2)]);
        assert_eq!(hits(&s, "example.com/games?id=1"), vec![(12, 3), (17, 2)]);
        assert_eq!(hits(&s, "example.com/gamesx"), vec![(12, 3)]);
        assert!(hits(&s, "example.community/games").is_empty());
    }

    #[test]
    fn round_trip() {
        let s = UrlSet::build(vec![("a/".into(), 1)], vec![("b/c".into(), 2)]);
        let t = UrlSet::from_bytes(s.exact_bytes().to_vec(), s.prefix_bytes().to_vec()).unwrap();
        assert_eq!(hits(&t, "a/"), vec![(2, 1)]);
        assert_eq!(hits(&t, "b/c/d"), vec![(3, 2)]);
    }
}
