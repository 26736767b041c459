//! Bounded, streaming Content-Encoding decoding (gzip, deflate, br),
//! stacked up to a layer limit.
//!
//! Browser-like leniency, as libhtp: "deflate" may be zlib-wrapped or raw,
//! a gzip header's reserved flags and header CRC are ignored, trailers
//! (CRC32/ISIZE/Adler-32) are not checked, and a layer whose input fails to
//! decode before producing any output passes its input through unchanged
//! (servers label plain bodies as compressed). The gzip and zlib wrappers are
//! parsed here, and only raw DEFLATE goes to `flate2`, because flate2's
//! wrappers verify exactly the fields browsers ignore.

use crate::framing::Coding;
use thiserror::Error;

/// Bytes of a layer's input kept for pass-through until it produces output.
const REPLAY_MAX: usize = 16 * 1024;
/// Output chunk size of each layer.
const CHUNK: usize = 16 * 1024;

/// Why decoding stopped.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The decoded output exceeded the configured size or ratio.
    #[error("decompression bomb: output limit or ratio exceeded")]
    Bomb,
    /// The compressed data is corrupt after output had begun.
    #[error("corrupt compressed data")]
    Corrupt,
}

/// Limits applied to one body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_output: u64,
    pub max_ratio: u64,
    pub ratio_min_output: u64,
}

/// What happened besides output, for anomaly reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// A layer failed at its start and passed its input through.
    pub passthrough: bool,
}

/// A chain of decoders, outermost (last applied) first.
pub struct DecoderChain {
    layers: Vec<Layer>,
    limits: Limits,
    total_in: u64,
    total_out: u64,
    failed: Option<DecodeError>,
    notes: Notes,
}

impl std::fmt::Debug for DecoderChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecoderChain")
            .field("layers", &self.layers.len())
            .field("total_in", &self.total_in)
            .field("total_out", &self.total_out)
            .field("failed", &self.failed)
            .finish()
    }
}

impl DecoderChain {
    /// `applied` lists codings in the order the server applied them (as in
    /// the Content-Encoding header); decoding runs in reverse.
    pub fn new(applied: &[Coding], limits: Limits) -> Self {
        DecoderChain {
            layers: applied.iter().rev().map(|&c| Layer::new(c)).collect(),
            limits,
            total_in: 0,
            total_out: 0,
            failed: None,
            notes: Notes::default(),
        }
    }

    pub fn notes(&self) -> Notes {
        self.notes
    }

    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// Decodes `input`, passing decoded bytes to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        self.total_in = self.total_in.saturating_add(input.len() as u64);
        let mut sink = Sink { out, total_in: self.total_in, total_out: &mut self.total_out, limits: self.limits };
        let r = run(&mut self.layers, Some(input), &mut sink, &mut self.notes);
        if let Err(e) = r {
            self.failed = Some(e);
        }
        r
    }

    /// Ends the stream: flushes layers that never produced output as
    /// pass-through.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<(), DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let mut sink = Sink { out, total_in: self.total_in, total_out: &mut self.total_out, limits: self.limits };
        let r = run(&mut self.layers, None, &mut sink, &mut self.notes);
        if let Err(e) = r {
            self.failed = Some(e);
        }
        r
    }
}

struct Sink<'a> {
    out: &'a mut dyn FnMut(&[u8]),
    total_in: u64,
    total_out: &'a mut u64,
    limits: Limits,
}

impl Sink<'_> {
    fn emit(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        let total = self.total_out.saturating_add(data.len() as u64);
        let ratio_exceeded =
            total > self.limits.ratio_min_output && total / self.total_in.max(1) > self.limits.max_ratio;
        if total > self.limits.max_output || ratio_exceeded {
            // Hand over what fits under the size cap, then stop.
            let room = self.limits.max_output.saturating_sub(*self.total_out);
            let keep = usize::try_from(room).unwrap_or(usize::MAX).min(data.len());
            if !ratio_exceeded && keep > 0 {
                if let Some(part) = data.get(..keep) {
                    (self.out)(part);
                }
            }
            *self.total_out = total;
            return Err(DecodeError::Bomb);
        }
        *self.total_out = total;
        (self.out)(data);
        Ok(())
    }
}

