//! The engine end to end, on packets built here: what a user of the EVE
//! output would notice.

use std::net::IpAddr;

use mamori_engine::{
    Engine, EngineConfig, EveRecord, FileDecision, FileGate, FileInfo, LinkType, PacketIn, PacketResult, Timestamp,
    Verdict,
};
use mamori_wire::build::{ethernet, udp_packet};
use serde_json::Value;
use sha2::{Digest, Sha256};

mod common;
use common::{Conv, ACK, CMAC, SMAC, SYN};

struct Harness {
    engine: Engine,
    ts: u64,
    out: Vec<EveRecord>,
    results: Vec<PacketResult>,
}

impl Harness {
    fn new(cfg: EngineConfig) -> Self {
        Harness { engine: Engine::new(cfg), ts: 1_700_000_000_000_000, out: Vec::new(), results: Vec::new() }
    }

    fn frame(&mut self, f: &[u8]) -> PacketResult {
        self.ts += 1000;
        let r = self.engine.process(
            &PacketIn { ts: Timestamp(self.ts), link: LinkType::Ethernet, data: f, pcap_cnt: None },
            &mut self.out,
        );
        self.results.push(r);
        r
    }

    fn finish(&mut self) -> Vec<Value> {
        self.engine.finish(&mut self.out);
        self.out.iter().map(|r| serde_json::to_value(r).unwrap()).collect()
    }
}

fn events<'a>(recs: &'a [Value], t: &str) -> Vec<&'a Value> {
    recs.iter().filter(|r| r["event_type"] == t).collect()
}

fn http_exchange(port: u16, body: &[u8]) -> Vec<Vec<u8>> {
    let mut c = Conv::new(port);
    let mut frames = c.handshake();
    frames.extend(c.data(
        true,
        b"GET /files/report.pdf HTTP/1.1\r\nHost: www.example.jp\r\nUser-Agent: test\r\n\r\n",
        1460,
    ));
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    resp.extend_from_slice(body);
    frames.extend(c.data(false, &resp, 1000));
    frames.extend(c.close());
    frames
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn http_is_recognised_by_content_on_any_port_and_its_body_is_a_hashed_file() {
    let b = body(5000);
    for port in [80, 8080, 53] {
        let mut h = Harness::new(EngineConfig::default());
        for f in http_exchange(port, &b) {
            h.frame(&f);
        }
        let recs = h.finish();
        let http = events(&recs, "http");
        assert_eq!(http.len(), 1, "port {port}: {recs:#?}");
        assert_eq!(http[0]["http"]["hostname"], "www.example.jp");
        assert_eq!(http[0]["http"]["url"], "/files/report.pdf");
        assert_eq!(http[0]["app_proto"], "http");
        assert_eq!(http[0]["src_ip"], "192.168.1.10");
        let files = events(&recs, "fileinfo");
        assert_eq!(files.len(), 1, "port {port}");
        assert_eq!(files[0]["fileinfo"]["sha256"], hex::encode(Sha256::digest(&b)));
        assert_eq!(files[0]["fileinfo"]["size"], 5000);
        assert_eq!(files[0]["fileinfo"]["state"], "CLOSED");
        assert_eq!(files[0]["http"]["hostname"], "www.example.jp", "fileinfo carries its transaction");
        let flow = events(&recs, "flow");
        assert_eq!(flow.len(), 1);
        assert_eq!(flow[0]["flow"]["pkts_toserver"], 5);
        assert_eq!(flow[0]["tcp"]["state"], "time_wait");
    }
}

#[test]
fn reordered_and_retransmitted_segments_give_the_same_file() {
    let b = body(8000);
    let mut frames = http_exchange(80, &b);
    // Response data segments are frames 4..12 (handshake 3, request 1).
    frames[5..11].reverse();
    let dup = frames[6].clone();
    frames.insert(9, dup);
    let mut h = Harness::new(EngineConfig::default());
    for f in &frames {
        h.frame(f);
    }
    let recs = h.finish();
    let files = events(&recs, "fileinfo");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["fileinfo"]["sha256"], hex::encode(Sha256::digest(&b)));
}

