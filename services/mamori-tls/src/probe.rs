//! Content-based detection of a TLS (or SSLv2-compatible) hello.

use mamori_applayer::{Direction, Probe};

/// Largest record body the record layer allows (2^14 plus expansion).
pub(crate) const MAX_RECORD_LEN: usize = 16384 + 2048;

/// Guesses from the first bytes of a direction whether it carries TLS.
///
/// To the server the first record must be a handshake record holding a
/// ClientHello; to the client, one holding a ServerHello. Ports play no part.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match data.first() {
        None => Probe::NeedMore,
        Some(0x16) => probe_record(dir, data),
        Some(b) if b & 0x80 != 0 && dir == Direction::ToServer => probe_sslv2(data),
        Some(_) => Probe::NoMatch,
    }
}

fn probe_record(dir: Direction, data: &[u8]) -> Probe {
    let expected_msg = match dir {
        Direction::ToServer => 1,
        Direction::ToClient => 2,
    };
    let record_len = data.get(3..5).and_then(|l| <[u8; 2]>::try_from(l).ok()).map(u16::from_be_bytes);
    // Checks in wire order: (bytes the check needs, verdict).
    let checks: [(usize, bool); 5] = [
        (2, data.get(1) == Some(&3)),
        (3, data.get(2).is_some_and(|m| *m <= 4)),
        (5, record_len.is_some_and(|l| (4..=MAX_RECORD_LEN).contains(&usize::from(l)))),
        (6, data.get(5) == Some(&expected_msg)),
        // The hello's own version is 3.x and its length fits 16 bits.
        (10, data.get(9) == Some(&3) && data.get(6) == Some(&0)),
    ];
    for (need, ok) in checks {
        if data.len() < need {
            return Probe::NeedMore;
        }
        if !ok {
            return Probe::NoMatch;
        }
    }
    Probe::Match
}

/// SSLv2 record header with a CLIENT-HELLO announcing SSLv2, SSLv3 or TLS.
fn probe_sslv2(data: &[u8]) -> Probe {
    let [b0, b1, msg, vmaj, vmin, ..] = data else {
        return Probe::NeedMore;
    };
    let len = (usize::from(b0 & 0x7f) << 8) | usize::from(*b1);
    let version_ok = (*vmaj == 0 && *vmin == 2) || (*vmaj == 3 && *vmin <= 4);
    if *msg == 1 && version_ok && len >= 9 {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH_START: [u8; 11] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];

    #[test]
    fn client_hello_matches_to_server_only() {
        assert_eq!(probe(Direction::ToServer, &CH_START), Probe::Match);
        assert_eq!(probe(Direction::ToClient, &CH_START), Probe::NoMatch);
    }

    #[test]
    fn server_hello_matches_to_client() {
        let mut sh = CH_START;
        sh[5] = 2;
        assert_eq!(probe(Direction::ToClient, &sh), Probe::Match);
    }

    #[test]
    fn short_input_asks_for_more_until_it_can_decide() {
        for n in 0..10 {
            assert_eq!(probe(Direction::ToServer, &CH_START[..n]), Probe::NeedMore, "len {n}");
        }
        assert_eq!(probe(Direction::ToServer, &[0x16, 0x04]), Probe::NoMatch);
    }

    #[test]
    fn rejects_other_protocols() {
        assert_eq!(probe(Direction::ToServer, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
        assert_eq!(probe(Direction::ToServer, b"SSH-2.0-OpenSSH"), Probe::NoMatch);
        // Record length beyond what TLS allows.
        let mut big = CH_START;
        big[3] = 0xff;
        assert_eq!(probe(Direction::ToServer, &big), Probe::NoMatch);
    }

    #[test]
    fn sslv2_compatible_client_hello() {
        let v2 = [0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15];
        assert_eq!(probe(Direction::ToServer, &v2), Probe::Match);
        assert_eq!(probe(Direction::ToServer, &v2[..3]), Probe::NeedMore);
        assert_eq!(probe(Direction::ToServer, &[0x80, 0x2e, 0x04, 0x03, 0x01]), Probe::NoMatch);
    }
}