/// Feeds `input` (or the end of stream when `None`) through `layers`.
/// Recursion depth is bounded by the number of layers, which the caller
/// caps with the configured layer limit.
fn run(layers: &mut [Layer], input: Option<&[u8]>, sink: &mut Sink<'_>, notes: &mut Notes) -> Result<(), DecodeError> {
    let Some((first, rest)) = layers.split_first_mut() else {
        return match input {
            Some(d) if !d.is_empty() => sink.emit(d),
            _ => Ok(()),
        };
    };
    let max_out = sink.limits.max_output;
    let mut err = None;
    let mut forward = |chunk: &[u8], notes: &mut Notes| -> bool {
        match run(rest, Some(chunk), sink, notes) {
            Ok(()) => true,
            Err(e) => {
                err = Some(e);
                false
            }
        }
    };
    first.process(input, &mut forward, notes, max_out)?;
    if let Some(e) = err {
        return Err(e);
    }
    if input.is_none() {
        // Propagate the end of stream to inner layers.
        return run(rest, None, sink, notes);
    }
    Ok(())
}

type Forward<'f> = dyn FnMut(&[u8], &mut Notes) -> bool + 'f;

enum Mode {
    Inflate(Inflate),
    Brotli(Box<Brotli>),
    /// Failed at the start: bytes pass unchanged.
    Passthrough,
}

struct Layer {
    mode: Mode,
    produced: bool,
    /// Input seen so far, kept until the layer produces output.
    replay: Option<Vec<u8>>,
    finished: bool,
    /// Bytes this layer produced; capped so that an inner layer cannot be
    /// made to chew through unbounded intermediate data.
    out_total: u64,
}

impl Layer {
    fn new(c: Coding) -> Self {
        let mode = match c {
            Coding::Gzip | Coding::Deflate => Mode::Inflate(Inflate::new()),
            Coding::Brotli => Mode::Brotli(Box::new(Brotli::new())),
        };
        Layer { mode, produced: false, replay: Some(Vec::new()), finished: false, out_total: 0 }
    }

    fn process(
        &mut self,
        input: Option<&[u8]>,
        forward: &mut Forward<'_>,
        notes: &mut Notes,
        max_out: u64,
    ) -> Result<(), DecodeError> {
        if self.finished {
            return Ok(());
        }
        let Some(data) = input else {
            self.finished = true;
            // A layer that never produced output and never reached its end
            // was probably not compressed at all.
            let ended = match &self.mode {
                Mode::Inflate(z) => z.ended(),
                Mode::Brotli(b) => b.ended,
                Mode::Passthrough => true,
            };
            if !self.produced && !ended {
                if let Some(r) = self.replay.take() {
                    if !r.is_empty() {
                        notes.passthrough = true;
                        self.mode = Mode::Passthrough;
                        forward(&r, notes);
                    }
                }
            }
            return Ok(());
        };
        if let Mode::Passthrough = self.mode {
            forward(data, notes);
            return Ok(());
        }
        if let Some(r) = self.replay.as_mut() {
            if r.len() + data.len() <= REPLAY_MAX {
                r.extend_from_slice(data);
            } else {
                self.replay = None;
            }
        }
        let produced = &mut self.produced;
        let replay = &mut self.replay;
        let out_total = &mut self.out_total;
        let mut stopped = false;
        let mut bomb = false;
        let mut emit = |chunk: &[u8], notes: &mut Notes| -> bool {
            if !chunk.is_empty() {
                *produced = true;
                *replay = None;
            }
            *out_total = out_total.saturating_add(chunk.len() as u64);
            if *out_total > max_out {
                bomb = true;
                return false;
            }
            let ok = forward(chunk, notes);
            if !ok {
                stopped = true;
            }
            ok
        };
        let r = match &mut self.mode {
            Mode::Inflate(z) => z.push(data, &mut emit, notes),
            Mode::Brotli(b) => b.push(data, &mut emit, notes),
            Mode::Passthrough => Ok(()),
        };
        if bomb {
            return Err(DecodeError::Bomb);
        }
        if stopped {
            // The inner layers failed; `run` reports their error.
            return Ok(());
        }
        match r {
            Ok(()) => Ok(()),
            Err(()) => {
                if !self.produced {
                    if let Some(raw) = self.replay.take() {
                        notes.passthrough = true;
                        self.mode = Mode::Passthrough;
                        forward(&raw, notes);
                        return Ok(());
                    }
                }
                Err(DecodeError::Corrupt)
            }
        }
    }
}

