use super::{len_u32, put_u32, Code, DecodeError, Reader};

/// SHA-256 set: sorted hashes and binary search, 36 bytes per entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashSet256 {
    hashes: Vec<[u8; 32]>,
    codes: Vec<Code>,
}

impl HashSet256 {
    pub fn build(mut items: Vec<([u8; 32], Code)>) -> HashSet256 {
        items.sort_by_key(|a| a.0);
        items.dedup_by(|b, a| a.0 == b.0);
        let (hashes, codes) = items.into_iter().unzip();
        HashSet256 { hashes, codes }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.hashes.len().saturating_mul(36)
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Code> {
        let i = self.hashes.binary_search(hash).ok()?;
        self.codes.get(i).copied()
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_u32(out, len_u32(self.hashes.len()));
        for (h, c) in self.hashes.iter().zip(&self.codes) {
            out.extend_from_slice(h);
            put_u32(out, *c);
        }
    }

    pub(crate) fn decode(buf: &[u8]) -> Result<HashSet256, DecodeError> {
        let mut r = Reader::new(buf, "hashes");
        let n = r.count(36)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let h = r.array::<32>()?;
            items.push((h, r.u32()?));
        }
        r.finish()?;
        Ok(HashSet256::build(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_round_trip() {
        let s = HashSet256::build(vec![([9; 32], 1), ([1; 32], 2)]);
        assert_eq!(s.get(&[9; 32]), Some(1));
        assert_eq!(s.get(&[1; 32]), Some(2));
        assert_eq!(s.get(&[2; 32]), None);
        let mut enc = Vec::new();
        s.encode(&mut enc);
        assert_eq!(HashSet256::decode(&enc).unwrap(), s);
        assert!(HashSet256::decode(&enc[..10]).is_err());
    }
}
