//! The path the `fuzz_apps` target and `tests/regressions.rs` drive: any
//! bytes become flow facts (transport, ports, payloads split at points the
//! input chooses, names) and go through [`crate::classify`].

use mamori_applayer::Direction;

use crate::facts::{FlowFacts, NameSource, Transport};

/// Layout: byte 0 picks transport and name use, bytes 1-4 the ports, then
/// chunks each prefixed by one byte: high bit = direction, low 7 bits =
/// length.
pub fn run(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let transport = if ctl & 1 == 0 { Transport::Tcp } else { Transport::Udp };
    let port = |i: usize| {
        rest.get(i..i.saturating_add(2)).and_then(|b| <[u8; 2]>::try_from(b).ok()).map_or(0, u16::from_be_bytes)
    };
    let mut f = FlowFacts::new(transport, port(0), port(2));
    if ctl & 2 != 0 {
        f = f.with_server_ip(std::net::IpAddr::from([149, 154, rest.get(4).copied().unwrap_or(0), 1]));
    }
    let mut body = rest.get(4..).unwrap_or(&[]);
    while let Some((&h, tail)) = body.split_first() {
        let len = usize::from(h & 0x7f).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        let dir = if h & 0x80 == 0 { Direction::ToServer } else { Direction::ToClient };
        f.add_payload(dir, chunk);
        if ctl & 4 != 0 {
            f.add_name(NameSource::TlsSni, &String::from_utf8_lossy(chunk));
        }
        body = next;
    }
    let _ = crate::classify(&f);
    let _ = f.stream_prefix(Direction::ToServer, 64);
}
