//! RFC 2047 encoded-words (`=?charset?B|Q?text?=`) in header values.
//!
//! Adjacent encoded-words in the same charset are joined as bytes before
//! charset decoding, because mailers split ISO-2022-JP and UTF-8 sequences
//! across words; whitespace between adjacent encoded-words is dropped.

use super::charset::decode_charset;
use super::decode::Base64Decoder;

struct Word<'a> {
    charset: &'a [u8],
    bytes: Vec<u8>,
    /// Offset just past the closing `?=`.
    end: usize,
}

/// Parses an encoded-word starting at `start` (which points at `=?`).
fn parse_word(s: &[u8], start: usize) -> Option<Word<'_>> {
    let rest = s.get(start + 2..)?;
    let q1 = memchr::memchr(b'?', rest)?;
    let charset = &rest[..q1];
    let enc = *rest.get(q1 + 1)?;
    if rest.get(q1 + 2) != Some(&b'?') || charset.is_empty() {
        return None;
    }
    let text_start = q1 + 3;
    let text_len = memchr::memmem::find(rest.get(text_start..)?, b"?=")?;
    let text = &rest[text_start..text_start + text_len];
    if text.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match enc {
        b'B' | b'b' => {
            let mut out = Vec::new();
            let mut d = Base64Decoder::default();
            d.feed(text, &mut |b| out.extend_from_slice(b));
            d.finish(&mut |b| out.extend_from_slice(b));
            out
        }
        b'Q' | b'q' => q_decode(text),
        _ => return None,
    };
    Some(Word { charset, bytes, end: start + 2 + text_start + text_len + 2 })
}

fn q_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hi = text.get(i + 1).and_then(|c| (*c as char).to_digit(16));
                let lo = text.get(i + 2).and_then(|c| (*c as char).to_digit(16));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'=');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decodes every encoded-word in `value`; other bytes are taken as UTF-8
/// (lossy), which is what raw 8-bit headers usually are.
pub fn decode_header_value(value: &[u8]) -> String {
    let mut out = String::new();
    let mut literal_start = 0;
    let mut i = 0;
    // A run of adjacent words in one charset, not yet charset-decoded.
    let mut pending: Option<(Vec<u8>, Vec<u8>)> = None;

    let flush = |pending: &mut Option<(Vec<u8>, Vec<u8>)>, out: &mut String| {
        if let Some((cs, bytes)) = pending.take() {
            out.push_str(&decode_charset(&cs, &bytes));
        }
    };

    while i < value.len() {
        let Some(off) = memchr::memmem::find(&value[i..], b"=?") else {
            break;
        };
        let at = i + off;
        match parse_word(value, at) {
            Some(w) => {
                let between = &value[literal_start..at];
                let adjacent = pending.is_some() && between.iter().all(|b| b.is_ascii_whitespace());
                if !adjacent {
                    flush(&mut pending, &mut out);
                    out.push_str(&String::from_utf8_lossy(between));
                }
                match &mut pending {
                    Some((cs, bytes)) if cs.eq_ignore_ascii_case(w.charset) => bytes.extend_from_slice(&w.bytes),
                    _ => {
                        flush(&mut pending, &mut out);
                        pending = Some((w.charset.to_vec(), w.bytes));
                    }
                }
                i = w.end;
                literal_start = w.end;
            }
            None => i = at + 2,
        }
    }
    flush(&mut pending, &mut out);
    out.push_str(&String::from_utf8_lossy(value.get(literal_start..).unwrap_or_default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b_and_q_words() {
        assert_eq!(decode_header_value(b"=?UTF-8?B?5pel5pys6Kqe?="), "日本語");
        assert_eq!(decode_header_value(b"=?iso-8859-1?q?caf=E9_au_lait?="), "café au lait");
        assert_eq!(decode_header_value(b"plain text"), "plain text");
    }

    #[test]
    fn iso_2022_jp_subject() {
        // "会議" as ISO-2022-JP, base64: GyRCMnE1RBsoQg==
        assert_eq!(decode_header_value(b"Re: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= notes"), "Re: 会議 notes");
    }

    #[test]
    fn adjacent_words_join_bytes_and_drop_whitespace() {
        // "日本語" (E6 97 A5 E6 9C AC E8 AA 9E) split mid-character over two words.
        let v = b"=?UTF-8?B?5pel5pw=?=\r\n =?UTF-8?B?rOiqng==?=";
        assert_eq!(decode_header_value(v), "日本語");
        // Words in different charsets still join without the space.
        let v = b"=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?=";
        assert_eq!(decode_header_value(v), "aé");
        // Text between words keeps its spaces.
        assert_eq!(decode_header_value(b"=?UTF-8?Q?a?= and =?UTF-8?Q?b?="), "a and b");
    }

    #[test]
    fn malformed_words_stay_literal() {
        assert_eq!(decode_header_value(b"=?UTF-8?X?abc?="), "=?UTF-8?X?abc?=");
        assert_eq!(decode_header_value(b"=?UTF-8?B?abc"), "=?UTF-8?B?abc");
        assert_eq!(decode_header_value(b"=?"), "=?");
        assert_eq!(decode_header_value(b"x =?UTF-8?Q?a b?= y"), "x =?UTF-8?Q?a b?= y");
    }
}
