//! Where a line ends.
//!
//! Hand-written because the rules are not RFC 9112's: like libhtp (and the
//! browsers it imitates), a response line may end in a lone CR, in LF CR, or
//! in a few "deformed" CR/LF runs that must count as one line break. The
//! http-evader captures exercise each of these. Requests accept CRLF and LF.

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// Which end of the connection produced the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Request,
    Response,
}

/// Result of looking at a CR or LF byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eol {
    /// More bytes are needed to tell.
    NeedMore,
    /// The byte is part of the line's content (a lone CR in a request).
    Content,
    /// A line break of this many bytes starts here.
    Break(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prefix {
    Yes,
    No,
    /// Everything available matches but the buffer ends first.
    Partial,
}

fn prefix(buf: &[u8], at: usize, pat: &[u8]) -> Prefix {
    let avail = buf.get(at..).unwrap_or(&[]);
    if avail.len() >= pat.len() {
        if avail.starts_with(pat) {
            Prefix::Yes
        } else {
            Prefix::No
        }
    } else if pat.starts_with(avail) {
        Prefix::Partial
    } else {
        Prefix::No
    }
}

/// True when `buf[at..]` begins a line break (`\n` or `\r\n`), `None` when
/// the buffer ends too early to tell.
fn followed_by_break(buf: &[u8], at: usize, fin: bool) -> Option<bool> {
    match (prefix(buf, at, b"\n"), prefix(buf, at, b"\r\n")) {
        (Prefix::Yes, _) | (_, Prefix::Yes) => Some(true),
        (Prefix::Partial, _) | (_, Prefix::Partial) if !fin => None,
        _ => Some(false),
    }
}

/// Classifies the line break starting at `buf[at]`, which must be CR or LF.
/// With `fin` the buffer is all there will ever be.
pub(crate) fn eol_at(buf: &[u8], at: usize, side: Side, fin: bool) -> Eol {
    // "\n\r\r\n" directly followed by another break counts as one break, so
    // that the next break ends the head (http-evader end-lfcrcrlfcrlf).
    match prefix(buf, at, b"\n\r\r\n") {
        Prefix::Partial if !fin => return Eol::NeedMore,
        Prefix::Yes => match followed_by_break(buf, at + 4, fin) {
            None => return Eol::NeedMore,
            Some(true) => return Eol::Break(4),
            Some(false) => {}
        },
        _ => {}
    }
    match side {
        Side::Response => response_eol(buf, at, fin),
        Side::Request => request_eol(buf, at, fin),
    }
}

fn response_eol(buf: &[u8], at: usize, fin: bool) -> Eol {
    // "\r\n\r" plus CR/SP/HT junk (and maybe LF) not followed by a break is a
    // single deformed break, not an empty line (http-evader "cr;chunked").
    match prefix(buf, at, b"\r\n\r") {
        Prefix::Partial if !fin => return Eol::NeedMore,
        Prefix::Yes => {
            let start = at + 3;
            let junk =
                buf.get(start..).unwrap_or(&[]).iter().take_while(|&&c| c == CR || c == b' ' || c == b'\t').count();
            let mut end = start + junk;
            if end >= buf.len() && !fin {
                return Eol::NeedMore;
            }
            if junk > 0 {
                if buf.get(end) == Some(&LF) {
                    end += 1;
                }
                match followed_by_break(buf, end, fin) {
                    None => return Eol::NeedMore,
                    Some(false) => return Eol::Break(end - at),
                    Some(true) => {}
                }
            }
        }
        _ => {}
    }
    match buf.get(at) {
        Some(&CR) | Some(&LF) => {}
        _ => return Eol::Content,
    }
    match buf.get(at + 1) {
        None if !fin => Eol::NeedMore,
        next => match (buf.get(at), next) {
            (Some(&CR), Some(&LF)) | (Some(&LF), Some(&CR)) => Eol::Break(2),
            _ => Eol::Break(1),
        },
    }
}

fn request_eol(buf: &[u8], at: usize, fin: bool) -> Eol {
    match buf.get(at) {
        Some(&LF) => {
            // "\n\r" directly followed by CRLF: one deformed break.
            match prefix(buf, at, b"\n\r\r\n") {
                Prefix::Partial if !fin => return Eol::NeedMore,
                Prefix::Yes => return Eol::Break(2),
                _ => {}
            }
            Eol::Break(1)
        }
        Some(&CR) => match buf.get(at + 1) {
            Some(&LF) => Eol::Break(2),
            None if !fin => Eol::NeedMore,
            _ => Eol::Content,
        },
        _ => Eol::Content,
    }
}

/// Classifies a line that starts with CR or LF at `at`: is it an empty line,
/// and how long is its break? Only plain breaks count here (no deformed
/// runs), as in libhtp: the head ends at the first empty line.
pub(crate) fn empty_line_at(buf: &[u8], at: usize, side: Side, fin: bool) -> Eol {
    match (buf.get(at), buf.get(at + 1)) {
        (Some(&CR), Some(&LF)) => Eol::Break(2),
        (Some(&LF), _) => Eol::Break(1),
        (Some(&CR), None) if !fin => Eol::NeedMore,
        (Some(&CR), _) if side == Side::Response => Eol::Break(1),
        _ => Eol::Content,
    }
}

/// A line cut from a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// No complete line yet; resume the search at `resume`.
    NeedMore { resume: usize },
    /// Content is `start..content_end`; the next line starts at `next`.
    Line { content_end: usize, next: usize },
}

