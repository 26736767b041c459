//! Replays every file of `tests/regressions/` (inputs that once crashed the
//! fuzzer) through the same path as `services/fuzz/fuzz_targets/fuzz_quic.rs`.

use std::path::Path;

use mamori_applayer::Direction;
use mamori_quic::{probe, QuicFlow};

/// Mirror of the fuzz target's body (keep the two in step).
fn drive(data: &[u8]) {
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
    let _ = serde_json::to_string(&flow.eve());
}

#[test]
fn regression_inputs_do_not_crash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions dir exists").flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            continue;
        }
        drive(&std::fs::read(&path).expect("readable"));
        n += 1;
    }
    println!("{n} regression inputs replayed");
}
