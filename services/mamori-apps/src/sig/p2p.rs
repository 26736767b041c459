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

/// uTP (BEP 29): two packets in one direction with a valid header, the
/// same connection id, a moving timestamp and sequence or ack numbers that
/// advance by a little: a fixed media header repeated (Zoom) is not uTP.
fn utp(f: &FlowFacts, dir: mamori_applayer::Direction) -> bool {
    struct Hdr {
        conn: u16,
        ts: u32,
        seq: u16,
        ack: u16,
    }
    let valid = |p: &crate::facts::Payload| -> Option<Hdr> {
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
        Some(Hdr { conn: be16(h, 2)?, ts: super::be32(h, 4)?, seq: be16(h, 16)?, ack: be16(h, 18)? })
    };
    let hs: Vec<Hdr> = f.payloads(dir).iter().take(4).map_while(valid).collect();
    let step = |a: u16, b: u16| (1..=16).contains(&b.wrapping_sub(a));
    hs.len() >= 2
        && hs.windows(2).all(|w| match w {
            [a, b] => a.conn == b.conn && a.ts != b.ts && (step(a.seq, b.seq) || step(a.ack, b.ack)),
            _ => false,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Transport::{Tcp, Udp};
    use crate::sig::testutil::{facts, hex};

    fn app(s: Option<SigHit>) -> Option<(App, &'static str)> {
        s.map(|h| (h.app, h.signature))
    }

    #[test]
    fn bittorrent_handshake() {
        let mut hs = b"\x13BitTorrent protocol".to_vec();
        hs.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 5]);
        hs.extend_from_slice(&[0xdc; 20]);
        hs.extend_from_slice(b"-qB4250-abcdefghijkl");
        let f = facts(Tcp, 52915, 60163, &[&hs], &[]);
        assert_eq!(app(bittorrent(&f)), Some((App::BitTorrent, "bittorrent-handshake")));
        let f = facts(Tcp, 52915, 60163, &[b"\x13BitTorrent protocoX"], &[]);
        assert_eq!(bittorrent(&f), None);
    }

    #[test]
    fn bittorrent_trackers_and_discovery() {
        let f = facts(Tcp, 40000, 80, &[b"GET /announce?info_hash=%dc%fc&peer_id=-qB HTTP/1.1\r\n\r\n"], &[]);
        assert_eq!(app(bittorrent(&f)).map(|a| a.1), Some("bittorrent-http-tracker"));
        let f = facts(Tcp, 40000, 80, &[b"GET /announce.php HTTP/1.1\r\n\r\n"], &[]);
        assert_eq!(bittorrent(&f), None);
        let connect = hex("0000041727101980 00000000 12345678");
        let f = facts(Udp, 40000, 6969, &[&connect], &[]);
        assert_eq!(app(bittorrent(&f)).map(|a| a.1), Some("bittorrent-udp-tracker"));
        let lsd = b"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ab\r\n\r\n";
        let f = facts(Udp, 6771, 6771, &[lsd], &[]);
        assert_eq!(app(bittorrent(&f)).map(|a| a.1), Some("bittorrent-local-discovery"));
    }

    #[test]
    fn bittorrent_dht() {
        let q = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
        let f = facts(Udp, 6881, 6881, &[q], &[]);
        assert_eq!(app(bittorrent(&f)).map(|a| a.1), Some("bittorrent-dht"));
        let not = b"d1:ad2:id19:abcdefghij012345678e1:q4:pinge";
        assert_eq!(bittorrent(&facts(Udp, 6881, 6881, &[not], &[])), None);
    }

    #[test]
    fn bittorrent_utp() {
        // ST_DATA, same connection id, moving timestamps, seq 0x5c12 -> 0x5c13.
        let a = hex("0100efcb c0d91a2a c89f62fa 00100000 5c12 5d66 00");
        let b = hex("0100efcb c0d92bc5 c89f62fa 00100000 5c13 5d66 00");
        let f = facts(Udp, 62229, 6881, &[&a, &b], &[]);
        assert_eq!(app(bittorrent(&f)).map(|a| a.1), Some("bittorrent-utp"));
        // A repeated fixed header (Zoom-like) is not uTP.
        assert_eq!(bittorrent(&facts(Udp, 62229, 6881, &[&a, &a], &[])), None);
        // One packet is not enough.
        assert_eq!(bittorrent(&facts(Udp, 62229, 6881, &[&a], &[])), None);
    }

    #[test]
    fn edonkey_hello() {
        let mut p = vec![0xe3, 0x77, 0, 0, 0, 0x01];
        p.resize(124, 0x41);
        assert_eq!(app(edonkey(&facts(Tcp, 1754, 4662, &[&p], &[]))), Some((App::EDonkey, "edonkey-header")));
        p[1] = 0x78;
        assert_eq!(edonkey(&facts(Tcp, 1754, 4662, &[&p], &[])), None, "length must match");
    }

    #[test]
    fn gnutella_tcp() {
        let f = facts(Tcp, 50284, 6346, &[b"GNUTELLA CONNECT/0.6\r\nUser-Agent: gtk-gnutella\r\n\r\n"], &[]);
        assert_eq!(app(gnutella(&f)).map(|a| a.1), Some("gnutella-handshake"));
        let f = facts(Tcp, 50284, 6346, &[b"GET /uri-res/N2R?urn:sha1:LXIP2A72T5H3 HTTP/1.1\r\n\r\n"], &[]);
        assert_eq!(app(gnutella(&f)).map(|a| a.1), Some("gnutella-http"));
        let f = facts(Tcp, 50284, 80, &[b"GET /uri-res/other HTTP/1.1\r\n\r\n"], &[]);
        assert_eq!(gnutella(&f), None);
    }

    #[test]
    fn gnutella_udp() {
        // Query: GUID, 0x80, TTL 1, hops 0, length 33, then 33 bytes.
        let mut q = hex("5d2fe235310200641ac4f2e94e09700f 80 01 00 21000000");
        q.resize(56, 0x70);
        assert_eq!(app(gnutella(&facts(Udp, 28681, 30577, &[&q], &[]))).map(|a| a.1), Some("gnutella-udp"));
        q.push(0);
        assert_eq!(gnutella(&facts(Udp, 28681, 30577, &[&q], &[])), None, "length must account for the datagram");
        // The same bytes to a DNS server are not Gnutella.
        q.pop();
        assert_eq!(gnutella(&facts(Udp, 28681, 53, &[&q], &[])), None);
        // G2: GND, flags, seq, part 1 of 1.
        let g2 = hex("474e44 10 3f00 01 01 4c05504900");
        assert_eq!(app(gnutella(&facts(Udp, 28681, 6346, &[&g2], &[]))).map(|a| a.1), Some("gnutella-g2-udp"));
        let bad = hex("474e44 10 3f00 02 01 4c05504900");
        assert_eq!(gnutella(&facts(Udp, 28681, 6346, &[&bad], &[])), None);
    }
}