type Emit<'e> = dyn FnMut(&[u8], &mut Notes) -> bool + 'e;

/// gzip / zlib / raw DEFLATE with the wrapper sniffed from the first bytes.
struct Inflate {
    stage: Stage,
    z: flate2::Decompress,
    out: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Sniff {
        head: Vec<u8>,
    },
    Gzip(GzipHeader),
    Body {
        gzip: bool,
    },
    /// Stream ended; trailing bytes are ignored (gzip: a new member may
    /// follow).
    Trailer {
        gzip: bool,
        seen: usize,
    },
    Done,
}

impl Inflate {
    fn new() -> Self {
        Inflate { stage: Stage::Sniff { head: Vec::new() }, z: flate2::Decompress::new(false), out: vec![0; CHUNK] }
    }

    fn ended(&self) -> bool {
        matches!(self.stage, Stage::Trailer { .. } | Stage::Done)
    }

    fn push(&mut self, mut data: &[u8], emit: &mut Emit<'_>, notes: &mut Notes) -> Result<(), ()> {
        while !data.is_empty() {
            match &mut self.stage {
                Stage::Sniff { head } => {
                    let need = 2 - head.len();
                    let take = need.min(data.len());
                    head.extend_from_slice(data.get(..take).unwrap_or(&[]));
                    data = data.get(take..).unwrap_or(&[]);
                    if head.len() < 2 {
                        return Ok(());
                    }
                    let [b0, b1] = head[..] else { return Err(()) };
                    if b0 == 0x1f && b1 == 0x8b {
                        self.stage = Stage::Gzip(GzipHeader::default());
                    } else if b0 & 0x0f == 8 && b0 >> 4 <= 7 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0 {
                        if b1 & 0x20 != 0 {
                            // Preset dictionary: cannot be decoded.
                            return Err(());
                        }
                        self.stage = Stage::Body { gzip: false };
                    } else {
                        let head = std::mem::take(head);
                        self.stage = Stage::Body { gzip: false };
                        let used = self.inflate(&head, emit, notes)?;
                        if used < head.len() && matches!(self.stage, Stage::Body { .. }) {
                            return Err(());
                        }
                    }
                }
                Stage::Gzip(h) => {
                    let used = h.feed(data).map_err(|_| ())?;
                    data = data.get(used..).unwrap_or(&[]);
                    if h.done() {
                        self.stage = Stage::Body { gzip: true };
                    }
                }
                Stage::Body { .. } => {
                    let used = self.inflate(data, emit, notes)?;
                    if used == 0 && matches!(self.stage, Stage::Body { .. }) {
                        // No progress on non-empty input: the stream is stuck.
                        return Err(());
                    }
                    data = data.get(used..).unwrap_or(&[]);
                }
                Stage::Trailer { gzip, seen } => {
                    if !*gzip {
                        self.stage = Stage::Done;
                        continue;
                    }
                    // CRC32 + ISIZE, then maybe another member.
                    let take = (8 - *seen).min(data.len());
                    *seen += take;
                    data = data.get(take..).unwrap_or(&[]);
                    if *seen == 8 {
                        if data.starts_with(&[0x1f]) {
                            self.z = flate2::Decompress::new(false);
                            self.stage = Stage::Sniff { head: Vec::new() };
                        } else if !data.is_empty() {
                            self.stage = Stage::Done;
                        }
                    }
                }
                Stage::Done => return Ok(()),
            }
        }
        Ok(())
    }

