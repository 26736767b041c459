use std::collections::HashMap;

use super::{len_u32, put_u32, Code, DecodeError, Reader};

const MULTI: u32 = 1 << 31;

/// Shared storage for label-id sets of size two or more: `[count, ids...]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Postings {
    multi: Vec<u32>,
}

/// Label ids behind one code.
pub enum Ids<'a> {
    One(Option<u32>),
    Many(std::slice::Iter<'a, u32>),
}

impl Iterator for Ids<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        match self {
            Ids::One(o) => o.take(),
            Ids::Many(it) => it.next().copied(),
        }
    }
}

impl Postings {
    pub fn ids(&self, code: Code) -> Ids<'_> {
        if code & MULTI == 0 {
            return Ids::One(Some(code));
        }
        let Ok(off) = usize::try_from(code & !MULTI) else {
            return Ids::One(None);
        };
        let count = self.multi.get(off).and_then(|c| usize::try_from(*c).ok()).unwrap_or(0);
        let start = off.saturating_add(1);
        let slice = self.multi.get(start..start.saturating_add(count)).unwrap_or(&[]);
        Ids::Many(slice.iter())
    }

    pub fn heap_bytes(&self) -> usize {
        self.multi.len().saturating_mul(4)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_u32(out, len_u32(self.multi.len()));
        for v in &self.multi {
            put_u32(out, *v);
        }
    }

    pub(crate) fn decode(buf: &[u8]) -> Result<Postings, DecodeError> {
        let mut r = Reader::new(buf, "postings");
        let n = r.count(4)?;
        let mut multi = Vec::with_capacity(n);
        for _ in 0..n {
            multi.push(r.u32()?);
        }
        r.finish()?;
        Ok(Postings { multi })
    }
}

/// Interns label-id sets while a bundle is compiled.
#[derive(Default)]
pub struct PostingsBuilder {
    multi: Vec<u32>,
    seen: HashMap<Vec<u32>, Code>,
}

impl PostingsBuilder {
    /// Code for a set of label ids (sorted and deduplicated here).
    pub fn code(&mut self, ids: &[u32]) -> Code {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if let [one] = ids.as_slice() {
            if one & MULTI == 0 {
                return *one;
            }
        }
        if let Some(c) = self.seen.get(&ids) {
            return *c;
        }
        let code = len_u32(self.multi.len()) | MULTI;
        self.multi.push(len_u32(ids.len()));
        self.multi.extend_from_slice(&ids);
        self.seen.insert(ids, code);
        code
    }

    pub fn finish(self) -> Postings {
        Postings { multi: self.multi }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ids_inline_sets_shared() {
        let mut b = PostingsBuilder::default();
        assert_eq!(b.code(&[7]), 7);
        let a = b.code(&[3, 1, 3]);
        let again = b.code(&[1, 3]);
        assert_eq!(a, again, "identical sets share storage");
        let p = b.finish();
        assert_eq!(p.ids(7).collect::<Vec<_>>(), vec![7]);
        assert_eq!(p.ids(a).collect::<Vec<_>>(), vec![1, 3]);
        let mut enc = Vec::new();
        p.encode(&mut enc);
        assert_eq!(Postings::decode(&enc).unwrap(), p);
        // A forged code pointing outside the table yields nothing, not a panic.
        assert_eq!(p.ids(MULTI | 999).count(), 0);
    }

    #[test]
    fn forged_count_is_refused() {
        let mut enc = Vec::new();
        put_u32(&mut enc, u32::MAX);
        assert_eq!(Postings::decode(&enc), Err(DecodeError::Truncated("postings")));
    }
}
