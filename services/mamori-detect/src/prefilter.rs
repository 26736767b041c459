//! Fast-pattern prefilters: Hyperscan databases per inspected buffer kind,
//! mapping each matched literal to the signatures keyed on it.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::hs::{self, Database, Literal, Mode};

/// Patterns shorter than this go to a database of their own in a set that
/// scans long inputs (see [`PatternSet::split_short`]).
const SHORT: usize = 4;

/// Patterns being collected for one prefilter.
pub(crate) struct PatternSet {
    pub mode: Mode,
    pats: Vec<(Vec<u8>, bool)>,
    index: HashMap<(Vec<u8>, bool), u32>,
    sigs: Vec<Vec<u32>>,
    split_short: bool,
    /// Per pattern: how far into a scanned buffer its signatures' matches
    /// of it can end ([`PatternSet::add`]).
    ends: Vec<Bound>,
}

/// How far into a buffer matches can end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    /// Nothing yet.
    Empty,
    Within(usize),
    Anywhere,
}

impl Bound {
    fn and(self, end: Option<usize>) -> Bound {
        match (self, end) {
            (Bound::Anywhere, _) | (_, None) => Bound::Anywhere,
            (Bound::Empty, Some(e)) => Bound::Within(e),
            (Bound::Within(a), Some(e)) => Bound::Within(a.max(e)),
        }
    }

    fn either(self, other: Bound) -> Bound {
        match other {
            Bound::Empty => self,
            Bound::Within(e) => self.and(Some(e)),
            Bound::Anywhere => Bound::Anywhere,
        }
    }

    fn limit(self) -> Option<usize> {
        match self {
            Bound::Within(e) => Some(e),
            Bound::Empty | Bound::Anywhere => None,
        }
    }
}

impl PatternSet {
    pub fn new(mode: Mode) -> PatternSet {
        PatternSet {
            mode,
            pats: Vec::new(),
            index: HashMap::new(),
            sigs: Vec::new(),
            split_short: false,
            ends: Vec::new(),
        }
    }

    /// Compile the patterns shorter than four bytes apart from the rest.
    /// Hyperscan's engine for large literal sets confirms candidates by
    /// hashing a few bytes around each position, and a handful of one- to
    /// three-byte literals among hundreds of long ones make it confirm
    /// almost everywhere: ET Open's `file.data` set scans a 20 KB page in
    /// 8 µs whole and in 5.3 + 0.4 µs split. Each extra database costs a
    /// call per scan (about 50 ns), so only sets that scan payloads, streams
    /// and bodies are split, not those of short header buffers.
    pub fn split_short(mut self) -> PatternSet {
        self.split_short = true;
        self
    }

    /// How many databases [`PatternSet::compile`] makes.
    pub fn parts(&self) -> usize {
        let short = self.pats.iter().filter(|(b, _)| b.len() < SHORT).count();
        if self.split_short && short > 0 && short < self.pats.len() {
            2
        } else {
            1
        }
    }

    pub fn len(&self) -> usize {
        self.pats.len()
    }

    /// Key signature `sig` on `bytes`. Identical literals share one pattern.
    /// `end`: how far into the buffer the signature's match of them can end
    /// (`None`: anywhere). A database whose patterns are all bounded so is
    /// scanned (in blocks) no further than the largest bound.
    pub fn add(&mut self, bytes: &[u8], nocase: bool, sig: u32, end: Option<usize>) {
        // Case-folded literals are stored lowercased so equal ones merge.
        let bytes = if nocase { bytes.to_ascii_lowercase() } else { bytes.to_vec() };
        let next = self.pats.len() as u32;
        let id = *self.index.entry((bytes.clone(), nocase)).or_insert_with(|| {
            self.pats.push((bytes, nocase));
            self.sigs.push(Vec::new());
            self.ends.push(Bound::Empty);
            next
        });
        if let Some(v) = self.sigs.get_mut(id as usize) {
            v.push(sig);
        }
        if let Some(b) = self.ends.get_mut(id as usize) {
            *b = b.and(end);
        }
    }

