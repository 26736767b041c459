//! VPN and proxy protocols: OpenVPN, WireGuard, SOCKS, HTTP proxies.

use mamori_applayer::Direction::{ToClient, ToServer};

use super::{be16, hit, SigHit};
use crate::app::App;
use crate::facts::{FlowFacts, Payload, Transport};

const OVPN_HARD_RESET_CLIENT_V1: u8 = 1;
const OVPN_HARD_RESET_SERVER_V1: u8 = 2;
const OVPN_CONTROL_V1: u8 = 4;
const OVPN_ACK_V1: u8 = 5;
const OVPN_HARD_RESET_CLIENT_V2: u8 = 7;
const OVPN_HARD_RESET_SERVER_V2: u8 = 8;
const OVPN_HARD_RESET_CLIENT_V3: u8 = 10;
const OVPN_CONTROL_WKC_V1: u8 = 11;

/// An OpenVPN control packet (TCP: after its 2-byte length): opcode and
/// session id. Control packets of a new session use key id 0.
fn ovpn_packet(f: &FlowFacts, p: &Payload) -> Option<(u8, [u8; 8])> {
    let h = match f.transport {
        Transport::Tcp => {
            let declared = usize::from(be16(p.head(), 0)?);
            // One or more whole packets, or the start of a longer one.
            if declared < 9 || (declared > p.len().saturating_sub(2) && p.len() >= 1024) {
                return None;
            }
            p.head().get(2..)?
        }
        Transport::Udp => p.head(),
    };
    let b0 = *h.first()?;
    if b0 & 0x07 != 0 {
        return None;
    }
    let mut sid = [0u8; 8];
    sid.copy_from_slice(h.get(1..9)?);
    Some((b0 >> 3, sid))
}

fn is_reset(op: u8) -> bool {
    matches!(
        op,
        OVPN_HARD_RESET_CLIENT_V1
            | OVPN_HARD_RESET_SERVER_V1
            | OVPN_HARD_RESET_CLIENT_V2
            | OVPN_HARD_RESET_SERVER_V2
            | OVPN_HARD_RESET_CLIENT_V3
    )
}

/// A side opens with a hard reset; then either the other side answers with
/// a hard reset, or the same side continues the session (same session id,
/// control or ack opcode). Either side counts as the opener because a
/// capture (or a flow table) may first see the server's reset.
pub fn openvpn(f: &FlowFacts) -> Option<SigHit> {
    for (dir, other) in [(ToServer, ToClient), (ToClient, ToServer)] {
        let Some((op, sid)) = f.payload(dir, 0).and_then(|p| ovpn_packet(f, p)) else { continue };
        if !is_reset(op) {
            continue;
        }
        let answered = f.payload(other, 0).and_then(|p| ovpn_packet(f, p)).is_some_and(|(o, _)| is_reset(o) && o != op);
        // Retransmitted resets do not count: a repeated datagram of any
        // protocol would pass that.
        let continued = f
            .payloads(dir)
            .iter()
            .skip(1)
            .take(3)
            .filter_map(|p| ovpn_packet(f, p))
            .any(|(o, s)| s == sid && matches!(o, OVPN_CONTROL_V1 | OVPN_ACK_V1 | OVPN_CONTROL_WKC_V1));
        if answered || continued {
            return hit(App::OpenVpn, "openvpn-hard-reset");
        }
    }
    None
}

/// WireGuard: message type 1-4 followed by three zero bytes; handshake
/// messages have fixed sizes, transport data needs two packets with the
/// same receiver index.
pub fn wireguard(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Udp {
        return None;
    }
    let kind = |p: &Payload| -> Option<u8> {
        let h = p.head();
        (h.get(1..4) == Some(&[0, 0, 0][..])).then_some(*h.first()?)
    };
    for dir in [ToServer, ToClient] {
        let Some(p) = f.payload(dir, 0) else { continue };
        match (kind(p), p.len()) {
            (Some(1), 148) => return hit(App::WireGuard, "wireguard-handshake-initiation"),
            (Some(2), 92) => return hit(App::WireGuard, "wireguard-handshake-response"),
            _ => {}
        }
        let data: Vec<&[u8]> = f
            .payloads(dir)
            .iter()
            .take(3)
            .filter(|p| kind(p) == Some(4) && p.len() >= 32 && p.len() % 16 == 0)
            .map(|p| p.head().get(4..8).unwrap_or(&[]))
            .collect();
        if data.len() >= 2 && data.windows(2).all(|w| w.first() == w.last()) {
            return hit(App::WireGuard, "wireguard-transport");
        }
    }
    None
}

/// SOCKS5 greeting (version, method count, methods) answered by a method
/// choice or followed by a request; SOCKS4 CONNECT/BIND with its NUL-ended
/// user id.
pub fn socks(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Tcp {
        return None;
    }
    let c = f.first(ToServer)?;
    match c.first() {
        Some(5) => {
            let n = usize::from(*c.get(1)?);
            (n >= 1 && c.len() == n + 2).then_some(())?;
            let reply = f.first(ToClient).is_some_and(|s| s.len() == 2 && s.first() == Some(&5));
            let request = f.payload(ToServer, 1).is_some_and(|p| {
                let h = p.head();
                h.first() == Some(&5) && matches!(h.get(1), Some(1..=3)) && h.get(2) == Some(&0)
            });
            (reply || request).then_some(())?;
            hit(App::Socks, "socks5")
        }
        Some(4) => {
            (matches!(c.get(1), Some(1) | Some(2)) && c.len() >= 9 && c.last() == Some(&0)).then_some(())?;
            hit(App::Socks, "socks4")
        }
        _ => None,
    }
}

