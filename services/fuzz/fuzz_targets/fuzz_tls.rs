//! TLS stream parser: both directions, arbitrary splits and gaps.
//!
//! Input layout: a sequence of `[control][bytes...]` chunks. Control bit 7
//! picks the direction, bits 5-6 == 0b11 make the chunk a gap, bits 0-4 give
//! the chunk length (31 = "all that is left"). The same bytes are also fed to
//! the message-level decoders directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_applayer::{Direction, NullSink, ParseCtx, Status, StreamParser};
use mamori_tls::{parse_certificate, parse_client_hello, parse_server_hello, probe, TlsParser, Transport};

fuzz_target!(|data: &[u8]| {
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
    let _ = format!("{:?}", parser.eve());
});
