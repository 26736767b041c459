//! Byte-string search with optional ASCII case folding, the primitive under
//! `content` verification.

use memchr::memmem;

/// A needle prepared once at rule load.
pub(crate) struct Needle {
    /// The bytes to find; lowercased when `nocase`.
    pub bytes: Vec<u8>,
    pub nocase: bool,
    finder: Option<memmem::Finder<'static>>,
}

impl Needle {
    pub fn new(pattern: &[u8], nocase: bool) -> Needle {
        if nocase {
            Needle { bytes: pattern.to_ascii_lowercase(), nocase, finder: None }
        } else {
            Needle { bytes: pattern.to_vec(), nocase, finder: Some(memmem::Finder::new(pattern).into_owned()) }
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the needle sits at `pos` of `hay`.
    pub fn at(&self, hay: &[u8], pos: usize) -> bool {
        let Some(end) = pos.checked_add(self.bytes.len()) else { return false };
        let Some(window) = hay.get(pos..end) else { return false };
        if self.nocase {
            window.eq_ignore_ascii_case(&self.bytes)
        } else {
            window == self.bytes.as_slice()
        }
    }

    /// First occurrence starting at or after `from` that ends at or before
    /// `end`, as a position in `hay`.
    pub fn find(&self, hay: &[u8], from: usize, end: usize) -> Option<usize> {
        let end = end.min(hay.len());
        if from >= end || end - from < self.bytes.len() {
            return None;
        }
        let region = hay.get(from..end)?;
        let found = match &self.finder {
            Some(f) => f.find(region),
            None => find_nocase(region, &self.bytes),
        };
        found.map(|p| p + from)
    }
}

/// Case-insensitive search: candidates from the first byte in either case,
/// then a folded compare. Needles are short and hits rare after the prefilter.
fn find_nocase(hay: &[u8], lower: &[u8]) -> Option<usize> {
    let (&first, _) = lower.split_first()?;
    let upper = first.to_ascii_uppercase();
    let last_start = hay.len().checked_sub(lower.len())?;
    let mut pos = 0;
    while pos <= last_start {
        let rel = memchr::memchr2(first, upper, hay.get(pos..=last_start)?)?;
        let p = pos + rel;
        if hay.get(p..p + lower.len()).is_some_and(|w| w.eq_ignore_ascii_case(lower)) {
            return Some(p);
        }
        pos = p + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_with_and_without_case() {
        let n = Needle::new(b"EvIl", true);
        assert_eq!(n.find(b"xx evil EVIL", 0, 12), Some(3));
        assert_eq!(n.find(b"xx evil EVIL", 4, 12), Some(8));
        assert_eq!(n.find(b"xx evil EVIL", 4, 11), None, "must end before the limit");
        let n = Needle::new(b"EVIL", false);
        assert_eq!(n.find(b"xx evil EVIL", 0, 12), Some(8));
        assert!(n.at(b"EVIL", 0));
        assert!(!n.at(b"EVI", 0));
        assert_eq!(n.find(b"EVIL", 5, 2), None);
    }
}