    /// Feed what determines the compiled database into a cache key.
    pub fn hash_into(&self, h: &mut Sha256) {
        h.update([self.mode as u8, self.parts() as u8]);
        h.update((self.pats.len() as u64).to_le_bytes());
        for (b, nocase) in &self.pats {
            h.update([u8::from(*nocase)]);
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }

    /// The databases of this set ([`PatternSet::parts`] of them); pattern
    /// ids are the same across them.
    pub fn compile(&self) -> Result<Vec<Database>, hs::HsError> {
        let lits: Vec<Literal<'_>> = self
            .pats
            .iter()
            .enumerate()
            .map(|(i, (b, nocase))| Literal { bytes: b, caseless: *nocase, id: i as u32 })
            .collect();
        if self.parts() == 1 {
            return Ok(vec![Database::compile_literals(&lits, self.mode)?]);
        }
        let (short, long): (Vec<Literal<'_>>, Vec<Literal<'_>>) = lits.into_iter().partition(|l| l.bytes.len() < SHORT);
        Ok(vec![Database::compile_literals(&long, self.mode)?, Database::compile_literals(&short, self.mode)?])
    }

    /// Per database of [`PatternSet::compile`] (same order): how far its
    /// matches can end in a buffer, if its patterns say.
    fn part_ends(&self) -> Vec<Option<usize>> {
        let of = |short: Option<bool>| {
            self.pats
                .iter()
                .zip(&self.ends)
                .filter(|((b, _), _)| short.is_none_or(|s| (b.len() < SHORT) == s))
                .fold(Bound::Empty, |acc, (_, e)| acc.either(*e))
                .limit()
        };
        if self.parts() == 1 {
            vec![of(None)]
        } else {
            vec![of(Some(false)), of(Some(true))]
        }
    }

    pub fn finish(self, dbs: Vec<Database>) -> Prefilter {
        let scan_ends = self.part_ends();
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
        Prefilter { dbs, starts, sigs: flat, max_len, scan_ends }
    }
}

/// A compiled prefilter.
pub(crate) struct Prefilter {
    /// One database, or the long patterns' and the short ones'.
    dbs: Vec<Database>,
    starts: Vec<u32>,
    sigs: Vec<u32>,
    /// The longest pattern: a match that ends in new bytes of a growing
    /// buffer starts at most this many bytes minus one before them.
    pub max_len: usize,
    /// Per database: when every signature keyed on its patterns anchors
    /// them within so many bytes of the buffer's start (ET Open's "file
    /// download over raw TCP" rules want `MZ` or `PK` at offset 0 of every
    /// large packet), a block scan reads no further. A scan that starts
    /// later in a buffer (the new part of a growing one) still reads that
    /// many bytes, more than needed.
    scan_ends: Vec<Option<usize>>,
}

/// A prefilter's state in one stream: one per database.
pub(crate) struct PrefilterStream(Vec<hs::Stream>);

impl Prefilter {
    pub fn databases(&self) -> &[Database] {
        &self.dbs
    }

    /// Scan one buffer; `on_match(pattern id)` for each report.
    pub fn scan(
        &self,
        data: &[u8],
        scratch: &mut hs::Scratch,
        on_match: &mut dyn FnMut(u32),
    ) -> Result<(), hs::HsError> {
        for (i, db) in self.dbs.iter().enumerate() {
            let data = match self.scan_ends.get(i).copied().flatten() {
                Some(end) => data.get(..end).unwrap_or(data),
                None => data,
            };
            db.scan(data, scratch, &mut |id, _| on_match(id))?;
        }
        Ok(())
    }

    pub fn open_stream(&self) -> Result<PrefilterStream, hs::HsError> {
        self.dbs.iter().map(Database::open_stream).collect::<Result<_, _>>().map(PrefilterStream)
    }

    /// Feed the next piece of a stream opened with [`Prefilter::open_stream`].
    pub fn scan_stream(
        &self,
        stream: &mut PrefilterStream,
        data: &[u8],
        scratch: &mut hs::Scratch,
        on_match: &mut dyn FnMut(u32),
    ) -> Result<(), hs::HsError> {
        for s in &mut stream.0 {
            s.scan(data, scratch, &mut |id, _| on_match(id))?;
        }
        Ok(())
    }

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
        p.add(b"evil", false, 3, None);
        p.add(b"EVIL", true, 4, None);
        p.add(b"evil", true, 5, None);
        p.add(b"evil", false, 1, None);
        assert_eq!(p.len(), 2);
        let db = p.compile().unwrap();
        let pf = p.finish(db);
        let mut s = hs::Scratch::default();
        s.fit(&pf.databases()[0]).unwrap();
        let mut got = Vec::new();
        pf.scan(b"an EvIl day", &mut s, &mut |id| got.extend_from_slice(pf.sigs_of(id))).unwrap();
        got.sort();
        assert_eq!(got, vec![4, 5], "only the caseless pattern matches mixed case");
    }