    /// Runs raw inflate over `data`; returns bytes consumed.
    fn inflate(&mut self, data: &[u8], emit: &mut Emit<'_>, notes: &mut Notes) -> Result<usize, ()> {
        let mut used = 0usize;
        loop {
            let before_in = self.z.total_in();
            let before_out = self.z.total_out();
            let result =
                self.z.decompress(data.get(used..).unwrap_or(&[]), &mut self.out, flate2::FlushDecompress::None);
            let consumed = usize::try_from(self.z.total_in().saturating_sub(before_in)).unwrap_or(0);
            let produced = usize::try_from(self.z.total_out().saturating_sub(before_out)).unwrap_or(0);
            used = used.saturating_add(consumed).min(data.len());
            // Output decoded before an error is real content: hand it on.
            if produced > 0 {
                let chunk = self.out.get(..produced).unwrap_or(&[]);
                if !emit(chunk, notes) {
                    return Ok(data.len());
                }
            }
            let status = result.map_err(|_| ())?;
            if status == flate2::Status::StreamEnd {
                let gzip = matches!(self.stage, Stage::Body { gzip: true });
                self.stage = Stage::Trailer { gzip, seen: 0 };
                return Ok(used);
            }
            if consumed == 0 && produced == 0 {
                return Ok(used);
            }
            if used >= data.len() && produced < self.out.len() {
                return Ok(used);
            }
        }
    }
}

