//! The streaming MIME parser.
//!
//! Hand-written instead of `mail-parser` (0.11), which needs the whole
//! message in memory: here attachments are decoded and handed to the
//! [`FileSink`] as the bytes arrive, so they are hashed and scanned while
//! they stream and memory stays bounded whatever the mail's size.
//!
//! Model: the parser is always inside one entity (the message, a body part,
//! or a message/rfc822 inside a part), reading either its header block or
//! its body. Multipart bodies push their boundary on a bounded stack; a line
//! matching any boundary on the stack ends the current part (an outer
//! boundary also closes the inner multiparts that never closed).

use mamori_applayer::{Anomaly, Direction, FileEnd, FileId, FileMeta, FileSink};

use super::anomaly::{AnomalySet, MimeAnomaly};
use super::decode::Decoder;
use super::header::{Field, HeaderBlock, Step};
use super::lines::{split_eol, LineSplitter};
use super::params::StructuredValue;
use super::summary::{truncate_utf8, MailSummary, MAX_NAME};

/// Most nested multiparts plus message/rfc822 levels.
pub const MAX_DEPTH: usize = 16;
/// Longest boundary accepted (RFC 2046 allows 70).
pub const MAX_BOUNDARY: usize = 256;

#[derive(Debug)]
struct Frame {
    boundary: Vec<u8>,
    /// message/rfc822 nesting when this multipart began, restored when one
    /// of its boundaries ends whatever was nested inside a part.
    rfc822_depth: usize,
}

#[derive(Debug)]
struct Leaf {
    file: FileId,
    decoder: Decoder,
}

#[derive(Debug)]
enum State {
    Headers {
        block: HeaderBlock,
        main: bool,
    },
    /// Bytes we do not keep: preambles, epilogues, text bodies.
    Skip,
    Attachment(Leaf),
}

/// Line ending held back from the previous body line: the CRLF before a
/// boundary belongs to the boundary, not to the part.
#[derive(Debug, Default, Clone, Copy)]
struct HeldEol {
    bytes: [u8; 2],
    len: usize,
}

impl HeldEol {
    fn set(&mut self, eol: &[u8]) {
        let n = eol.len().min(2);
        self.bytes[..n].copy_from_slice(&eol[..n]);
        self.len = n;
    }

