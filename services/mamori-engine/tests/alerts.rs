//! The engine with rules loaded: alerts a SIEM would see for HTTP, TLS and
//! DNS traffic built here, and what inline mode does with drop and reject.

use std::net::IpAddr;
use std::sync::Arc;

use mamori_engine::{
    Detect, Detector, Engine, EngineConfig, EveRecord, LinkType, PacketIn, Reject, Timestamp, Verdict,
};
use mamori_rules::{Classifications, RuleSet, ThresholdConfig, Vars};
use mamori_tls::build::client_hello_record;
use mamori_wire::build::{ethernet, udp_packet};
use serde_json::Value;

mod common;
use common::{Conv, CMAC, SMAC, SYN};

fn detector(rules: &str) -> Arc<Detector> {
    let classes = "config classification: trojan-activity,A Network Trojan was detected,1\n";
    let (classes, _) = Classifications::parse("classification.config", classes);
    let (set, summary) = RuleSet::load(&[("t.rules", rules)], &Vars::default(), &classes);
    assert!(summary.skipped.is_empty(), "{summary}");
    Arc::new(Detector::build(&set, &ThresholdConfig::default(), None))
}

struct Harness {
    engine: Engine,
    ts: u64,
    n: u64,
    out: Vec<EveRecord>,
    verdicts: Vec<(Verdict, Option<Reject>)>,
}

impl Harness {
    fn new(rules: &str, ips: bool) -> Harness {
        let engine = Engine::new(EngineConfig::default()).with_detect(Detect::new(detector(rules), ips));
        Harness { engine, ts: 1_700_000_000_000_000, n: 0, out: Vec::new(), verdicts: Vec::new() }
    }

    fn frame(&mut self, f: &[u8]) {
        self.ts += 1000;
        self.n += 1;
        let r = self.engine.process(
            &PacketIn { ts: Timestamp(self.ts), link: LinkType::Ethernet, data: f, pcap_cnt: Some(self.n) },
            &mut self.out,
        );
        self.verdicts.push((r.verdict, r.reject));
    }

    fn finish(&mut self) -> Vec<Value> {
        self.engine.finish(&mut self.out);
        self.out.iter().map(|r| serde_json::to_value(r).unwrap()).collect()
    }
}

fn alerts(recs: &[Value]) -> Vec<&Value> {
    recs.iter().filter(|r| r["event_type"] == "alert").collect()
}

fn sids(recs: &[Value]) -> Vec<u64> {
    alerts(recs).iter().map(|a| a["alert"]["signature_id"].as_u64().unwrap()).collect()
}

fn http_flow(uri: &str, body: &[u8]) -> Vec<Vec<u8>> {
    let mut c = Conv::new(80);
    let mut frames = c.handshake();
    let req = format!("GET {uri} HTTP/1.1\r\nHost: www.example.jp\r\nUser-Agent: curl/8.0\r\n\r\n");
    frames.extend(c.data_acked(true, req.as_bytes()));
    let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend_from_slice(body);
    frames.extend(c.data_acked(false, &resp));
    frames.extend(c.close());
    frames
}

#[test]
fn http_alert_carries_signature_category_and_the_transaction() {
    let rules = r#"
alert http any any -> any any (msg:"admin page"; flow:established,to_server; http.uri; content:"/admin"; classtype:trojan-activity; metadata:tag web; sid:10; rev:3;)
alert http any any -> any any (msg:"eicar"; file.data; content:"EICAR-STANDARD"; sid:11;)
alert http any any -> any any (msg:"never"; http.uri; content:"/nothing"; sid:12;)
"#;
    let mut h = Harness::new(rules, false);
    for f in http_flow("/admin/login", b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!") {
        h.frame(&f);
    }
    let recs = h.finish();
    assert_eq!(sids(&recs), vec![10, 11], "{recs:#?}");
    let a = alerts(&recs)[0];
    assert_eq!(a["alert"]["signature"], "admin page");
    assert_eq!(a["alert"]["category"], "A Network Trojan was detected");
    assert_eq!(a["alert"]["severity"], 1);
    assert_eq!(a["alert"]["rev"], 3);
    assert_eq!(a["alert"]["action"], "allowed");
    assert_eq!(a["alert"]["metadata"]["tag"][0], "web");
    assert_eq!(a["http"]["url"], "/admin/login");
    assert_eq!(a["app_proto"], "http");
    assert_eq!(a["src_ip"], "192.168.1.10");
    assert!(a["pcap_cnt"].as_u64().is_some());
    let b = alerts(&recs)[1];
    assert_eq!(b["src_ip"], "203.0.113.5", "the body travels server to client");
    let flow = recs.iter().find(|r| r["event_type"] == "flow").unwrap();
    assert_eq!(flow["flow"]["alerted"], true);
}

