//! Fast-pattern prefilters: one Hyperscan database per inspected buffer kind,
//! mapping each matched literal to the signatures keyed on it.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::hs::{self, Database, Literal, Mode};

/// Patterns being collected for one database.
pub(crate) struct PatternSet {
    pub mode: Mode,
    pats: Vec<(Vec<u8>, bool)>,
    index: HashMap<(Vec<u8>, bool), u32>,
    sigs: Vec<Vec<u32>>,
}

impl PatternSet {
    pub fn new(mode: Mode) -> PatternSet {
        PatternSet { mode, pats: Vec::new(), index: HashMap::new(), sigs: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.pats.len()
    }

    /// Key signature `sig` on `bytes`. Identical literals share one pattern.
    pub fn add(&mut self, bytes: &[u8], nocase: bool, sig: u32) {
        // Case-folded literals are stored lowercased so equal ones merge.
        let bytes = if nocase { bytes.to_ascii_lowercase() } else { bytes.to_vec() };
        let next = self.pats.len() as u32;
        let id = *self.index.entry((bytes.clone(), nocase)).or_insert_with(|| {
            self.pats.push((bytes, nocase));
            self.sigs.push(Vec::new());
            next
        });
        if let Some(v) = self.sigs.get_mut(id as usize) {
            v.push(sig);
        }
    }

    /// Feed what determines the compiled database into a cache key.
    pub fn hash_into(&self, h: &mut Sha256) {
        h.update([self.mode as u8]);
        h.update((self.pats.len() as u64).to_le_bytes());
        for (b, nocase) in &self.pats {
            h.update([u8::from(*nocase)]);
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }

    pub fn compile(&self) -> Result<Database, hs::HsError> {
        let lits: Vec<Literal<'_>> = self
            .pats
            .iter()
            .enumerate()
            .map(|(i, (b, nocase))| Literal { bytes: b, caseless: *nocase, id: i as u32 })
            .collect();
        Database::compile_literals(&lits, self.mode)
    }

    pub fn finish(self, db: Database) -> Prefilter {
        let mut starts = Vec::with_capacity(self.sigs.len() + 1);
        let mut flat = Vec::new();
        for mut v in self.sigs {
            v.sort_unstable();
            v.dedup();
            starts.push(flat.len() as u32);
            flat.extend(v);
        }
        starts.push(flat.len() as u32);
        let max_len = self.pats.iter().map(|(b, _)| b.len()).max().unwrap_or(0);
        Prefilter { db, starts, sigs: flat, max_len }
    }
}

/// A compiled prefilter.
pub(crate) struct Prefilter {
    pub db: Database,
    starts: Vec<u32>,
    sigs: Vec<u32>,
    /// The longest pattern: a match that ends in new bytes of a growing
    /// buffer starts at most this many bytes minus one before them.
    pub max_len: usize,
}

impl Prefilter {
    /// Every signature of this prefilter (with duplicates across patterns).
    pub fn all(&self) -> &[u32] {
        &self.sigs
    }

    /// Signatures keyed on pattern `id`.
    pub fn sigs_of(&self, id: u32) -> &[u32] {
        let i = id as usize;
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.sigs.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_literals_map_to_all_their_signatures() {
        let mut p = PatternSet::new(Mode::Block);
        p.add(b"evil", false, 3);
        p.add(b"EVIL", true, 4);
        p.add(b"evil", true, 5);
        p.add(b"evil", false, 1);
        assert_eq!(p.len(), 2);
        let db = p.compile().unwrap();
        let pf = p.finish(db);
        let mut s = hs::Scratch::default();
        s.fit(&pf.db).unwrap();
        let mut got = Vec::new();
        pf.db.scan(b"an EvIl day", &mut s, &mut |id, _| got.extend_from_slice(pf.sigs_of(id))).unwrap();
        got.sort();
        assert_eq!(got, vec![4, 5], "only the caseless pattern matches mixed case");
    }
}
