//! What the engine's integration tests share: Ethernet frames of a TCP
//! conversation with both sides' sequence numbers kept.

// Each test file uses part of this.
#![allow(dead_code)]

use std::net::IpAddr;

use mamori_wire::build::{ethernet, tcp_packet, TcpSpec};

pub const CMAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
pub const SMAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH: u8 = 0x08;
pub const FIN: u8 = 0x01;

/// A TCP conversation between client 192.168.1.10:40000 and server
/// 203.0.113.5:`sp`.
pub struct Conv {
    pub c: IpAddr,
    pub s: IpAddr,
    pub cp: u16,
    pub sp: u16,
    pub cseq: u32,
    pub sseq: u32,
}

impl Conv {
    pub fn new(sp: u16) -> Conv {
        Conv {
            c: "192.168.1.10".parse().unwrap(),
            s: "203.0.113.5".parse().unwrap(),
            cp: 40000,
            sp,
            cseq: 1000,
            sseq: 5000,
        }
    }

    /// One segment, acknowledging everything the other side sent so far.
    pub fn pkt(&self, from_client: bool, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst, sport, dport, ack) = if from_client {
            (self.c, self.s, self.cp, self.sp, self.sseq)
        } else {
            (self.s, self.c, self.sp, self.cp, self.cseq)
        };
        let ip = tcp_packet(&TcpSpec { src, dst, sport, dport, seq, ack, flags, window: 65535, payload });
        if from_client {
            ethernet(CMAC, SMAC, &ip)
        } else {
            ethernet(SMAC, CMAC, &ip)
        }
    }

    pub fn handshake(&mut self) -> Vec<Vec<u8>> {
        let a = self.pkt(true, self.cseq, SYN, b"");
        self.cseq += 1;
        let b = self.pkt(false, self.sseq, SYN | ACK, b"");
        self.sseq += 1;
        let c = self.pkt(true, self.cseq, ACK, b"");
        vec![a, b, c]
    }

    /// Data from one side, split into `mss`-sized segments.
    pub fn data(&mut self, from_client: bool, bytes: &[u8], mss: usize) -> Vec<Vec<u8>> {
        self.segments(from_client, bytes, mss, false)
    }

    /// Data from one side in 1000-byte segments, the other side
    /// acknowledging each.
    pub fn data_acked(&mut self, from_client: bool, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.segments(from_client, bytes, 1000, true)
    }

    fn segments(&mut self, from_client: bool, bytes: &[u8], mss: usize, acked: bool) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        for chunk in bytes.chunks(mss) {
            let seq = if from_client { self.cseq } else { self.sseq };
            v.push(self.pkt(from_client, seq, ACK | PSH, chunk));
            if from_client {
                self.cseq += chunk.len() as u32;
            } else {
                self.sseq += chunk.len() as u32;
            }
            if acked {
                let ack_seq = if from_client { self.sseq } else { self.cseq };
                v.push(self.pkt(!from_client, ack_seq, ACK, b""));
            }
        }
        v
    }

    pub fn close(&mut self) -> Vec<Vec<u8>> {
        let a = self.pkt(true, self.cseq, FIN | ACK, b"");
        self.cseq += 1;
        let b = self.pkt(false, self.sseq, FIN | ACK, b"");
        self.sseq += 1;
        let c = self.pkt(true, self.cseq, ACK, b"");
        vec![a, b, c]
    }
}
