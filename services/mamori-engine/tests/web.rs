//! Web protection inside the engine, on a real capture: a QUIC connection
//! to a listed name is dropped from its first Initial packet on.

use std::sync::Arc;

use mamori_engine::{Engine, EngineConfig, EveRecord, LinkType, PacketIn, Timestamp, Verdict, WebProtection};
use mamori_intel::{FeedFormat, IntelBuilder, Policy};
use pcap_file::pcap::PcapReader;

fn run(list: Option<&str>) -> (Vec<Verdict>, Vec<bool>, Vec<EveRecord>) {
    let mut engine = Engine::new(EngineConfig::default());
    if let Some(list) = list {
        let mut b = IntelBuilder::new();
        b.add_source("test-list", &FeedFormat::Own { default: None }, list).unwrap();
        engine.set_web_protection(Some(WebProtection::new(Arc::new(b.compile()), Arc::new(Policy::default()))));
    }
    let f = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/ndpi/pcap/quic.pcap"));
    let Ok(f) = f else {
        eprintln!("skipped: ../shared/testdata not present");
        return (Vec::new(), Vec::new(), Vec::new());
    };
    let mut r = PcapReader::new(f).unwrap();
    let (mut verdicts, mut flow_dropped, mut out) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(Ok(p)) = r.next_packet() {
        let ts = Timestamp::from_secs_micros(p.timestamp.as_secs(), p.timestamp.subsec_micros());
        let res = engine.process(&PacketIn { ts, link: LinkType::Ethernet, data: &p.data, pcap_cnt: None }, &mut out);
        verdicts.push(res.verdict);
        flow_dropped.push(res.flow_dropped);
    }
    engine.finish(&mut out);
    (verdicts, flow_dropped, out)
}

#[test]
fn a_listed_quic_sni_drops_the_connection() {
    let (clean, _, out) = run(None);
    if clean.is_empty() {
        return;
    }
    assert!(clean.iter().all(|v| *v == Verdict::Accept));
    assert!(out.iter().any(|r| r.event_type == "quic"));

    let (verdicts, flow_dropped, out) = run(Some("domain google.com threat:phishing\n"));
    let first = verdicts.iter().position(|v| *v == Verdict::Drop).expect("the Initial with the SNI is dropped");
    assert!(!flow_dropped[first], "the first drop is answered for");
    assert!(flow_dropped[first + 1..].iter().any(|d| *d), "the rest of the connection is dropped too");
    let q = out.iter().find(|r| r.event_type == "quic" && r.object("intel").is_some()).expect("quic event with intel");
    let intel = q.object("intel").unwrap();
    assert_eq!(intel["action"], "block");
    assert_eq!(intel["matches"][0]["list"], "test-list");
    assert_eq!(intel["matches"][0]["threat"], "phishing");
}
