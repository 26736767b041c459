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

/// An OpenVPN packet (TCP: after its 2-byte length): opcode and session id.
fn ovpn_packet(f: &FlowFacts, p: &Payload) -> Option<(u8, [u8; 8])> {
    let h = match f.transport {
        Transport::Tcp => {
            let declared = usize::from(be16(p.head(), 0)?);
            if declared != p.len().checked_sub(2)? && declared > p.len() {
                return None;
            }
            p.head().get(2..)?
        }
        Transport::Udp => p.head(),
    };
    let op = h.first()? >> 3;
    let mut sid = [0u8; 8];
    sid.copy_from_slice(h.get(1..9)?);
    Some((op, sid))
}

/// The client opens with a hard reset; then either the server answers with
/// its hard reset, or the client's next packet continues the same session.
pub fn openvpn(f: &FlowFacts) -> Option<SigHit> {
    let first = f.payload(ToServer, 0)?;
    let (op, sid) = ovpn_packet(f, first)?;
    if !matches!(op, OVPN_HARD_RESET_CLIENT_V1 | OVPN_HARD_RESET_CLIENT_V2 | OVPN_HARD_RESET_CLIENT_V3) {
        return None;
    }
    let server_reset = f
        .payload(ToClient, 0)
        .and_then(|p| ovpn_packet(f, p))
        .is_some_and(|(op, _)| matches!(op, OVPN_HARD_RESET_SERVER_V1 | OVPN_HARD_RESET_SERVER_V2));
    let continued = f.payloads(ToServer).iter().skip(1).take(3).filter_map(|p| ovpn_packet(f, p)).any(|(o, s)| {
        s == sid
            && matches!(
                o,
                OVPN_CONTROL_V1
                    | OVPN_ACK_V1
                    | OVPN_CONTROL_WKC_V1
                    | OVPN_HARD_RESET_CLIENT_V1
                    | OVPN_HARD_RESET_CLIENT_V2
                    | OVPN_HARD_RESET_CLIENT_V3
            )
    });
    (server_reset || continued).then_some(())?;
    hit(App::OpenVpn, "openvpn-hard-reset")
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
        if data.len() >= 2 && data.windows(2).all(|w| w[0] == w[1]) {
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
    let line_end = memchr::memmem::find(c, b"\r\n")?;
    let line = c.get(..line_end)?;
    let is_http = line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0");
    let connect = line.starts_with(b"CONNECT ");
    let absolute = [&b"GET http://"[..], b"POST http://", b"HEAD http://"].iter().any(|m| line.starts_with(m));
    (is_http && (connect || absolute)).then_some(())?;
    hit(App::HttpProxy, "http-proxy-request")
}
