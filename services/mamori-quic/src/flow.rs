//! Per-flow QUIC state: Initial keys, CRYPTO reassembly, hellos found.

use mamori_applayer::{Anomaly, Direction};
use mamori_tls::{parse_client_hello, parse_server_hello, ClientHello, ServerHello, MAX_HANDSHAKE_MESSAGE};

use crate::crypto_stream::{CryptoError, CryptoStream};
use crate::frames::crypto_frames;
use crate::gquic::{self, chlo_len, parse_chlo};
use crate::keys::InitialKeys;
use crate::packet::{open_initial, parse_long_header, LongHeader, Opened, PacketKind};
use crate::transport_params;
use crate::version::{Family, InitialProtection, QuicVersion};

const LAYER: &str = "quic";
/// Initial packets examined per flow before giving up (bounds decryption work).
const MAX_INITIAL_PACKETS: u32 = 64;
/// Coalesced packets examined per datagram.
const MAX_PACKETS_PER_DATAGRAM: usize = 8;

/// What the parser reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuicEvent {
    /// The client's hello: a TLS ClientHello (IETF QUIC) or a gQUIC CHLO.
    ClientHello {
        version: QuicVersion,
        sni: Option<String>,
        user_agent: Option<String>,
        /// The TLS ClientHello; `None` for gQUIC CHLOs.
        tls: Option<Box<ClientHello>>,
    },
    /// The server's TLS ServerHello from its Initial packets.
    ServerHello {
        version: QuicVersion,
        tls: Box<ServerHello>,
    },
    Anomaly(Anomaly),
}

/// The client hello as kept by the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicClientHello {
    pub version: QuicVersion,
    pub sni: Option<String>,
    pub user_agent: Option<String>,
    pub tls: Option<ClientHello>,
}

/// Where one direction's hello search stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Search {
    #[default]
    Looking,
    /// Found, or given up on: no more decryption in this direction.
    Over,
}

/// Sans-I/O QUIC Initial parser for one UDP flow.
#[derive(Clone, Debug, Default)]
pub struct QuicFlow {
    version: Option<QuicVersion>,
    keys: Option<InitialKeys>,
    largest_pn: [Option<u64>; 2],
    crypto: [CryptoStream; 2],
    search: [Search; 2],
    initial_packets: u32,
    /// Anomaly names already reported, so a flood reports each once.
    reported: Vec<&'static str>,
    client_hello: Option<QuicClientHello>,
    server_hello: Option<ServerHello>,
}

impl QuicFlow {
    pub fn new() -> QuicFlow {
        QuicFlow::default()
    }

    /// The version of the first long-header packet seen.
    pub fn version(&self) -> Option<QuicVersion> {
        self.version
    }

    pub fn client_hello(&self) -> Option<&QuicClientHello> {
        self.client_hello.as_ref()
    }

    pub fn server_hello(&self) -> Option<&ServerHello> {
        self.server_hello.as_ref()
    }

    /// Both hellos found or given up on: further datagrams are ignored.
    pub fn is_done(&self) -> bool {
        self.search.iter().all(|s| *s == Search::Over)
    }

    /// Feeds one UDP payload travelling in `dir`.
    pub fn datagram(&mut self, dir: Direction, payload: &[u8], events: &mut Vec<QuicEvent>) {
        if self.search_of(dir) == Search::Over {
            return;
        }
        let mut rest = payload;
        for index in 0..MAX_PACKETS_PER_DATAGRAM {
            let Some(&first) = rest.first() else { return };
            let version = rest.get(1..5).and_then(|v| v.try_into().ok()).map(u32::from_be_bytes).map(QuicVersion);
            if first & 0x80 == 0 {
                // Short header (1-RTT), or a gQUIC public header.
                if index == 0 && dir == Direction::ToServer {
                    self.gquic_public_header(rest, events);
                }
                return;
            }
            let Some(version) = version else { return };
            if version.0 == 0 {
                return; // version negotiation
            }
            match version.family() {
                None => {
                    if index == 0 {
                        self.anomaly("unknown_version", events);
                    }
                    return;
                }
                Some(Family::GquicPublicHeader) => return,
                Some(Family::GquicQ046) => {
                    if index == 0 && dir == Direction::ToServer {
                        self.gquic_plaintext(rest, version, events);
                    }
                    return;
                }
                Some(Family::Ietf(protection)) => {
                    let header = match parse_long_header(rest) {
                        Ok(h) => h,
                        Err(_) => {
                            self.anomaly("invalid_long_header", events);
                            return;
                        }
                    };
                    let end = header.end;
                    match header.kind {
                        PacketKind::Initial => {
                            let packet = rest.get(..end).unwrap_or_default();
                            self.initial(dir, &protection, packet, &header, events);
                        }
                        PacketKind::Retry => return,
                        PacketKind::ZeroRtt | PacketKind::Handshake => {}
                    }
                    rest = rest.get(end..).unwrap_or_default();
                }
            }
            if self.search_of(dir) == Search::Over {
                return;
            }
        }
    }

