//! Cutting a TCP GSO super-packet into slices the engine takes one at a time.
//!
//! The queue hands over GSO aggregates whole (up to 64 KB, one verdict for
//! dozens of wire segments), and scanning one with ET Open takes a couple of
//! hundred microseconds. A small packet of another flow (a keystroke, a DNS
//! query, an HTTP request) that arrives meanwhile waits for the whole scan,
//! twice per round trip. Cut into slices, the aggregate is inspected slice
//! by slice and the worker serves waiting small packets between slices, so
//! they wait for one slice at most.
//!
//! What the engine sees stays what the wire carries: the aggregate goes out
//! as MSS-sized segments anyway, so slices (each a run of them, with the
//! same headers, the sequence number advanced, FIN and PSH only on the
//! last) are no less real than the aggregate. The stream and everything
//! built on it (app layer, files, stream signatures) gets the same bytes in
//! the same order; only payload signatures see at most [`SLICE`] bytes at a
//! time, as they would see one segment with a segmenting kernel.
//!
//! Pure: no sockets, no clock; fuzzed with the rest of the inline path.

/// Payload bytes per slice: an eighth of a 64 KB scan between chances to
/// serve small packets, while the engine's per-packet work (decode, flow
/// lookup, reassembly) stays a small share of the slice's cost.
pub const SLICE: usize = 8 << 10;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;

/// The slices of one packet, written one after the other into a buffer.
#[derive(Debug)]
pub struct Slices<'a> {
    pkt: &'a [u8],
    /// IP and TCP headers, copied to the front of every slice.
    headers: usize,
    /// Offset of the TCP header.
    tcp: usize,
    v6: bool,
    /// Payload end (IPv4 total length or IPv6 payload length, or the
    /// buffer's end where the length field reads 0, as in big TCP).
    end: usize,
    /// Payload offset of the next slice.
    at: usize,
    seq: u32,
    flags: u8,
}

impl<'a> Slices<'a> {
    /// The slices of `pkt`, an IPv4 or IPv6 TCP packet carrying more than
    /// [`SLICE`] payload bytes. `None` for anything else, which is inspected
    /// whole: other protocols, fragments, IPv6 extension headers, SYN and
    /// RST segments, and packets whose headers do not add up.
    pub fn of(pkt: &'a [u8]) -> Option<Slices<'a>> {
        let (tcp, v6, end) = match pkt.first()? >> 4 {
            4 => {
                let ihl = usize::from(pkt[0] & 0x0f) * 4;
                let frag = u16::from_be_bytes([*pkt.get(6)?, *pkt.get(7)?]) & 0x3fff;
                if ihl < 20 || frag != 0 || *pkt.get(9)? != 6 {
                    return None;
                }
                let total = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
                let end = if total == 0 { pkt.len() } else { total };
                (ihl, false, end)
            }
            6 => {
                if *pkt.get(6)? != 6 {
                    return None;
                }
                let len = usize::from(u16::from_be_bytes([*pkt.get(4)?, *pkt.get(5)?]));
                let end = if len == 0 { pkt.len() } else { 40 + len };
                (40, true, end)
            }
            _ => return None,
        };
        if end > pkt.len() {
            return None;
        }
        let doff = usize::from(*pkt.get(tcp + 12)? >> 4) * 4;
        let headers = tcp + doff;
        let flags = *pkt.get(tcp + 13)?;
        if doff < 20 || headers > end || end - headers <= SLICE || flags & (SYN | RST) != 0 {
            return None;
        }
        let seq = u32::from_be_bytes(pkt[tcp + 4..tcp + 8].try_into().ok()?);
        Some(Slices { pkt, headers, tcp, v6, end, at: headers, seq, flags })
    }

    /// The whole packet being sliced.
    pub fn packet(&self) -> &'a [u8] {
        self.pkt
    }

