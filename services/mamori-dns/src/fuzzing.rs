//! The path the fuzz target and the regression test drive, kept here so
//! both run exactly the same code.

use mamori_applayer::{Direction, NullSink, ParseCtx, StreamParser};

use crate::{parse_datagram, parse_message, probe_tcp, probe_udp, DnsEve, DnsTcpParser};

/// Feeds `data` through every public entry point: as a datagram, as probes,
/// and as a TCP stream split into chunks whose sizes and directions come
/// from the first bytes.
pub fn run(data: &[u8]) {
    let (control, body) = data.split_at(data.len().min(4));
    if let Ok(m) = parse_message(body) {
        let eve = DnsEve::new(&m, 0);
        assert_eq!(eve.queries.len(), m.queries.len());
    }
    let _ = probe_udp(body);
    let _ = probe_tcp(Direction::ToServer, body);
    let _ = probe_tcp(Direction::ToClient, body);
    let mut events = Vec::new();
    parse_datagram(body, &mut events);

    let mut parser = DnsTcpParser::new();
    let mut sink = NullSink::default();
    let mut rest = body;
    let mut i = 0usize;
    while !rest.is_empty() {
        let c = control.get(i % control.len().max(1)).copied().unwrap_or(0);
        let dir = if c & 0x80 != 0 { Direction::ToClient } else { Direction::ToServer };
        let n = (usize::from(c & 0x7f) + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
        if c == 0x7f {
            let _ = parser.gap(dir, n as u64, &mut ctx);
        } else {
            let _ = parser.input(dir, chunk, &mut ctx);
        }
        rest = tail;
        i += 1;
        if events.len() > 4096 {
            events.clear();
        }
    }
    let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
    parser.close(Direction::ToServer, &mut ctx);
    parser.close(Direction::ToClient, &mut ctx);
}
