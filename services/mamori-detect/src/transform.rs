//! Sticky-buffer transforms (`to_lowercase`, `dotprefix`, `to_md5`, ...),
//! applied in rule order before a buffer is inspected.

use base64::Engine as _;
use mamori_rules::Transform;
use md5::Digest as _;

use crate::regex::{plain, LazyRegex};

/// A transform ready to run (pcrexform's regex compiled on first use).
pub(crate) enum Step {
    Plain(Transform),
    Pcrexform(LazyRegex),
}

pub(crate) fn prepare(ts: &[Transform]) -> Vec<Step> {
    ts.iter()
        .map(|t| match t {
            Transform::Pcrexform(src) => Step::Pcrexform(plain(src)),
            other => Step::Plain(other.clone()),
        })
        .collect()
}

/// Apply `steps` to `input`, leaving the result in `out`.
pub(crate) fn apply(steps: &[Step], input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(input);
    let mut tmp = Vec::new();
    for s in steps {
        tmp.clear();
        match s {
            Step::Plain(t) => one(t, out, &mut tmp),
            Step::Pcrexform(re) => {
                if let Some(g) = re.first_group(out) {
                    tmp.extend_from_slice(g);
                } else {
                    tmp.extend_from_slice(out);
                }
            }
        }
        std::mem::swap(out, &mut tmp);
    }
}

fn one(t: &Transform, input: &[u8], out: &mut Vec<u8>) {
    match t {
        Transform::ToLowercase => out.extend(input.iter().map(u8::to_ascii_lowercase)),
        Transform::ToUppercase => out.extend(input.iter().map(u8::to_ascii_uppercase)),
        Transform::StripWhitespace => out.extend(input.iter().copied().filter(|b| !is_space(*b))),
        Transform::CompressWhitespace => {
            let mut prev_space = false;
            for &b in input {
                if is_space(b) {
                    if !prev_space {
                        out.push(b' ');
                    }
                    prev_space = true;
                } else {
                    out.push(b);
                    prev_space = false;
                }
            }
        }
        Transform::UrlDecode => url_decode(input, out),
        Transform::Dotprefix => {
            out.push(b'.');
            out.extend_from_slice(input);
        }
        Transform::ToMd5 => out.extend_from_slice(&md5::Md5::digest(input)),
        Transform::ToSha1 => out.extend_from_slice(&sha1::Sha1::digest(input)),
        Transform::ToSha256 => out.extend_from_slice(&sha2::Sha256::digest(input)),
        Transform::HeaderLowercase => header_lowercase(input, out),
        // HTTP/2 pseudo headers do not occur in HTTP/1 buffers.
        Transform::StripPseudoHeaders => out.extend_from_slice(input),
        Transform::Xor(key) => {
            if key.is_empty() {
                out.extend_from_slice(input);
            } else {
                out.extend(input.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
            }
        }
        Transform::FromBase64 => {
            // Suricata decodes what it can (RFC 4648); undecodable input gives nothing.
            let trimmed: Vec<u8> = input.iter().copied().filter(|b| !is_space(*b)).collect();
            if let Ok(v) = base64::engine::general_purpose::STANDARD.decode(&trimmed) {
                out.extend_from_slice(&v);
            } else if let Ok(v) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&trimmed) {
                out.extend_from_slice(&v);
            }
        }
        Transform::Pcrexform(_) => out.extend_from_slice(input),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn url_decode(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'%' {
            if let (Some(h), Some(l)) = (input.get(i + 1).and_then(|c| hex(*c)), input.get(i + 2).and_then(|c| hex(*c)))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
}

/// Lowercase header names (up to each line's colon), keep values.
fn header_lowercase(input: &[u8], out: &mut Vec<u8>) {
    let mut in_name = true;
    for &b in input {
        if b == b'\n' {
            in_name = true;
            out.push(b);
        } else if in_name && b == b':' {
            in_name = false;
            out.push(b);
        } else if in_name {
            out.push(b.to_ascii_lowercase());
        } else {
            out.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ts: &[Transform], input: &[u8]) -> Vec<u8> {
        let steps = prepare(ts);
        let mut out = Vec::new();
        apply(&steps, input, &mut out);
        out
    }

    #[test]
    fn chains_in_order() {
        assert_eq!(run(&[Transform::Dotprefix, Transform::ToUppercase], b"evil.com"), b".EVIL.COM");
        assert_eq!(run(&[Transform::CompressWhitespace], b"a  \t b"), b"a b");
        assert_eq!(run(&[Transform::StripWhitespace], b"a  \t b"), b"ab");
        assert_eq!(run(&[Transform::UrlDecode], b"%41b+c%zz"), b"Ab c%zz");
        assert_eq!(hex::encode(run(&[Transform::ToMd5], b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(run(&[Transform::Xor(vec![0x01])], b"ab"), b"`c");
        assert_eq!(run(&[Transform::FromBase64], b"SGVsbG8="), b"Hello");
        assert_eq!(run(&[Transform::HeaderLowercase], b"Host: A\r\nX-Y: B\r\n"), b"host: A\r\nx-y: B\r\n");
        assert_eq!(run(&[Transform::Pcrexform("a(b+)".into())], b"xabb"), b"bb");
    }
}
