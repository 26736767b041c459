//! QUIC flow parser: datagrams in both directions.
//!
//! Input layout: a sequence of `[control][bytes...]` datagrams. Control bit 7
//! picks the direction, bit 6 marks the datagram as an already-decrypted
//! Initial payload (to reach the frame, CRYPTO reassembly and ClientHello
//! code that random bytes never get through AES-GCM to), bits 0-5 give the
//! length in units of 32 bytes (63 = "all that is left").
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_applayer::Direction;
use mamori_quic::{probe, QuicFlow};

fuzz_target!(|data: &[u8]| {
    let _ = probe(data);
    let mut flow = QuicFlow::new();
    let mut events = Vec::new();
    let mut rest = data;
    while let Some((&control, tail)) = rest.split_first() {
        let dir = if control & 0x80 == 0 { Direction::ToServer } else { Direction::ToClient };
        let len = match usize::from(control & 0x3f) {
            63 => tail.len(),
            n => ((n + 1) * 32).min(tail.len()),
        };
        let (datagram, after) = tail.split_at(len);
        rest = after;
        if control & 0x40 != 0 {
            flow.fuzz_decrypted_initial(dir, datagram, &mut events);
        } else {
            flow.datagram(dir, datagram, &mut events);
        }
    }
    let _ = format!("{:?}", flow.eve());
});
