#![no_main]
//! Arbitrary segments, acks and closes into one reassembler: it must never
//! panic, never deliver a byte twice and stay within its buffer bound.
use libfuzzer_sys::fuzz_target;
use mamori_stream::{Chunk, Reassembler, StreamConfig};

fuzz_target!(|data: &[u8]| {
    let mut r = Reassembler::new(StreamConfig { depth: 4096, max_buffered: 512, max_segments: 16 });
    r.start(u32::MAX - 100);
    let mut delivered = 0u64;
    let mut rest = data;
    while rest.len() >= 6 {
        let op = rest[0];
        let seq = (u32::MAX - 100).wrapping_add(u32::from(u16::from_be_bytes([rest[1], rest[2]])));
        let len = usize::from(rest[3]);
        rest = &rest[4..];
        let take = len.min(rest.len());
        let (payload, tail) = rest.split_at(take);
        rest = tail;
        let mut out = |c: Chunk<'_>| match c {
            Chunk::Data(d) => delivered += d.len() as u64,
            Chunk::Gap(n) => delivered += n,
        };
        match op % 8 {
            0 => r.acked(seq, &mut out),
            1 => r.close(&mut out),
            _ => r.segment(seq, payload, &mut out),
        }
        assert_eq!(delivered, r.offset(), "every delivered or skipped byte is counted once");
        assert!(r.buffered() <= 512);
    }
});