/// Streaming parser for the gzip member header (RFC 1952), after the
/// two magic bytes. Reserved flags and the header CRC are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GzipHeader {
    step: GzStep,
    buf: Vec<u8>,
    flags: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GzStep {
    /// CM FLG MTIME(4) XFL OS
    Fixed,
    XLen,
    Extra(usize),
    Name,
    Comment,
    Crc(usize),
    Done,
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

impl Default for GzipHeader {
    fn default() -> Self {
        GzipHeader { step: GzStep::Fixed, buf: Vec::with_capacity(8), flags: 0 }
    }
}

impl GzipHeader {
    fn done(&self) -> bool {
        self.step == GzStep::Done
    }

    /// The first optional part at or after position `from` (1: extra,
    /// 2: name, 3: comment, 4: header CRC) that the flags announce.
    fn next_from(&self, from: u8) -> GzStep {
        if from <= 1 && self.flags & FEXTRA != 0 {
            GzStep::XLen
        } else if from <= 2 && self.flags & FNAME != 0 {
            GzStep::Name
        } else if from <= 3 && self.flags & FCOMMENT != 0 {
            GzStep::Comment
        } else if from <= 4 && self.flags & FHCRC != 0 {
            GzStep::Crc(2)
        } else {
            GzStep::Done
        }
    }

    /// Consumes header bytes; returns how many.
    fn feed(&mut self, data: &[u8]) -> Result<usize, ()> {
        let mut i = 0;
        while self.step != GzStep::Done {
            let rest = data.get(i..).unwrap_or(&[]);
            if rest.is_empty() {
                break;
            }
            match self.step {
                GzStep::Fixed => {
                    let take = (8 - self.buf.len()).min(rest.len());
                    self.buf.extend_from_slice(rest.get(..take).unwrap_or(&[]));
                    i += take;
                    if let [cm, flg, ..] = self.buf[..] {
                        if self.buf.len() == 8 {
                            if cm != 8 {
                                return Err(());
                            }
                            self.flags = flg;
                            self.buf.clear();
                            self.step = self.next_from(1);
                        }
                    }
                }
                GzStep::XLen => {
                    let take = (2 - self.buf.len()).min(rest.len());
                    self.buf.extend_from_slice(rest.get(..take).unwrap_or(&[]));
                    i += take;
                    if let [lo, hi] = self.buf[..] {
                        let n = usize::from(u16::from_le_bytes([lo, hi]));
                        self.step = if n > 0 { GzStep::Extra(n) } else { self.next_from(2) };
                    }
                }
                GzStep::Extra(n) => {
                    let take = n.min(rest.len());
                    i += take;
                    self.step = if n == take { self.next_from(2) } else { GzStep::Extra(n - take) };
                }
                GzStep::Name | GzStep::Comment => match memchr::memchr(0, rest) {
                    Some(z) => {
                        i += z + 1;
                        self.step = if self.step == GzStep::Name { self.next_from(3) } else { self.next_from(4) };
                    }
                    None => i += rest.len(),
                },
                GzStep::Crc(n) => {
                    let take = n.min(rest.len());
                    i += take;
                    self.step = if n == take { GzStep::Done } else { GzStep::Crc(n - take) };
                }
                GzStep::Done => {}
            }
        }
        Ok(i)
    }
}

/// Brotli via `brotli-decompressor`'s streaming state machine.
struct Brotli {
    state: brotli_decompressor::BrotliState<
        brotli_decompressor::StandardAlloc,
        brotli_decompressor::StandardAlloc,
        brotli_decompressor::StandardAlloc,
    >,
    out: Vec<u8>,
    ended: bool,
}

impl Brotli {
    fn new() -> Self {
        let mut state = brotli_decompressor::BrotliState::new(
            brotli_decompressor::StandardAlloc::default(),
            brotli_decompressor::StandardAlloc::default(),
            brotli_decompressor::StandardAlloc::default(),
        );
        // RFC 7932 windows only (at most 16 MiB); large-window streams could
        // make the decoder allocate 1 GiB.
        state.large_window = false;
        Brotli { state, out: vec![0; CHUNK], ended: false }
    }

    fn push(&mut self, data: &[u8], emit: &mut Emit<'_>, notes: &mut Notes) -> Result<(), ()> {
        use brotli_decompressor::BrotliResult;
        if self.ended {
            return Ok(());
        }
        let mut avail_in = data.len();
        let mut in_off = 0usize;
        loop {
            let mut avail_out = self.out.len();
            let mut out_off = 0usize;
            let mut total = 0usize;
            let r = brotli_decompressor::BrotliDecompressStream(
                &mut avail_in,
                &mut in_off,
                data,
                &mut avail_out,
                &mut out_off,
                &mut self.out,
                &mut total,
                &mut self.state,
            );
            if out_off > 0 {
                let chunk = self.out.get(..out_off).unwrap_or(&[]);
                if !emit(chunk, notes) {
                    return Ok(());
                }
            }
            match r {
                BrotliResult::ResultSuccess => {
                    self.ended = true;
                    return Ok(());
                }
                BrotliResult::NeedsMoreInput => return Ok(()),
                BrotliResult::NeedsMoreOutput => continue,
                BrotliResult::ResultFailure => return Err(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;

    const LIMITS: Limits = Limits { max_output: 50 * 1024 * 1024, max_ratio: 2048, ratio_min_output: 1024 * 1024 };

    fn gzip(d: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    }
    fn zlib(d: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    }
    fn raw(d: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    }

    /// Decodes in one push and in `step`-byte pushes; both must agree.
    fn decode(codings: &[Coding], data: &[u8], limits: Limits) -> (Vec<u8>, Result<(), DecodeError>, Notes) {
        let mut out = Vec::new();
        let mut c = DecoderChain::new(codings, limits);
        let mut r = c.push(data, &mut |d| out.extend_from_slice(d));
        if r.is_ok() {
            r = c.finish(&mut |d| out.extend_from_slice(d));
        }
        for step in [1usize, 7] {
            let mut out2 = Vec::new();
            let mut c2 = DecoderChain::new(codings, limits);
            let mut r2 = Ok(());
            for piece in data.chunks(step) {
                r2 = c2.push(piece, &mut |d| out2.extend_from_slice(d));
                if r2.is_err() {
                    break;
                }
            }
            if r2.is_ok() {
                r2 = c2.finish(&mut |d| out2.extend_from_slice(d));
            }
            assert_eq!(r, r2, "step {step}");
            if r.is_ok() {
                assert_eq!(out, out2, "step {step}");
            }
        }
        (out, r, c.notes())
    }

    #[test]
    fn gzip_zlib_raw_and_brotli() {
        let text = b"hello hello hello world".repeat(100);
        for (c, enc) in [
            (Coding::Gzip, gzip(&text)),
            (Coding::Deflate, zlib(&text)),
            (Coding::Deflate, raw(&text)),
            (Coding::Gzip, zlib(&text)),
            (Coding::Deflate, gzip(&text)),
        ] {
            let (out, r, notes) = decode(&[c], &enc, LIMITS);
            assert_eq!(r, Ok(()));
            assert_eq!(out, text);
            assert!(!notes.passthrough);
        }
        // "hello" compressed with brotli (quality 5).
        let br = [0x0b, 0x02, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x03];
        let (out, r, _) = decode(&[Coding::Brotli], &br, LIMITS);
        assert_eq!(r, Ok(()));
        assert_eq!(out, b"hello");
    }

    #[test]
    fn stacked_layers_decode_in_reverse() {
        let text = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        // Content-Encoding: gzip, deflate => gzip applied first.
        let enc = raw(&gzip(text));
        let (out, r, _) = decode(&[Coding::Gzip, Coding::Deflate], &enc, LIMITS);
        assert_eq!(r, Ok(()));
        assert_eq!(out, text);
    }

    #[test]
    fn plain_data_labelled_compressed_passes_through() {
        let text = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        let (out, r, notes) = decode(&[Coding::Gzip, Coding::Deflate], text, LIMITS);
        assert_eq!(r, Ok(()));
        assert_eq!(out, text);
        assert!(notes.passthrough);
    }

    #[test]
    fn lenient_gzip_headers() {
        let text = b"payload payload";
        let good = gzip(text);
        // FHCRC with a wrong CRC, reserved flag bits, FEXTRA+FNAME+FCOMMENT.
        let mut v = good.clone();
        v[3] = 0x02 | 0x40;
        v.splice(10..10, [0u8, 0]);
        let (out, r, _) = decode(&[Coding::Gzip], &v, LIMITS);
        assert_eq!((out.as_slice(), r), (&text[..], Ok(())));
        let mut v = good.clone();
        v[3] = 0x04 | 0x08 | 0x10;
        v.splice(10..10, [3u8, 0, b'a', b'b', b'c', b'n', 0, b'c', 0]);
        let (out, r, _) = decode(&[Coding::Gzip], &v, LIMITS);
        assert_eq!((out.as_slice(), r), (&text[..], Ok(())));
        // Trailer missing entirely.
        let v = &good[..good.len() - 8];
        let (out, r, _) = decode(&[Coding::Gzip], v, LIMITS);
        assert_eq!((out.as_slice(), r), (&text[..], Ok(())));
    }

    #[test]
    fn corruption_after_output_truncates() {
        // Valid data up to a sync flush, then a block of reserved type 3.
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(b"first part of the body").unwrap();
        e.flush().unwrap();
        let mut enc = e.get_ref().clone();
        enc.extend_from_slice(&[0xff, 0xff, 0xff]);
        let (out, r, notes) = decode(&[Coding::Deflate], &enc, LIMITS);
        assert_eq!(r, Err(DecodeError::Corrupt));
        assert_eq!(out, b"first part of the body");
        assert!(!notes.passthrough);
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let enc = gzip(&zeros);
        let limits = Limits { max_output: 1024 * 1024, max_ratio: u64::MAX, ratio_min_output: 0 };
        let (out, r, _) = decode(&[Coding::Gzip], &enc, limits);
        assert_eq!(r, Err(DecodeError::Bomb));
        assert_eq!(out.len(), 1024 * 1024);
        // Ratio limit: 4 MiB of zeros compress ~1000:1.
        let limits = Limits { max_output: u64::MAX, max_ratio: 100, ratio_min_output: 64 * 1024 };
        let (out, r, _) = decode(&[Coding::Gzip], &enc, limits);
        assert_eq!(r, Err(DecodeError::Bomb));
        assert!(out.len() < zeros.len());
    }

    #[test]
    fn nested_bomb_is_bounded() {
        let inner = gzip(&vec![0u8; 8 * 1024 * 1024]);
        let outer = gzip(&inner);
        let limits = Limits { max_output: 2 * 1024 * 1024, max_ratio: 2048, ratio_min_output: 1024 * 1024 };
        let (_, r, _) = decode(&[Coding::Gzip, Coding::Gzip], &outer, limits);
        assert_eq!(r, Err(DecodeError::Bomb));
    }

    #[test]
    fn empty_gzip_is_not_passthrough() {
        let enc = gzip(b"");
        let (out, r, notes) = decode(&[Coding::Gzip], &enc, LIMITS);
        assert_eq!(r, Ok(()));
        assert!(out.is_empty());
        assert!(!notes.passthrough);
    }
}