    /// Feeds the frames of an already-decrypted Initial payload, as if it had
    /// arrived in `dir`. For fuzzing the code behind the AEAD, which random
    /// input never gets through.
    #[doc(hidden)]
    pub fn fuzz_decrypted_initial(&mut self, dir: Direction, payload: &[u8], events: &mut Vec<QuicEvent>) {
        if self.search_of(dir) == Search::Over {
            return;
        }
        self.frames(dir, crate::version::QuicVersion(1), payload, events);
    }

    fn search_of(&self, dir: Direction) -> Search {
        self.search.get(dir.index()).copied().unwrap_or(Search::Over)
    }

    fn give_up(&mut self, dir: Direction) {
        if let Some(s) = self.search.get_mut(dir.index()) {
            *s = Search::Over;
        }
    }

    fn anomaly(&mut self, event: &'static str, events: &mut Vec<QuicEvent>) {
        if !self.reported.contains(&event) {
            self.reported.push(event);
            events.push(QuicEvent::Anomaly(Anomaly::new(LAYER, event)));
        }
    }

    fn initial(
        &mut self,
        dir: Direction,
        protection: &InitialProtection,
        packet: &[u8],
        header: &LongHeader<'_>,
        events: &mut Vec<QuicEvent>,
    ) {
        self.initial_packets = self.initial_packets.saturating_add(1);
        if self.initial_packets > MAX_INITIAL_PACKETS {
            self.anomaly("too_many_initial_packets", events);
            self.search = [Search::Over; 2];
            return;
        }
        self.version.get_or_insert(header.version);
        let Some(opened) = self.open(dir, protection, packet, header) else {
            self.anomaly("decryption_failed", events);
            return;
        };
        if let Some(l) = self.largest_pn.get_mut(dir.index()) {
            *l = Some(l.map_or(opened.packet_number, |l| l.max(opened.packet_number)));
        }
        self.frames(dir, header.version, &opened.payload, events);
    }

    fn frames(&mut self, dir: Direction, version: QuicVersion, payload: &[u8], events: &mut Vec<QuicEvent>) {
        let (frames, error) = crypto_frames(payload);
        if error.is_some() {
            self.anomaly("invalid_frame", events);
        }
        for f in frames {
            let Some(stream) = self.crypto.get_mut(dir.index()) else {
                return;
            };
            match stream.insert(f.offset, f.data) {
                Ok(()) => {}
                Err(CryptoError::TooLong) => {
                    self.anomaly("crypto_stream_too_long", events);
                    self.give_up(dir);
                    return;
                }
                Err(CryptoError::TooFragmented) => {
                    self.anomaly("crypto_stream_too_fragmented", events);
                    self.give_up(dir);
                    return;
                }
            }
        }
        self.look_for_hello(dir, version, events);
    }

    /// Client Initials: the current keys first (they stay those of the first
    /// DCID even when the DCID changes), then keys from this packet's DCID
    /// (after a Retry, or when the capture missed the first Initial).
    fn open(
        &mut self,
        dir: Direction,
        protection: &InitialProtection,
        packet: &[u8],
        header: &LongHeader<'_>,
    ) -> Option<Opened> {
        let largest = self.largest_pn.get(dir.index()).copied().flatten();
        match dir {
            Direction::ToServer => {
                if let Some(k) = &self.keys {
                    if let Some(o) = open_initial(packet, header, &k.client, largest) {
                        return Some(o);
                    }
                    if k.dcid == header.dcid {
                        return None;
                    }
                }
                let fresh = InitialKeys::derive(protection, header.dcid)?;
                let opened = open_initial(packet, header, &fresh.client, None)?;
                self.keys = Some(fresh);
                self.largest_pn = [None; 2];
                Some(opened)
            }
            Direction::ToClient => open_initial(packet, header, &self.keys.as_ref()?.server, largest),
        }
    }