/// Finds the end of the line whose search resumes at `from` (content before
/// `from` is known to hold no line break). With `fin`, a final unterminated
/// line is returned as a line.
pub(crate) fn cut_line(buf: &[u8], from: usize, side: Side, fin: bool) -> Cut {
    let mut i = from;
    loop {
        let rest = buf.get(i..).unwrap_or(&[]);
        let hit = match side {
            Side::Response => memchr::memchr2(CR, LF, rest),
            Side::Request => memchr::memchr2(LF, CR, rest),
        };
        let Some(off) = hit else {
            if fin {
                return Cut::Line { content_end: buf.len(), next: buf.len() };
            }
            return Cut::NeedMore { resume: buf.len() };
        };
        let at = i + off;
        match eol_at(buf, at, side, fin) {
            Eol::NeedMore => return Cut::NeedMore { resume: at },
            Eol::Content => i = at + 1,
            Eol::Break(n) => return Cut::Line { content_end: at, next: at + n },
        }
    }
}

/// True when a line break of `len` bytes is anything but CRLF or LF.
pub(crate) fn is_deformed(buf: &[u8], at: usize, len: usize) -> bool {
    let brk = buf.get(at..at.saturating_add(len)).unwrap_or(&[]);
    !(brk == b"\r\n" || brk == b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buf: &[u8], side: Side) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < buf.len() {
            match cut_line(buf, pos, side, true) {
                Cut::Line { content_end, next } => {
                    out.push(&buf[pos..content_end]);
                    pos = next;
                }
                Cut::NeedMore { .. } => unreachable!("fin never needs more"),
            }
        }
        out
    }

    #[test]
    fn crlf_and_lf_are_breaks_on_both_sides() {
        for side in [Side::Request, Side::Response] {
            assert_eq!(lines(b"a\r\nb\nc", side), vec![&b"a"[..], b"b", b"c"]);
        }
    }

    #[test]
    fn lone_cr_breaks_only_responses() {
        assert_eq!(lines(b"a\rb\r\n", Side::Response), vec![&b"a"[..], b"b"]);
        assert_eq!(lines(b"a\rb\r\n", Side::Request), vec![&b"a\rb"[..]]);
    }

    #[test]
    fn lf_cr_is_one_response_break() {
        assert_eq!(lines(b"a\n\rb", Side::Response), vec![&b"a"[..], b"b"]);
    }

    #[test]
    fn crlf_cr_junk_is_one_break_when_a_line_follows() {
        // http-evader 284: "close\r\n\r\r\nTransfer-Encoding"
        assert_eq!(lines(b"a\r\n\r\r\nb", Side::Response), vec![&b"a"[..], b"b"]);
        // ...but a real empty line after it is kept.
        assert_eq!(eol_at(b"a\r\n\r\n", 1, Side::Response, true), Eol::Break(2));
    }

    #[test]
    fn lf_cr_cr_lf_before_a_break_is_one_break() {
        assert_eq!(eol_at(b"\n\r\r\n\r\nX", 0, Side::Response, false), Eol::Break(4));
        // Not followed by a break: LF CR, then CR LF.
        assert_eq!(eol_at(b"\n\r\r\nX", 0, Side::Response, false), Eol::Break(2));
    }

    #[test]
    fn waits_for_lookahead_unless_final() {
        assert_eq!(eol_at(b"a\r", 1, Side::Response, false), Eol::NeedMore);
        assert_eq!(eol_at(b"a\r", 1, Side::Response, true), Eol::Break(1));
        // A request LF might start "\n\r\r\n": wait for the next byte.
        assert_eq!(eol_at(b"a\n", 1, Side::Request, false), Eol::NeedMore);
        assert_eq!(eol_at(b"a\nX", 1, Side::Request, false), Eol::Break(1));
        assert_eq!(cut_line(b"abc", 0, Side::Request, false), Cut::NeedMore { resume: 3 });
    }

    #[test]
    fn empty_lines_do_not_wait_for_deformed_runs() {
        assert_eq!(empty_line_at(b"\r\n", 0, Side::Response, false), Eol::Break(2));
        assert_eq!(empty_line_at(b"\n", 0, Side::Response, false), Eol::Break(1));
        assert_eq!(empty_line_at(b"\r", 0, Side::Response, false), Eol::NeedMore);
        assert_eq!(empty_line_at(b"\rX", 0, Side::Response, false), Eol::Break(1));
        assert_eq!(empty_line_at(b"\rX", 0, Side::Request, false), Eol::Content);
    }

    #[test]
    fn deformed_detection() {
        assert!(!is_deformed(b"\r\n", 0, 2));
        assert!(!is_deformed(b"\n", 0, 1));
        assert!(is_deformed(b"\r", 0, 1));
        assert!(is_deformed(b"\n\r", 0, 2));
    }
}
