//! Files seen in flows (HTTP bodies, mail attachments).
//!
//! [`FileTracker`] is the [`FileSink`] the engine gives to parsers. It hashes
//! content while it streams, so no file is ever held whole in memory, and it
//! asks a [`FileGate`] for a decision when a file ends. A gate may answer
//! [`FileDecision::Hold`]: the engine then holds the flow's verdict until
//! the gate's owner settles it (`Engine::resolve_file`, e.g. after an
//! anti-virus scan), which is the hook the anti-virus work plugs into.

use mamori_applayer::{Direction, FileEnd, FileId, FileMeta, FileSink};
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a gate decided about a finished file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileDecision {
    Pass,
    Block,
    /// Not decided yet: hold the flow until `FileTracker::resolve`.
    Hold,
}

/// Judges files. Called with the content as it streams and once at the end.
pub trait FileGate {
    /// Whether [`FileGate::data`] wants to see content (describing the file
    /// for every chunk has a cost the default gate should not pay).
    fn wants_data(&self) -> bool {
        true
    }
    /// Content of an open file, in order (already decoded).
    fn data(&mut self, _file: &FileInfo, _data: &[u8]) {}
    /// Whether finished files get an MD5 as well as a SHA-256 (Suricata's
    /// fileinfo carries both; inline only the SHA-256 is looked up).
    fn wants_md5(&self) -> bool {
        true
    }
    /// The file ended; decide.
    fn finished(&mut self, file: &FileInfo) -> FileDecision;
}

/// The default gate: every file passes.
#[derive(Default)]
pub struct PassAll;

impl FileGate for PassAll {
    fn wants_data(&self) -> bool {
        false
    }
    fn finished(&mut self, _file: &FileInfo) -> FileDecision {
        FileDecision::Pass
    }
}

/// Passes every file and hashes it with SHA-256 only (inline, where MD5
/// would cost time for a field nobody looks up).
#[derive(Default)]
pub struct PassAllSha256;

impl FileGate for PassAllSha256 {
    fn wants_data(&self) -> bool {
        false
    }
    fn wants_md5(&self) -> bool {
        false
    }
    fn finished(&mut self, _file: &FileInfo) -> FileDecision {
        FileDecision::Pass
    }
}

/// A finished file, as EVE `fileinfo` reports it. The written fields are in
/// alphabetical order, the order EVE has always had them in (it once went
/// through a JSON map sorted by key).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileInfo {
    /// Lossy UTF-8 of the name on the wire.
    pub filename: String,
    pub gaps: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub size: u64,
    /// "CLOSED" when all content was seen, "TRUNCATED" otherwise.
    pub state: &'static str,
    pub stored: bool,
    pub tx_id: u64,
    #[serde(skip)]
    pub direction: Option<Direction>,
    #[serde(skip)]
    pub content_type: Option<String>,
    #[serde(skip)]
    pub decision: Option<FileDecision>,
    /// Per-flow file number, for resolving held verdicts.
    #[serde(skip)]
    pub id: u32,
}

struct Open {
    id: FileId,
    dir: Direction,
    meta: FileMeta,
    sha256: Sha256,
    md5: Option<Md5>,
    size: u64,
    head: Vec<u8>,
}

/// Bytes kept from the start of each file to name its type.
const MAGIC_LEN: usize = 16;

/// Per-flow file state: files still streaming and files finished since the
/// engine last collected them. Lives as long as the flow.
#[derive(Default)]
pub struct FlowFiles {
    next_id: u32,
    open: Vec<Open>,
    finished: Vec<FileInfo>,
}

impl FlowFiles {
    /// A sink for parsers, judging finished files with `gate`.
    pub fn sink<'a>(&'a mut self, gate: &'a mut dyn FileGate) -> FileTracker<'a> {
        FileTracker { files: self, gate }
    }

    /// Files that ended since the last call.
    pub fn take_finished(&mut self) -> Vec<FileInfo> {
        std::mem::take(&mut self.finished)
    }

    /// Files still open (a parser will close them later).
    pub fn open_count(&self) -> usize {
        self.open.len()
    }
}

/// The [`FileSink`] handed to parsers for one call: a flow's files plus the
/// gate that judges them.
pub struct FileTracker<'a> {
    files: &'a mut FlowFiles,
    gate: &'a mut dyn FileGate,
}

impl FileTracker<'_> {
    fn info_of(o: &Open, end: Option<FileEnd>) -> FileInfo {
        FileInfo {
            filename: String::from_utf8_lossy(&o.meta.name).into_owned(),
            magic: magic(&o.head).map(str::to_owned),
            gaps: matches!(end, Some(FileEnd::Truncated)),
            state: match end {
                Some(FileEnd::Closed) => "CLOSED",
                Some(FileEnd::Truncated) => "TRUNCATED",
                None => "OPEN",
            },
            stored: false,
            md5: None,
            sha256: None,
            size: o.size,
            tx_id: o.meta.tx_id,
            direction: Some(o.dir),
            content_type: o.meta.content_type.as_ref().map(|c| String::from_utf8_lossy(c).into_owned()),
            decision: None,
            id: o.id.0,
        }
    }
}

