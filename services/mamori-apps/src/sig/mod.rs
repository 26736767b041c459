//! Payload signatures, for apps that names do not reveal (P2P, VPNs,
//! games, calls). Each looks only at the bounded facts: the first packets'
//! leading bytes and lengths, and ports where a protocol is tied to one.
//!
//! The signatures are facts about the protocols as nDPI's dissectors
//! document them; the code is ours.

mod p2p;
mod services;
mod tunnel;

use crate::app::App;
use crate::facts::FlowFacts;

/// A signature that recognised the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigHit {
    pub app: App,
    pub signature: &'static str,
}

type Sig = fn(&FlowFacts) -> Option<SigHit>;

/// Signatures precise enough to win over names (a BitTorrent handshake on
/// a flow whose DNS name said otherwise is still BitTorrent).
const STRONG: &[Sig] = &[
    services::zoom,
    p2p::bittorrent,
    p2p::gnutella,
    p2p::edonkey,
    services::whatsapp,
    services::teamviewer,
    services::discord,
    services::riotgames,
    services::steam,
    services::dropbox_lansync,
    tunnel::openvpn,
    tunnel::wireguard,
    tunnel::socks,
    tunnel::http_proxy,
];

pub fn strong(f: &FlowFacts) -> Option<SigHit> {
    STRONG.iter().find_map(|s| s(f))
}

pub(crate) fn hit(app: App, signature: &'static str) -> Option<SigHit> {
    Some(SigHit { app, signature })
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at.checked_add(1)?)?]))
}

pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(<[u8; 4]>::try_from(s).ok()?))
}

pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    be32(b, at).map(u32::swap_bytes)
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
pub(crate) mod testutil {
    use mamori_applayer::Direction;

    use crate::facts::{FlowFacts, Transport};

    /// Facts from byte-exact payloads in each direction.
    pub fn facts(t: Transport, cport: u16, sport: u16, to_server: &[&[u8]], to_client: &[&[u8]]) -> FlowFacts {
        let mut f = FlowFacts::new(t, cport, sport);
        for p in to_server {
            f.add_payload(Direction::ToServer, p);
        }
        for p in to_client {
            f.add_payload(Direction::ToClient, p);
        }
        f
    }

    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
