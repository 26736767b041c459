//! Domain names with compression pointers, bounded like Suricata's parser.

use crate::error::DnsError;

/// Longest name kept in presentation form; longer names are cut and flagged.
/// 1025 is what Suricata (after dnsmasq) uses.
pub const MAX_NAME_LEN: usize = 1025;
/// Most compression pointers followed for one name. A real name is at most
/// 255 bytes, so it never needs more than 127 pointers.
pub const MAX_POINTER_HOPS: usize = 128;
/// Most labels read for one name before giving up.
pub const MAX_LABELS: usize = 255;

/// A name in dotted form, raw bytes (labels may hold any byte).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Name {
    /// Labels joined by `.`; empty for the root.
    pub value: Vec<u8>,
    /// The name was longer than [`MAX_NAME_LEN`] or its labels or pointers
    /// ran past the limits: `value` is a prefix.
    pub truncated: bool,
}

/// What went wrong in names of a message without making it unparseable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NameIssues {
    pub truncated: bool,
    pub infinite_loop: bool,
    pub label_limit: bool,
}

impl NameIssues {
    pub fn any(self) -> bool {
        self.truncated || self.infinite_loop || self.label_limit
    }
}

/// Parses the name at `start` within `msg`; returns it and the offset just
/// past it in the original (not pointer-followed) position.
pub fn parse_name(msg: &[u8], start: usize, issues: &mut NameIssues) -> Result<(Name, usize), DnsError> {
    let mut pos = start;
    // Offset after the first pointer: where the caller continues.
    let mut resume: Option<usize> = None;
    let mut value: Vec<u8> = Vec::new();
    let mut truncated = false;
    let mut hops = 0usize;
    let mut labels = 0usize;

    loop {
        let len = *msg.get(pos).ok_or(DnsError::TruncatedQuestion)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                pos += 1;
                break;
            }
            0x00 => {
                let l = usize::from(len);
                let label = msg.get(pos + 1..pos + 1 + l).ok_or(DnsError::TruncatedQuestion)?;
                if !truncated {
                    if !value.is_empty() {
                        value.push(b'.');
                    }
                    value.extend_from_slice(label);
                    if value.len() > MAX_NAME_LEN {
                        value.truncate(MAX_NAME_LEN);
                        truncated = true;
                        issues.truncated = true;
                    }
                }
                pos += 1 + l;
                labels += 1;
                if labels > MAX_LABELS {
                    issues.label_limit = true;
                    if resume.is_some() {
                        truncated = true;
                        break;
                    }
                    return Err(DnsError::TooManyLabels);
                }
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(DnsError::TruncatedQuestion)?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if resume.is_none() {
                    resume = Some(pos + 2);
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS || target == pos {
                    // A loop: we already know where the name ends in the
                    // message, so keep what we have and move on.
                    issues.infinite_loop = true;
                    truncated = true;
                    break;
                }
                if target >= msg.len() {
                    return Err(DnsError::BadPointer);
                }
                pos = target;
            }
            _ => return Err(DnsError::InvalidLabel),
        }
    }
    if truncated {
        issues.truncated = true;
    }
    Ok((Name { value, truncated }, resume.unwrap_or(pos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(msg: &[u8], start: usize) -> Result<(Name, usize), DnsError> {
        parse_name(msg, start, &mut NameIssues::default())
    }

    #[test]
    fn plain_name() {
        let msg = b"\x03www\x07example\x03com\x00rest";
        let (n, next) = parse(msg, 0).unwrap();
        assert_eq!(n.value, b"www.example.com");
        assert_eq!(next, 17);
        assert!(!n.truncated);
    }

    #[test]
    fn root_is_empty() {
        let (n, next) = parse(b"\x00", 0).unwrap();
        assert!(n.value.is_empty());
        assert_eq!(next, 1);
    }

    #[test]
    fn pointer_resumes_after_pointer() {
        // "example.com" at 0, then "www" + pointer to 0 at 13.
        let msg = b"\x07example\x03com\x00\x03www\xc0\x00\xff";
        let (n, next) = parse(msg, 13).unwrap();
        assert_eq!(n.value, b"www.example.com");
        assert_eq!(next, 19);
    }

    #[test]
    fn self_pointer_is_flagged_not_fatal() {
        let msg = b"\x03abc\xc0\x04";
        let mut issues = NameIssues::default();
        let (n, next) = parse_name(msg, 0, &mut issues).unwrap();
        assert_eq!(n.value, b"abc");
        assert!(n.truncated);
        assert!(issues.infinite_loop);
        assert_eq!(next, 6);
    }

    #[test]
    fn two_pointer_loop_terminates() {
        // 0: label a, pointer to 4; 4: label b, pointer to 0.
        let msg = b"\x01a\xc0\x04\x01b\xc0\x00";
        let mut issues = NameIssues::default();
        let (n, next) = parse_name(msg, 0, &mut issues).unwrap();
        assert!(issues.infinite_loop);
        assert!(n.truncated);
        assert_eq!(next, 4);
    }

    #[test]
    fn long_names_are_cut() {
        let mut msg = Vec::new();
        for _ in 0..40 {
            msg.push(63);
            msg.extend_from_slice(&[b'x'; 63]);
        }
        msg.push(0);
        let mut issues = NameIssues::default();
        let (n, next) = parse_name(&msg, 0, &mut issues).unwrap();
        assert_eq!(n.value.len(), MAX_NAME_LEN);
        assert!(n.truncated && issues.truncated);
        assert_eq!(next, msg.len());
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b"\x05ab", 0).unwrap_err(), DnsError::TruncatedQuestion);
        assert_eq!(parse(b"\x40ab", 0).unwrap_err(), DnsError::InvalidLabel);
        assert_eq!(parse(b"\xc0\x09", 0).unwrap_err(), DnsError::BadPointer);
        assert_eq!(parse(b"\xc0", 0).unwrap_err(), DnsError::TruncatedQuestion);
        assert_eq!(parse(b"", 0).unwrap_err(), DnsError::TruncatedQuestion);
    }
}