impl FileSink for FileTracker<'_> {
    fn open(&mut self, dir: Direction, meta: FileMeta) -> FileId {
        let id = FileId(self.files.next_id);
        self.files.next_id = self.files.next_id.wrapping_add(1);
        let md5 = self.gate.wants_md5().then(Md5::new);
        if self.files.open.capacity() == 0 {
            // Files come one at a time on most flows.
            self.files.open.reserve_exact(1);
        }
        self.files.open.push(Open { id, dir, meta, sha256: Sha256::new(), md5, size: 0, head: Vec::new() });
        id
    }

    fn data(&mut self, id: FileId, data: &[u8]) {
        let Some(o) = self.files.open.iter_mut().find(|o| o.id == id) else { return };
        o.sha256.update(data);
        if let Some(m) = o.md5.as_mut() {
            m.update(data);
        }
        o.size += data.len() as u64;
        if o.head.len() < MAGIC_LEN {
            let take = (MAGIC_LEN - o.head.len()).min(data.len());
            o.head.extend_from_slice(&data[..take]);
        }
        if self.gate.wants_data() {
            let info = Self::info_of(o, None);
            self.gate.data(&info, data);
        }
    }

    fn close(&mut self, id: FileId, end: FileEnd) {
        let Some(pos) = self.files.open.iter().position(|o| o.id == id) else { return };
        let o = self.files.open.swap_remove(pos);
        if self.files.open.is_empty() {
            // The flow may linger long after its last file (a closed TCP
            // connection for a minute): hold no room for more.
            self.files.open = Vec::new();
        }
        let mut info = Self::info_of(&o, Some(end));
        // Hashes of a truncated file are not the file's; Suricata omits them too.
        if end == FileEnd::Closed {
            info.sha256 = Some(hex::encode(o.sha256.finalize()));
            info.md5 = o.md5.map(|m| hex::encode(m.finalize()));
        }
        info.decision = Some(self.gate.finished(&info));
        self.files.finished.push(info);
    }
}

/// A short type name from the first bytes, for EVE `fileinfo.magic`.
fn magic(head: &[u8]) -> Option<&'static str> {
    const SIGS: &[(&[u8], &str)] = &[
        (b"MZ", "PE32 executable (MS Windows)"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "Zip archive data"),
        (b"\x1f\x8b", "gzip compressed data"),
        (b"\x7fELF", "ELF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Composite Document File V2 Document"),
        (b"Rar!\x1a\x07", "RAR archive data"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip archive data"),
        (b"\x89PNG", "PNG image data"),
        (b"\xff\xd8\xff", "JPEG image data"),
        (b"GIF8", "GIF image data"),
        (b"X5O!P%@AP[4", "EICAR virus test files"),
    ];
    SIGS.iter().find(|(sig, _)| head.starts_with(sig)).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct BlockSha(String);
    impl FileGate for BlockSha {
        fn finished(&mut self, f: &FileInfo) -> FileDecision {
            if f.sha256.as_deref() == Some(self.0.as_str()) {
                FileDecision::Block
            } else {
                FileDecision::Pass
            }
        }
    }

    fn meta(name: &str) -> FileMeta {
        FileMeta { name: name.as_bytes().to_vec(), tx_id: 3, ..Default::default() }
    }

    #[test]
    fn hashes_are_computed_while_streaming() {
        let mut gate = PassAll;
        let mut files = FlowFiles::default();
        let mut t = files.sink(&mut gate);
        let id = t.open(Direction::ToClient, meta("a.txt"));
        t.data(id, b"hello ");
        t.data(id, b"world");
        t.close(id, FileEnd::Closed);
        let f = files.take_finished().pop().unwrap();
        assert_eq!(f.size, 11);
        assert_eq!(f.sha256.as_deref(), Some("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"));
        assert_eq!(f.md5.as_deref(), Some("5eb63bbbe01eeed093cb22bb8f5acdc3"));
        assert_eq!(f.state, "CLOSED");
        assert_eq!(f.tx_id, 3);
        assert_eq!(f.decision, Some(FileDecision::Pass));
    }

    #[test]
    fn a_flow_whose_files_ended_holds_no_room_for_more() {
        let mut gate = PassAll;
        let mut files = FlowFiles::default();
        let mut t = files.sink(&mut gate);
        let a = t.open(Direction::ToClient, meta("a"));
        let b = t.open(Direction::ToServer, meta("b"));
        t.close(a, FileEnd::Closed);
        assert!(files.open.capacity() > 0, "b is still open");
        let mut t = files.sink(&mut gate);
        t.close(b, FileEnd::Closed);
        assert_eq!((files.open_count(), files.open.capacity()), (0, 0));
        assert_eq!(files.take_finished().len(), 2);
    }

    #[test]
    fn truncated_files_carry_no_hashes() {
        let mut gate = PassAll;
        let mut files = FlowFiles::default();
        let mut t = files.sink(&mut gate);
        let id = t.open(Direction::ToClient, meta("x"));
        t.data(id, b"part");
        t.close(id, FileEnd::Truncated);
        let f = files.take_finished().pop().unwrap();
        assert_eq!((f.state, f.gaps, f.sha256), ("TRUNCATED", true, None));
    }

    #[test]
    fn gate_decides_on_the_hash() {
        let eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        let sha = hex::encode(Sha256::digest(eicar));
        let mut gate = BlockSha(sha);
        let mut files = FlowFiles::default();
        let mut t = files.sink(&mut gate);
        let id = t.open(Direction::ToClient, meta("eicar.com"));
        t.data(id, eicar);
        t.close(id, FileEnd::Closed);
        let f = files.take_finished().pop().unwrap();
        assert_eq!(f.decision, Some(FileDecision::Block));
        assert_eq!(f.magic.as_deref(), Some("EICAR virus test files"));
    }
}