    #[test]
    fn short_patterns_apart_are_found_as_before_in_blocks_and_streams() {
        let build = |mode, split: bool| {
            let mut p = PatternSet::new(mode);
            if split {
                p = p.split_short();
            }
            p.add(b"MZ", false, 1, None);
            p.add(b"LONGER PATTERN", true, 2, None);
            p.add(b"abc", false, 3, None);
            p.add(b"ABCD", false, 4, None);
            let parts = p.parts();
            let dbs = p.compile().unwrap();
            (parts, p.finish(dbs))
        };
        let data = b"xxMZxx longer pattern yy abc ABCD";
        for mode in [Mode::Block, Mode::Stream] {
            let mut found = Vec::new();
            for split in [false, true] {
                let (parts, pf) = build(mode, split);
                assert_eq!(parts, if split { 2 } else { 1 });
                let mut s = hs::Scratch::default();
                for db in pf.databases() {
                    s.fit(db).unwrap();
                }
                let mut got = Vec::new();
                if mode == Mode::Block {
                    pf.scan(data, &mut s, &mut |id| got.extend_from_slice(pf.sigs_of(id))).unwrap();
                } else {
                    // Pieces that cut a short and a long pattern.
                    let mut st = pf.open_stream().unwrap();
                    for piece in [&data[..3], &data[3..12], &data[12..]] {
                        pf.scan_stream(&mut st, piece, &mut s, &mut |id| got.extend_from_slice(pf.sigs_of(id)))
                            .unwrap();
                    }
                }
                got.sort_unstable();
                got.dedup();
                found.push(got);
            }
            assert_eq!(found[0], vec![1, 2, 3, 4]);
            assert_eq!(found[1], found[0], "{mode:?}: split or not, the same signatures");
        }
    }

    #[test]
    fn a_set_whose_signatures_all_anchor_near_the_start_is_scanned_only_that_far() {
        let scan = |adds: &[(&[u8], u32, Option<usize>)], data: &[u8]| {
            let mut p = PatternSet::new(Mode::Block);
            for &(b, sig, end) in adds {
                p.add(b, false, sig, end);
            }
            let dbs = p.compile().unwrap();
            let pf = p.finish(dbs);
            let mut s = hs::Scratch::default();
            s.fit(&pf.databases()[0]).unwrap();
            let mut got = Vec::new();
            pf.scan(data, &mut s, &mut |id| got.extend_from_slice(pf.sigs_of(id))).unwrap();
            got.sort();
            (pf.scan_ends.clone(), got)
        };
        let mut data = b"MZ..PK".to_vec();
        data.extend(std::iter::repeat_n(b'.', 1000));
        data.extend_from_slice(b"MZ PK");
        // Both bounded: the larger bound, and matches up to it are found.
        let (end, got) = scan(&[(b"MZ", 1, Some(2)), (b"PK", 2, Some(6))], &data);
        assert_eq!(end, vec![Some(6)]);
        assert_eq!(got, vec![1, 2]);
        // A match ending exactly at the bound is found; one byte later is not scanned.
        let (_, got) = scan(&[(b"PK", 2, Some(6))], b"....PK");
        assert_eq!(got, vec![2]);
        let (_, got) = scan(&[(b"PK", 2, Some(6))], b".....PK");
        assert_eq!(got, Vec::<u32>::new());
        // One signature that may match anywhere makes the whole set scan everything.
        let (end, got) = scan(&[(b"MZ", 1, Some(2)), (b"PK", 2, None)], &data);
        assert_eq!(end, vec![None]);
        assert_eq!(got, vec![1, 2]);
        // The same literal, bounded for one signature and not for another.
        let (end, _) = scan(&[(b"MZ", 1, Some(2)), (b"MZ", 3, None)], &data);
        assert_eq!(end, vec![None]);

        // Split by length, each database has its own bound: here the short
        // patterns are anchored and the long one may be anywhere.
        let mut p = PatternSet::new(Mode::Block).split_short();
        p.add(b"MZ", false, 1, Some(2));
        p.add(b"LONG ONE", false, 2, None);
        let dbs = p.compile().unwrap();
        let pf = p.finish(dbs);
        assert_eq!(pf.scan_ends, vec![None, Some(2)]);
        let mut s = hs::Scratch::default();
        for db in pf.databases() {
            s.fit(db).unwrap();
        }
        let mut got = Vec::new();
        pf.scan(b"..MZ.. LONG ONE", &mut s, &mut |id| got.extend_from_slice(pf.sigs_of(id))).unwrap();
        assert_eq!(got, vec![2], "MZ past its bound is not looked for; the long pattern is found anywhere");
    }
}
