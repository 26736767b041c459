//! BitTorrent (peer handshake, uTP, DHT, trackers, local discovery),
//! eDonkey/eMule and Gnutella (0.6 handshake, HTTP transfers, UDP messages,
//! G2 `GND` datagrams).

use mamori_applayer::Direction::{ToClient, ToServer};

use super::{be16, contains, hit, le32, SigHit};
use crate::app::App;
use crate::facts::{FlowFacts, Transport};

const BT_HANDSHAKE: &[u8] = b"\x13BitTorrent protocol";
/// BEP 15 UDP tracker protocol id.
const BT_UDP_TRACKER_MAGIC: [u8; 8] = [0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80];

pub fn bittorrent(f: &FlowFacts) -> Option<SigHit> {
    let firsts = [f.first(ToServer), f.first(ToClient)];
    match f.transport {
        Transport::Tcp => {
            if firsts.iter().flatten().any(|p| p.starts_with(BT_HANDSHAKE)) {
                return hit(App::BitTorrent, "bittorrent-handshake");
            }
            let c = f.first(ToServer)?;
            if (c.starts_with(b"GET /announce") || c.starts_with(b"GET /scrape")) && contains(c, b"info_hash=") {
                return hit(App::BitTorrent, "bittorrent-http-tracker");
            }
            None
        }
        Transport::Udp => {
            for p in firsts.iter().flatten() {
                if is_dht(p) {
                    return hit(App::BitTorrent, "bittorrent-dht");
                }
                if p.starts_with(b"BT-SEARCH * HTTP/1.1") {
                    return hit(App::BitTorrent, "bittorrent-local-discovery");
                }
            }
            if let Some(c) = f.first(ToServer) {
                if c.len() >= 16 && c.starts_with(&BT_UDP_TRACKER_MAGIC) && le32(c, 8) == Some(0) {
                    return hit(App::BitTorrent, "bittorrent-udp-tracker");
                }
            }
            if [ToServer, ToClient].into_iter().any(|d| utp(f, d)) {
                return hit(App::BitTorrent, "bittorrent-utp");
            }
            None
        }
    }
}

/// A bencoded KRPC message (BEP 5): a dictionary with a node id and a
/// message type.
fn is_dht(p: &[u8]) -> bool {
    p.first() == Some(&b'd') && contains(p, b"2:id20:") && contains(p, b"1:y1:")
}

/// uTP (BEP 29): two packets in one direction with a valid header and the
/// same connection id.
fn utp(f: &FlowFacts, dir: mamori_applayer::Direction) -> bool {
    let valid = |p: &crate::facts::Payload| -> Option<u16> {
        let h = p.head();
        let b0 = *h.first()?;
        let (kind, version) = (b0 >> 4, b0 & 0x0f);
        let ext = *h.get(1)?;
        if version != 1 || kind > 4 || ext > 4 || p.len() < 20 {
            return None;
        }
        // Only data packets carry payload when there is no extension.
        if kind != 0 && ext == 0 && p.len() != 20 {
            return None;
        }
        be16(h, 2)
    };
    let ids: Vec<u16> = f.payloads(dir).iter().take(4).map_while(valid).collect();
    ids.len() >= 2 && ids.windows(2).all(|w| w[0] == w[1])
}

pub fn edonkey(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Tcp {
        return None;
    }
    let p = f.payload(ToServer, 0)?;
    let h = p.head();
    // Protocol byte (eDonkey, eMule extensions, eMule packed), then the
    // little-endian length of what follows it.
    if !matches!(h.first(), Some(0xe3) | Some(0xc5) | Some(0xd4)) || p.len() < 6 {
        return None;
    }
    let declared = usize::try_from(le32(h, 1)?).ok()?;
    (declared == p.len().saturating_sub(5)).then_some(())?;
    hit(App::EDonkey, "edonkey-header")
}

/// Gnutella UDP message: 16-byte GUID, type, TTL, hops, little-endian
/// payload length that accounts for the rest of the datagram. Type 0x44
/// is the Gnutella DHT (its version sits where TTL and hops are).
fn gnutella_udp_message(p: &crate::facts::Payload) -> bool {
    let h = p.head();
    let (Some(&kind), Some(len)) = (h.get(16), le32(h, 19)) else { return false };
    let known = matches!(kind, 0x00 | 0x01 | 0x02 | 0x31 | 0x32 | 0x40 | 0x44 | 0x80 | 0x81);
    known && usize::try_from(len).is_ok_and(|l| l == p.len().saturating_sub(23))
}

/// G2 UDP: "GND", flags, sequence, part, count (part 1..=count).
fn g2_udp(p: &[u8]) -> bool {
    let (Some(&part), Some(&count)) = (p.get(6), p.get(7)) else { return false };
    p.starts_with(b"GND") && p.len() >= 8 && part >= 1 && part <= count
}

pub fn gnutella(f: &FlowFacts) -> Option<SigHit> {
    match f.transport {
        Transport::Tcp => {
            let c = f.first(ToServer).unwrap_or(&[]);
            let s = f.first(ToClient).unwrap_or(&[]);
            if [c, s].iter().any(|p| p.starts_with(b"GNUTELLA CONNECT/") || p.starts_with(b"GNUTELLA/")) {
                return hit(App::Gnutella, "gnutella-handshake");
            }
            let http_get = c.starts_with(b"GET /uri-res/") || c.starts_with(b"GET /get/");
            if (http_get && contains(c, b"urn:sha1:")) || c.starts_with(b"GET /gnutella/") {
                return hit(App::Gnutella, "gnutella-http");
            }
            if c.starts_with(b"HEAD /gnutella/push-proxy?") {
                return hit(App::Gnutella, "gnutella-push-proxy");
            }
            None
        }
        Transport::Udp => {
            for dir in [ToServer, ToClient] {
                let Some(p) = f.payload(dir, 0) else { continue };
                if g2_udp(p.head()) {
                    return hit(App::Gnutella, "gnutella-g2-udp");
                }
                // The bare message layout is generic enough that service
                // ports (DNS, NTP...) are left out.
                if f.client_port >= 1024 && f.server_port >= 1024 && gnutella_udp_message(p) {
                    return hit(App::Gnutella, "gnutella-udp");
                }
            }
            None
        }
    }
}
