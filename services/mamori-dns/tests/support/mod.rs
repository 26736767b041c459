//! Minimal capture reading for tests: Ethernet / BSD loopback / raw IP,
//! IPv4 / IPv6, TCP / UDP. No reassembly beyond what the tests do.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::Path;

use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;

pub enum Transport {
    Udp,
    Tcp { seq: u32, syn: bool, fin: bool },
}

pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub transport: Transport,
    pub payload: Vec<u8>,
}

pub fn read_packets(path: &Path) -> Vec<Packet> {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = PcapReader::new(file).unwrap();
    let link = reader.header().datalink;
    let mut out = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.unwrap();
        let data: &[u8] = &pkt.data;
        let ip = match link {
            DataLink::ETHERNET => ethernet(data),
            DataLink::NULL => data.get(4..),
            DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Some(data),
            DataLink::LINUX_SLL => data.get(16..),
            _ => None,
        };
        if let Some(p) = ip.and_then(parse_ip) {
            out.push(p);
        }
    }
    out
}

fn ethernet(data: &[u8]) -> Option<&[u8]> {
    let mut ethertype = u16::from_be_bytes([*data.get(12)?, *data.get(13)?]);
    let mut off = 14;
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        ethertype = u16::from_be_bytes([*data.get(off + 2)?, *data.get(off + 3)?]);
        off += 4;
    }
    data.get(off..)
}

fn parse_ip(ip: &[u8]) -> Option<Packet> {
    let version = ip.first()? >> 4;
    let (src, dst, proto, l4) = match version {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let end = if total == 0 { ip.len() } else { total.min(ip.len()) };
            (IpAddr::from(src), IpAddr::from(dst), *ip.get(9)?, ip.get(ihl..end)?)
        }
        6 => {
            let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (IpAddr::from(src), IpAddr::from(dst), *ip.get(6)?, ip.get(40..(40 + plen).min(ip.len()))?)
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*l4.first()?, *l4.get(1)?]);
    let dport = u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]);
    match proto {
        17 => Some(Packet { src, dst, sport, dport, transport: Transport::Udp, payload: l4.get(8..)?.to_vec() }),
        6 => {
            let seq = u32::from_be_bytes(l4.get(4..8)?.try_into().ok()?);
            let off = usize::from(l4.get(12)? >> 4) * 4;
            let flags = *l4.get(13)?;
            Some(Packet {
                src,
                dst,
                sport,
                dport,
                transport: Transport::Tcp { seq, syn: flags & 0x02 != 0, fin: flags & 0x01 != 0 },
                payload: l4.get(off..)?.to_vec(),
            })
        }
        _ => None,
    }
}
