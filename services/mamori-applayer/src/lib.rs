//! The contract every app-layer parser implements.
//!
//! Parsers are sans-I/O: the engine hands them in-order stream bytes (or whole
//! datagrams) per direction and tells them about gaps. They never see sockets or
//! clocks, so a capture replays to the same result every time.
//!
//! Parsers report what they learnt through typed events that they push into a
//! caller-owned `Vec`, and stream decoded file content (HTTP bodies, mail
//! attachments) into a [`FileSink`] so that hashing and scanning happen while
//! data flows and no parser has to buffer a whole file.

use serde::Serialize;

/// Which way bytes travel, relative to the side that opened the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    /// Index for `[T; 2]` per-direction state: to-server is 0.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// The application protocols the engine can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppProto {
    Http,
    Tls,
    Dns,
    Quic,
    Smtp,
    Pop3,
    Imap,
    /// Detection ran and gave up: nothing we parse.
    Failed,
}

impl AppProto {
    /// The name Suricata's EVE uses in `app_proto`.
    pub fn eve_name(self) -> &'static str {
        match self {
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Dns => "dns",
            AppProto::Quic => "quic",
            AppProto::Smtp => "smtp",
            AppProto::Pop3 => "pop3",
            AppProto::Imap => "imap",
            AppProto::Failed => "failed",
        }
    }
}

/// Result of looking at the first bytes of a direction to guess its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The bytes are this protocol.
    Match,
    /// The bytes are certainly not this protocol.
    NoMatch,
    /// Too few bytes to tell; ask again with more.
    NeedMore,
}

/// What the parser wants after consuming input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Keep feeding this parser.
    Continue,
    /// The session switched to TLS (STARTTLS accepted): the rest of the flow
    /// is TLS and this parser should not see it.
    StartTls,
    /// The parser cannot make sense of this flow any more (hostile or not the
    /// protocol after all). The engine stops feeding it; the flow still passes.
    Stop,
}

/// Handle to a file that a parser opened on a [`FileSink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// How a file ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FileEnd {
    /// All of the content was seen.
    Closed,
    /// Some content is missing (gap, depth limit, decompression bomb,
    /// connection closed early). Hashes of such a file are not the file's.
    Truncated,
}

/// Facts about a file known when it opens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileMeta {
    /// Name as the protocol gave it (URI path, Content-Disposition filename,
    /// MIME name). Raw bytes: names on the wire are not always UTF-8.
    pub name: Vec<u8>,
    /// The transaction the file belongs to (HTTP transaction or mail message
    /// index), so events can tie the file to its request.
    pub tx_id: u64,
    /// Declared size (Content-Length), when the protocol states it.
    pub declared_size: Option<u64>,
    /// MIME type if the protocol declared one.
    pub content_type: Option<Vec<u8>>,
}

/// Receiver of decoded file content.
///
/// Parsers call `open`, then `data` any number of times, then `close` exactly
/// once per opened file. Data handed to the sink is already decoded
/// (de-chunked, decompressed, base64/QP decoded).
pub trait FileSink {
    fn open(&mut self, dir: Direction, meta: FileMeta) -> FileId;
    fn data(&mut self, id: FileId, data: &[u8]);
    fn close(&mut self, id: FileId, end: FileEnd);
}

/// A sink that drops everything; handy in tests and for parsers used where
/// files are not wanted.
#[derive(Default)]
pub struct NullSink {
    next: u32,
}

impl FileSink for NullSink {
    fn open(&mut self, _dir: Direction, _meta: FileMeta) -> FileId {
        self.next = self.next.wrapping_add(1);
        FileId(self.next)
    }
    fn data(&mut self, _id: FileId, _data: &[u8]) {}
    fn close(&mut self, _id: FileId, _end: FileEnd) {}
}

/// A sink that keeps everything in memory, for tests.
#[derive(Default, Debug)]
pub struct MemorySink {
    pub files: Vec<MemoryFile>,
}

#[derive(Debug, Clone)]
pub struct MemoryFile {
    pub dir: Direction,
    pub meta: FileMeta,
    pub content: Vec<u8>,
    pub end: Option<FileEnd>,
}

impl FileSink for MemorySink {
    fn open(&mut self, dir: Direction, meta: FileMeta) -> FileId {
        self.files.push(MemoryFile { dir, meta, content: Vec::new(), end: None });
        FileId(self.files.len() as u32 - 1)
    }
    fn data(&mut self, id: FileId, data: &[u8]) {
        if let Some(f) = self.files.get_mut(id.0 as usize) {
            f.content.extend_from_slice(data);
        }
    }
    fn close(&mut self, id: FileId, end: FileEnd) {
        if let Some(f) = self.files.get_mut(id.0 as usize) {
            f.end = Some(end);
        }
    }
}

/// Everything a parser may write to while it consumes input.
pub struct ParseCtx<'a, E> {
    pub events: &'a mut Vec<E>,
    pub files: &'a mut dyn FileSink,
}

/// A stream (TCP) app-layer parser.
///
/// `input` receives in-order bytes of one direction. `gap` says `len` bytes of
/// that direction are missing and will never come: a parser must resynchronise
/// or stop, never treat the bytes after a gap as contiguous with those before.
/// `close` says the direction ended (FIN/RST/timeout); open files must be
/// closed then.
///
/// Implementations must bound every internal buffer and must not panic on any
/// input.
pub trait StreamParser {
    type Event;
    fn input(&mut self, dir: Direction, data: &[u8], ctx: &mut ParseCtx<'_, Self::Event>) -> Status;
    fn gap(&mut self, dir: Direction, len: u64, ctx: &mut ParseCtx<'_, Self::Event>) -> Status;
    fn close(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, Self::Event>);
}

/// Anomalies parsers report, as counted names (Suricata's `anomaly` event
/// type uses the same idea). Parsers put them in their event enums.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub layer: &'static str,
    pub event: &'static str,
}

impl Anomaly {
    pub const fn new(layer: &'static str, event: &'static str) -> Anomaly {
        Anomaly { layer, event }
    }
}
