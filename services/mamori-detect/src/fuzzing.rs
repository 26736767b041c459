//! The path the `fuzz_detect` target and `tests/regressions.rs` drive:
//! rules and a payload through the whole matcher.
//!
//! Input: rule text, a NUL byte, then the payload. The payload's first byte
//! picks where it is split into stream pieces and the direction of each.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use mamori_applayer::{AppProto, Direction};
use mamori_rules::{Buffer, Classifications, RuleSet, ThresholdConfig, Vars};

use crate::{Detect, Detector, FlowDetect, FlowFacts, Packet, TcpHdr, TxSource};

/// Every buffer of the transaction holds the same bytes; `grows` makes
/// the body buffers append-only, so the incremental body scan is driven.
struct Tx<'a> {
    data: &'a [u8],
    proto: AppProto,
    id: u64,
    grows: bool,
}

impl TxSource for Tx<'_> {
    fn proto(&self) -> AppProto {
        self.proto
    }
    fn tx_id(&self) -> u64 {
        self.id
    }
    fn buffer(&self, _b: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        (idx == 0).then_some(Cow::Borrowed(self.data))
    }
    fn append_only(&self, b: Buffer) -> bool {
        self.grows && matches!(b, Buffer::FileData | Buffer::HttpRequestBody)
    }
}

pub fn run(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let rules = String::from_utf8_lossy(data.get(..split).unwrap_or_default());
    let payload = data.get(split + 1..).unwrap_or_default();
    let (set, _) = RuleSet::load(&[("fuzz.rules", &rules)], &Vars::default(), &Classifications::empty());
    let (th, _) = ThresholdConfig::parse("t", "", &Vars::default());
    let det = Arc::new(Detector::build(&set, &th, None));
    let mut d = Detect::new(det, true);
    let mut flow = FlowDetect::new(1);
    flow.set_ids_timing(payload.first().is_some_and(|b| b & 1 == 1));
    let step = usize::from(payload.first().copied().unwrap_or(7)).max(1);
    let mut alerts = Vec::new();
    for (i, piece) in payload.chunks(step).enumerate() {
        let dir = if i % 3 == 2 { Direction::ToClient } else { Direction::ToServer };
        let (src, dst) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        let (src, dst, sp, dp) = if dir == Direction::ToServer { (src, dst, 40000, 80) } else { (dst, src, 80, 40000) };
        let p = Packet {
            ts_us: i as u64 * 1_000_000,
            src,
            dst,
            sp,
            dp,
            proto: 6,
            ipv6: false,
            ttl: 64,
            tos: 0,
            ip_id: i as u32,
            frag_bits: 0,
            frag_offset: 0,
            ipopts: 0,
            tcp: Some(TcpHdr { flags: 0x18, seq: 1, ack: 1, window: 512, mss: None }),
            icmp: None,
            payload: piece,
            pseudo: i % 7 == 6,
        };
        let f = FlowFacts {
            dir,
            established: i > 0,
            app_proto: Some(AppProto::Http),
            stream_added: i % 2 == 0,
            stream_bytes: [0, 0],
        };
        d.packet(&mut flow, &p, &f);
        d.stream(&mut flow, &p, &f, dir, piece);
        for proto in [AppProto::Http, AppProto::Tls, AppProto::Dns] {
            let _ = d.tx(&mut flow, &p, &f, dir, &Tx { data: piece, proto, id: 0, grows: false }, 0);
        }
        // A body growing piece by piece; now and then it comes back shorter
        // (a replaced buffer must be scanned whole again).
        let end = if i % 6 == 5 { step } else { (i + 1).saturating_mul(step) };
        let body = payload.get(..end.min(payload.len())).unwrap_or_default();
        let _ = d.tx(&mut flow, &p, &f, dir, &Tx { data: body, proto: AppProto::Http, id: 1, grows: true }, 0);
        if i % 5 == 4 {
            d.stream_gap(&mut flow, dir, 3);
        }
        let _ = d.finish(&mut flow, &p, &mut alerts);
    }
    d.flush_deferred(&mut flow);
}
