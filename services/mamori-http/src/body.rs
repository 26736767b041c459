//! A message body in flight: framing (length, chunked, until close), then
//! content decoding, then the file sink.

use crate::anomaly::HttpAnomaly;
use crate::chunked::{Chunked, Outcome};
use crate::decompress::{DecodeError, DecoderChain};
use crate::event::HttpEvent;
use mamori_applayer::{Direction, FileEnd, FileId, FileMeta, ParseCtx};

/// How the end of the body is found.
#[derive(Debug)]
pub(crate) enum Framing {
    Length {
        left: u64,
    },
    Chunked(Chunked),
    /// Ends when the connection closes (responses only).
    UntilClose,
}

#[derive(Debug)]
enum FileState {
    /// No body byte yet; the file opens with the first one.
    NotOpened(FileMeta),
    Open(FileId),
    /// Closed early (gap, bomb, corrupt data): later bytes are dropped.
    Dead,
}

/// Counters the transaction exposes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyProgress {
    /// Body bytes as sent, including chunk framing and still compressed.
    pub wire_len: u64,
    /// Bytes handed to the file (decoded).
    pub decoded_len: u64,
    /// Some of the content is missing or could not be decoded.
    pub truncated: bool,
    /// The file holding this body, once opened.
    pub file: Option<FileId>,
}

/// Decoded body bytes on their way to a file.
#[derive(Debug)]
pub(crate) struct BodySink {
    dir: Direction,
    file: FileState,
    decoder: Option<DecoderChain>,
    passthrough_reported: bool,
    pub(crate) progress: BodyProgress,
}

impl BodySink {
    pub(crate) fn new(dir: Direction, meta: FileMeta, decoder: Option<DecoderChain>) -> Self {
        BodySink {
            dir,
            file: FileState::NotOpened(meta),
            decoder,
            passthrough_reported: false,
            progress: BodyProgress::default(),
        }
    }

    fn open(&mut self, ctx: &mut ParseCtx<'_, HttpEvent>) -> Option<FileId> {
        match &mut self.file {
            FileState::Open(id) => Some(*id),
            FileState::Dead => None,
            FileState::NotOpened(meta) => {
                let id = ctx.files.open(self.dir, std::mem::take(meta));
                self.file = FileState::Open(id);
                self.progress.file = Some(id);
                Some(id)
            }
        }
    }

    /// De-framed body bytes.
    pub(crate) fn data(&mut self, raw: &[u8], ctx: &mut ParseCtx<'_, HttpEvent>) {
        if raw.is_empty() {
            return;
        }
        let Some(id) = self.open(ctx) else { return };
        let files = &mut *ctx.files;
        let decoded = &mut self.progress.decoded_len;
        let mut write = |d: &[u8]| {
            *decoded = decoded.saturating_add(d.len() as u64);
            files.data(id, d);
        };
        let result = match self.decoder.as_mut() {
            Some(dec) => dec.push(raw, &mut write),
            None => {
                write(raw);
                Ok(())
            }
        };
        self.after_decode(result, ctx);
    }

    fn after_decode(&mut self, result: Result<(), DecodeError>, ctx: &mut ParseCtx<'_, HttpEvent>) {
        if !self.passthrough_reported && self.decoder.as_ref().is_some_and(|d| d.notes().passthrough) {
            self.passthrough_reported = true;
            ctx.events.push(HttpAnomaly::DecompressionPassthrough.into());
        }
        match result {
            Ok(()) => {}
            Err(DecodeError::Bomb) => {
                ctx.events.push(HttpAnomaly::CompressionBomb.into());
                self.kill(ctx);
            }
            Err(DecodeError::Corrupt) => {
                ctx.events.push(HttpAnomaly::DecompressionFailed.into());
                self.kill(ctx);
            }
        }
    }

    /// Closes the file as truncated; later bytes are dropped.
    pub(crate) fn kill(&mut self, ctx: &mut ParseCtx<'_, HttpEvent>) {
        if let FileState::Open(id) = self.file {
            ctx.files.close(id, FileEnd::Truncated);
        }
        self.file = FileState::Dead;
        self.progress.truncated = true;
    }