/// A request to a forward proxy: CONNECT, or a request line whose target
/// is an absolute http URL.
pub fn http_proxy(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Tcp {
        return None;
    }
    let c = f.first(ToServer)?;
    // memchr, not memmem: a memmem searcher is built per call, and this
    // runs for every TCP flow being named.
    let line_end = memchr::memchr_iter(b'\n', c).find(|&i| i > 0 && c.get(i - 1) == Some(&b'\r'))? - 1;
    let line = c.get(..line_end)?;
    let is_http = line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0");
    let connect = line.starts_with(b"CONNECT ");
    let absolute = [&b"GET http://"[..], b"POST http://", b"HEAD http://"].iter().any(|m| line.starts_with(m));
    (is_http && (connect || absolute)).then_some(())?;
    hit(App::HttpProxy, "http-proxy-request")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Transport::{Tcp, Udp};
    use crate::sig::testutil::{facts, hex};

    fn sig(s: Option<SigHit>) -> Option<&'static str> {
        s.map(|h| h.signature)
    }

    #[test]
    fn openvpn_udp_reset_then_ack() {
        let reset = hex("38 660ee29aa490b059 7c5e6fd9ef3b0c63 00000001 57c20c2a 00 00000000");
        let ack = hex("28 660ee29aa490b059 71cb028076cf32eb 01 00000000 359085e4dd02");
        assert_eq!(sig(openvpn(&facts(Udp, 13680, 1194, &[&reset, &reset, &ack], &[]))), Some("openvpn-hard-reset"));
        // Retransmitted resets alone (any repeated datagram) are not enough.
        assert_eq!(openvpn(&facts(Udp, 13680, 1194, &[&reset, &reset], &[])), None);
        // The server's reset answers the client's.
        let sreset = hex("40 d31c3a6964602fa0 01 00000000 334857703d96db39 00000000");
        assert_eq!(sig(openvpn(&facts(Udp, 13680, 1194, &[&reset], &[&sreset]))), Some("openvpn-hard-reset"));
        // A non-zero key id on a reset is not OpenVPN (gQUIC's 0x0d flags).
        let gquic = hex("0d bcbbebb5056d77ad 5130333300");
        assert_eq!(openvpn(&facts(Udp, 35236, 443, &[&gquic, &gquic], &[])), None);
    }

    #[test]
    fn openvpn_tcp_length_prefix() {
        let reset = hex("000e 38 507a28a78275788d 0000000000");
        let ack = hex("0016 28 507a28a78275788d 01 00000000 9ad747beb24d8a1b");
        assert_eq!(sig(openvpn(&facts(Tcp, 39772, 1194, &[&reset, &ack], &[]))), Some("openvpn-hard-reset"));
    }

    #[test]
    fn wireguard_messages() {
        let mut init = hex("01000000 9043164c");
        init.resize(148, 7);
        assert_eq!(sig(wireguard(&facts(Udp, 57701, 51820, &[&init], &[]))), Some("wireguard-handshake-initiation"));
        init.push(0);
        assert_eq!(wireguard(&facts(Udp, 57701, 51820, &[&init], &[])), None);
        let mut d1 = hex("04000000 be40698d 6b00000000000000");
        d1.resize(96, 1);
        let mut d2 = hex("04000000 be40698d 6c00000000000000");
        d2.resize(144, 2);
        assert_eq!(sig(wireguard(&facts(Udp, 51820, 36116, &[&d1, &d2], &[]))), Some("wireguard-transport"));
        let mut other = hex("04000000 00000001 6c00000000000000");
        other.resize(144, 2);
        assert_eq!(wireguard(&facts(Udp, 51820, 36116, &[&d1, &other], &[])), None, "receiver index must repeat");
    }

    #[test]
    fn socks_handshakes() {
        let f = facts(Tcp, 44424, 1080, &[&hex("05020001"), &hex("050100042a00")], &[]);
        assert_eq!(sig(socks(&f)), Some("socks5"));
        let f = facts(Tcp, 44424, 1080, &[&hex("050100")], &[&hex("0500")]);
        assert_eq!(sig(socks(&f)), Some("socks5"));
        assert_eq!(socks(&facts(Tcp, 44424, 1080, &[&hex("05020001")], &[])), None);
        assert_eq!(
            socks(&facts(Tcp, 44424, 1080, &[&hex("05030001")], &[&hex("0500")])),
            None,
            "method count must fit"
        );
        let s4 = [&hex("0401 0050 c0000201")[..], b"user\0"].concat();
        assert_eq!(sig(socks(&facts(Tcp, 44424, 1080, &[&s4], &[]))), Some("socks4"));
    }

    #[test]
    fn http_proxy_requests() {
        let f = facts(Tcp, 51021, 3128, &[b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"], &[]);
        assert_eq!(sig(http_proxy(&f)), Some("http-proxy-request"));
        let f = facts(Tcp, 51021, 8080, &[b"GET http://example.com/ HTTP/1.1\r\n\r\n"], &[]);
        assert_eq!(sig(http_proxy(&f)), Some("http-proxy-request"));
        let f = facts(Tcp, 51021, 8080, &[b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"], &[]);
        assert_eq!(http_proxy(&f), None);
    }
}
