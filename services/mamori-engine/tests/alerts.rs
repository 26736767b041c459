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
    http_flow_with(uri, body, "")
}

/// `http_flow` with more response header lines (each ending in CRLF).
fn http_flow_with(uri: &str, body: &[u8], headers: &str) -> Vec<Vec<u8>> {
    let mut c = Conv::new(80);
    let mut frames = c.handshake();
    let req = format!("GET {uri} HTTP/1.1\r\nHost: www.example.jp\r\nUser-Agent: curl/8.0\r\n\r\n");
    frames.extend(c.data_acked(true, req.as_bytes()));
    let mut resp = response_head_with(body.len(), headers).into_bytes();
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

/// A 30 KB response body in 1000-byte segments: each segment's new bytes
/// are scanned once, so what the body holds must still be found when it
/// straddles segments, when a rule's pattern came segments before the rest
/// of the rule, and when the rule also needs the request.
fn long_body() -> (Vec<u8>, usize) {
    let mut body = vec![b'.'; 30_000];
    let head = response_head(body.len()).len();
    let mut put = |at: usize, s: &[u8]| body[at..at + s.len()].copy_from_slice(s);
    put(500, b"first-part-marker");
    // Ten bytes before the end of the tenth segment of the response.
    let straddle = 10_000 - head - 10;
    put(straddle, b"straddles-the-boundary");
    put(25_000, b"second-part-marker");
    put(29_980, b"tail-marker");
    (body, head + straddle + b"straddles-the-boundary".len())
}

fn response_head(len: usize) -> String {
    response_head_with(len, "")
}

fn response_head_with(len: usize, headers: &str) -> String {
    format!("HTTP/1.1 200 OK\r\n{headers}Content-Length: {len}\r\n\r\n")
}

#[test]
fn body_patterns_are_found_across_segments_and_inspections() {
    let rules = r#"
alert http any any -> any any (msg:"both parts"; file.data; content:"first-part-marker"; fast_pattern; content:"second-part-marker"; distance:0; sid:20;)
alert http any any -> any any (msg:"straddles"; file.data; content:"straddles-the-boundary"; sid:21;)
alert http any any -> any any (msg:"absent"; file.data; content:"not-in-the-body"; sid:22;)
alert http any any -> any any (msg:"status and tail"; http.stat_code; content:"200"; file.data; content:"tail-marker"; sid:23;)
alert http any any -> any any (msg:"parts out of order"; file.data; content:"second-part-marker"; content:"first-part-marker"; distance:0; sid:24;)
"#;
    let (body, _) = long_body();
    let mut h = Harness::new(rules, false);
    for f in http_flow("/dl/file.bin", &body) {
        h.frame(&f);
    }
    let mut got = sids(&h.finish());
    got.sort_unstable();
    assert_eq!(got, vec![20, 21, 23]);
}

#[test]
fn inline_drop_acts_on_the_segment_that_completes_a_body_pattern() {
    let rules =
        r#"drop http any any -> any any (msg:"straddles"; file.data; content:"straddles-the-boundary"; sid:21;)"#;
    let (body, end) = long_body();
    let mut h = Harness::new(rules, true);
    for f in http_flow("/dl/file.bin", &body) {
        h.frame(&f);
    }
    // Handshake (3), request and its ACK (2), then each 1000-byte response
    // segment followed by its ACK.
    let segment = (end - 1) / 1000;
    let first_drop = h.verdicts.iter().position(|(v, _)| *v == Verdict::Drop).expect("dropped");
    assert_eq!(first_drop, 5 + 2 * segment, "the segment holding the pattern's last byte is dropped");
}

#[test]
fn a_finished_connection_holds_no_inspection_buffers() {
    // Closed connections stay in the flow table for a minute (late
    // retransmissions); at a few hundred connections a second their bodies
    // and stream windows would add up to gigabytes.
    let rules = r#"
alert http any any -> any any (msg:"absent"; file.data; content:"not-in-the-body"; sid:22;)
alert tcp any any -> any any (msg:"raw"; flow:established; content:"not-in-the-stream"; sid:25;)
"#;
    let (body, _) = long_body();
    let frames = http_flow("/dl/file.bin", &body);
    let mut h = Harness::new(rules, true);
    let half = frames.len() / 2;
    for f in &frames[..half] {
        h.frame(f);
    }
    assert!(h.engine.inspection_bytes() > 10_000, "half the body is kept for file.data, and stream windows");
    for f in &frames[half..] {
        h.frame(f);
    }
    assert_eq!(h.engine.flow_count(), 1, "the closed connection lingers");
    assert_eq!(h.engine.inspection_bytes(), 0, "{}", h.engine.inspection_bytes());
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

/// Whether an Ethernet/IPv4 frame is a TCP segment with only ACK set and no payload: what the
/// appliance's ruleset (netd, `skip_pure_acks`) accepts without queueing once conntrack calls the
/// connection established, the handshake's last ACK included.
fn pure_ack(frame: &[u8]) -> bool {
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let tcp = &ip[ihl..];
    ip[9] == 6 && tcp[13] & 0x3f == 0x10 && total == ihl + usize::from(tcp[12] >> 4) * 4
}

#[test]
fn the_engine_needs_no_pure_acks() {
    let rules = r#"
alert tcp any any -> any 80 (msg:"request on an established flow"; flow:established,to_server; content:"GET /dl/"; sid:40;)
alert http any any -> any any (msg:"both parts"; file.data; content:"first-part-marker"; fast_pattern; content:"second-part-marker"; distance:0; sid:20;)
alert http any any -> any any (msg:"straddles"; flow:established,to_client; file.data; content:"straddles-the-boundary"; sid:21;)
alert tcp any 80 -> any any (msg:"raw stream tail"; flow:established,to_client; content:"tail-marker"; sid:41;)
"#;
    let (body, end) = long_body();
    let frames = http_flow("/dl/file.bin", &body);
    let without: Vec<&Vec<u8>> = frames.iter().filter(|f| !pure_ack(f)).collect();
    // The handshake's ACK, the request's, one per response segment, the last one.
    assert_eq!(frames.len() - without.len(), 1 + 1 + 31 + 1);

    let run = |frames: &[&Vec<u8>]| {
        let mut h = Harness::new(rules, false);
        for f in frames {
            h.frame(f);
        }
        let held = h.engine.inspection_bytes();
        let recs = h.finish();
        let mut got = sids(&recs);
        got.sort_unstable();
        let pick = |t: &str, keys: &[&str]| -> Vec<Value> {
            recs.iter()
                .filter(|r| r["event_type"] == t)
                .map(|r| keys.iter().map(|k| r.pointer(k).cloned().unwrap_or(Value::Null)).collect())
                .collect()
        };
        let http = pick("http", &["/http/url", "/http/status", "/http/length"]);
        let files = pick("fileinfo", &["/fileinfo/sha256", "/fileinfo/size", "/fileinfo/state", "/fileinfo/gaps"]);
        (got, http, files, held)
    };
    let all: Vec<&Vec<u8>> = frames.iter().collect();
    let (sids_all, http_all, files_all, held_all) = run(&all);
    let (sids_without, http_without, files_without, held_without) = run(&without);
    assert_eq!(sids_all, vec![20, 21, 40, 41]);
    assert_eq!(sids_without, sids_all);
    assert_eq!(http_without, http_all);
    assert_eq!(files_all.len(), 1);
    assert_eq!(files_without, files_all);
    assert_eq!((held_all, held_without), (0, 0), "buffers are released at FIN either way");

    // Inline, the drop lands on the response segment holding the pattern's last byte.
    let rules_drop = rules
        .replace("alert http any any -> any any (msg:\"straddles\"", "drop http any any -> any any (msg:\"straddles\"");
    let run_drop = |frames: &[&Vec<u8>]| {
        let mut h = Harness::new(&rules_drop, true);
        for f in frames {
            h.frame(f);
        }
        let at = h.verdicts.iter().position(|(v, _)| *v == Verdict::Drop).expect("dropped");
        frames[at].clone()
    };
    let segment = (end - 1) / 1000;
    assert_eq!(run_drop(&all), *all[5 + 2 * segment]);
    assert_eq!(run_drop(&without), *all[5 + 2 * segment]);
}

/// Inline with `bypass_app_over`: what the engine gets of `frames` when the
/// kernel queues no pure ACK and nothing after a verdict that bypasses the
/// flow. Returns the engine, its records and the index (into `frames`) of
/// the packet whose verdict bypassed the flow.
fn inline_until_bypassed(rules: &str, frames: &[Vec<u8>], app_over: bool) -> (Engine, Vec<EveRecord>, Option<usize>) {
    let cfg = EngineConfig { bypass_app_over: app_over, bypass_one_side: true, ..EngineConfig::default() };
    let mut engine = Engine::new(cfg).with_detect(Detect::new(detector(rules), true));
    let mut out = Vec::new();
    let mut bypassed_at = None;
    for (i, f) in frames.iter().enumerate().filter(|(_, f)| !pure_ack(f)) {
        let r = engine.process(
            &PacketIn {
                ts: Timestamp(1_700_000_000_000_000 + i as u64 * 1000),
                link: LinkType::Ethernet,
                data: f,
                pcap_cnt: None,
            },
            &mut out,
        );
        assert_eq!(r.verdict, Verdict::Accept);
        if r.bypass {
            bypassed_at = Some(i);
            break;
        }
    }
    (engine, out, bypassed_at)
}

fn closing_http_flow(body: &[u8], closing: bool) -> Vec<Vec<u8>> {
    http_flow_with("/dl/file.bin", body, if closing { "Connection: close\r\n" } else { "" })
}

#[test]
fn a_closing_http_exchange_leaves_the_queue_before_its_closing_packets() {
    let rules = r#"
alert tcp any any -> any 80 (msg:"request on an established flow"; flow:established,to_server; content:"GET /dl/"; sid:40;)
alert http any any -> any any (msg:"both parts"; file.data; content:"first-part-marker"; fast_pattern; content:"second-part-marker"; distance:0; sid:20;)
alert tcp any 80 -> any any (msg:"raw stream tail"; flow:established,to_client; content:"tail-marker"; sid:41;)
"#;
    let (body, _) = long_body();
    let frames = closing_http_flow(&body, true);
    let summary = |out: &[EveRecord]| {
        let recs: Vec<Value> = out.iter().map(|r| serde_json::to_value(r).unwrap()).collect();
        let mut got = sids(&recs);
        got.sort_unstable();
        let pick = |t: &str, key: &str| -> Vec<Value> {
            recs.iter()
                .filter(|r| r["event_type"] == t)
                .map(|r| r.pointer(key).cloned().unwrap_or(Value::Null))
                .collect()
        };
        (got, pick("http", "/http/length"), pick("fileinfo", "/fileinfo/sha256"), pick("flow", "/flow/state"))
    };

    let (mut engine, mut out, at) = inline_until_bypassed(rules, &frames, true);
    let last_data = frames.len() - 3 - 2; // close (3), then the last segment's ACK
    assert_eq!(at, Some(last_data), "the segment that completes the response bypasses the flow, none before");
    assert_eq!(engine.counters().get("flow.bypassed_app_over"), 1);
    assert_eq!(engine.inspection_bytes(), 0, "nothing is kept to inspect what follows");
    engine.finish(&mut out);
    let (sids_over, http_over, files_over, state_over) = summary(&out);
    assert_eq!(state_over, vec![Value::from("bypassed")], "its FINs never reached the engine");

    // Everything the closing packets would have shown is shown already.
    let (mut engine, mut out, at) = inline_until_bypassed(rules, &frames, false);
    assert_eq!(at, None);
    engine.finish(&mut out);
    let (sids_all, http_all, files_all, state_all) = summary(&out);
    assert_eq!(sids_all, vec![20, 40, 41]);
    assert_eq!((sids_over, http_over, files_over), (sids_all, http_all, files_all));
    assert_eq!(state_all, vec![Value::from("closed")]);

    // A kept-alive connection may carry another request: it stays.
    let (_, _, at) = inline_until_bypassed(rules, &closing_http_flow(&body, false), true);
    assert_eq!(at, None);
}

#[test]
fn a_connection_bypassed_at_its_end_lingers_as_closed_and_its_ports_are_inspected_again() {
    let rules = r#"alert http any any -> any any (msg:"admin url"; http.uri; content:"/admin"; sid:30;)"#;
    let cfg = EngineConfig { bypass_app_over: true, ..EngineConfig::default() };
    let mut engine = Engine::new(cfg).with_detect(Detect::new(detector(rules), true));
    let mut out = Vec::new();
    let mut ts = 1_700_000_000_000_000u64;
    for round in 0..2u32 {
        // Same addresses and ports, a fresh sequence space, and no FINs:
        // the kernel let them pass once the first exchange was over.
        let mut c = Conv::new(80);
        c.cseq = 1000 + round * 100_000;
        c.sseq = 5000 + round * 100_000;
        let mut frames = c.handshake();
        frames.extend(c.data_acked(true, b"GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        frames.extend(c.data_acked(false, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        let mut bypassed = Vec::new();
        for f in frames.iter().filter(|f| !pure_ack(f)) {
            ts += 1000;
            let r = engine
                .process(&PacketIn { ts: Timestamp(ts), link: LinkType::Ethernet, data: f, pcap_cnt: None }, &mut out);
            bypassed.push(r.bypass);
        }
        assert_eq!(bypassed, [false, false, false, true], "round {round}: SYN, SYN/ACK, request, response");
    }
    let recs: Vec<Value> = out.iter().map(|r| serde_json::to_value(r).unwrap()).collect();
    assert_eq!(sids(&recs), vec![30, 30], "the second connection on the same ports is inspected too");
    assert_eq!(engine.inspection_bytes(), 0, "a connection bypassed at its end keeps nothing to inspect with");
    // The first connection ended; the second times out as a closed one
    // (tcp_closed, a minute), not as an established one (ten minutes).
    engine.tick(Timestamp(ts + 59_000_000), &mut out);
    assert_eq!(engine.flow_count(), 1);
    engine.tick(Timestamp(ts + 61_000_000), &mut out);
    assert_eq!(engine.flow_count(), 0);
}