    /// The body ended; `complete` tells whether all of it was seen.
    pub(crate) fn end(&mut self, complete: bool, ctx: &mut ParseCtx<'_, HttpEvent>) {
        if !complete {
            self.kill(ctx);
            return;
        }
        if let FileState::Open(id) = self.file {
            let files = &mut *ctx.files;
            let decoded = &mut self.progress.decoded_len;
            let result = match self.decoder.as_mut() {
                Some(dec) => dec.finish(&mut |d: &[u8]| {
                    *decoded = decoded.saturating_add(d.len() as u64);
                    files.data(id, d);
                }),
                None => Ok(()),
            };
            self.after_decode(result, ctx);
            if let FileState::Open(id) = self.file {
                ctx.files.close(id, FileEnd::Closed);
                self.file = FileState::Dead;
            }
        } else {
            // Never opened (no body bytes): nothing to close.
            self.file = FileState::Dead;
        }
    }
}

/// What a gap did to a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GapEffect {
    /// The lost bytes were inside the body; framing is still known.
    Absorbed,
    /// The lost bytes ended exactly at the end of the body.
    EndsBody,
    /// The lost bytes ran past the body or hit framing: sync is lost.
    Lost,
}

#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) framing: Framing,
    pub(crate) sink: BodySink,
    /// Anomaly to report when a chunked body turns out not to be chunked.
    invalid_chunk: HttpAnomaly,
    report_extension: bool,
}

impl Body {
    pub(crate) fn new(framing: Framing, sink: BodySink, is_request: bool) -> Self {
        Body {
            framing,
            sink,
            invalid_chunk: if is_request {
                HttpAnomaly::InvalidRequestChunkLen
            } else {
                HttpAnomaly::InvalidResponseChunkLen
            },
            report_extension: is_request,
        }
    }

