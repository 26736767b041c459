//! Test helper: per-flow facts from the nDPI captures.
//!
//! Packets come from mamori-testkit (a dev-dependency only: the classifier
//! itself must not depend on a packet decoder); tiny peeks find the names the
//! engine would hand the classifier: TLS SNI, DNS question, HTTP Host, and
//! QUIC SNI through mamori-quic.

#![allow(dead_code)]

pub mod names;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use mamori_applayer::Direction;
use mamori_apps::{FlowFacts, NameSource, Transport};
use mamori_testkit::L4;

/// Flow key with the endpoints in canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub transport: u8,
    pub a: SocketAddr,
    pub b: SocketAddr,
}

impl Key {
    pub fn new(transport: u8, x: SocketAddr, y: SocketAddr) -> Key {
        if x <= y {
            Key { transport, a: x, b: y }
        } else {
            Key { transport, a: y, b: x }
        }
    }
}

/// Client-to-server TLS bytes kept to find a ClientHello split over segments.
const TLS_STREAM_MAX: usize = 16 * 1024;

pub struct Flow {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub facts: FlowFacts,
    tls_stream: Vec<u8>,
    tls_done: bool,
    http_done: bool,
    quic: Option<mamori_quic::QuicFlow>,
    quic_datagrams: usize,
}

impl Flow {
    fn new(transport: Transport, client: SocketAddr, server: SocketAddr) -> Flow {
        Flow {
            client,
            server,
            facts: FlowFacts::new(transport, client.port(), server.port()),
            tls_stream: Vec::new(),
            tls_done: false,
            http_done: false,
            quic: (transport == Transport::Udp).then(mamori_quic::QuicFlow::new),
            quic_datagrams: 0,
        }
    }

    fn packet(&mut self, dir: Direction, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        self.facts.add_payload(dir, payload);
        match self.facts.transport {
            Transport::Tcp => self.tcp_names(dir, payload),
            Transport::Udp => self.udp_names(dir, payload),
        }
    }

    fn tcp_names(&mut self, dir: Direction, payload: &[u8]) {
        if dir != Direction::ToServer {
            return;
        }
        if !self.http_done {
            self.http_done = true;
            if let Some(h) = names::http_host(payload) {
                self.facts.add_name(NameSource::HttpHost, &h);
            }
        }
        if !self.tls_done && self.tls_stream.len() < TLS_STREAM_MAX {
            self.tls_stream.extend_from_slice(payload);
            match names::tls_sni(&self.tls_stream) {
                names::Peek::Found(s) => {
                    self.facts.add_name(NameSource::TlsSni, &s);
                    self.tls_done = true;
                }
                names::Peek::NotThis => self.tls_done = true,
                names::Peek::NeedMore => {}
            }
        }
        if self.facts.client_port == 53 || self.facts.server_port == 53 {
            if let Some(q) = payload.get(2..).and_then(names::dns_question) {
                self.facts.add_name(NameSource::DnsQuery, &q);
            }
        }
    }

    fn udp_names(&mut self, dir: Direction, payload: &[u8]) {
        if self.facts.has_port(53) || self.facts.has_port(5353) || self.facts.has_port(5355) {
            if let Some(q) = names::dns_question(payload) {
                self.facts.add_name(NameSource::DnsQuery, &q);
            }
        }
        if let Some(q) = self.quic.as_mut() {
            if self.quic_datagrams < 16 && !q.is_done() {
                self.quic_datagrams += 1;
                let mut events = Vec::new();
                q.datagram(dir, payload, &mut events);
                if let Some(sni) = q.client_hello().and_then(|ch| ch.sni.clone()) {
                    self.facts.add_name(NameSource::QuicSni, &sni);
                }
            }
        }
    }
}

/// All flows of one capture, in order of first packet.
pub fn flows(path: &Path) -> Vec<Flow> {
    let segments = mamori_testkit::read_capture(path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    for group in mamori_testkit::group_flows(segments) {
        let Some((_, p)) = group.packets.first() else { continue };
        let transport = if p.l4() == L4::Tcp { Transport::Tcp } else { Transport::Udp };
        // The side that sent a bare SYN is the client; otherwise the first
        // sender, except that a well-known source port marks a server
        // answering.
        let server_first =
            p.l4() == L4::Tcp && ((p.syn() && p.ack()) || (!p.syn() && p.src.port() < 1024 && p.dst.port() >= 1024));
        let (client, server) = if server_first { (p.dst, p.src) } else { (p.src, p.dst) };
        let mut flow = Flow::new(transport, client, server);
        flow.facts.server_ip = Some(server.ip());
        for (_, p) in &group.packets {
            let dir = if p.src == flow.client { Direction::ToServer } else { Direction::ToClient };
            flow.packet(dir, &p.payload);
        }
        out.push(flow);
    }
    out
}

pub fn is_v6(a: &SocketAddr) -> bool {
    matches!(a.ip(), IpAddr::V6(_))
}
