#![no_main]
//! The inline data path on hostile input: NFQUEUE netlink messages as the
//! kernel could send them, and every queued payload through the answers a
//! blocked packet can get (resets, block page, DNS sinkhole, ICMP), the
//! worker's flow key for scheduling, and the slices a large TCP packet is
//! inspected in (which must carry every payload byte once, in order).

use libfuzzer_sys::fuzz_target;
use mamori_inspect::inline::respond::{dns_block, http_block, icmp_unreachable, tcp_reset, DnsBlock};
use mamori_inspect::inline::sched::flow_key;
use mamori_inspect::inline::slice::{Slices, SLICE};
use mamori_nfq::msg::{messages, Message};

fuzz_target!(|data: &[u8]| {
    for m in messages(data) {
        let _ = m.as_ref().map(|m| matches!(m, Message::Packet(_)));
    }
    // The raw input as an IP packet, too: the answers parse it themselves.
    for pkt in messages(data).filter_map(|m| match m {
        Ok(Message::Packet(p)) => Some(p.payload),
        _ => None,
    }).chain(std::iter::once(data)) {
        let _ = flow_key(pkt);
        let _ = tcp_reset(pkt);
        let _ = http_block(pkt, true, b"HTTP/1.1 403 Forbidden\r\n\r\n");
        let _ = http_block(pkt, false, b"x");
        let _ = icmp_unreachable(pkt);
        let _ = dns_block(pkt, DnsBlock::NxDomain);
        let _ = dns_block(pkt, DnsBlock::Sinkhole("0.0.0.0".parse().unwrap(), "::".parse().unwrap()));
        if let Some(mut s) = Slices::of(pkt) {
            let (mut buf, mut n) = (Vec::new(), 0usize);
            while s.next_into(&mut buf) {
                assert_eq!(flow_key(&buf), flow_key(pkt), "a slice belongs to its packet's flow");
                // IP and TCP headers of at most 60 bytes each, and the payload.
                assert!(buf.len() <= SLICE + 120, "a slice of {} bytes", buf.len());
                n += 1;
                assert!(n <= pkt.len(), "slicing must end");
            }
            assert!(n >= 2, "only packets of more than one slice are sliced");
        }
    }
});
