//! Finding the end of a header block and splitting it into fields.
//!
//! Hand-written rather than `httparse` because the semantics must follow
//! libhtp and the browsers, not RFC 9112: obsolete line folding (also with a
//! NUL or after a lone CR), lone-CR and deformed line breaks, whitespace
//! before the colon, lines without a colon, and whitespace-only lines that
//! either end the head or are ignored. `httparse` is still run on the head as
//! a strict conformance check (see `parser`), which flags every head that
//! needed this leniency.
//!
//! The scanner is incremental: every call continues where the previous one
//! stopped, so a head delivered one byte at a time costs linear time.

use crate::anomaly::{Anomalies, HttpAnomaly};
use crate::eol::{cut_line, empty_line_at, Cut, Eol, Side};
use crate::headers::{is_tchar, trim, Header};

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// What a scan step found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    NeedMore,
    /// The head ends at this buffer offset (after the empty line).
    End(usize),
    TooManyLines,
}

/// Incremental header block scanner over a caller-owned buffer that only
/// ever grows until the scan ends.
#[derive(Debug)]
pub(crate) struct HeadScanner {
    side: Side,
    /// Start of the next line to cut.
    pos: usize,
    /// Where the search for the current line's break resumes.
    resume: usize,
    /// Content spans of the header lines seen so far.
    lines: Vec<(usize, usize)>,
    /// The last line was whitespace only; what follows decides whether it
    /// ends the head.
    ws_pending: bool,
    max_lines: usize,
    deformed: bool,
}

enum AfterWs {
    NeedMore,
    /// The whitespace line ends the head.
    EndHere,
    /// An empty line follows; the head ends after it.
    EndAfter(usize),
    /// A header follows; the whitespace line is ignored.
    Continue,
}

fn is_ws_only(line: &[u8]) -> bool {
    line.iter().all(|&c| matches!(c, b' ' | b'\t' | 0 | 0x0b | 0x0c | CR))
}

/// Fold lines start with these. NUL counts on responses, as in libhtp
/// (http-evader "ce:\n\0gzip").
fn is_fold_start(c: u8, side: Side) -> bool {
    c == b' ' || c == b'\t' || (c == 0 && side == Side::Response)
}

impl HeadScanner {
    pub(crate) fn new(side: Side, start: usize, max_lines: usize) -> Self {
        HeadScanner {
            side,
            pos: start,
            resume: start,
            lines: Vec::new(),
            ws_pending: false,
            max_lines,
            deformed: false,
        }
    }

    /// Continues scanning `buf`. With `fin` no more bytes will come, and
    /// whatever is buffered is the head.
    pub(crate) fn scan(&mut self, buf: &[u8], fin: bool) -> Scan {
        loop {
            if self.ws_pending {
                match self.after_ws(buf, fin) {
                    AfterWs::NeedMore => return Scan::NeedMore,
                    AfterWs::EndHere => return Scan::End(self.pos),
                    AfterWs::EndAfter(n) => return Scan::End(self.pos + n),
                    AfterWs::Continue => self.ws_pending = false,
                }
            }
            let Some(&first) = buf.get(self.pos) else {
                return if fin { Scan::End(self.pos) } else { Scan::NeedMore };
            };
            if first == CR || first == LF {
                match empty_line_at(buf, self.pos, self.side, fin) {
                    Eol::NeedMore => return Scan::NeedMore,
                    Eol::Break(n) => return Scan::End(self.pos + n),
                    Eol::Content => {}
                }
            }
            match cut_line(buf, self.resume.max(self.pos), self.side, fin) {
                Cut::NeedMore { resume } => {
                    self.resume = resume;
                    return Scan::NeedMore;
                }
                Cut::Line { content_end, next } => {
                    if crate::eol::is_deformed(buf, content_end, next - content_end) && next > content_end {
                        self.deformed = true;
                    }
                    let line = buf.get(self.pos..content_end).unwrap_or(&[]);
                    if is_ws_only(line) {
                        self.ws_pending = true;
                    } else {
                        if self.lines.len() >= self.max_lines {
                            return Scan::TooManyLines;
                        }
                        self.lines.push((self.pos, content_end));
                    }
                    self.pos = next;
                    self.resume = next;
                }
            }
        }
    }

