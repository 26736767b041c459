//! The dot-terminated, dot-stuffed bodies of SMTP DATA and POP3 multi-line
//! responses (RFC 5321 §4.5.2, RFC 1939 §3).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    LineStart,
    /// A line began with `.`, which was dropped.
    Dot,
    /// `.` then CR, held back until we see whether LF follows.
    DotCr,
    Mid,
}

/// Removes the stuffed dots and finds the terminating `.` line. Lenient
/// about bare LF line ends.
#[derive(Clone, Debug)]
pub struct DotDecoder {
    state: State,
}

impl DotDecoder {
    /// A decoder at the start of the body.
    pub fn new() -> DotDecoder {
        DotDecoder { state: State::LineStart }
    }

    /// A decoder resuming in the middle of a line (after a gap).
    pub fn mid_line() -> DotDecoder {
        DotDecoder { state: State::Mid }
    }

    /// Passes unstuffed content to `out`; returns the bytes consumed and
    /// whether the terminator was found (then the rest of `data` is not
    /// body).
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(&[u8])) -> (usize, bool) {
        let mut run_start = 0;
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            match self.state {
                State::LineStart => {
                    if b == b'.' {
                        if run_start < i {
                            out(&data[run_start..i]);
                        }
                        run_start = i + 1;
                        self.state = State::Dot;
                    } else if b != b'\n' {
                        self.state = State::Mid;
                    }
                    i += 1;
                }
                State::Dot => match b {
                    b'\r' => {
                        run_start = i + 1;
                        self.state = State::DotCr;
                        i += 1;
                    }
                    b'\n' => {
                        self.state = State::LineStart;
                        return (i + 1, true);
                    }
                    _ => self.state = State::Mid,
                },
                State::DotCr => {
                    if b == b'\n' {
                        self.state = State::LineStart;
                        return (i + 1, true);
                    }
                    // ".\r" then more: the CR is content after all.
                    out(b"\r");
                    run_start = i;
                    self.state = State::Mid;
                }
                State::Mid => match memchr::memchr(b'\n', &data[i..]) {
                    Some(off) => {
                        i += off + 1;
                        self.state = State::LineStart;
                    }
                    None => i = data.len(),
                },
            }
        }
        if run_start < data.len() && self.state != State::DotCr {
            out(&data[run_start..]);
        }
        (data.len(), false)
    }
}

impl Default for DotDecoder {
    fn default() -> Self {
        DotDecoder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> (Vec<u8>, Option<usize>) {
        let mut d = DotDecoder::new();
        let mut out = Vec::new();
        let mut total = 0;
        for c in chunks {
            let (n, end) = d.feed(c, &mut |b| out.extend_from_slice(b));
            total += n;
            if end {
                return (out, Some(total));
            }
        }
        (out, None)
    }

    #[test]
    fn unstuffs_and_terminates() {
        let body = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nMAIL FROM";
        let (out, end) = run(&[body]);
        assert_eq!(out, b"Subject: x\r\n\r\n.leading dot\r\n");
        assert_eq!(end, Some(body.len() - 9));
    }

    #[test]
    fn every_split_gives_same_result() {
        let body = b"a\r\n..b\r\n.c\r\n.\rd\r\n\r\n..\r\n.\r\nrest";
        let (whole, end) = run(&[body]);
        assert_eq!(whole, b"a\r\n.b\r\nc\r\n\rd\r\n\r\n.\r\n");
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let got = run(&[&body[..i], &body[i..j], &body[j..]]);
                assert_eq!(got, (whole.clone(), end), "split {i} {j}");
            }
        }
    }

    #[test]
    fn bare_lf_terminator_and_empty_body() {
        assert_eq!(run(&[b".\n"]), (vec![], Some(2)));
        assert_eq!(run(&[b"x\n.\nmore"]), (b"x\n".to_vec(), Some(4)));
    }

    #[test]
    fn dot_not_at_line_start_is_content() {
        let (out, end) = run(&[b"a.b\r\n"]);
        assert_eq!((out.as_slice(), end), (&b"a.b\r\n"[..], None));
        let mut d = DotDecoder::mid_line();
        let mut out = Vec::new();
        let (_, end) = d.feed(b".\r\n.\r\n", &mut |b| out.extend_from_slice(b));
        assert!(end);
        assert_eq!(out, b".\r\n");
    }
}
