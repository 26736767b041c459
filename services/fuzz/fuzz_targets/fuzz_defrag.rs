#![no_main]
//! A sequence of IP packets (length-prefixed) into one defragmenter with
//! tight bounds; completed datagrams must decode again without panicking.
use libfuzzer_sys::fuzz_target;
use mamori_wire::defrag::{DefragConfig, DefragOutcome, Defragmenter};
use mamori_wire::ip;

fuzz_target!(|data: &[u8]| {
    let mut d =
        Defragmenter::new(DefragConfig { max_trackers: 8, max_bytes: 1 << 16, max_fragments: 16, timeout_us: 1000 });
    let mut rest = data;
    let mut now = 0u64;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])) % 2048;
        rest = &rest[2..];
        let take = len.min(rest.len());
        let (pkt, tail) = rest.split_at(take);
        rest = tail;
        now += 100;
        if let Ok(dg) = ip::decode_any(pkt) {
            if dg.fragment.is_some() {
                if let DefragOutcome::Complete(whole) = d.insert(now, &dg) {
                    let _ = ip::decode_any(&whole).expect("a reassembled datagram must decode");
                }
            }
        }
        d.expire(now);
        assert!(d.bytes() <= 1 << 16);
        assert!(d.tracked() <= 8);
    }
});
