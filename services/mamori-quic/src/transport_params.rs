//! The one QUIC transport parameter we read: Chrome's user agent
//! (`google_user_agent`, 0x3129), which nDPI and Suricata report as `ua`.

use crate::varint;

const GOOGLE_USER_AGENT: u64 = 0x3129;

/// Finds the user agent in a transport-parameters extension body: RFC 9000
/// varint (id, length) pairs, or the older drafts' u16 list.
pub(crate) fn user_agent(body: &[u8]) -> Option<Vec<u8>> {
    user_agent_varint(body).or_else(|| user_agent_draft(body))
}

fn user_agent_varint(body: &[u8]) -> Option<Vec<u8>> {
    let mut rest = body;
    while !rest.is_empty() {
        let (id, r) = varint::read(rest)?;
        let (len, r) = varint::read_len(r)?;
        let (value, r) = r.split_at_checked(len)?;
        if id == GOOGLE_USER_AGENT {
            return Some(value.to_vec());
        }
        rest = r;
    }
    None
}

fn user_agent_draft(body: &[u8]) -> Option<Vec<u8>> {
    let (total, mut rest) = body.split_at_checked(2)?;
    let total = usize::from(u16::from_be_bytes(total.try_into().ok()?));
    rest = rest.get(..total)?;
    while let Some((&[i0, i1, l0, l1], r)) = rest.split_first_chunk::<4>() {
        let id = u16::from_be_bytes([i0, i1]);
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let (value, r) = r.split_at_checked(len)?;
        if u64::from(id) == GOOGLE_USER_AGENT {
            return Some(value.to_vec());
        }
        rest = r;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_form() {
        let body = [0x01, 0x02, 0x44, 0x00, 0x71, 0x29, 0x03, b'u', b'a', b'!'];
        assert_eq!(user_agent(&body).as_deref(), Some(&b"ua!"[..]));
    }

    #[test]
    fn draft_form() {
        let body = [0x00, 0x0b, 0x00, 0x01, 0x00, 0x01, 0x07, 0x31, 0x29, 0x00, 0x02, b'h', b'i'];
        assert_eq!(user_agent(&body).as_deref(), Some(&b"hi"[..]));
    }

    #[test]
    fn absent_or_garbage() {
        assert_eq!(user_agent(&[0x01, 0x01, 0x00]), None);
        assert_eq!(user_agent(&[0xff]), None);
        assert_eq!(user_agent(&[]), None);
    }
}