    /// libhtp's rule for a whitespace-only line: followed by an empty line it
    /// belongs to the terminator; followed by `name:` it is ignored;
    /// followed by anything else it ends the head (http-evader "end-lf\040lf"
    /// vs "emptycont").
    fn after_ws(&self, buf: &[u8], fin: bool) -> AfterWs {
        let rest = buf.get(self.pos..).unwrap_or(&[]);
        let Some(&first) = rest.first() else {
            return if fin { AfterWs::EndHere } else { AfterWs::NeedMore };
        };
        if first == CR || first == LF {
            match empty_line_at(buf, self.pos, self.side, fin) {
                Eol::NeedMore => return AfterWs::NeedMore,
                Eol::Break(n) => return AfterWs::EndAfter(n),
                Eol::Content => {}
            }
        }
        let mut i = rest.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        let tokens = rest.get(i..).unwrap_or(&[]).iter().take_while(|&&c| is_tchar(c)).count();
        i += tokens;
        i += rest.get(i..).unwrap_or(&[]).iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        match rest.get(i) {
            None if !fin => AfterWs::NeedMore,
            Some(b':') if tokens > 0 => AfterWs::Continue,
            _ => AfterWs::EndHere,
        }
    }

    /// Whether any line ended in something other than CRLF or LF.
    pub(crate) fn saw_deformed_eol(&self) -> bool {
        self.deformed
    }

