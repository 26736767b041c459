//! Replays every file of `tests/regressions/` (inputs that once crashed the
//! fuzzer) through the same path as `services/fuzz/fuzz_targets/fuzz_tls.rs`.

use std::path::Path;

use mamori_applayer::{Direction, NullSink, ParseCtx, Status, StreamParser};
use mamori_tls::{parse_certificate, parse_client_hello, parse_server_hello, probe, TlsParser, Transport};

/// Mirror of the fuzz target's body (keep the two in step).
fn drive(data: &[u8]) {
    for dir in [Direction::ToServer, Direction::ToClient] {
        let _ = probe(dir, data);
    }
    if let Ok(ch) = parse_client_hello(data) {
        let _ = (ch.ja3(), ch.ja4(Transport::Tcp), ch.ja4(Transport::Quic));
    }
    if let Ok(sh) = parse_server_hello(data) {
        let _ = sh.ja3s();
    }
    let _ = parse_certificate(data);

    let mut parser = TlsParser::new();
    let mut events = Vec::new();
    let mut sink = NullSink::default();
    let mut rest = data;
    while let Some((&control, tail)) = rest.split_first() {
        let dir = if control & 0x80 == 0 { Direction::ToServer } else { Direction::ToClient };
        let len = match usize::from(control & 0x1f) {
            31 => tail.len(),
            n => (n + 1).min(tail.len()),
        };
        let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
        let status = if control & 0x60 == 0x60 {
            rest = tail;
            parser.gap(dir, len as u64 * 97, &mut ctx)
        } else {
            let (chunk, after) = tail.split_at(len);
            rest = after;
            parser.input(dir, chunk, &mut ctx)
        };
        if status == Status::Stop {
            break;
        }
    }
    let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
    parser.close(Direction::ToServer, &mut ctx);
    parser.close(Direction::ToClient, &mut ctx);
    let _ = serde_json::to_string(&parser.eve());
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
