//! The prefilter database cache: compiled Hyperscan databases serialized
//! under a key that hashes everything they were compiled from, so a restart
//! with unchanged rules skips compilation.
//!
//! The detector only sees [`DbCache`]; [`DirCache`] is the file-backed one
//! the service uses.

use std::path::{Path, PathBuf};

use crate::hs::{Database, Mode};

/// Where compiled databases are kept between runs.
pub trait DbCache {
    fn load(&mut self, key: &str) -> Option<Vec<u8>>;
    fn store(&mut self, key: &str, blob: &[u8]);
}

/// A cache directory with one file per key (`<key>.hsdb`). Failures to
/// read or write only cost a recompilation.
pub struct DirCache {
    dir: PathBuf,
}

impl DirCache {
    pub fn new(dir: impl Into<PathBuf>) -> DirCache {
        DirCache { dir: dir.into() }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.hsdb"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl DbCache for DirCache {
    fn load(&mut self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(key)).ok()
    }

    fn store(&mut self, key: &str, blob: &[u8]) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        // Write then rename, so a concurrent reader never sees half a file.
        let tmp = self.dir.join(format!("{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, blob).is_ok() && std::fs::rename(&tmp, self.path(key)).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// An in-memory cache (tests, one process building twice).
#[derive(Default)]
pub struct MemCache {
    pub entries: std::collections::HashMap<String, Vec<u8>>,
}

impl DbCache for MemCache {
    fn load(&mut self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).cloned()
    }

    fn store(&mut self, key: &str, blob: &[u8]) {
        self.entries.insert(key.to_string(), blob.to_vec());
    }
}

const MAGIC: &[u8; 8] = b"MAMORIHS";

/// Serialize all databases; `None` if any fails.
pub(crate) fn encode(dbs: &[&Database]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dbs.len() as u64).to_le_bytes());
    for db in dbs {
        let bytes = db.serialize().ok()?;
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    Some(out)
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = (b.get(..n)?, b.get(n..)?);
    *b = tail;
    Some(head)
}

fn take_u64(b: &mut &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(take(b, 8)?.try_into().ok()?))
}

/// Databases from a blob [`encode`] wrote, for sets of these `modes`.
/// Anything that does not fit (count, mode, libhs validation) is a miss.
pub(crate) fn decode(blob: &[u8], modes: &[Mode]) -> Option<Vec<Database>> {
    let mut b = blob;
    if take(&mut b, 8)? != MAGIC {
        return None;
    }
    let n = usize::try_from(take_u64(&mut b)?).ok()?;
    if n != modes.len() {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for _ in modes {
        let len = usize::try_from(take_u64(&mut b)?).ok()?;
        let bytes = take(&mut b, len)?;
        out.push(Database::deserialize(bytes).ok()?);
    }
    b.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hs::Literal;

    #[test]
    fn roundtrip_and_rejects_damage() {
        let db = Database::compile_literals(&[Literal { bytes: b"abc", caseless: false, id: 0 }], Mode::Block).unwrap();
        let blob = encode(&[&db]).unwrap();
        assert!(decode(&blob, &[Mode::Block]).is_some());
        assert!(decode(&blob, &[Mode::Block, Mode::Block]).is_none(), "count mismatch");
        assert!(decode(&blob[..blob.len() - 1], &[Mode::Block]).is_none(), "truncated");
        assert!(decode(b"garbage", &[Mode::Block]).is_none());
    }

    #[test]
    fn dir_cache_stores_and_loads() {
        let dir = std::env::temp_dir().join(format!("mamori-detect-cache-{}", std::process::id()));
        let mut c = DirCache::new(&dir);
        assert!(c.load("k").is_none());
        c.store("k", b"blob");
        assert_eq!(c.load("k").as_deref(), Some(&b"blob"[..]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
