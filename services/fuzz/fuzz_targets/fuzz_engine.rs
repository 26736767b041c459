#![no_main]
//! Whole engine: a sequence of length-prefixed Ethernet frames with
//! increasing timestamps, then end of capture. Run twice: with the replay
//! defaults, and with the settings inline mode uses (bypass of a direction
//! past the depth and of connections whose app protocol is over, midstream
//! pickup).
use libfuzzer_sys::fuzz_target;
use mamori_engine::{Engine, EngineConfig, LinkType, PacketIn, Timestamp};

fn run(cfg: EngineConfig, data: &[u8]) {
    let mut engine = Engine::new(cfg);
    let mut out = Vec::new();
    let mut rest = data;
    let mut ts = 1_000_000u64;
    while rest.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        ts += u64::from(rest[2]) * 10_000;
        rest = &rest[3..];
        let take = len.min(rest.len());
        let (frame, tail) = rest.split_at(take);
        rest = tail;
        engine
            .process(&PacketIn { ts: Timestamp(ts), link: LinkType::Ethernet, data: frame, pcap_cnt: None }, &mut out);
        out.clear();
    }
    engine.finish(&mut out);
    assert!(engine.flow_count() == 0);
}

fuzz_target!(|data: &[u8]| {
    let base = EngineConfig { max_flows: 64, stream_memcap: 1 << 16, ..Default::default() };
    run(base.clone(), data);
    run(EngineConfig { bypass_one_side: true, bypass_app_over: true, midstream: true, ..base }, data);
});