    /// Unfolds and splits the lines seen into header fields.
    pub(crate) fn fields(&self, buf: &[u8], anomalies: &mut Anomalies) -> Vec<Header> {
        let (missing_colon, folding, lws_after_name, invalid) = match self.side {
            Side::Request => (
                HttpAnomaly::RequestFieldMissingColon,
                HttpAnomaly::InvalidRequestFieldFolding,
                HttpAnomaly::RequestInvalidLwsAfterName,
                HttpAnomaly::RequestHeaderInvalid,
            ),
            Side::Response => (
                HttpAnomaly::ResponseFieldMissingColon,
                HttpAnomaly::InvalidResponseFieldFolding,
                HttpAnomaly::ResponseInvalidLwsAfterName,
                HttpAnomaly::ResponseHeaderInvalid,
            ),
        };
        // Join folded lines first, then split on the colon: a name may be
        // folded onto the next line ("Transfer-Encoding\r\n :chunked").
        // Most heads fold nothing, so a line is joined into a buffer of its
        // own only when a continuation follows it.
        let field = |line: &[u8], anomalies: &mut Anomalies| match memchr::memchr(b':', line) {
            Some(colon) => {
                let raw_name = line.get(..colon).unwrap_or(&[]);
                let name = trim(raw_name);
                if raw_name.last().is_some_and(|&c| c == b' ' || c == b'\t') {
                    anomalies.push(lws_after_name);
                }
                if name.is_empty() || !name.iter().all(|&c| is_tchar(c)) {
                    anomalies.push(invalid);
                }
                Header::new(name, trim(line.get(colon + 1..).unwrap_or(&[])))
            }
            None => {
                anomalies.push(missing_colon);
                Header::new(&[], trim(line))
            }
        };
        let folded = |line: &[u8]| line.first().is_some_and(|&c| is_fold_start(c, self.side));
        let mut out = Vec::with_capacity(self.lines.len());
        let mut lines = self.lines.iter().map(|&(s, e)| buf.get(s..e).unwrap_or(&[])).peekable();
        while let Some(line) = lines.next() {
            if folded(line) {
                // A continuation with nothing to continue.
                anomalies.push(folding);
            }
            if !lines.peek().is_some_and(|next| folded(next)) {
                out.push(field(line, anomalies));
                continue;
            }
            let mut joined = line.to_vec();
            while let Some(piece) = lines.next_if(|next| folded(next)) {
                while joined.last().is_some_and(|&c| crate::headers::is_trim_ws(c)) {
                    joined.pop();
                }
                let piece = trim(piece);
                if !joined.is_empty() && !piece.is_empty() {
                    joined.push(b' ');
                }
                joined.extend_from_slice(piece);
            }
            out.push(field(&joined, anomalies));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans a complete response head (after the status line) in one go
    /// and in one-byte steps; both must agree.
    fn scan_all(side: Side, buf: &[u8]) -> (usize, Vec<(String, String)>) {
        let mut whole = HeadScanner::new(side, 0, 100);
        let end = match whole.scan(buf, false) {
            Scan::End(e) => e,
            other => match whole.scan(buf, true) {
                Scan::End(e) => e,
                _ => panic!("no end: {other:?}"),
            },
        };
        let mut bytewise = HeadScanner::new(side, 0, 100);
        let mut end2 = None;
        for n in 1..=buf.len() {
            if let Scan::End(e) = bytewise.scan(&buf[..n], false) {
                end2 = Some(e);
                break;
            }
        }
        let end2 = end2.unwrap_or_else(|| match bytewise.scan(buf, true) {
            Scan::End(e) => e,
            _ => panic!("no end bytewise"),
        });
        assert_eq!(end, end2, "streaming changed the head end");
        let mut an = Anomalies::default();
        let fields = whole
            .fields(buf, &mut an)
            .into_iter()
            .map(|h| (String::from_utf8_lossy(h.name()).into_owned(), String::from_utf8_lossy(h.value()).into_owned()))
            .collect();
        (end, fields)
    }

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn plain_crlf_head() {
        let buf = b"Host: a\r\nX-Y:  z \r\n\r\nBODY";
        let (end, fields) = scan_all(Side::Request, buf);
        assert_eq!(&buf[end..], b"BODY");
        assert_eq!(fields, f(&[("Host", "a"), ("X-Y", "z")]));
    }

    #[test]
    fn folded_values_and_names_are_joined() {
        let buf = b"Transfer-Encoding: x \r\n chunked\r\nTransfer-Encoding\r\n :chunked\r\n\r\n";
        let (_, fields) = scan_all(Side::Response, buf);
        assert_eq!(fields, f(&[("Transfer-Encoding", "x chunked"), ("Transfer-Encoding", "chunked")]));
    }

    #[test]
    fn lone_cr_fold_and_nul_fold_on_responses() {
        let buf = b"Content-Encoding:\r deflate\r\nContent-Encoding:\n\0gzip\r\n\r\n";
        let (_, fields) = scan_all(Side::Response, buf);
        assert_eq!(fields, f(&[("Content-Encoding", "deflate"), ("Content-Encoding", "gzip")]));
    }

    #[test]
    fn cr_junk_line_does_not_end_head() {
        // http-evader 284
        let buf = b"Connection: close\r\n\r\r\nTransfer-Encoding: chunked\r\n\r\n4";
        let (end, fields) = scan_all(Side::Response, buf);
        assert_eq!(&buf[end..], b"4");
        assert_eq!(fields, f(&[("Connection", "close"), ("Transfer-Encoding", "chunked")]));
    }

    #[test]
    fn lf_cr_cr_lf_endings() {
        // http-evader 410 and 413
        let (end, _) = scan_all(Side::Response, b"Content-length: 68\n\r\r\nX5O");
        assert_eq!(end, 22);
        let buf = b"Content-length: 68\n\r\r\n\r\nX5O";
        let (end, _) = scan_all(Side::Response, buf);
        assert_eq!(&buf[end..], b"X5O");
    }

    #[test]
    fn whitespace_line_before_body_ends_head() {
        // http-evader 416: "\n \n" then the body
        let buf = b"Content-length: 68\n \nX5O!P%@AP";
        let (end, fields) = scan_all(Side::Response, buf);
        assert_eq!(&buf[end..], b"X5O!P%@AP");
        assert_eq!(fields, f(&[("Content-length", "68")]));
    }

    #[test]
    fn whitespace_line_before_empty_line_is_part_of_terminator() {
        // http-evader 427
        let buf = b"Content-length: 68\r\n\t\r\n\r\nX5O";
        let (end, _) = scan_all(Side::Response, buf);
        assert_eq!(&buf[end..], b"X5O");
    }

    #[test]
    fn whitespace_line_before_header_is_ignored() {
        // http-evader 353
        let buf = b"Foo: bar\r\n \r\nContent-length: 68\r\n\r\nX";
        let (end, fields) = scan_all(Side::Response, buf);
        assert_eq!(&buf[end..], b"X");
        assert_eq!(fields, f(&[("Foo", "bar"), ("Content-length", "68")]));
    }

    #[test]
    fn odd_names_survive_with_anomalies() {
        let buf = b"Foo Bar: x\r\nTransfer-Encoding\t: chunked\r\nnocolon\r\n\r\n";
        let mut s = HeadScanner::new(Side::Response, 0, 10);
        let end = s.scan(buf, false);
        assert_eq!(end, Scan::End(buf.len()));
        let mut an = Anomalies::default();
        let fields = s.fields(buf, &mut an);
        assert_eq!(fields[1].name(), b"Transfer-Encoding");
        assert_eq!(fields[2].name(), b"");
        assert_eq!(fields[2].value(), b"nocolon");
        assert!(an.contains(HttpAnomaly::ResponseFieldMissingColon));
        assert!(an.contains(HttpAnomaly::ResponseInvalidLwsAfterName));
        assert!(an.contains(HttpAnomaly::ResponseHeaderInvalid));
    }

    #[test]
    fn too_many_lines_is_reported() {
        let buf = b"a: 1\r\nb: 2\r\nc: 3\r\n\r\n";
        let mut s = HeadScanner::new(Side::Request, 0, 2);
        assert_eq!(s.scan(buf, false), Scan::TooManyLines);
    }

    #[test]
    fn unterminated_head_ends_at_close() {
        // http-close-headers: the server closes in the middle of the head.
        let buf = b"Server:ng1nx\r\n";
        let mut s = HeadScanner::new(Side::Response, 0, 10);
        assert_eq!(s.scan(buf, false), Scan::NeedMore);
        assert_eq!(s.scan(buf, true), Scan::End(buf.len()));
        let mut an = Anomalies::default();
        assert_eq!(s.fields(buf, &mut an)[0].value(), b"ng1nx");
    }

    type Pair = (Vec<u8>, Vec<u8>);

    /// On every head httparse accepts, the lenient reading must give the
    /// same fields (so the conformance check never hides a disagreement).
    #[test]
    fn agrees_with_httparse_on_valid_heads() {
        let heads: [&[u8]; 6] = [
            b"Host: a\r\n\r\n",
            b"Host:a\r\nX-Empty:\r\nX-Sp:   v  v  \r\nAccept: */*\r\n\r\n",
            b"Host: a\nX: y\n\n",
            b"Content-Type: text/html; charset=\"x\"\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
            b"A: 1\r\nA: 2\r\nB-b_c.d~e!: \t tab\t\r\n\r\n",
            b"\r\n",
        ];
        for side in [Side::Request, Side::Response] {
            for h in heads {
                let mut full = match side {
                    Side::Request => b"GET / HTTP/1.1\r\n".to_vec(),
                    Side::Response => b"HTTP/1.1 200 OK\r\n".to_vec(),
                };
                let start = full.len();
                full.extend_from_slice(h);
                let mut slots = [httparse::EMPTY_HEADER; 16];
                let (n, theirs): (usize, Vec<Pair>) = match side {
                    Side::Request => {
                        let mut req = httparse::Request::new(&mut slots);
                        let st = req.parse(&full).expect("valid head");
                        let n = match st {
                            httparse::Status::Complete(n) => n,
                            httparse::Status::Partial => panic!("partial"),
                        };
                        (n, req.headers.iter().map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec())).collect())
                    }
                    Side::Response => {
                        let mut res = httparse::Response::new(&mut slots);
                        let st = res.parse(&full).expect("valid head");
                        let n = match st {
                            httparse::Status::Complete(n) => n,
                            httparse::Status::Partial => panic!("partial"),
                        };
                        (n, res.headers.iter().map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec())).collect())
                    }
                };
                let mut sc = HeadScanner::new(side, start, 100);
                assert_eq!(sc.scan(&full, false), Scan::End(n), "{side:?} {h:?}");
                let mut an = Anomalies::default();
                let ours: Vec<Pair> =
                    sc.fields(&full, &mut an).into_iter().map(|h| (h.name().to_vec(), h.value().to_vec())).collect();
                assert_eq!(ours, theirs, "{side:?} {h:?}");
            }
        }
    }
}