    fn look_for_hello(&mut self, dir: Direction, version: QuicVersion, events: &mut Vec<QuicEvent>) {
        let Some(stream) = self.crypto.get(dir.index()) else {
            return;
        };
        let data = stream.contiguous();
        if dir == Direction::ToServer && data.starts_with(b"CHLO") {
            // Q050: a gQUIC CHLO inside CRYPTO frames.
            if chlo_len(data).is_some_and(|n| data.len() >= n) {
                let chlo = parse_chlo(data);
                self.found_chlo(version, chlo, events);
            }
            return;
        }
        let [typ, l0, l1, l2, ..] = *data else { return };
        let len = (usize::from(l0) << 16) | (usize::from(l1) << 8) | usize::from(l2);
        let expected = match dir {
            Direction::ToServer => 1,
            Direction::ToClient => 2,
        };
        if typ != expected || len > MAX_HANDSHAKE_MESSAGE {
            self.anomaly("unexpected_handshake_message", events);
            self.give_up(dir);
            return;
        }
        let Some(body) = data.get(4..4 + len) else {
            return;
        };
        match dir {
            Direction::ToServer => match parse_client_hello(body) {
                Ok(ch) => self.found_client_hello(version, ch, events),
                Err(_) => self.anomaly("invalid_client_hello", events),
            },
            Direction::ToClient => match parse_server_hello(body) {
                Ok(sh) => {
                    events.push(QuicEvent::ServerHello { version, tls: Box::new(sh.clone()) });
                    self.server_hello = Some(sh);
                }
                Err(_) => self.anomaly("invalid_server_hello", events),
            },
        }
        self.give_up(dir);
    }

    fn found_client_hello(&mut self, version: QuicVersion, ch: ClientHello, events: &mut Vec<QuicEvent>) {
        let user_agent = ch.quic_transport_parameters.as_deref().and_then(transport_params::user_agent);
        let hello = QuicClientHello {
            version,
            sni: ch.sni().map(|s| s.into_owned()),
            user_agent: user_agent.map(|ua| String::from_utf8_lossy(&ua).into_owned()),
            tls: Some(ch),
        };
        self.emit_client_hello(hello, events);
    }

    fn found_chlo(&mut self, version: QuicVersion, chlo: Option<gquic::Chlo>, events: &mut Vec<QuicEvent>) {
        let Some(chlo) = chlo else {
            self.anomaly("invalid_chlo", events);
            self.give_up(Direction::ToServer);
            return;
        };
        let text = |b: Option<Vec<u8>>| b.map(|v| String::from_utf8_lossy(&v).into_owned());
        let hello = QuicClientHello { version, sni: text(chlo.sni), user_agent: text(chlo.user_agent), tls: None };
        self.emit_client_hello(hello, events);
    }

    fn emit_client_hello(&mut self, hello: QuicClientHello, events: &mut Vec<QuicEvent>) {
        events.push(QuicEvent::ClientHello {
            version: hello.version,
            sni: hello.sni.clone(),
            user_agent: hello.user_agent.clone(),
            tls: hello.tls.clone().map(Box::new),
        });
        self.client_hello = Some(hello);
        self.give_up(Direction::ToServer);
    }

    /// gQUIC before Q046: public header, CHLO in the clear.
    fn gquic_public_header(&mut self, d: &[u8], events: &mut Vec<QuicEvent>) {
        let Some(&flags) = d.first() else { return };
        if flags & 0x09 != 0x09 {
            return; // no version or no connection ID: not a client's first packet
        }
        let Some(version) = d.get(9..13).and_then(|v| v.try_into().ok()).map(u32::from_be_bytes).map(QuicVersion)
        else {
            return;
        };
        if version.family() != Some(Family::GquicPublicHeader) {
            return;
        }
        self.version.get_or_insert(version);
        self.gquic_plaintext(d, version, events);
    }

