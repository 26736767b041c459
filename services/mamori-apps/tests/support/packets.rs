//! Capture reading and just enough decoding to reach TCP/UDP payloads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

pub struct Packet<'a> {
    pub proto: u8,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub syn: bool,
    pub ack: bool,
    pub payload: &'a [u8],
}

pub fn for_each_packet(path: &Path, mut f: impl FnMut(&Packet<'_>)) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if data.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(&data[..]).expect("pcapng");
        let mut links: Vec<DataLink> = Vec::new();
        while let Some(block) = r.next_block() {
            let Ok(block) = block else { break };
            match block {
                Block::InterfaceDescription(idb) => links.push(idb.linktype),
                Block::EnhancedPacket(epb) => {
                    let link = links.get(epb.interface_id as usize).copied().unwrap_or(DataLink::ETHERNET);
                    link_layer(link, &epb.data, &mut f);
                }
                Block::SimplePacket(spb) => {
                    let link = links.first().copied().unwrap_or(DataLink::ETHERNET);
                    link_layer(link, &spb.data, &mut f);
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(&data[..]).expect("pcap");
        let link = r.header().datalink;
        while let Some(p) = r.next_packet() {
            let Ok(p) = p else { break };
            link_layer(link, &p.data, &mut f);
        }
    }
}

fn link_layer(link: DataLink, d: &[u8], f: &mut impl FnMut(&Packet<'_>)) {
    match link {
        DataLink::ETHERNET => ethernet(d, f),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => ip(d, f),
        DataLink::LINUX_SLL => {
            if let (Some(et), Some(rest)) = (be16(d, 14), d.get(16..)) {
                ethertype(et, rest, f)
            }
        }
        DataLink::LINUX_SLL2 => {
            if let (Some(et), Some(rest)) = (be16(d, 0), d.get(20..)) {
                ethertype(et, rest, f)
            }
        }
        DataLink::NULL | DataLink::LOOP => {
            if let Some(rest) = d.get(4..) {
                ip(rest, f)
            }
        }
        _ => {}
    }
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn ethernet(d: &[u8], f: &mut impl FnMut(&Packet<'_>)) {
    if let (Some(et), Some(rest)) = (be16(d, 12), d.get(14..)) {
        ethertype(et, rest, f)
    }
}

fn ethertype(et: u16, d: &[u8], f: &mut impl FnMut(&Packet<'_>)) {
    match et {
        0x0800 | 0x86dd => ip(d, f),
        0x8100 | 0x88a8 => {
            if let (Some(inner), Some(rest)) = (be16(d, 2), d.get(4..)) {
                ethertype(inner, rest, f)
            }
        }
        // PPPoE session: 6-byte header then PPP protocol.
        0x8864 => match (be16(d, 6), d.get(8..)) {
            (Some(0x0021), Some(rest)) | (Some(0x0057), Some(rest)) => ip(rest, f),
            _ => {}
        },
        _ => {}
    }
}

fn ip(d: &[u8], f: &mut impl FnMut(&Packet<'_>)) {
    match d.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(d[0] & 0x0f) * 4;
            let Some(total) = be16(d, 2).map(usize::from) else { return };
            let Some(frag) = be16(d, 6) else { return };
            if frag & 0x1fff != 0 {
                return; // not the first fragment
            }
            let proto = d.get(9).copied().unwrap_or(0);
            let (Some(s), Some(t)) = (d.get(12..16), d.get(16..20)) else { return };
            let src = IpAddr::V4(Ipv4Addr::new(s[0], s[1], s[2], s[3]));
            let dst = IpAddr::V4(Ipv4Addr::new(t[0], t[1], t[2], t[3]));
            let end = total.min(d.len()).max(ihl);
            let Some(l4) = d.get(ihl..end) else { return };
            transport(proto, src, dst, l4, f)
        }
        Some(6) => {
            let (Some(s), Some(t)) = (d.get(8..24), d.get(24..40)) else { return };
            let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(s).unwrap()));
            let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(t).unwrap()));
            let plen = be16(d, 4).map(usize::from).unwrap_or(0);
            let mut next = d.get(6).copied().unwrap_or(0);
            let Some(mut rest) = d.get(40..(40 + plen).min(d.len())) else { return };
            for _ in 0..8 {
                match next {
                    0 | 43 | 60 => {
                        let len = (usize::from(rest.get(1).copied().unwrap_or(0)) + 1) * 8;
                        next = rest.first().copied().unwrap_or(59);
                        let Some(r) = rest.get(len..) else { return };
                        rest = r;
                    }
                    44 => {
                        let off = be16(rest, 2).unwrap_or(0);
                        if off & 0xfff8 != 0 {
                            return;
                        }
                        next = rest.first().copied().unwrap_or(59);
                        let Some(r) = rest.get(8..) else { return };
                        rest = r;
                    }
                    _ => break,
                }
            }
            transport(next, src, dst, rest, f)
        }
        _ => {}
    }
}

fn transport(proto: u8, src: IpAddr, dst: IpAddr, d: &[u8], f: &mut impl FnMut(&Packet<'_>)) {
    let (Some(sp), Some(dp)) = (be16(d, 0), be16(d, 2)) else { return };
    match proto {
        6 => {
            let off = usize::from(d.get(12).copied().unwrap_or(0) >> 4) * 4;
            let flags = d.get(13).copied().unwrap_or(0);
            let payload = d.get(off..).unwrap_or(&[]);
            f(&Packet {
                proto,
                src: SocketAddr::new(src, sp),
                dst: SocketAddr::new(dst, dp),
                syn: flags & 0x02 != 0,
                ack: flags & 0x10 != 0,
                payload,
            })
        }
        17 => {
            let len = be16(d, 4).map(usize::from).unwrap_or(0);
            let end = if len >= 8 { len.min(d.len()) } else { d.len() };
            let payload = d.get(8..end).unwrap_or(&[]);
            f(&Packet {
                proto,
                src: SocketAddr::new(src, sp),
                dst: SocketAddr::new(dst, dp),
                syn: false,
                ack: false,
                payload,
            })
        }
        _ => {}
    }
}
