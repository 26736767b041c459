//! Replays the suricata-verify DNS captures through the parsers and checks
//! the EVE `dns` records against each case's `test.yaml`.
//!
//! Only `event_type: dns` filters are checked (there is no detection engine
//! here); the alert-only cases get a hand-written check of what their rules
//! match on: which request names appear in which packet.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mamori_applayer::{Direction, NullSink, ParseCtx, Probe, StreamParser};
use mamori_dns::{parse_message, probe_udp, DnsEve, DnsEvent, DnsTcpParser};
use mamori_testkit::{read_capture, testdata_dir, Transport};
use serde_json::Value;

fn testdata() -> Option<PathBuf> {
    testdata_dir("suricata-verify/tests/dns")
}

/// One EVE dns record per message, with the pcap packet (1-based) that
/// completed it.
fn replay(pcap: &Path) -> Vec<(usize, Value)> {
    let packets = read_capture(pcap).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let mut tx_id = 0u64;
    let mut tcp = DnsTcpParser::new();
    let mut client: Option<SocketAddr> = None;
    let mut next_seq: [Option<u32>; 2] = [None, None];
    for (i, p) in packets.iter().enumerate() {
        let pcap_cnt = i + 1;
        match &p.transport {
            Transport::Udp => {
                if p.payload.is_empty() {
                    continue;
                }
                assert_eq!(probe_udp(&p.payload), Probe::Match, "packet {pcap_cnt} probes as DNS");
                let m = parse_message(&p.payload).expect("captured message parses");
                out.push((pcap_cnt, serde_json::to_value(DnsEve::new(&m, tx_id)).unwrap()));
                tx_id += 1;
            }
            Transport::Tcp { seq, flags } => {
                let syn = flags.syn();
                let me = p.src;
                let c = *client.get_or_insert(me);
                let dir = if c == me { Direction::ToServer } else { Direction::ToClient };
                let slot = &mut next_seq[dir.index()];
                let start = slot.unwrap_or(seq.wrapping_add(u32::from(syn)));
                if syn {
                    *slot = Some(seq.wrapping_add(1));
                    continue;
                }
                if *seq != start || p.payload.is_empty() {
                    continue; // retransmission or pure ACK
                }
                *slot = Some(seq.wrapping_add(p.payload.len() as u32));
                let mut events = Vec::new();
                let mut sink = NullSink::default();
                tcp.input(dir, &p.payload, &mut ParseCtx { events: &mut events, files: &mut sink });
                for e in events {
                    if let DnsEvent::Message(m) = e {
                        out.push((pcap_cnt, serde_json::to_value(DnsEve::new(&m, tx_id)).unwrap()));
                        tx_id += 1;
                    }
                }
            }
        }
    }
    out
}

/// Looks up `dns.queries[0].rrname`-style paths in an EVE event.
fn lookup<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = event;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = cur.get(key)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// Version 2 names of the fields the old test uses, mapped onto version 3.
fn v2_to_v3(key: &str, value: &Value) -> (String, Value) {
    match (key, value.as_str()) {
        ("dns.rrname", _) => ("dns.queries[0].rrname".into(), value.clone()),
        ("dns.rrtype", _) => ("dns.queries[0].rrtype".into(), value.clone()),
        ("dns.type", Some("query")) => ("dns.type".into(), Value::from("request")),
        ("dns.type", Some("answer")) => ("dns.type".into(), Value::from("response")),
        _ => (key.to_owned(), value.clone()),
    }
}

