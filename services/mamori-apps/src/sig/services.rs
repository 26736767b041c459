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
        let tail = h.len().saturating_sub(8);
        let last = tail.saturating_add(4);
        if be32(h, tail) == Some(0xaaaa_aaaa) && be32(h, last) == Some(0xbbbb_bbbb) {
            return hit(App::RiotGames, "riot-trailer");
        }
        if h.len() == 53 && be32(h, tail) == Some(0x3cb1_1f2d) && be32(h, last) == Some(0xea23_460c) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Transport::{Tcp, Udp};
    use crate::sig::testutil::{facts, hex};

    fn sig(s: Option<SigHit>) -> Option<&'static str> {
        s.map(|h| h.signature)
    }

    #[test]
    fn whatsapp_prologue_split_over_segments() {
        let f = facts(Tcp, 49026, 5222, &[b"ED\x00\x01", b"\x00\x00\x04\x08\x09\x08\x05"], &[]);
        assert_eq!(sig(whatsapp(&f)), Some("whatsapp-noise"));
        let f = facts(Tcp, 49026, 5222, &[b"ED\x00\x01", b"\x00\x00\x05\x08"], &[]);
        assert_eq!(whatsapp(&f), None);
        let f = facts(Tcp, 42241, 5222, &[b"WA\x01\x05\x00\x00\x17\xf8\x05\x01"], &[]);
        assert_eq!(sig(whatsapp(&f)), Some("whatsapp-legacy"));
    }

    #[test]
    fn teamviewer_tcp_and_udp() {
        let f = facts(Tcp, 35732, 5938, &[&hex("17240a20000000000000")], &[]);
        assert_eq!(sig(teamviewer(&f)), Some("teamviewer-magic"));
        let f = facts(Tcp, 35732, 443, &[&hex("17240a20000000000000")], &[]);
        assert_eq!(teamviewer(&f), None, "off port 5938 one packet is not enough");
        let u = hex("0000000000000000000003172447500005000000");
        let f = facts(Udp, 34417, 36037, &[&u, &u], &[&u, &u]);
        assert_eq!(sig(teamviewer(&f)), Some("teamviewer-magic"));
        let f = facts(Udp, 34417, 36037, &[&u], &[]);
        assert_eq!(teamviewer(&f), None);
    }

    #[test]
    fn discord_voice() {
        let mut req = hex("00010046 00024b18");
        req.resize(74, 0);
        let mut resp = hex("00020046 00024b18");
        resp.extend_from_slice(b"84.59.132.100");
        resp.resize(74, 0);
        assert_eq!(sig(discord(&facts(Udp, 64837, 50001, &[&req], &[&resp]))), Some("discord-ip-discovery"));
        assert_eq!(sig(discord(&facts(Udp, 64837, 50001, &[&req], &[]))), Some("discord-ip-discovery"));
        let mut noisy = req.clone();
        noisy[40] = 1;
        assert_eq!(discord(&facts(Udp, 64837, 50001, &[&noisy], &[])), None);
        assert_eq!(
            sig(discord(&facts(Udp, 48526, 50004, &[&hex("1337cafe0a000000")], &[]))),
            Some("discord-keepalive")
        );
        assert_eq!(discord(&facts(Udp, 48526, 50004, &[&hex("1337cafe0a00000000")], &[])), None);
    }

    #[test]
    fn riot_trailers() {
        let p = hex("2bbd03111e32fd15ab597f811fcc17161db1000052f862a729000000aaaaaaaabbbbbbbb");
        assert_eq!(sig(riotgames(&facts(Udp, 50004, 8181, &[&p], &[]))), Some("riot-trailer"));
        let mut hello = vec![0u8; 45];
        hello.extend_from_slice(&hex("3cb11f2d ea23460c"));
        assert_eq!(sig(riotgames(&facts(Udp, 59956, 7194, &[&hello], &[]))), Some("riot-hello"));
        hello.push(0);
        assert_eq!(riotgames(&facts(Udp, 59956, 7194, &[&hello], &[])), None);
    }

    #[test]
    fn steam_discovery_and_tcp() {
        let d = hex("ffffffff214c5fa0 16000000 08fcd3f1");
        assert_eq!(sig(steam(&facts(Udp, 27036, 27036, &[&d], &[]))), Some("steam-discovery"));
        let t = [&hex("2a000000")[..], b"VT01", &[0u8; 8]].concat();
        assert_eq!(sig(steam(&facts(Tcp, 50000, 27017, &[&t], &[]))), Some("steam-vt01"));
        assert_eq!(steam(&facts(Udp, 27036, 27036, &[&hex("ffffffff54536f75726365")], &[])), None);
    }

    #[test]
    fn dropbox_lan_sync() {
        let b = br#"{"host_int": 274363570036934823, "version": [2, 0], "port": 17500}"#;
        assert_eq!(sig(dropbox_lansync(&facts(Udp, 17500, 17500, &[b], &[]))), Some("dropbox-lansync"));
        assert_eq!(dropbox_lansync(&facts(Udp, 40000, 17500, &[b], &[])), None, "announcements go port to port");
        let bus = hex("42031da9079872445c4172084275733137436d6411");
        assert_eq!(sig(dropbox_lansync(&facts(Udp, 50318, 17500, &[&bus], &[]))), Some("dropbox-lansync"));
    }

    #[test]
    fn zoom_sfu() {
        let mut p = hex("010003c84ac4528718cda2b8477a1b899f338300");
        p.resize(123, 0);
        assert_eq!(sig(zoom(&facts(Udp, 60653, 8801, &[&p], &[]))), Some("zoom-sfu"));
        assert_eq!(zoom(&facts(Udp, 60653, 9000, &[&p], &[])), None);
        p[0] = 0x02;
        assert_eq!(zoom(&facts(Udp, 60653, 8801, &[&p], &[])), None);
    }
}
