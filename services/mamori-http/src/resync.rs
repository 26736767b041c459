//! Finding the next message start after a gap or junk: a line beginning
//! with a known method and a space (requests) or `HTTP/1.` (responses).

use crate::eol::Side;
use crate::probe::KNOWN_METHODS;

const LF: u8 = b'\n';
/// Bytes of a line start kept while deciding (longest pattern + 1).
const PREFIX: usize = 24;

#[derive(Debug)]
pub(crate) struct Resync {
    side: Side,
    prefix: Vec<u8>,
    at_line_start: bool,
}

/// Result of a scan.
#[derive(Debug)]
pub(crate) struct ResyncOut {
    /// Bytes of the input used.
    pub(crate) consumed: usize,
    /// A message start was found: these bytes (possibly begun in earlier
    /// input) start it and must be parsed before the rest of the input.
    pub(crate) found: Option<Vec<u8>>,
}

#[derive(PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Partial,
}

fn classify(side: Side, p: &[u8]) -> Tri {
    let mut partial = false;
    let mut check = |pat: &[u8], sep: &[u8]| {
        let whole_len = pat.len() + sep.len();
        if p.len() >= whole_len {
            if p.starts_with(pat) && p.get(pat.len()..whole_len) == Some(sep) {
                return true;
            }
        } else {
            let (a, b) = p.split_at(p.len().min(pat.len()));
            if pat.starts_with(a) && sep.starts_with(b) {
                partial = true;
            }
        }
        false
    };
    let hit = match side {
        Side::Request => KNOWN_METHODS.iter().any(|m| check(m, b" ")),
        Side::Response => check(b"HTTP/1", b"."),
    };
    if hit {
        Tri::Yes
    } else if partial {
        Tri::Partial
    } else {
        Tri::No
    }
}

impl Resync {
    pub(crate) fn new(side: Side) -> Self {
        Resync { side, prefix: Vec::new(), at_line_start: true }
    }

    pub(crate) fn scan(&mut self, input: &[u8]) -> ResyncOut {
        let mut i = 0;
        loop {
            if self.at_line_start {
                // Grow the line start byte by byte until it is decided.
                let mut verdict = classify(self.side, &self.prefix);
                while verdict == Tri::Partial && self.prefix.len() < PREFIX {
                    let Some(&c) = input.get(i) else { break };
                    self.prefix.push(c);
                    i += 1;
                    verdict = classify(self.side, &self.prefix);
                }
                match verdict {
                    Tri::Yes => {
                        return ResyncOut { consumed: i, found: Some(std::mem::take(&mut self.prefix)) };
                    }
                    Tri::Partial if self.prefix.len() < PREFIX => {
                        return ResyncOut { consumed: i, found: None };
                    }
                    _ => {
                        // The line's first bytes decided "no"; a LF among
                        // them starts a new line right away.
                        let ended_line = self.prefix.last() == Some(&LF);
                        self.prefix.clear();
                        self.at_line_start = ended_line;
                        if ended_line {
                            continue;
                        }
                    }
                }
            }
            match memchr::memchr(LF, input.get(i..).unwrap_or(&[])) {
                Some(off) => {
                    i += off + 1;
                    self.at_line_start = true;
                }
                None => return ResyncOut { consumed: input.len(), found: None },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_request_start_after_junk() {
        let mut r = Resync::new(Side::Request);
        let out = r.scan(b"tail of a body\r\nGET /x HTTP/1.1\r\n");
        assert_eq!(out.consumed, 16 + 4);
        assert_eq!(out.found.as_deref(), Some(&b"GET "[..]));
    }

    #[test]
    fn start_split_across_inputs() {
        let mut r = Resync::new(Side::Response);
        let out = r.scan(b"junk\nHT");
        assert!(out.found.is_none());
        assert_eq!(out.consumed, 7);
        let out = r.scan(b"TP/1.1 200 OK\r\n");
        assert_eq!(out.found.as_deref(), Some(&b"HTTP/1."[..]));
        assert_eq!(out.consumed, 5);
    }

    #[test]
    fn no_false_start_mid_line() {
        let mut r = Resync::new(Side::Request);
        let out = r.scan(b"xx GET / HTTP/1.1\r\n");
        assert!(out.found.is_none());
        let out = r.scan(b"GETX\r\nPOST /");
        assert_eq!(out.found.as_deref(), Some(&b"POST "[..]));
    }
}
