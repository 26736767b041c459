//! Streaming Content-Transfer-Encoding decoders.
//!
//! Hand-written rather than the `base64` crate: mail needs decoding that
//! (a) resumes at any byte boundary, because parts arrive split across TCP
//! segments and lines, and (b) tolerates what real mailers send, skipping
//! whitespace and garbage and decoding past stray padding the way Suricata
//! does, where the crate's strict decoders fail the whole part.

/// Output is handed out in chunks of at most this size.
const OUT_CHUNK: usize = 1024;

/// Collects decoded bytes in a small fixed buffer and flushes them to the
/// consumer, so decoding never allocates.
struct Out<'f> {
    buf: [u8; OUT_CHUNK],
    len: usize,
    sink: &'f mut dyn FnMut(&[u8]),
}

impl<'f> Out<'f> {
    fn new(sink: &'f mut dyn FnMut(&[u8])) -> Self {
        Out { buf: [0; OUT_CHUNK], len: 0, sink }
    }

    fn push(&mut self, b: u8) {
        if self.len == OUT_CHUNK {
            self.flush();
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn flush(&mut self) {
        if self.len > 0 {
            (self.sink)(&self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Drop for Out<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

fn b64_value(b: u8) -> Option<u32> {
    Some(u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Base64 that skips anything outside the alphabet and restarts after `=`.
#[derive(Clone, Debug, Default)]
pub struct Base64Decoder {
    acc: u32,
    n: u8,
    /// Set when input ended with a lone sextet (cannot make a byte).
    pub dangling: bool,
}

impl Base64Decoder {
    pub fn feed(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8])) {
        let mut out = Out::new(sink);
        for &b in input {
            if b == b'=' {
                self.flush_partial(&mut out);
                continue;
            }
            let Some(v) = b64_value(b) else { continue };
            self.acc = (self.acc << 6) | v;
            self.n += 1;
            if self.n == 4 {
                let [_, x, y, z] = self.acc.to_be_bytes();
                out.push(x);
                out.push(y);
                out.push(z);
                self.acc = 0;
                self.n = 0;
            }
        }
    }

    /// Ends the stream; a partial quantum still yields its whole bytes.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) {
        let mut out = Out::new(sink);
        self.flush_partial(&mut out);
    }

    fn flush_partial(&mut self, out: &mut Out<'_>) {
        match self.n {
            2 => out.push((self.acc >> 4) as u8),
            3 => {
                out.push((self.acc >> 10) as u8);
                out.push((self.acc >> 2) as u8);
            }
            1 => self.dangling = true,
            _ => {}
        }
        self.acc = 0;
        self.n = 0;
    }
}

/// Most trailing whitespace held back while waiting to see whether a line
/// ends (trailing whitespace is dropped in quoted-printable). More than this
/// is passed through.
const QP_MAX_WS: usize = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum QpState {
    #[default]
    Normal,
    /// A CR that may start a line break.
    Cr,
    /// Saw `=`.
    Eq,
    /// Saw `=` and one hex digit.
    Eq1(u8),
    /// `=` followed by whitespace: a soft break with trailing blanks.
    EqWs,
    /// `=` then CR.
    EqCr,
}

/// Quoted-printable (RFC 2045 §6.7), lenient: malformed escapes pass
/// through literally, lowercase hex is accepted, bare LF counts as a line
/// break.
#[derive(Clone, Debug)]
pub struct QpDecoder {
    state: QpState,
    ws: [u8; QP_MAX_WS],
    ws_len: usize,
}

impl Default for QpDecoder {
    fn default() -> Self {
        QpDecoder { state: QpState::Normal, ws: [0; QP_MAX_WS], ws_len: 0 }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

impl QpDecoder {
    pub fn feed(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8])) {
        let mut out = Out::new(sink);
        for &b in input {
            self.byte(b, &mut out);
        }
    }

    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) {
        let mut out = Out::new(sink);
        match self.state {
            QpState::Eq => out.push(b'='),
            QpState::Eq1(h) => {
                out.push(b'=');
                out.push(h);
            }
            QpState::Cr => out.push(b'\r'),
            QpState::Normal | QpState::EqWs | QpState::EqCr => {}
        }
        // Trailing whitespace at the very end is dropped like any other.
        self.ws_len = 0;
        self.state = QpState::Normal;
    }

    fn flush_ws(&mut self, out: &mut Out<'_>) {
        for &w in &self.ws[..self.ws_len] {
            out.push(w);
        }
        self.ws_len = 0;
    }

    fn byte(&mut self, b: u8, out: &mut Out<'_>) {
        match self.state {
            QpState::Normal => match b {
                b'=' => {
                    self.flush_ws(out);
                    self.state = QpState::Eq;
                }
                b' ' | b'\t' => {
                    if self.ws_len == QP_MAX_WS {
                        self.flush_ws(out);
                    }
                    self.ws[self.ws_len] = b;
                    self.ws_len += 1;
                }
                b'\r' => self.state = QpState::Cr,
                b'\n' => {
                    self.ws_len = 0;
                    out.push(b'\n');
                }
                _ => {
                    self.flush_ws(out);
                    out.push(b);
                }
            },
            QpState::Cr => {
                self.state = QpState::Normal;
                if b == b'\n' {
                    self.ws_len = 0;
                    out.push(b'\r');
                    out.push(b'\n');
                } else {
                    self.flush_ws(out);
                    out.push(b'\r');
                    self.byte(b, out);
                }
            }
            QpState::Eq => match b {
                b'\n' => self.state = QpState::Normal,
                b'\r' => self.state = QpState::EqCr,
                b' ' | b'\t' => self.state = QpState::EqWs,
                _ if hex(b).is_some() => self.state = QpState::Eq1(b),
                _ => {
                    out.push(b'=');
                    self.state = QpState::Normal;
                    self.byte(b, out);
                }
            },
            QpState::Eq1(h) => {
                self.state = QpState::Normal;
                match (hex(h), hex(b)) {
                    (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                    _ => {
                        out.push(b'=');
                        out.push(h);
                        self.byte(b, out);
                    }
                }
            }
            QpState::EqWs => match b {
                b' ' | b'\t' => {}
                b'\r' => self.state = QpState::EqCr,
                b'\n' => self.state = QpState::Normal,
                _ => {
                    out.push(b'=');
                    self.state = QpState::Normal;
                    self.byte(b, out);
                }
            },
            QpState::EqCr => {
                self.state = QpState::Normal;
                if b != b'\n' {
                    self.byte(b, out);
                }
            }
        }
    }
}

/// The decoder a part's Content-Transfer-Encoding calls for.
#[derive(Clone, Debug)]
pub enum Decoder {
    /// 7bit, 8bit, binary, or anything unknown: bytes as they are.
    Identity,
    Base64(Base64Decoder),
    QuotedPrintable(QpDecoder),
}

impl Decoder {
    /// Picks the decoder for a (lowercased, trimmed) encoding name.
    pub fn for_encoding(cte: &[u8]) -> Decoder {
        match cte {
            b"base64" => Decoder::Base64(Base64Decoder::default()),
            b"quoted-printable" => Decoder::QuotedPrintable(QpDecoder::default()),
            _ => Decoder::Identity,
        }
    }

    pub fn feed(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8])) {
        match self {
            Decoder::Identity => {
                if !input.is_empty() {
                    sink(input)
                }
            }
            Decoder::Base64(d) => d.feed(input, sink),
            Decoder::QuotedPrintable(d) => d.feed(input, sink),
        }
    }

    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) {
        match self {
            Decoder::Identity => {}
            Decoder::Base64(d) => d.finish(sink),
            Decoder::QuotedPrintable(d) => d.finish(sink),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Plain base64 encoding for building fixtures.
    pub(crate) fn encode_b64(data: &[u8]) -> Vec<u8> {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for c in data.chunks(3) {
            let (n, k) = match c.len() {
                1 => (u32::from(c[0]) << 16, 2),
                2 => ((u32::from(c[0]) << 16) | (u32::from(c[1]) << 8), 3),
                _ => ((u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]), 4),
            };
            for i in 0..4 {
                out.push(if i < k { A[((n >> (18 - 6 * i)) & 63) as usize] } else { b'=' });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(d: &mut Decoder, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut |b| out.extend_from_slice(b));
        }
        d.finish(&mut |b| out.extend_from_slice(b));
        out
    }

    fn b64(input: &[u8]) -> Vec<u8> {
        run(&mut Decoder::for_encoding(b"base64"), &[input])
    }

    fn qp(input: &[u8]) -> Vec<u8> {
        run(&mut Decoder::for_encoding(b"quoted-printable"), &[input])
    }

    #[test]
    fn base64_plain_and_padded() {
        assert_eq!(b64(b"aGVsbG8gd29ybGQ="), b"hello world");
        assert_eq!(b64(b"aGk="), b"hi");
        assert_eq!(b64(b"aA=="), b"h");
        assert_eq!(b64(b""), b"");
    }

    #[test]
    fn base64_tolerates_whitespace_and_garbage() {
        assert_eq!(b64(b"aGVs\r\nbG8g\r\n d29y*bGQ=\r\n"), b"hello world");
        // Unpadded tail still decodes its whole bytes.
        assert_eq!(b64(b"aGk"), b"hi");
        // Concatenated padded blocks.
        assert_eq!(b64(b"aGk=aGk="), b"hihi");
    }

    #[test]
    fn base64_split_at_every_offset() {
        let enc = b"VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4=\r\n";
        for i in 0..=enc.len() {
            for j in i..=enc.len() {
                let out = run(&mut Decoder::for_encoding(b"base64"), &[&enc[..i], &enc[i..j], &enc[j..]]);
                assert_eq!(out, b"The quick brown fox jumps over the lazy dog.", "split {i} {j}");
            }
        }
    }

    #[test]
    fn base64_large_output_crosses_chunk_buffer() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let enc = encode_b64(&data);
        assert_eq!(b64(&enc), data);
    }

    use super::tests_support::encode_b64;

    #[test]
    fn qp_soft_breaks_and_escapes() {
        assert_eq!(qp(b"caf=C3=A9 =\r\nau lait"), "café au lait".as_bytes());
        assert_eq!(qp(b"soft=\nbreak"), b"softbreak");
        assert_eq!(qp(b"trailing =  \r\nws"), b"trailing ws");
        assert_eq!(qp(b"line one   \r\nline two"), b"line one\r\nline two");
        assert_eq!(qp(b"lower=e9"), b"lower\xe9");
    }

    #[test]
    fn qp_malformed_passes_through() {
        assert_eq!(qp(b"a=ZZb"), b"a=ZZb");
        assert_eq!(qp(b"a=4"), b"a=4");
        assert_eq!(qp(b"end="), b"end=");
        assert_eq!(qp(b"x\ry"), b"x\ry");
    }

    #[test]
    fn qp_split_at_every_offset() {
        let enc: &[u8] = b"Gr=C3=BC=C3=9Fe, =\r\nWelt!  \r\nZeile 2=3D=\r\n";
        let whole = qp(enc);
        assert_eq!(whole, "Grüße, Welt!\r\nZeile 2=".as_bytes());
        for i in 0..=enc.len() {
            for j in i..=enc.len() {
                let out = run(&mut Decoder::for_encoding(b"quoted-printable"), &[&enc[..i], &enc[i..j], &enc[j..]]);
                assert_eq!(out, whole, "split {i} {j}");
            }
        }
    }

    #[test]
    fn long_whitespace_runs_are_bounded() {
        let mut input = vec![b'a'];
        input.extend(std::iter::repeat_n(b' ', 200));
        input.push(b'b');
        assert_eq!(qp(&input), input);
    }
}