#[test]
fn tls_sni_alert() {
    let rules = r#"
alert tls any any -> any any (msg:"bad sni"; tls.sni; content:"evil.example"; endswith; sid:20;)
alert tls any any -> any any (msg:"other sni"; tls.sni; content:"good.example"; sid:21;)
"#;
    let mut h = Harness::new(rules, false);
    let mut c = Conv::new(443);
    let mut frames = c.handshake();
    frames.extend(c.data_acked(true, &client_hello_record("www.evil.example")));
    frames.extend(c.close());
    for f in frames {
        h.frame(&f);
    }
    let recs = h.finish();
    assert_eq!(sids(&recs), vec![20], "{recs:#?}");
    assert_eq!(alerts(&recs)[0]["tls"]["sni"], "www.evil.example");
}

fn dns_query(name: &str) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

#[test]
fn dns_query_alert() {
    let rules = r#"alert dns any any -> any any (msg:"c2 lookup"; dns.query; content:"c2.example"; nocase; sid:30;)"#;
    let mut h = Harness::new(rules, false);
    let c: IpAddr = "192.168.1.10".parse().unwrap();
    let s: IpAddr = "192.168.1.1".parse().unwrap();
    h.frame(&ethernet(CMAC, SMAC, &udp_packet(c, s, 5353, 53, &dns_query("www.example.com"))));
    h.frame(&ethernet(CMAC, SMAC, &udp_packet(c, s, 5354, 53, &dns_query("beacon.C2.example"))));
    let recs = h.finish();
    assert_eq!(sids(&recs), vec![30], "{recs:#?}");
    assert_eq!(alerts(&recs)[0]["dns"]["queries"][0]["rrname"], "beacon.C2.example");
}

#[test]
fn inline_drop_drops_the_rest_of_the_flow_and_reject_asks_for_resets() {
    let rules = r#"
drop http any any -> any any (msg:"block admin"; http.uri; content:"/admin"; sid:40;)
reject tcp any any -> any 25 (msg:"no smtp"; flags:S; sid:41;)
"#;
    let mut h = Harness::new(rules, true);
    let frames = http_flow("/admin", b"hello");
    for f in &frames {
        h.frame(f);
    }
    let first_drop = h.verdicts.iter().position(|(v, _)| *v == Verdict::Drop).expect("something dropped");
    assert!(h.verdicts[first_drop..].iter().all(|(v, _)| *v == Verdict::Drop), "the rest of the flow is dropped");
    let smtp = Conv::new(25);
    h.frame(&smtp.pkt(true, 1, SYN, b""));
    assert_eq!(h.verdicts.last(), Some(&(Verdict::Drop, Some(Reject::ToSource))));
    let recs = h.finish();
    let a = alerts(&recs);
    assert_eq!(a[0]["alert"]["action"], "blocked");
    assert!(recs.iter().any(|r| r["event_type"] == "drop" && r["drop"]["reason"] == "flow drop"));
    // Detection mode: the same traffic alerts and passes.
    let mut h = Harness::new(rules, false);
    for f in &frames {
        h.frame(f);
    }
    assert!(h.verdicts.iter().all(|(v, _)| *v == Verdict::Accept));
    assert_eq!(sids(&h.finish()), vec![40]);
}

#[test]
fn a_new_connection_on_reused_ports_is_inspected_again() {
    let rules = r#"alert http any any -> any any (msg:"admin url"; http.uri; content:"/admin"; sid:30;)"#;
    let mut h = Harness::new(rules, false);
    for round in 0..3u32 {
        // Same addresses and ports each time, a fresh sequence space.
        let mut c = Conv::new(80);
        c.cseq = 1000 + round * 100_000;
        c.sseq = 5000 + round * 100_000;
        let mut frames = c.handshake();
        frames.extend(c.data_acked(true, b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"));
        frames.extend(c.data_acked(false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        frames.extend(c.close());
        for f in frames {
            h.frame(&f);
        }
    }
    let recs = h.finish();
    assert_eq!(sids(&recs), vec![30, 30, 30], "each connection alerts: {recs:#?}");
}
