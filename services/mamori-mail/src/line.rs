//! Bounded line reading for command and reply lines.

/// What feeding bytes produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// No complete line yet; everything offered was taken.
    NeedMore,
    /// A line is complete: read it with [`LineReader::line`].
    Line,
    /// The line outgrew the limit; it is dropped up to its end.
    TooLong,
    /// The end of a dropped line (or of the partial line after a gap).
    Skipped,
}

#[derive(Debug)]
pub struct LineReader {
    buf: Vec<u8>,
    max: usize,
    discarding: bool,
    ready: bool,
}

impl LineReader {
    pub fn new(max: usize) -> LineReader {
        LineReader { buf: Vec::new(), max, discarding: false, ready: false }
    }

    /// Takes bytes of `data` up to the end of the next line; returns how many
    /// were taken and what happened.
    pub fn feed(&mut self, data: &[u8]) -> (usize, Feed) {
        if self.ready {
            self.buf.clear();
            self.ready = false;
        }
        let lf = memchr::memchr(b'\n', data);
        if self.discarding {
            return match lf {
                Some(i) => {
                    self.discarding = false;
                    (i + 1, Feed::Skipped)
                }
                None => (data.len(), Feed::NeedMore),
            };
        }
        match lf {
            Some(i) if self.buf.len() + i <= self.max => {
                self.buf.extend_from_slice(&data[..i]);
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                self.ready = true;
                (i + 1, Feed::Line)
            }
            Some(i) => {
                self.buf.clear();
                (i + 1, Feed::TooLong)
            }
            None if self.buf.len() + data.len() <= self.max => {
                self.buf.extend_from_slice(data);
                (data.len(), Feed::NeedMore)
            }
            None => {
                self.buf.clear();
                self.discarding = true;
                (data.len(), Feed::TooLong)
            }
        }
    }

    /// The completed line, without its CRLF / LF.
    pub fn line(&self) -> &[u8] {
        if self.ready {
            &self.buf
        } else {
            &[]
        }
    }

    /// Whether a partial line is buffered.
    pub fn is_mid_line(&self) -> bool {
        !self.ready && (!self.buf.is_empty() || self.discarding)
    }

    /// After a gap: the partial line is lost, drop up to the next line end.
    pub fn resync(&mut self) {
        self.buf.clear();
        self.ready = false;
        self.discarding = true;
    }
}

/// Lossy text of at most `max` bytes, for events and EVE fields.
pub fn text(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    String::from_utf8_lossy(cut).into_owned()
}

/// Splits `VERB rest` at the first space.
pub fn verb_and_rest(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', line) {
        Some(i) => (&line[..i], line[i + 1..].trim_ascii()),
        None => (line.trim_ascii(), &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(r: &mut LineReader, mut data: &[u8]) -> Vec<(Feed, Vec<u8>)> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let (n, f) = r.feed(data);
            data = &data[n..];
            if f != Feed::NeedMore {
                out.push((f, r.line().to_vec()));
            }
        }
        out
    }

    #[test]
    fn crlf_and_lf_lines_across_feeds() {
        let mut r = LineReader::new(100);
        assert!(lines(&mut r, b"EHLO a").is_empty());
        assert!(r.is_mid_line());
        let out = lines(&mut r, b".b\r\nQUIT\n");
        assert_eq!(out, vec![(Feed::Line, b"EHLO a.b".to_vec()), (Feed::Line, b"QUIT".to_vec())]);
    }

    #[test]
    fn too_long_lines_are_dropped_then_resync() {
        let mut r = LineReader::new(8);
        let out = lines(&mut r, b"0123456789abc\r\nok\r\n");
        assert_eq!(out, vec![(Feed::TooLong, vec![]), (Feed::Line, b"ok".to_vec())]);
        let out = lines(&mut r, b"0123456789");
        assert_eq!(out, vec![(Feed::TooLong, vec![])]);
        let out = lines(&mut r, b"more\r\nok\r\n");
        assert_eq!(out, vec![(Feed::Skipped, vec![]), (Feed::Line, b"ok".to_vec())]);
    }

    #[test]
    fn resync_drops_partial() {
        let mut r = LineReader::new(100);
        lines(&mut r, b"MAIL FR");
        r.resync();
        let out = lines(&mut r, b"OM:<x>\r\nRSET\r\n");
        assert_eq!(out, vec![(Feed::Skipped, vec![]), (Feed::Line, b"RSET".to_vec())]);
    }
}
