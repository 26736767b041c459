//! A part's header block, read line by line with folding, keeping only the
//! headers we use and bounding what is kept.

use super::lines::split_eol;

/// Most bytes kept of one header value.
pub const MAX_VALUE: usize = 16 * 1024;
/// Most bytes of one header block read before we give up on finding its
/// end and treat the rest as body.
pub const MAX_BLOCK: usize = 256 * 1024;
/// Most values kept per header name (`To:` may repeat).
const MAX_REPEATS: usize = 16;

/// The headers we look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    ContentType,
    ContentDisposition,
    ContentTransferEncoding,
    From,
    To,
    Cc,
    Subject,
    MessageId,
    Date,
}

impl Field {
    fn from_name(name: &[u8]) -> Option<Field> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_slice() {
            b"content-type" => Field::ContentType,
            b"content-disposition" => Field::ContentDisposition,
            b"content-transfer-encoding" => Field::ContentTransferEncoding,
            b"from" => Field::From,
            b"to" => Field::To,
            b"cc" => Field::Cc,
            b"subject" => Field::Subject,
            b"message-id" => Field::MessageId,
            b"date" => Field::Date,
            _ => return None,
        })
    }
}

/// What reading a header line led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Continue,
    /// The blank line: the block is complete.
    End,
}

/// Problems noticed while reading the block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Issues {
    pub invalid_line: bool,
    pub value_too_long: bool,
    pub block_too_large: bool,
}

#[derive(Debug, Default)]
pub struct HeaderBlock {
    kept: Vec<(Field, Vec<u8>)>,
    /// Index in `kept` of the header that continuation lines extend; None
    /// while inside a header we do not keep.
    current: Option<usize>,
    seen: usize,
    pub issues: Issues,
}

impl HeaderBlock {
    /// Takes one line segment (see [`super::lines::LineSplitter`]).
    pub fn push(&mut self, seg: &[u8], starts: bool, ends: bool) -> Step {
        self.seen = self.seen.saturating_add(seg.len());
        let content = if ends { split_eol(seg).0 } else { seg };
        if starts {
            if ends && content.is_empty() {
                return Step::End;
            }
            if matches!(content.first(), Some(b' ' | b'\t')) {
                self.append(content);
            } else {
                self.start_header(content);
            }
        } else {
            self.append(content);
        }
        if self.seen > MAX_BLOCK {
            self.issues.block_too_large = true;
            return Step::End;
        }
        Step::Continue
    }

    fn start_header(&mut self, line: &[u8]) {
        self.current = None;
        let Some(colon) = memchr::memchr(b':', line) else {
            self.issues.invalid_line = true;
            return;
        };
        let Some(field) = Field::from_name(line[..colon].trim_ascii()) else {
            return;
        };
        if self.kept.iter().filter(|(f, _)| *f == field).count() >= MAX_REPEATS {
            return;
        }
        self.kept.push((field, Vec::new()));
        self.current = Some(self.kept.len() - 1);
        self.append(&line[colon + 1..]);
    }

    fn append(&mut self, bytes: &[u8]) {
        let Some((_, value)) = self.current.and_then(|i| self.kept.get_mut(i)) else {
            return;
        };
        let room = MAX_VALUE.saturating_sub(value.len());
        if bytes.len() > room {
            self.issues.value_too_long = true;
        }
        value.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// The first value of `field`, trimmed.
    pub fn get(&self, field: Field) -> Option<&[u8]> {
        self.kept.iter().find(|(f, _)| *f == field).map(|(_, v)| v.trim_ascii())
    }

    /// Every value of `field`, trimmed.
    pub fn all(&self, field: Field) -> impl Iterator<Item = &[u8]> {
        self.kept.iter().filter(move |(f, _)| *f == field).map(|(_, v)| v.trim_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(lines: &[&[u8]]) -> (HeaderBlock, Vec<Step>) {
        let mut h = HeaderBlock::default();
        let steps = lines.iter().map(|l| h.push(l, true, true)).collect();
        (h, steps)
    }

    #[test]
    fn folding_and_case() {
        let (h, steps) = block(&[
            b"SUBJECT: hello\r\n",
            b"\t world\r\n",
            b"X-Ignored: a\r\n",
            b" folded ignored\r\n",
            b"content-type: text/plain;\r\n",
            b" charset=utf-8\r\n",
            b"\r\n",
        ]);
        assert_eq!(steps.last(), Some(&Step::End));
        assert_eq!(h.get(Field::Subject).unwrap(), b"hello\t world");
        assert_eq!(h.get(Field::ContentType).unwrap(), b"text/plain; charset=utf-8");
        assert_eq!(h.issues, Issues::default());
    }

    #[test]
    fn invalid_lines_and_repeats() {
        let (h, _) = block(&[b"no colon here\n", b"To: a@x\n", b"To: b@x\n"]);
        assert!(h.issues.invalid_line);
        assert_eq!(h.all(Field::To).collect::<Vec<_>>(), vec![&b"a@x"[..], &b"b@x"[..]]);
    }

    #[test]
    fn long_values_are_capped() {
        let mut h = HeaderBlock::default();
        h.push(b"Subject: ", true, false);
        let chunk = vec![b'a'; 4096];
        for _ in 0..8 {
            h.push(&chunk, false, false);
        }
        h.push(b"\r\n", false, true);
        assert_eq!(h.get(Field::Subject).unwrap().len(), MAX_VALUE - 1);
        assert!(h.issues.value_too_long);
    }

    #[test]
    fn endless_block_ends() {
        let mut h = HeaderBlock::default();
        let line = vec![b'X'; 1000];
        let mut ended = false;
        for _ in 0..(MAX_BLOCK / 1000 + 2) {
            if h.push(&line, true, true) == Step::End {
                ended = true;
                break;
            }
        }
        assert!(ended && h.issues.block_too_large);
    }
}
