//! Splits a byte stream into lines without ever holding a whole line.
//!
//! A segment that starts a line is either the complete line (LF included)
//! or at least [`HEAD_MAX`] bytes of it, which is enough to tell a boundary
//! or a header name; the rest of a long line follows as further segments.

/// Bytes of a line's start kept to recognise boundaries and header names.
pub const HEAD_MAX: usize = 1024;

#[derive(Debug, Default)]
pub struct LineSplitter {
    head: Vec<u8>,
    mid_line: bool,
}

impl LineSplitter {
    /// Calls `f(segment, starts_line, ends_line)` for each segment of `data`.
    pub fn feed(&mut self, mut data: &[u8], f: &mut dyn FnMut(&[u8], bool, bool)) {
        while !data.is_empty() {
            if self.mid_line {
                match memchr::memchr(b'\n', data) {
                    Some(i) => {
                        f(&data[..=i], false, true);
                        data = &data[i + 1..];
                        self.mid_line = false;
                    }
                    None => {
                        f(data, false, false);
                        return;
                    }
                }
                continue;
            }
            let room = HEAD_MAX - self.head.len();
            let window = &data[..room.min(data.len())];
            match memchr::memchr(b'\n', window) {
                Some(i) => {
                    if self.head.is_empty() {
                        f(&data[..=i], true, true);
                    } else {
                        self.head.extend_from_slice(&data[..=i]);
                        f(&self.head, true, true);
                        self.head.clear();
                    }
                    data = &data[i + 1..];
                }
                None if window.len() == room => {
                    self.head.extend_from_slice(window);
                    f(&self.head, true, false);
                    self.head.clear();
                    self.mid_line = true;
                    data = &data[room..];
                }
                None => {
                    self.head.extend_from_slice(window);
                    return;
                }
            }
        }
    }

    /// Flushes an unterminated last line.
    pub fn finish(&mut self, f: &mut dyn FnMut(&[u8], bool, bool)) {
        if !self.head.is_empty() {
            f(&self.head, true, true);
            self.head.clear();
        }
        self.mid_line = false;
    }
}

/// Splits a line-ending segment into content and its CRLF / LF.
pub fn split_eol(seg: &[u8]) -> (&[u8], &[u8]) {
    if let Some(c) = seg.strip_suffix(b"\r\n") {
        (c, &seg[c.len()..])
    } else if let Some(c) = seg.strip_suffix(b"\n") {
        (c, &seg[c.len()..])
    } else {
        (seg, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(chunks: &[&[u8]]) -> Vec<(Vec<u8>, bool, bool)> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut |seg, a, b| out.push((seg.to_vec(), a, b)));
        }
        s.finish(&mut |seg, a, b| out.push((seg.to_vec(), a, b)));
        out
    }

    #[test]
    fn lines_across_chunks() {
        let out = collect(&[b"ab", b"c\r\nde", b"f\nlast"]);
        assert_eq!(
            out,
            vec![(b"abc\r\n".to_vec(), true, true), (b"def\n".to_vec(), true, true), (b"last".to_vec(), true, true)]
        );
    }

    #[test]
    fn long_line_is_cut_after_head() {
        let mut line = vec![b'x'; HEAD_MAX + 10];
        line.push(b'\n');
        let out = collect(&[&line[..5], &line[5..]]);
        assert_eq!(out[0].0.len(), HEAD_MAX);
        assert!(out[0].1 && !out[0].2);
        assert_eq!(out[1], (line[HEAD_MAX..].to_vec(), false, true));
        let joined: Vec<u8> = out.iter().flat_map(|s| s.0.clone()).collect();
        assert_eq!(joined, line);
    }

    #[test]
    fn eol_split() {
        assert_eq!(split_eol(b"a\r\n"), (&b"a"[..], &b"\r\n"[..]));
        assert_eq!(split_eol(b"a\n"), (&b"a"[..], &b"\n"[..]));
        assert_eq!(split_eol(b"a"), (&b"a"[..], &b""[..]));
    }
}