    fn take(&mut self) -> HeldEol {
        std::mem::take(self)
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[derive(Debug)]
struct Core {
    dir: Direction,
    tx_id: u64,
    frames: Vec<Frame>,
    rfc822_depth: usize,
    state: State,
    held: HeldEol,
    summary: MailSummary,
    anomalies: AnomalySet,
    main_done: bool,
}

/// Streaming MIME parser for one mail.
#[derive(Debug)]
pub struct MimeParser {
    lines: LineSplitter,
    core: Core,
    finished: bool,
}

impl MimeParser {
    /// `dir` and `tx_id` go into the [`FileMeta`] of every attachment.
    pub fn new(dir: Direction, tx_id: u64) -> MimeParser {
        MimeParser {
            lines: LineSplitter::default(),
            core: Core {
                dir,
                tx_id,
                frames: Vec::new(),
                rfc822_depth: 0,
                state: State::Headers { block: HeaderBlock::default(), main: true },
                held: HeldEol::default(),
                summary: MailSummary::default(),
                anomalies: AnomalySet::default(),
                main_done: false,
            },
            finished: false,
        }
    }

    /// Feeds the next bytes of the message (already transport-decoded:
    /// dot-unstuffed for SMTP/POP3).
    pub fn feed(&mut self, data: &[u8], files: &mut dyn FileSink) {
        if self.finished {
            return;
        }
        let core = &mut self.core;
        self.lines.feed(data, &mut |seg, starts, ends| core.segment(seg, starts, ends, files));
    }

    /// Ends the message. `complete` says whether all of it was seen; when
    /// not, open attachments close as truncated.
    pub fn finish(&mut self, complete: bool, files: &mut dyn FileSink) {
        if self.finished {
            return;
        }
        self.finished = true;
        let core = &mut self.core;
        self.lines.finish(&mut |seg, starts, ends| core.segment(seg, starts, ends, files));
        if let State::Headers { block, main: true } = &core.state {
            core.summary.fill_from_headers(block);
            core.main_done = true;
        }
        core.close_part(complete, true, files);
        if complete && !core.frames.is_empty() {
            core.anomalies.raise(MimeAnomaly::MissingFinalBoundary);
        }
        core.frames.clear();
        core.state = State::Skip;
    }

    /// Whether [`MimeParser::finish`] ran.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// What was learnt so far (complete after `finish`).
    pub fn summary(&self) -> &MailSummary {
        &self.core.summary
    }

    pub fn into_summary(self) -> MailSummary {
        self.core.summary
    }

    /// Anomalies raised since the last call.
    pub fn take_anomalies(&mut self) -> Vec<Anomaly> {
        self.core.anomalies.take()
    }
}

/// Textual parts are read, not extracted.
fn is_textual(ctype: &[u8]) -> bool {
    ctype.is_empty()
        || ctype.starts_with(b"text/")
        || ctype.starts_with(b"message/")
        || ctype.starts_with(b"multipart/")
}

impl Core {
    fn nesting(&self) -> usize {
        self.frames.len() + self.rfc822_depth
    }

    fn segment(&mut self, seg: &[u8], starts: bool, ends: bool, files: &mut dyn FileSink) {
        if starts && ends {
            if let Some((index, close)) = self.match_boundary(seg) {
                self.on_boundary(index, close, files);
                return;
            }
        }
        match &mut self.state {
            State::Headers { block, .. } => {
                let step = block.push(seg, starts, ends);
                if step == Step::End {
                    self.end_headers(files);
                }
            }
            State::Skip => {}
            State::Attachment(leaf) => {
                let file = leaf.file;
                let mut sink = |b: &[u8]| files.data(file, b);
                if starts {
                    let held = self.held.take();
                    leaf.decoder.feed(held.as_slice(), &mut sink);
                }
                let (content, eol) = if ends { split_eol(seg) } else { (seg, &[][..]) };
                leaf.decoder.feed(content, &mut sink);
                if ends {
                    self.held.set(eol);
                }
            }
        }
    }

    /// `--boundary` or `--boundary--` (trailing blanks allowed) of any open
    /// multipart, innermost first.
    fn match_boundary(&self, line: &[u8]) -> Option<(usize, bool)> {
        if self.frames.is_empty() {
            return None;
        }
        let line = split_eol(line).0;
        let line = line.strip_prefix(b"--")?;
        let end = line.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(0, |p| p + 1);
        let line = &line[..end];
        self.frames.iter().enumerate().rev().find_map(|(i, f)| match line.strip_prefix(f.boundary.as_slice())? {
            b"" => Some((i, false)),
            b"--" => Some((i, true)),
            _ => None,
        })
    }

    fn on_boundary(&mut self, index: usize, close: bool, files: &mut dyn FileSink) {
        if let State::Headers { block, main } = &self.state {
            self.anomalies.raise(MimeAnomaly::BoundaryInHeaders);
            if *main && !self.main_done {
                self.summary.fill_from_headers(block);
                self.main_done = true;
            }
        }
        // The part ends here; the CRLF before the boundary is the boundary's.
        self.close_part(true, false, files);
        if self.frames.len() > index + 1 {
            self.anomalies.raise(MimeAnomaly::UnclosedNestedMultipart);
        }
        self.frames.truncate(index + 1);
        self.rfc822_depth = self.frames.get(index).map_or(0, |f| f.rfc822_depth);
        if close {
            self.frames.truncate(index);
            self.state = State::Skip;
        } else {
            self.state = State::Headers { block: HeaderBlock::default(), main: false };
        }
    }

    /// Closes the open attachment, if any. `keep_eol` says whether the held
    /// line ending is content (end of message) or the boundary's.
    fn close_part(&mut self, complete: bool, keep_eol: bool, files: &mut dyn FileSink) {
        let held = self.held.take();
        if let State::Attachment(leaf) = &mut self.state {
            let file = leaf.file;
            let mut sink = |b: &[u8]| files.data(file, b);
            if keep_eol {
                leaf.decoder.feed(held.as_slice(), &mut sink);
            }
            leaf.decoder.finish(&mut sink);
            if let Decoder::Base64(d) = &leaf.decoder {
                if d.dangling {
                    self.anomalies.raise(MimeAnomaly::InvalidBase64);
                }
            }
            files.close(file, if complete { FileEnd::Closed } else { FileEnd::Truncated });
        }
        self.state = State::Skip;
    }

    fn end_headers(&mut self, files: &mut dyn FileSink) {
        let State::Headers { block, main } = std::mem::replace(&mut self.state, State::Skip) else {
            return;
        };
        if block.issues.invalid_line {
            self.anomalies.raise(MimeAnomaly::InvalidHeader);
        }
        if block.issues.value_too_long {
            self.anomalies.raise(MimeAnomaly::HeaderTooLong);
        }
        if block.issues.block_too_large {
            self.anomalies.raise(MimeAnomaly::HeaderBlockTooLarge);
        }
        if main {
            self.summary.fill_from_headers(&block);
            self.main_done = true;
        }
        let ctype = StructuredValue::parse(block.get(Field::ContentType).unwrap_or(b"text/plain"));
        let cte = block.get(Field::ContentTransferEncoding).unwrap_or_default().to_ascii_lowercase();

        if ctype.value.starts_with(b"multipart/") {
            self.begin_multipart(&ctype);
            return;
        }
        if ctype.value == b"message/rfc822" && !matches!(cte.as_slice(), b"base64" | b"quoted-printable") {
            if self.nesting() >= MAX_DEPTH {
                self.anomalies.raise(MimeAnomaly::NestingTooDeep);
                return;
            }
            self.rfc822_depth += 1;
            self.state = State::Headers { block: HeaderBlock::default(), main: false };
            return;
        }

        let disposition = StructuredValue::parse(block.get(Field::ContentDisposition).unwrap_or_default());
        let filename = disposition.param("filename").or_else(|| ctype.param("name")).filter(|n| !n.is_empty());
        let attachment = filename.is_some() || disposition.value == b"attachment" || !is_textual(&ctype.value);
        if !attachment {
            return;
        }
        let name = truncate_utf8(filename.unwrap_or_default(), MAX_NAME);
        if !name.is_empty() && !self.summary.add_attachment(&name) {
            self.anomalies.raise(MimeAnomaly::TooManyAttachments);
        }
        let meta = FileMeta {
            name: name.into_bytes(),
            tx_id: self.tx_id,
            declared_size: None,
            content_type: Some(ctype.value.clone()).filter(|c| !c.is_empty()),
        };
        let file = files.open(self.dir, meta);
        self.state = State::Attachment(Leaf { file, decoder: Decoder::for_encoding(cte.trim_ascii()) });
    }

    fn begin_multipart(&mut self, ctype: &StructuredValue) {
        let Some(boundary) = ctype.raw_param(b"boundary").filter(|b| !b.is_empty()) else {
            self.anomalies.raise(MimeAnomaly::MissingBoundaryParam);
            return;
        };
        if boundary.len() > MAX_BOUNDARY {
            self.anomalies.raise(MimeAnomaly::BoundaryTooLong);
            return;
        }
        if self.nesting() >= MAX_DEPTH {
            self.anomalies.raise(MimeAnomaly::NestingTooDeep);
            return;
        }
        self.frames.push(Frame { boundary: boundary.to_vec(), rfc822_depth: self.rfc822_depth });
        // Preamble until the first boundary.
        self.state = State::Skip;
    }
}