#[test]
fn lost_segment_that_was_acked_is_a_gap_and_the_file_is_truncated() {
    let b = body(8000);
    let mut frames = http_exchange(80, &b);
    frames.remove(6); // a response segment never seen; the client's FIN/ACK acks past it
    let mut h = Harness::new(EngineConfig::default());
    for f in &frames {
        h.frame(f);
    }
    let recs = h.finish();
    let files = events(&recs, "fileinfo");
    assert_eq!(files.len(), 1, "{recs:#?}");
    assert_eq!(files[0]["fileinfo"]["state"], "TRUNCATED");
    assert!(files[0]["fileinfo"].get("sha256").is_none(), "a truncated file has no hash");
    assert!(h.engine.counters().get("tcp.reassembly_gap") >= 1);
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for l in name.split('.') {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

fn dns_answer(id: u16, name: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut r = dns_query(id, name);
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1;
    r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    r.extend_from_slice(&addr);
    r
}

#[test]
fn dns_query_and_answer_share_a_transaction() {
    let (c, s): (IpAddr, IpAddr) = ("192.168.1.10".parse().unwrap(), "192.168.1.1".parse().unwrap());
    let mut h = Harness::new(EngineConfig::default());
    h.frame(&ethernet(CMAC, SMAC, &udp_packet(c, s, 5353, 53, &dns_query(0x1234, "mail.example.co.jp"))));
    h.frame(&ethernet(
        SMAC,
        CMAC,
        &udp_packet(s, c, 53, 5353, &dns_answer(0x1234, "mail.example.co.jp", [198, 51, 100, 7])),
    ));
    let recs = h.finish();
    let dns = events(&recs, "dns");
    assert_eq!(dns.len(), 2, "{recs:#?}");
    assert_eq!(dns[0]["dns"]["type"], "request");
    assert_eq!(dns[0]["dns"]["queries"][0]["rrname"], "mail.example.co.jp");
    assert_eq!(dns[1]["dns"]["type"], "response");
    assert_eq!(dns[1]["dns"]["answers"][0]["rdata"], "198.51.100.7");
    assert_eq!(dns[0]["tx_id"], dns[1]["tx_id"]);
    assert_eq!(dns[1]["src_ip"], "192.168.1.1", "a response is printed from the server");
}

#[test]
fn fragmented_dns_query_is_reassembled() {
    let (c, s): (IpAddr, IpAddr) = ("10.1.1.1".parse().unwrap(), "10.1.1.2".parse().unwrap());
    let whole = udp_packet(c, s, 3333, 53, &dns_query(7, "fragmented.example"));
    let payload = &whole[20..];
    let mk = |off: usize, more: bool, data: &[u8]| {
        let mut p = whole[..20].to_vec();
        let total = (20 + data.len()) as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p[4..6].copy_from_slice(&99u16.to_be_bytes());
        let ff = (off / 8) as u16 | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&ff.to_be_bytes());
        p.extend_from_slice(data);
        ethernet(CMAC, SMAC, &p)
    };
    let mut h = Harness::new(EngineConfig::default());
    h.frame(&mk(16, false, &payload[16..]));
    h.frame(&mk(0, true, &payload[..16]));
    let recs = h.finish();
    assert_eq!(h.engine.counters().get("defrag.reassembled"), 1);
    let dns = events(&recs, "dns");
    assert_eq!(dns.len(), 1);
    assert_eq!(dns[0]["dns"]["queries"][0]["rrname"], "fragmented.example");
}

#[test]
fn flow_table_bound_evicts_and_counts() {
    let mut h = Harness::new(EngineConfig { max_flows: 2, ..Default::default() });
    let s: IpAddr = "10.0.0.9".parse().unwrap();
    for i in 0..3u8 {
        let c = IpAddr::from([10, 0, 0, i + 1]);
        h.frame(&ethernet(CMAC, SMAC, &udp_packet(c, s, 1000, 9999, b"hello")));
    }
    assert_eq!(h.engine.flow_count(), 2);
    assert_eq!(h.engine.counters().get("flow.evicted"), 1);
    let recs = h.finish();
    let flows = events(&recs, "flow");
    assert_eq!(flows.len(), 3);
    assert_eq!(flows[0]["flow"]["reason"], "forced");
}

#[test]
fn idle_udp_flow_times_out() {
    let mut h = Harness::new(EngineConfig::default());
    let (c, s): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    h.frame(&ethernet(CMAC, SMAC, &udp_packet(c, s, 1000, 9999, b"x")));
    h.ts += 31_000_000;
    h.frame(&ethernet(CMAC, SMAC, &udp_packet(c, s, 1001, 9999, b"y")));
    let timeouts: Vec<&EveRecord> = h.out.iter().filter(|r| r.event_type == "flow").collect();
    assert_eq!(timeouts.len(), 1);
    assert_eq!(timeouts[0].object_value("flow").unwrap()["reason"], "timeout");
}

#[test]
fn malformed_packets_are_counted_not_fatal() {
    let mut h = Harness::new(EngineConfig::default());
    let good =
        ethernet(CMAC, SMAC, &udp_packet("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 1, 2, b"abc"));
    for cut in 0..good.len() {
        h.frame(&good[..cut]);
    }
    let mut bad_ihl = good.clone();
    bad_ihl[14] = 0x41;
    h.frame(&bad_ihl);
    assert!(h.results.iter().all(|r| r.verdict == Verdict::Accept), "malformed traffic fails open");
    let c = h.engine.counters();
    assert!(c.get("decoder.ethernet.truncated") > 0);
    assert!(c.get("decoder.ipv4.truncated") > 0);
    assert_eq!(c.get("decoder.ipv4.bad_header_length"), 1);
}

#[test]
fn same_tuple_on_two_vlans_is_two_flows() {
    let mut h = Harness::new(EngineConfig::default());
    let ip = udp_packet("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 1, 2, b"abc");
    for vlan in [10u16, 20] {
        let mut f = ethernet(CMAC, SMAC, &ip);
        let tag = [0x81, 0x00, (vlan >> 8) as u8, vlan as u8];
        f.splice(12..12, tag);
        h.frame(&f);
    }
    assert_eq!(h.engine.flow_count(), 2);
    let recs = h.finish();
    let vlans: Vec<&Value> = events(&recs, "flow").iter().map(|r| &r["vlan"][0]).collect();
    assert_eq!(vlans, [&Value::from(10), &Value::from(20)]);
}

struct HoldEverything;
impl FileGate for HoldEverything {
    fn finished(&mut self, _f: &FileInfo) -> FileDecision {
        FileDecision::Hold
    }
}

#[test]
fn a_file_gate_can_hold_the_flow_until_it_decides() {
    let mut h = Harness::new(EngineConfig::default());
    h.engine = Engine::new(EngineConfig::default()).with_file_gate(Box::new(HoldEverything));
    let frames = http_exchange(80, &body(3000));
    let mut held = None;
    for f in &frames {
        let r = h.frame(f);
        if r.verdict == Verdict::Hold {
            held = Some(r);
            break;
        }
    }
    let held = held.expect("the packet completing the file is held");
    assert!(!held.bypass, "a held flow is never bypassed");
    let flow = held.flow.unwrap();
    // The scanner says the file is bad: the rest of the flow is dropped.
    assert_eq!(h.engine.resolve_file(flow, 0, FileDecision::Block), Verdict::Drop);
    let last = frames.last().unwrap().clone();
    assert_eq!(h.frame(&last).verdict, Verdict::Drop);
}

#[test]
fn flow_past_the_depth_is_bypassed_and_counted() {
    let mut h = Harness::new(EngineConfig { stream_depth: 2048, ..Default::default() });
    let mut c = Conv::new(80);
    let mut frames = c.handshake();
    let mut post = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n".to_vec();
    post.extend(body(20_000));
    frames.extend(c.data(true, &post, 1400));
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n".to_vec();
    resp.extend(body(20_000));
    frames.extend(c.data(false, &resp, 1400));
    let mut bypassed_at = None;
    for (i, f) in frames.iter().enumerate() {
        if h.frame(f).bypass && bypassed_at.is_none() {
            bypassed_at = Some(i);
        }
    }
    assert!(bypassed_at.is_some(), "the flow is marked for bypass once both sides pass the depth");
    assert_eq!(h.engine.counters().get("flow.bypassed"), 1);
    let recs = h.finish();
    assert_eq!(events(&recs, "flow")[0]["flow"]["bypass"], "local");
}

#[test]
fn out_of_order_memory_is_bounded_by_the_memcap() {
    let mut h = Harness::new(EngineConfig { stream_memcap: 4096, ..Default::default() });
    for port in 0..4u16 {
        let mut c = Conv::new(1000 + port);
        c.cp = 30000 + port;
        for f in c.handshake() {
            h.frame(&f);
        }
        // Skip the first 100 bytes so everything after waits out of order.
        c.cseq += 100;
        for f in c.data(true, &body(3000), 1000) {
            h.frame(&f);
        }
    }
    assert!(h.engine.stream_bytes() <= 4096);
    assert!(h.engine.counters().get("flow.evicted_memcap") >= 1);
}

#[test]
fn fast_open_data_on_the_syn_is_inspected() {
    let mut c = Conv::new(80);
    let req = b"GET /tfo HTTP/1.1\r\nHost: tfo.example\r\n\r\n";
    let syn = c.pkt(true, c.cseq, SYN, req);
    c.cseq += 1 + req.len() as u32;
    let synack = c.pkt(false, c.sseq, SYN | ACK, b"");
    c.sseq += 1;
    let mut frames = vec![syn, synack];
    frames.extend(c.data(false, b"HTTP/1.1 204 No Content\r\n\r\n", 1400));
    frames.extend(c.close());
    let mut h = Harness::new(EngineConfig::default());
    for f in &frames {
        h.frame(f);
    }
    let recs = h.finish();
    let http = events(&recs, "http");
    assert_eq!(http.len(), 1, "{recs:#?}");
    assert_eq!(http[0]["http"]["url"], "/tfo");
    assert_eq!(http[0]["http"]["status"], 204);
}