    fn gquic_plaintext(&mut self, d: &[u8], version: QuicVersion, events: &mut Vec<QuicEvent>) {
        self.version.get_or_insert(version);
        // Server answers are encrypted: nothing to find there.
        self.give_up(Direction::ToClient);
        match gquic::plaintext_stream_data(d, version) {
            Some(data) => {
                let chlo = parse_chlo(data);
                self.found_chlo(version, chlo, events)
            }
            None => self.anomaly("invalid_chlo", events),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DirectionKeys;
    use crate::version::{V1, V2};

    const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    fn protection(v: QuicVersion) -> InitialProtection {
        match v.family() {
            Some(Family::Ietf(p)) => p,
            _ => panic!("ietf version"),
        }
    }

    /// A protected Initial with a 4-byte packet number.
    fn initial(version: QuicVersion, dcid: &[u8], keys: &DirectionKeys, pn: u32, frames: &[u8]) -> Vec<u8> {
        let mut h = vec![0xc3 | (version.initial_type() << 4)];
        h.extend_from_slice(&version.0.to_be_bytes());
        h.push(dcid.len() as u8);
        h.extend_from_slice(dcid);
        h.extend_from_slice(&[0, 0]); // no SCID, no token
        let len = 4 + frames.len() + 16;
        h.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
        let pn_offset = h.len();
        h.extend_from_slice(&pn.to_be_bytes());
        let mut body = frames.to_vec();
        keys.seal(u64::from(pn), &h, &mut body);
        let sample: [u8; 16] = body[..16].try_into().expect("16");
        let mask = keys.mask(&sample);
        h[0] ^= mask[0] & 0x0f;
        for i in 0..4 {
            h[pn_offset + i] ^= mask[1 + i];
        }
        h.extend_from_slice(&body);
        h
    }

    fn crypto(offset: u64, data: &[u8]) -> Vec<u8> {
        let mut f = vec![0x06];
        f.extend_from_slice(&(0x8000_0000u32 | offset as u32).to_be_bytes());
        f.extend_from_slice(&(0x4000 | data.len() as u16).to_be_bytes());
        f.extend_from_slice(data);
        f
    }

    fn client_hello(sni: &str) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        let mut sni_ext = vec![0, 0];
        sni_ext.extend_from_slice(&((sni.len() + 5) as u16).to_be_bytes());
        sni_ext.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
        sni_ext.push(0);
        sni_ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        sni_ext.extend_from_slice(sni.as_bytes());
        let mut exts = sni_ext;
        exts.extend_from_slice(&[0, 0x10, 0, 5, 0, 3, 2, b'h', b'3']);
        exts.extend_from_slice(&[0, 0x2b, 0, 3, 2, 3, 4]);
        // A big key share, as post-quantum hellos have: the hello spans packets.
        exts.extend_from_slice(&[0, 0x33, 0x04, 0xc6, 0x04, 0xc4, 0x11, 0xec, 0x04, 0xc0]);
        exts.extend(std::iter::repeat_n(0x5a, 0x4c0));
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
        let mut m = vec![1, 0];
        m.extend_from_slice(&(b.len() as u16).to_be_bytes());
        m.extend_from_slice(&b);
        m
    }

    fn hello_sni(events: &[QuicEvent]) -> Vec<Option<String>> {
        events
            .iter()
            .filter_map(|e| match e {
                QuicEvent::ClientHello { sni, .. } => Some(sni.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn hello_split_over_datagrams_in_reverse_order() {
        for version in [V1, V2, QuicVersion(0xff00_001d)] {
            let keys = InitialKeys::derive(&protection(version), &DCID).expect("keys");
            let ch = client_hello("split.example");
            let (a, b) = ch.split_at(700);
            let mut flow = QuicFlow::new();
            let mut events = Vec::new();
            // Second half first, itself split into two frames in reverse order.
            let (b1, b2) = b.split_at(300);
            let second = [crypto(1000, b2), vec![0x01], crypto(700, b1)].concat();
            flow.datagram(Direction::ToServer, &initial(version, &DCID, &keys.client, 1, &second), &mut events);
            assert!(hello_sni(&events).is_empty());
            flow.datagram(Direction::ToServer, &initial(version, &DCID, &keys.client, 0, &crypto(0, a)), &mut events);
            assert_eq!(hello_sni(&events), vec![Some("split.example".to_string())], "{version:?}");
            let tls = flow.client_hello().and_then(|h| h.tls.as_ref()).expect("tls hello");
            assert_eq!(tls.key_share_groups, vec![0x11ec]);
            assert!(tls.ja4(mamori_tls::Transport::Quic).starts_with("q13d0104h3_"));
        }
    }

    #[test]
    fn later_initials_with_a_new_dcid_use_the_first_keys() {
        let keys = InitialKeys::derive(&protection(V1), &DCID).expect("keys");
        let ch = client_hello("cid.example");
        let (a, b) = ch.split_at(500);
        let mut flow = QuicFlow::new();
        let mut events = Vec::new();
        flow.datagram(Direction::ToServer, &initial(V1, &DCID, &keys.client, 0, &crypto(0, a)), &mut events);
        // The server picked a new connection ID; the keys stay those of DCID.
        flow.datagram(Direction::ToServer, &initial(V1, &[9; 4], &keys.client, 1, &crypto(500, b)), &mut events);
        assert_eq!(hello_sni(&events), vec![Some("cid.example".to_string())]);
        assert!(!events.iter().any(|e| matches!(e, QuicEvent::Anomaly(_))));
    }

    #[test]
    fn after_retry_keys_come_from_the_new_dcid() {
        let old = InitialKeys::derive(&protection(V1), &DCID).expect("keys");
        let new = InitialKeys::derive(&protection(V1), &[7; 8]).expect("keys");
        let ch = client_hello("retry.example");
        let mut flow = QuicFlow::new();
        let mut events = Vec::new();
        flow.datagram(Direction::ToServer, &initial(V1, &DCID, &old.client, 0, &crypto(0, &ch[..100])), &mut events);
        flow.datagram(Direction::ToServer, &initial(V1, &[7; 8], &new.client, 0, &crypto(0, &ch)), &mut events);
        assert_eq!(hello_sni(&events), vec![Some("retry.example".to_string())]);
    }

    #[test]
    fn server_hello_gives_ja3s() {
        let keys = InitialKeys::derive(&protection(V1), &DCID).expect("keys");
        let mut flow = QuicFlow::new();
        let mut events = Vec::new();
        flow.datagram(
            Direction::ToServer,
            &initial(V1, &DCID, &keys.client, 0, &crypto(0, &client_hello("s.example"))),
            &mut events,
        );
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&[1; 32]);
        sh.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4]);
        let mut msg = vec![2, 0, 0, sh.len() as u8];
        msg.extend_from_slice(&sh);
        // Coalesced: server Initial, then a Handshake packet we skip.
        let mut d = initial(V1, &[], &keys.server, 0, &[crypto(0, &msg), vec![0; 20]].concat());
        d.extend_from_slice(&[0xe0, 0, 0, 0, 1, 0, 0, 0x40, 3, 1, 2, 3]);
        flow.datagram(Direction::ToClient, &d, &mut events);
        assert!(events.iter().any(|e| matches!(e, QuicEvent::ServerHello { .. })));
        let eve = flow.eve().expect("eve");
        assert_eq!(eve.ja3s.map(|j| j.string), Some("771,4865,43".to_string()));
        assert_eq!(eve.sni.as_deref(), Some("s.example"));
        assert!(flow.is_done());
    }

    #[test]
    fn crypto_offsets_beyond_the_bound_are_an_anomaly() {
        let keys = InitialKeys::derive(&protection(V1), &DCID).expect("keys");
        let mut flow = QuicFlow::new();
        let mut events = Vec::new();
        let far = crypto(crate::crypto_stream::MAX_CRYPTO_STREAM as u64, b"x");
        flow.datagram(Direction::ToServer, &initial(V1, &DCID, &keys.client, 0, &far), &mut events);
        assert!(matches!(events.as_slice(), [QuicEvent::Anomaly(a)] if a.event == "crypto_stream_too_long"));
        assert!(flow.client_hello().is_none());
    }

    #[test]
    fn not_a_client_hello_is_an_anomaly() {
        let keys = InitialKeys::derive(&protection(V1), &DCID).expect("keys");
        let mut flow = QuicFlow::new();
        let mut events = Vec::new();
        flow.datagram(
            Direction::ToServer,
            &initial(V1, &DCID, &keys.client, 0, &crypto(0, &[2, 0, 0, 1, 0])),
            &mut events,
        );
        assert!(matches!(events.as_slice(), [QuicEvent::Anomaly(a)] if a.event == "unexpected_handshake_message"));
    }

    #[test]
    fn initial_flood_is_bounded() {
        let keys = InitialKeys::derive(&protection(V1), &DCID).expect("keys");
        let mut flow = QuicFlow::new();
        let mut events = Vec::new();
        let ping = initial(V1, &DCID, &keys.client, 0, &[1; 20]);
        for _ in 0..(MAX_INITIAL_PACKETS + 10) {
            flow.datagram(Direction::ToServer, &ping, &mut events);
        }
        assert!(flow.is_done());
        let anomalies: Vec<_> = events.iter().filter(|e| matches!(e, QuicEvent::Anomaly(_))).collect();
        assert_eq!(anomalies.len(), 1);
    }
}
