//! Messaging, remote access, games and sync protocols with fixed headers.

use mamori_applayer::Direction::{ToClient, ToServer};

use super::{be32, contains, hit, SigHit};
use crate::app::App;
use crate::facts::{FlowFacts, Transport};

/// WhatsApp's Noise handshake prologue ("ED" 0 1) with the two known
/// versions, and the legacy "WA" 1.5 stream header. The client may send the
/// prologue in its own segment, so the start of the stream is compared.
pub fn whatsapp(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Tcp {
        return None;
    }
    let s = f.stream_prefix(ToServer, 8);
    if s.starts_with(b"ED\x00\x01\x00\x00\x04\x08") || s.starts_with(b"ED\x00\x01\x00\x00\x02\x08") {
        return hit(App::WhatsApp, "whatsapp-noise");
    }
    if s.starts_with(b"WA\x01\x05") && f.payload(ToServer, 0).is_some_and(|p| p.len() > 4) {
        return hit(App::WhatsApp, "whatsapp-legacy");
    }
    None
}

/// TeamViewer: TCP packets start 0x17 0x24 (0x11 0x30 later on), UDP ones
/// carry the same magic at offset 11 after a zero counter. Port 5938 is
/// TeamViewer's own; elsewhere four such packets are required.
pub fn teamviewer(f: &FlowFacts) -> Option<SigHit> {
    let packets = f.payloads(ToServer).iter().chain(f.payloads(ToClient));
    let count = match f.transport {
        Transport::Tcp => {
            let first = f.first(ToServer).or(f.first(ToClient))?;
            if !first.starts_with(&[0x17, 0x24]) {
                return None;
            }
            packets.filter(|p| p.head().starts_with(&[0x17, 0x24]) || p.head().starts_with(&[0x11, 0x30])).count()
        }
        Transport::Udp => packets
            .filter(|p| {
                let h = p.head();
                p.len() > 13 && h.first() == Some(&0) && h.get(11..13) == Some(&[0x17, 0x24][..])
            })
            .count(),
    };
    (count >= 4 || (count >= 1 && f.has_port(5938))).then_some(())?;
    hit(App::TeamViewer, "teamviewer-magic")
}

/// Discord voice: the 74-byte IP discovery exchange (request type 1,
/// response type 2, length 70) or the 8-byte 0x1337cafe keep-alive.
pub fn discord(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Udp {
        return None;
    }
    for dir in [ToServer, ToClient] {
        if let Some(p) = f.payload(dir, 0) {
            if p.len() == 8 && be32(p.head(), 0) == Some(0x1337_cafe) {
                return hit(App::Discord, "discord-keepalive");
            }
        }
    }
    let req = f.payload(ToServer, 0)?;
    if req.len() != 74 || be32(req.head(), 0) != Some(0x0001_0046) {
        return None;
    }
    let answered = f.payload(ToClient, 0).is_some_and(|p| p.len() == 74 && be32(p.head(), 0) == Some(0x0002_0046));
    // The request's address field is empty: zeros after the SSRC.
    let empty_request = req.head().get(8..).is_some_and(|r| r.iter().all(|b| *b == 0));
    (answered || empty_request).then_some(())?;
    hit(App::Discord, "discord-ip-discovery")
}

/// Riot Games UDP: a trailer of 0xaaaaaaaa 0xbbbbbbbb, or the fixed
/// trailer of the 53-byte hello.
pub fn riotgames(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Udp {
        return None;
    }
    for dir in [ToServer, ToClient] {
        let Some(p) = f.payload(dir, 0) else { continue };
        let h = p.head();
        if h.len() != p.len() || h.len() <= 8 {
            continue;
        }
        let tail = h.len() - 8;
        if be32(h, tail) == Some(0xaaaa_aaaa) && be32(h, tail + 4) == Some(0xbbbb_bbbb) {
            return hit(App::RiotGames, "riot-trailer");
        }
        if h.len() == 53 && be32(h, tail) == Some(0x3cb1_1f2d) && be32(h, tail + 4) == Some(0xea23_460c) {
            return hit(App::RiotGames, "riot-hello");
        }
    }
    None
}

/// Steam: in-home streaming discovery datagrams, and the client's TCP
/// connection to a content/connection manager ("VT01" after the length).
pub fn steam(f: &FlowFacts) -> Option<SigHit> {
    let c = f.first(ToServer)?;
    match f.transport {
        Transport::Udp if c.starts_with(&[0xff, 0xff, 0xff, 0xff, 0x21, 0x4c, 0x5f, 0xa0]) => {
            hit(App::Steam, "steam-discovery")
        }
        Transport::Tcp if c.get(4..8) == Some(&b"VT01"[..]) => hit(App::Steam, "steam-vt01"),
        _ => None,
    }
}

/// Dropbox LAN sync on UDP 17500: the broadcast announcement (JSON with
/// `host_int`) and the unicast bus messages.
pub fn dropbox_lansync(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Udp || f.server_port != 17500 {
        return None;
    }
    let c = f.first(ToServer)?;
    if (f.client_port == 17500 && contains(c, b"\"host_int\"")) || contains(c, b"Bus17Cmd") {
        return hit(App::Dropbox, "dropbox-lansync");
    }
    None
}

/// Zoom media over UDP to its multimedia routers (ports 8801-8810): the
/// first datagram is a Zoom SFU header (type 1 or 5).
pub fn zoom(f: &FlowFacts) -> Option<SigHit> {
    if f.transport != Transport::Udp || !(8801..=8810).contains(&f.server_port) {
        return None;
    }
    let p = f.payload(ToServer, 0)?;
    let h = p.head();
    let kind_ok = matches!(h.first(), Some(0x01) | Some(0x05)) && h.get(1) == Some(&0);
    (kind_ok && p.len() > 20).then_some(())?;
    hit(App::Zoom, "zoom-sfu")
}
