//! Streaming chunked transfer-coding decoder, lenient like libhtp: junk
//! after the size digits is ignored (`fx` is 15), empty lines before a size
//! are skipped, anything up to LF after chunk data is skipped, and a size
//! line that does not start with a hex digit means "not chunked after all".

const LF: u8 = b'\n';
const CR: u8 = b'\r';

/// Longest run of whitespace tolerated before the size digits. Bounds the
/// bytes kept for replay when the body turns out not to be chunked.
const MAX_LEADING_WS: usize = 1024;
/// Sizes above this are treated as invalid (libhtp refuses > i32::MAX too).
const MAX_CHUNK: u64 = i64::MAX as u64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Before the first hex digit of a size line; holds the whitespace seen.
    SizeStart {
        ws: Vec<u8>,
    },
    SizeDigits {
        value: u64,
        digits: u8,
    },
    /// After the digits: extensions or junk up to LF.
    SizeRest {
        value: u64,
    },
    Data {
        left: u64,
    },
    /// After chunk data: skip to LF.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    TrailerLineStart,
    /// A CR at the start of a trailer line: LF next ends the body.
    TrailerCr,
    TrailerLine {
        len: usize,
    },
    Done,
}

/// What one call produced besides data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Needs more input.
    More,
    /// The last chunk and the trailers were read.
    Done,
    /// The size line is not a size. `replay` holds bytes of it already
    /// consumed; they and the rest of the input are plain body.
    Invalid { replay: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunked {
    state: State,
    /// A chunk extension (`;`) was seen.
    pub(crate) saw_extension: bool,
    /// The zero-size chunk was seen: the content is complete even if the
    /// trailer never ends.
    pub(crate) last_chunk_seen: bool,
    trailer_bytes: usize,
    max_trailer: usize,
}

impl Chunked {
    pub(crate) fn new(max_trailer: usize) -> Self {
        Chunked {
            state: State::SizeStart { ws: Vec::new() },
            saw_extension: false,
            last_chunk_seen: false,
            trailer_bytes: 0,
            max_trailer,
        }
    }

    /// Decodes from `input`, handing chunk data to `data`. Returns how many
    /// bytes were consumed and why it stopped. Stops right after the end of
    /// the body, leaving what follows unconsumed.
    pub(crate) fn feed(&mut self, input: &[u8], data: &mut dyn FnMut(&[u8])) -> (usize, Outcome) {
        let mut i = 0;
        while i < input.len() {
            let rest = input.get(i..).unwrap_or(&[]);
            let Some(&c) = rest.first() else { break };
            match &mut self.state {
                State::SizeStart { ws } => {
                    if c == LF {
                        // Empty line where a size should be: skip it.
                        ws.clear();
                        i += 1;
                    } else if matches!(c, b' ' | b'\t' | CR | 0x0b | 0x0c) {
                        if ws.len() >= MAX_LEADING_WS {
                            let replay = std::mem::take(ws);
                            return (i, Outcome::Invalid { replay });
                        }
                        ws.push(c);
                        i += 1;
                    } else if let Some(d) = hex(c) {
                        self.state = State::SizeDigits { value: u64::from(d), digits: 1 };
                        i += 1;
                    } else {
                        let replay = std::mem::take(ws);
                        return (i, Outcome::Invalid { replay });
                    }
                }
                State::SizeDigits { value, digits } => {
                    if let Some(d) = hex(c) {
                        let next =
                            value.checked_mul(16).and_then(|v| v.checked_add(u64::from(d))).filter(|&v| v <= MAX_CHUNK);
                        match next {
                            Some(v) if *digits < 16 => {
                                *value = v;
                                *digits += 1;
                                i += 1;
                            }
                            _ => return (i, Outcome::Invalid { replay: Vec::new() }),
                        }
                    } else {
                        let value = *value;
                        self.state = State::SizeRest { value };
                    }
                }
                State::SizeRest { value } => {
                    let value = *value;
                    match memchr::memchr(LF, rest) {
                        Some(off) => {
                            if rest.get(..off).is_some_and(|r| r.contains(&b';')) {
                                self.saw_extension = true;
                            }
                            i += off + 1;
                            self.state = if value == 0 {
                                self.last_chunk_seen = true;
                                State::TrailerLineStart
                            } else {
                                State::Data { left: value }
                            };
                        }
                        None => {
                            if rest.contains(&b';') {
                                self.saw_extension = true;
                            }
                            i = input.len();
                        }
                    }
                }
                State::Data { left } => {
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(rest.len());
                    if let Some(chunk) = rest.get(..n) {
                        data(chunk);
                    }
                    *left -= n as u64;
                    i += n;
                    if *left == 0 {
                        self.state = State::DataEnd;
                    }
                }
                State::DataEnd => match memchr::memchr(LF, rest) {
                    Some(off) => {
                        i += off + 1;
                        self.state = State::SizeStart { ws: Vec::new() };
                    }
                    None => i = input.len(),
                },
                State::TrailerLineStart => {
                    if c == LF {
                        i += 1;
                        self.state = State::Done;
                        return (i, Outcome::Done);
                    }
                    if c == CR {
                        i += 1;
                        self.state = State::TrailerCr;
                    } else {
                        self.state = State::TrailerLine { len: 0 };
                    }
                }
                State::TrailerCr => {
                    if c == LF {
                        i += 1;
                        self.state = State::Done;
                        return (i, Outcome::Done);
                    }
                    self.state = State::TrailerLine { len: 1 };
                }
                State::TrailerLine { len } => match memchr::memchr(LF, rest) {
                    Some(off) => {
                        i += off + 1;
                        self.trailer_bytes = self.trailer_bytes.saturating_add(off + 1);
                        self.state = State::TrailerLineStart;
                        if self.trailer_bytes > self.max_trailer {
                            self.state = State::Done;
                            return (i, Outcome::Done);
                        }
                    }
                    None => {
                        *len = len.saturating_add(rest.len());
                        self.trailer_bytes = self.trailer_bytes.saturating_add(rest.len());
                        i = input.len();
                        if self.trailer_bytes > self.max_trailer {
                            self.state = State::Done;
                            return (i, Outcome::Done);
                        }
                    }
                },
                State::Done => return (i, Outcome::Done),
            }
        }
        (i, Outcome::More)
    }

    /// Skips `len` lost bytes. True when they fell inside one chunk's data,
    /// so framing is still known.
    pub(crate) fn skip(&mut self, len: u64) -> bool {
        match &mut self.state {
            State::Data { left } if len <= *left => {
                *left -= len;
                if *left == 0 {
                    self.state = State::DataEnd;
                }
                true
            }
            _ => false,
        }
    }

    /// The input ended (connection closed): was the content complete?
    pub(crate) fn content_complete(&self) -> bool {
        // A final "0" whose line break never came still ends the content.
        self.last_chunk_seen || matches!(self.state, State::SizeDigits { value: 0, .. } | State::SizeRest { value: 0 })
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes in one call and byte by byte; both must agree.
    fn decode(input: &[u8]) -> (Vec<u8>, usize, Outcome) {
        let mut whole = Chunked::new(1024);
        let mut out = Vec::new();
        let (n, o) = whole.feed(input, &mut |d| out.extend_from_slice(d));

        let mut bytewise = Chunked::new(1024);
        let mut out2 = Vec::new();
        let mut used = 0;
        let mut o2 = Outcome::More;
        while used < input.len() {
            let (k, oc) = bytewise.feed(&input[used..used + 1], &mut |d| out2.extend_from_slice(d));
            assert!(k == 1 || oc != Outcome::More, "a byte was left unconsumed");
            used += k;
            o2 = oc;
            if o2 != Outcome::More {
                break;
            }
        }
        assert_eq!(out, out2);
        assert_eq!(o, o2);
        assert_eq!(n, used);
        (out, n, o)
    }

    #[test]
    fn simple_and_pipelined() {
        let (out, n, o) = decode(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT");
        assert_eq!(out, b"hello world");
        assert_eq!(o, Outcome::Done);
        assert_eq!(n, 26);
    }

    #[test]
    fn lenient_sizes_extensions_and_empty_lines() {
        let (out, _, o) = decode(b"fx\r\nX5O!P%@AP[4\\PZX\r\n\r\n3; foo=bar\r\nabc\r\n0\r\n\r\n");
        assert_eq!(out, b"X5O!P%@AP[4\\PZXabc");
        assert_eq!(o, Outcome::Done);
        let mut c = Chunked::new(10);
        c.feed(b"1;x\r\na\r\n", &mut |_| {});
        assert!(c.saw_extension);
    }

    #[test]
    fn trailers_and_lf_only() {
        let (out, _, o) = decode(b"3\nabc\n0\nX-T: 1\nY: 2\n\nrest");
        assert_eq!(out, b"abc");
        assert_eq!(o, Outcome::Done);
    }

    #[test]
    fn not_chunked_is_reported_with_replay() {
        let mut c = Chunked::new(10);
        let (n, o) = c.feed(b"  X5O!P", &mut |_| panic!("no data"));
        assert_eq!(n, 2);
        assert_eq!(o, Outcome::Invalid { replay: b"  ".to_vec() });
    }

    #[test]
    fn oversized_size_is_invalid() {
        let mut c = Chunked::new(10);
        let (_, o) = c.feed(b"fffffffffffffffff\r\n", &mut |_| {});
        assert!(matches!(o, Outcome::Invalid { .. }));
    }

    #[test]
    fn last_chunk_without_trailer_end() {
        let mut c = Chunked::new(10);
        let (_, o) = c.feed(b"3\r\n+H*\r\n", &mut |_| {});
        assert_eq!(o, Outcome::More);
        assert!(!c.content_complete());
        c.feed(b"0", &mut |_| {});
        assert!(c.content_complete(), "a bare final 0 at close completes the content");
        c.feed(b"\r\nfoobar\r\n", &mut |_| {});
        assert!(c.content_complete());
    }

    #[test]
    fn trailer_limit_ends_body() {
        let mut c = Chunked::new(8);
        let (_, o) = c.feed(b"0\r\nX-Long-Trailer: aaaaaaaaaaaaa\r\n", &mut |_| {});
        assert_eq!(o, Outcome::Done);
    }

    #[test]
    fn skip_inside_chunk_keeps_framing() {
        let mut c = Chunked::new(10);
        let mut out = Vec::new();
        c.feed(b"a\r\n01", &mut |d| out.extend_from_slice(d));
        assert!(c.skip(4));
        let (_, o) = c.feed(b"6789\r\n0\r\n\r\n", &mut |d| out.extend_from_slice(d));
        assert_eq!(o, Outcome::Done);
        assert_eq!(out, b"016789");
        assert!(!c.skip(1));
    }
}
