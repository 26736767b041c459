//! What the engine tells the classifier about a flow.

use std::net::IpAddr;

use mamori_applayer::Direction;

/// Payload-bearing packets kept per direction.
pub const MAX_PACKETS_PER_DIR: usize = 8;
/// Bytes kept from each packet's start; signatures look at headers only.
pub const MAX_BYTES_PER_PACKET: usize = 512;
/// Names kept per flow (SNI, DNS question, HTTP Host...).
pub const MAX_NAMES: usize = 8;
/// Longest name kept (DNS names are at most 253 bytes).
pub const MAX_NAME_LEN: usize = 255;

/// Transport of the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Udp,
}

/// Where a name was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameSource {
    /// TLS ClientHello server_name (TCP).
    TlsSni,
    /// QUIC ClientHello server_name (or gQUIC SNI tag).
    QuicSni,
    /// The question of a DNS query carried by this flow.
    DnsQuery,
    /// HTTP `Host` header.
    HttpHost,
}

/// One packet's payload: its first bytes and its full length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    head: Vec<u8>,
    len: usize,
}

impl Payload {
    /// The first (at most [`MAX_BYTES_PER_PACKET`]) bytes.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The payload's length on the wire (may exceed `head().len()`).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Bounded facts about one flow, filled as packets pass; cheap to keep per
/// flow until the classifier has decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowFacts {
    pub transport: Transport,
    /// Port of the side that opened the flow.
    pub client_port: u16,
    pub server_port: u16,
    /// The server's address, when the engine wants address-based naming
    /// (a few services, e.g. Telegram, show nothing else).
    pub server_ip: Option<IpAddr>,
    payloads: [Vec<Payload>; 2],
    names: Vec<(NameSource, String)>,
}

impl FlowFacts {
    pub fn new(transport: Transport, client_port: u16, server_port: u16) -> Self {
        FlowFacts {
            transport,
            client_port,
            server_port,
            server_ip: None,
            payloads: [Vec::new(), Vec::new()],
            names: Vec::new(),
        }
    }

    pub fn with_server_ip(mut self, ip: IpAddr) -> Self {
        self.server_ip = Some(ip);
        self
    }

    /// Records a packet's payload. Empty payloads are ignored. Returns
    /// `false` once this direction is full (the engine can stop copying).
    pub fn add_payload(&mut self, dir: Direction, payload: &[u8]) -> bool {
        let Some(v) = self.payloads.get_mut(dir.index()) else { return false };
        if v.len() >= MAX_PACKETS_PER_DIR {
            return false;
        }
        if !payload.is_empty() {
            let head = payload.get(..MAX_BYTES_PER_PACKET).unwrap_or(payload).to_vec();
            v.push(Payload { head, len: payload.len() });
        }
        v.len() < MAX_PACKETS_PER_DIR
    }

    /// Records a name seen on the flow (lowercased, trailing dot removed).
    /// Extra names beyond [`MAX_NAMES`] and over-long names are dropped.
    pub fn add_name(&mut self, source: NameSource, name: &str) {
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() || name.len() > MAX_NAME_LEN || self.names.len() >= MAX_NAMES {
            return;
        }
        let lower = name.to_ascii_lowercase();
        if !self.names.iter().any(|(s, n)| *s == source && *n == lower) {
            self.names.push((source, lower));
        }
    }

    /// Both directions hold [`MAX_PACKETS_PER_DIR`] payloads: more packets
    /// cannot change the answer, so the engine may stop classifying.
    /// Bytes of payload heads and names kept.
    pub fn held_bytes(&self) -> usize {
        let heads: usize = self.payloads.iter().flatten().map(|p| p.head.capacity()).sum();
        heads + self.names.iter().map(|(_, n)| n.capacity()).sum::<usize>()
    }

    pub fn is_full(&self) -> bool {
        self.payloads.iter().all(|v| v.len() >= MAX_PACKETS_PER_DIR)
    }

    pub fn payloads(&self, dir: Direction) -> &[Payload] {
        self.payloads.get(dir.index()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The n-th payload-bearing packet in `dir`.
    pub fn payload(&self, dir: Direction, n: usize) -> Option<&Payload> {
        self.payloads(dir).get(n)
    }

    pub fn names(&self) -> impl Iterator<Item = (NameSource, &str)> {
        self.names.iter().map(|(s, n)| (*s, n.as_str()))
    }

    /// The first payload in `dir`, if any.
    pub fn first(&self, dir: Direction) -> Option<&[u8]> {
        self.payload(dir, 0).map(Payload::head)
    }

    /// The kept bytes of the first packets in `dir`, concatenated, up to
    /// `max` bytes: for signatures a sender may split over segments.
    pub fn stream_prefix(&self, dir: Direction, max: usize) -> std::borrow::Cow<'_, [u8]> {
        // Most flows' first payload holds the whole prefix: no copy then
        // (this runs while naming every TCP flow).
        let mut payloads = self.payloads(dir).iter();
        match payloads.next() {
            None => return std::borrow::Cow::Borrowed(&[]),
            Some(p) if p.head().len() >= max || p.head().len() < p.len() || payloads.next().is_none() => {
                return std::borrow::Cow::Borrowed(p.head().get(..max.min(p.head().len())).unwrap_or(&[]));
            }
            Some(_) => {}
        }
        let mut out = Vec::new();
        for p in self.payloads(dir) {
            if out.len() >= max {
                break;
            }
            let take = p.head().len().min(max.saturating_sub(out.len()));
            out.extend_from_slice(p.head().get(..take).unwrap_or(&[]));
            // A truncated head cannot be followed by the next packet's bytes.
            if p.head().len() < p.len() {
                break;
            }
        }
        std::borrow::Cow::Owned(out)
    }

    /// Either port equals `p`.
    pub fn has_port(&self, p: u16) -> bool {
        self.client_port == p || self.server_port == p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_payloads_and_names() {
        let mut f = FlowFacts::new(Transport::Udp, 1000, 53);
        for i in 0..20u8 {
            f.add_payload(Direction::ToServer, &[i; 1000]);
        }
        assert!(!f.add_payload(Direction::ToServer, b"more"));
        assert_eq!(f.payloads(Direction::ToServer).len(), MAX_PACKETS_PER_DIR);
        let p = f.payload(Direction::ToServer, 0).unwrap();
        assert_eq!((p.head().len(), p.len()), (MAX_BYTES_PER_PACKET, 1000));
        assert!(f.add_payload(Direction::ToClient, b""));
        assert!(f.payloads(Direction::ToClient).is_empty());
        assert!(!f.is_full());
        for _ in 0..MAX_PACKETS_PER_DIR {
            f.add_payload(Direction::ToClient, b"x");
        }
        assert!(f.is_full());
        for i in 0..20 {
            f.add_name(NameSource::DnsQuery, &format!("N{i}.Example."));
        }
        f.add_name(NameSource::TlsSni, &"a".repeat(300));
        let names: Vec<_> = f.names().collect();
        assert_eq!(names.len(), MAX_NAMES);
        assert_eq!(names[0], (NameSource::DnsQuery, "n0.example"));
    }
}