    /// Consumes body bytes from `input`. Returns bytes consumed and whether
    /// the body is complete (the rest of `input` belongs to what follows).
    pub(crate) fn feed(&mut self, input: &[u8], ctx: &mut ParseCtx<'_, HttpEvent>) -> (usize, bool) {
        let (consumed, done) = match &mut self.framing {
            Framing::Length { left } => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(input.len());
                let part = input.get(..n).unwrap_or(&[]);
                *left -= n as u64;
                let done = *left == 0;
                self.sink.data(part, ctx);
                (n, done)
            }
            Framing::UntilClose => {
                self.sink.data(input, ctx);
                (input.len(), false)
            }
            Framing::Chunked(ch) => {
                let sink = &mut self.sink;
                let (n, outcome) = ch.feed(input, &mut |d| sink.data(d, ctx));
                if ch.saw_extension && self.report_extension {
                    self.report_extension = false;
                    ctx.events.push(HttpAnomaly::RequestChunkExtension.into());
                }
                match outcome {
                    Outcome::More => (n, false),
                    Outcome::Done => (n, true),
                    Outcome::Invalid { replay } => {
                        // libhtp: not chunked after all; the rest of the
                        // stream is the body.
                        ctx.events.push(self.invalid_chunk.into());
                        self.framing = Framing::UntilClose;
                        self.sink.progress.wire_len = self.sink.progress.wire_len.saturating_add(n as u64);
                        self.sink.data(&replay, ctx);
                        let rest = input.get(n..).unwrap_or(&[]);
                        self.sink.data(rest, ctx);
                        self.sink.progress.wire_len = self.sink.progress.wire_len.saturating_add(rest.len() as u64);
                        return (input.len(), false);
                    }
                }
            }
        };
        self.sink.progress.wire_len = self.sink.progress.wire_len.saturating_add(consumed as u64);
        (consumed, done)
    }

    /// `len` bytes of this direction are lost.
    pub(crate) fn gap(&mut self, len: u64, ctx: &mut ParseCtx<'_, HttpEvent>) -> GapEffect {
        self.sink.kill(ctx);
        match &mut self.framing {
            Framing::Length { left } => {
                if len < *left {
                    *left -= len;
                    GapEffect::Absorbed
                } else if len == *left {
                    *left = 0;
                    GapEffect::EndsBody
                } else {
                    GapEffect::Lost
                }
            }
            Framing::Chunked(ch) => {
                if ch.skip(len) {
                    GapEffect::Absorbed
                } else {
                    GapEffect::Lost
                }
            }
            Framing::UntilClose => GapEffect::Absorbed,
        }
    }

    /// The direction closed while this body was open.
    pub(crate) fn eof(&mut self, ctx: &mut ParseCtx<'_, HttpEvent>) {
        let complete = match &self.framing {
            Framing::UntilClose => true,
            Framing::Chunked(ch) => ch.content_complete(),
            Framing::Length { left } => *left == 0,
        };
        self.sink.end(complete, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::Coding;
    use mamori_applayer::MemorySink;

    fn run(framing: Framing, dec: Option<DecoderChain>, parts: &[&[u8]]) -> (MemorySink, Vec<HttpEvent>, usize, bool) {
        let mut files = MemorySink::default();
        let mut events = Vec::new();
        let mut ctx = ParseCtx { events: &mut events, files: &mut files };
        let meta = FileMeta { name: b"f".to_vec(), ..Default::default() };
        let mut body = Body::new(framing, BodySink::new(Direction::ToClient, meta, dec), false);
        let mut used = 0;
        let mut done = false;
        for p in parts {
            let (n, d) = body.feed(p, &mut ctx);
            used += n;
            if d {
                done = true;
                body.sink.end(true, &mut ctx);
                break;
            }
        }
        if !done {
            body.eof(&mut ctx);
        }
        (files, events, used, done)
    }

    #[test]
    fn length_body_stops_at_its_end() {
        let (files, _, used, done) = run(Framing::Length { left: 5 }, None, &[b"abc", b"deXYZ"]);
        assert!(done);
        assert_eq!(used, 5);
        assert_eq!(files.files[0].content, b"abcde");
        assert_eq!(files.files[0].end, Some(FileEnd::Closed));
    }

    #[test]
    fn invalid_chunked_becomes_until_close() {
        let (files, events, _, done) = run(Framing::Chunked(Chunked::new(1024)), None, &[b"X5O!P", b"%@AP"]);
        assert!(!done);
        assert_eq!(files.files[0].content, b"X5O!P%@AP");
        assert_eq!(files.files[0].end, Some(FileEnd::Closed));
        assert!(events.contains(&HttpAnomaly::InvalidResponseChunkLen.into()));
    }

    #[test]
    fn truncated_length_body_is_truncated() {
        let (files, _, _, done) = run(Framing::Length { left: 10 }, None, &[b"abc"]);
        assert!(!done);
        assert_eq!(files.files[0].end, Some(FileEnd::Truncated));
    }

    #[test]
    fn empty_body_opens_no_file() {
        let (files, _, _, done) = run(Framing::Chunked(Chunked::new(10)), None, &[b"0\r\n\r\n"]);
        assert!(done);
        assert!(files.files.is_empty());
    }

    #[test]
    fn bomb_truncates_and_reports() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![b'A'; 2 * 1024 * 1024]).unwrap();
        let gz = e.finish().unwrap();
        let limits = crate::decompress::Limits { max_output: 1024 * 1024, max_ratio: u64::MAX, ratio_min_output: 0 };
        let dec = DecoderChain::new(&[Coding::Gzip], limits);
        let (files, events, _, done) = run(Framing::Length { left: gz.len() as u64 }, Some(dec), &[&gz]);
        assert!(done);
        assert_eq!(files.files[0].end, Some(FileEnd::Truncated));
        assert_eq!(files.files[0].content.len(), 1024 * 1024);
        assert!(events.contains(&HttpAnomaly::CompressionBomb.into()));
    }

    #[test]
    fn gaps() {
        let mut files = MemorySink::default();
        let mut events = Vec::new();
        let mut ctx = ParseCtx { events: &mut events, files: &mut files };
        let mut b = Body::new(
            Framing::Length { left: 10 },
            BodySink::new(Direction::ToServer, FileMeta::default(), None),
            true,
        );
        b.feed(b"ab", &mut ctx);
        assert_eq!(b.gap(3, &mut ctx), GapEffect::Absorbed);
        let (n, done) = b.feed(b"fghijNEXT", &mut ctx);
        assert_eq!((n, done), (5, true));
        assert_eq!(b.gap(1, &mut ctx), GapEffect::Lost);
        assert_eq!(files.files[0].content, b"ab");
        assert_eq!(files.files[0].end, Some(FileEnd::Truncated));
    }
}