fn check_case(dir: &Path) -> usize {
    let yaml: serde_yaml::Value = serde_yaml::from_slice(&std::fs::read(dir.join("test.yaml")).unwrap()).unwrap();
    let v2 = yaml.get("env").and_then(|e| e.get("SURICATA_EVE_DNS_VERSION")).and_then(|v| v.as_u64()) == Some(2);
    let records: Vec<Value> = replay(&dir.join("input.pcap"))
        .into_iter()
        .map(|(_, dns)| serde_json::json!({ "event_type": "dns", "dns": dns }))
        .collect();
    let mut checked = 0;
    let checks = yaml.get("checks").and_then(|c| c.as_sequence()).cloned().unwrap_or_default();
    for check in checks {
        let Some(filter) = check.get("filter") else {
            continue;
        };
        let m = filter.get("match").and_then(|m| m.as_mapping()).cloned().unwrap_or_default();
        if m.get("event_type").and_then(|v| v.as_str()) != Some("dns") {
            continue;
        }
        let conds: Vec<(String, Value)> = m
            .iter()
            .filter_map(|(k, v)| {
                let k = k.as_str()?;
                let v: Value = serde_json::to_value(v).ok()?;
                Some(if v2 { v2_to_v3(k, &v) } else { (k.to_owned(), v) })
            })
            .collect();
        let count = records.iter().filter(|r| conds.iter().all(|(k, v)| lookup(r, k) == Some(v))).count();
        let want = filter.get("count").and_then(|c| c.as_u64()).unwrap_or(1) as usize;
        assert_eq!(count, want, "{}: filter {conds:?} over {records:#?}", dir.display());
        checked += 1;
    }
    checked
}

#[test]
fn dns_incomplete_v3() {
    let Some(root) = testdata() else { return };
    assert_eq!(check_case(&root.join("dns-incomplete")), 1);
}

#[test]
fn dns_incomplete_v2_fields() {
    let Some(root) = testdata() else { return };
    assert_eq!(check_case(&root.join("v2/dns-incomplete")), 1);
}

#[test]
fn dns_incomplete_full_sequence() {
    // The capture: a google.net query, its answer, a google.com query split
    // over two segments, its answer. All four must come out.
    let Some(root) = testdata() else { return };
    let recs = replay(&root.join("dns-incomplete/input.pcap"));
    let summary: Vec<(String, String)> = recs
        .iter()
        .map(|(_, r)| (r["type"].as_str().unwrap().to_owned(), r["queries"][0]["rrname"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("request".into(), "google.net".into()),
            ("response".into(), "google.com".into()),
            ("request".into(), "google.com".into()),
            ("response".into(), "google.com".into()),
        ]
    );
    assert_eq!(recs[1].1["answers"][0]["rdata"], "1.2.3.4");
    assert_eq!(recs[1].1["answers"][0]["ttl"], 0x140ef);
    assert_eq!(recs[2].1["queries"][0]["rrtype"], "TXT");
    assert_eq!(recs[3].1["tx_id"], 3);
}

/// Request names per packet for the alert-only cases, from their rules:
/// `dns.query` only looks at requests.
fn requests(case: &str) -> Option<Vec<(usize, String)>> {
    let root = testdata()?;
    Some(
        replay(&root.join(case).join("input.pcap"))
            .into_iter()
            .filter(|(_, r)| r["type"] == "request")
            .map(|(n, r)| (n, r["queries"][0]["rrname"].as_str().unwrap().to_owned()))
            .collect(),
    )
}

#[test]
fn dns_detect_query_02_udp_multi_tx() {
    // sid 1 (google.com) fires on packet 1, sid 2 (google.net) on packet 3,
    // and the response in packet 2 is not a request.
    let Some(r) = requests("dns-query/dns-detect-query-02") else {
        return;
    };
    assert_eq!(r, vec![(1, "google.com".into()), (3, "google.net".into())]);
}

#[test]
fn dns_detect_query_03_tcp_midstream() {
    let Some(r) = requests("dns-query/dns-detect-query-03") else {
        return;
    };
    assert_eq!(r, vec![(1, "google.com".into())]);
}

#[test]
fn dns_detect_query_04_udp() {
    let Some(r) = requests("dns-query/dns-detect-query-04") else {
        return;
    };
    assert_eq!(r, vec![(1, "google.com".into())]);
}