    /// Write the next slice (a complete IP packet) into `out`; false when
    /// every byte has been handed out.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> bool {
        if self.at >= self.end {
            return false;
        }
        let take = (self.end - self.at).min(SLICE);
        let last = self.at + take == self.end;
        out.clear();
        out.extend_from_slice(&self.pkt[..self.headers]);
        out.extend_from_slice(&self.pkt[self.at..self.at + take]);
        let ip_len = out.len();
        if self.v6 {
            out[4..6].copy_from_slice(&((ip_len - 40) as u16).to_be_bytes());
        } else {
            out[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
            out[10..12].fill(0);
            let sum = mamori_wire::build::checksum(&[&out[..self.tcp]]);
            out[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        let seq = self.seq.wrapping_add((self.at - self.headers) as u32);
        out[self.tcp + 4..self.tcp + 8].copy_from_slice(&seq.to_be_bytes());
        // A FIN or push belongs after the aggregate's last byte.
        out[self.tcp + 13] = if last { self.flags } else { self.flags & !(FIN | PSH) };
        self.at += take;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_wire::{build, ip, transport, Transport};

    fn tcp_packet(v6: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut tcp = vec![0u8; 32]; // with 12 bytes of options (timestamps)
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&0xffff_f000u32.to_be_bytes()); // wraps inside the packet
        tcp[12] = 8 << 4;
        tcp[13] = flags;
        tcp[20..32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        tcp.extend_from_slice(payload);
        let (src, dst) = if v6 { ("2001:db8::1", "2001:db8::2") } else { ("192.168.77.2", "198.51.100.1") };
        build::ip_packet(src.parse().unwrap(), dst.parse().unwrap(), 6, 64, tcp)
    }

    fn all(pkt: &[u8]) -> Vec<Vec<u8>> {
        let mut s = Slices::of(pkt).expect("sliceable");
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while s.next_into(&mut buf) {
            out.push(buf.clone());
        }
        out
    }

    #[test]
    fn slices_carry_the_payload_in_order_with_their_own_sequence_numbers() {
        let payload: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
        for v6 in [false, true] {
            let pkt = tcp_packet(v6, 0x18 | FIN, &payload); // ACK PSH FIN
            let slices = all(&pkt);
            assert_eq!(slices.len(), 60_000usize.div_ceil(SLICE));
            let mut joined = Vec::new();
            for (i, s) in slices.iter().enumerate() {
                let d = ip::decode_any(s).expect("each slice is a valid IP packet");
                let t = transport::decode(d.proto, d.payload).expect("with a valid TCP header");
                let Transport::Tcp(tcp) = t else { panic!("not TCP") };
                assert_eq!(tcp.seq, 0xffff_f000u32.wrapping_add(joined.len() as u32), "slice {i} ({})", v6);
                assert_eq!(tcp.options.timestamp, Some((1, 2)), "options are kept");
                let last = i == slices.len() - 1;
                assert_eq!(tcp.flags.0 & (FIN | PSH) != 0, last, "FIN and PSH only on the last slice");
                assert_eq!(tcp.flags.0 & 0x10, 0x10, "every slice acknowledges");
                if !v6 {
                    assert_eq!(build::checksum(&[&s[..20]]), 0, "IPv4 header checksum");
                }
                joined.extend_from_slice(tcp.payload);
            }
            assert_eq!(joined, payload);
        }
    }

    #[test]
    fn a_big_tcp_packet_without_a_length_is_sliced_to_the_buffer_end() {
        let payload = vec![b'x'; 3 * SLICE];
        let mut pkt = tcp_packet(false, 0x10, &payload);
        pkt[2..4].fill(0);
        let slices = all(&pkt);
        assert_eq!(slices.len(), 3);
        assert!(slices.iter().all(|s| ip::decode_any(s).is_ok()));
    }

    #[test]
    fn what_is_not_a_large_plain_tcp_segment_is_inspected_whole() {
        let big = vec![0u8; 2 * SLICE];
        assert!(Slices::of(&tcp_packet(false, 0x10, &big)).is_some());
        assert!(Slices::of(&tcp_packet(false, 0x10, &big[..SLICE])).is_none(), "one slice's worth");
        assert!(Slices::of(&tcp_packet(false, SYN, &big)).is_none(), "SYN with data");
        assert!(Slices::of(&tcp_packet(true, RST | 0x10, &big)).is_none(), "RST with data");
        let mut frag = tcp_packet(false, 0x10, &big);
        frag[6] = 0x20; // more fragments
        assert!(Slices::of(&frag).is_none());
        let mut udp = tcp_packet(false, 0x10, &big);
        udp[9] = 17;
        assert!(Slices::of(&udp).is_none());
        let mut v6ext = tcp_packet(true, 0x10, &big);
        v6ext[6] = 0; // hop-by-hop options first
        assert!(Slices::of(&v6ext).is_none());
        let pkt = tcp_packet(false, 0x10, &big);
        assert!(Slices::of(&pkt[..pkt.len() - 1]).is_none(), "shorter than its total length");
        for n in 0..60 {
            assert!(Slices::of(&pkt[..n]).is_none(), "truncated to {n}");
        }
    }
}
