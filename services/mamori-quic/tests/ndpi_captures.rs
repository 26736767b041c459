//! Runs every UDP flow of the nDPI test captures through [`QuicFlow`] and
//! compares SNI, user agent, JA3C and JA4 with nDPI's expected output.
//!
//! Explained (systematic) JA4 differences, as in mamori-tls: the nDPI build
//! that produced these results prints the ALPN characters as the first two
//! characters of the comma-joined ALPN list minus its last character
//! (`h3` -> `h0`, `h3-29` -> `h3`), where FoxIO's specification takes the
//! first and last character of the first ALPN value (`h3`, `h9`). We follow
//! the specification.

use std::collections::HashMap;

use mamori_applayer::{Direction, Probe};
use mamori_quic::{probe, QuicClientHello, QuicEvent, QuicFlow};
use mamori_testkit::ndpi::{ndpi_captures, read_ndpi, NdpiFlow, Score};
use mamori_testkit::{group_flows, read_capture, testdata, Flow, FlowKey, L4};
use mamori_tls::{ClientHello, Transport};

/// Agreement reached on the captures at hand (a ratchet: raise, never lower).
const MIN_SNI_PERCENT: f64 = 100.0;
const MIN_UA_PERCENT: f64 = 100.0;
const MIN_JA3_PERCENT: f64 = 100.0;
const MIN_JA4_PERCENT: f64 = 100.0;

fn run_flow(flow: &Flow) -> (QuicFlow, Vec<QuicEvent>) {
    // The client is whoever sends the first QUIC-looking datagram.
    let looks_quic = |from_first: bool| {
        flow.packets
            .iter()
            .find(|(f, s)| *f == from_first && !s.payload.is_empty())
            .is_some_and(|(_, s)| probe(&s.payload) == Probe::Match)
    };
    let client_is_first = looks_quic(true) || !looks_quic(false);
    let mut q = QuicFlow::new();
    let mut events = Vec::new();
    for (from_first, seg) in &flow.packets {
        let dir = if *from_first == client_is_first { Direction::ToServer } else { Direction::ToClient };
        q.datagram(dir, &seg.payload, &mut events);
    }
    (q, events)
}

fn ndpi_alpn_chars(ch: &ClientHello) -> String {
    let joined = ch.alpn_strings().join(",");
    let mut chars: Vec<char> = joined.chars().collect();
    chars.pop();
    format!("{}{}", chars.first().copied().unwrap_or('0'), chars.get(1).copied().unwrap_or('0'))
}

fn ja4_explained(ours: &str, theirs: &str, ch: &ClientHello) -> bool {
    let mut alt = ours.to_string();
    if alt.len() >= 10 && alt.is_ascii() {
        alt.replace_range(8..10, &ndpi_alpn_chars(ch));
    }
    alt == theirs
}

#[derive(Default, Clone, Copy)]
struct Scores {
    sni: Score,
    ua: Score,
    ja3: Score,
    ja4: Score,
}

fn score_capture(flows: &[Flow], expected: &HashMap<FlowKey, NdpiFlow>, verbose: bool) -> Scores {
    let mut s = Scores::default();
    for flow in flows.iter().filter(|f| f.key.l4 == L4::Udp) {
        let Some(exp) = expected.get(&flow.key) else {
            continue;
        };
        if !exp.proto.contains("QUIC") {
            continue;
        }
        let (q, events) = run_flow(flow);
        let hello: Option<&QuicClientHello> = q.client_hello();
        let ch = hello.and_then(|h| h.tls.as_ref());
        let check = |score: &mut Score, want: &Option<String>, got: Option<String>, what: &str| {
            if let Some(want) = want {
                score.total += 1;
                if got.as_deref() == Some(want.as_str()) {
                    score.equal += 1;
                } else if verbose {
                    println!("  {what} {:?}: want {want} got {got:?} ({events:?})", flow.key);
                }
            }
        };
        check(&mut s.sni, &exp.sni, hello.and_then(|h| h.sni.clone()).map(|s| s.to_ascii_lowercase()), "SNI");
        check(&mut s.ua, &exp.ua, hello.and_then(|h| h.user_agent.clone()), "UA");
        check(&mut s.ja3, &exp.ja3c, ch.map(|c| c.ja3().hash), "JA3C");
        if let Some(want) = &exp.ja4 {
            s.ja4.total += 1;
            match ch.map(|c| (c, c.ja4(Transport::Quic))) {
                Some((_, got)) if &got == want => s.ja4.equal += 1,
                Some((c, got)) if ja4_explained(&got, want, c) => s.ja4.explained += 1,
                other => {
                    if verbose {
                        println!("  JA4 {:?}: want {want} got {:?}", flow.key, other.map(|o| o.1));
                    }
                }
            }
        }
    }
    s
}

#[test]
fn quic_flows_agree_with_ndpi() {
    let captures = ndpi_captures();
    if captures.is_empty() {
        println!("shared/testdata/ndpi not found: skipping");
        return;
    }
    let verbose = std::env::var_os("MAMORI_VERBOSE").is_some();
    let mut total = Scores::default();
    for (pcap, result) in &captures {
        let expected = read_ndpi(result);
        let flows = group_flows(read_capture(pcap).unwrap_or_default());
        let s = score_capture(&flows, &expected, verbose);
        if s.sni.total + s.ja3.total + s.ja4.total == 0 {
            continue;
        }
        let name = pcap.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!("{name:58} SNI {}  UA {}  JA3C {}  JA4 {}", s.sni, s.ua, s.ja3, s.ja4);
        total.sni.add(s.sni);
        total.ua.add(s.ua);
        total.ja3.add(s.ja3);
        total.ja4.add(s.ja4);
    }
    println!("TOTAL SNI {}  UA {}  JA3C {}  JA4 {}", total.sni, total.ua, total.ja3, total.ja4);
    assert!(total.sni.total > 0 && total.ja4.total > 0, "no QUIC flows found");
    assert!(total.sni.percent() >= MIN_SNI_PERCENT, "SNI agreement {}", total.sni);
    assert!(total.ua.percent() >= MIN_UA_PERCENT, "UA agreement {}", total.ua);
    assert!(total.ja3.percent() >= MIN_JA3_PERCENT, "JA3C agreement {}", total.ja3);
    assert!(total.ja4.percent() >= MIN_JA4_PERCENT, "JA4 agreement {}", total.ja4);
}

/// Every UDP flow of every capture goes through the parser without
/// panicking, and no hello is found in flows nDPI does not call QUIC.
#[test]
fn all_udp_flows_are_survived() {
    let captures = ndpi_captures();
    if captures.is_empty() {
        println!("shared/testdata/ndpi not found: skipping");
        return;
    }
    let (mut flows_seen, mut hellos, mut unexpected) = (0, 0, 0);
    for (pcap, result) in &captures {
        let expected = read_ndpi(result);
        for flow in group_flows(read_capture(pcap).unwrap_or_default()).iter().filter(|f| f.key.l4 == L4::Udp) {
            flows_seen += 1;
            let (q, _) = run_flow(flow);
            if q.client_hello().is_some() {
                hellos += 1;
                if !expected.get(&flow.key).is_some_and(|e| e.proto.contains("QUIC")) {
                    unexpected += 1;
                    println!("QUIC hello in a flow nDPI does not call QUIC: {:?}", flow.key);
                }
            }
        }
    }
    println!("{flows_seen} UDP flows, {hellos} QUIC hellos, {unexpected} outside nDPI's QUIC flows");
    assert!(hellos >= 130);
    assert_eq!(unexpected, 0);
}

/// gQUIC Q046 (plaintext CHLO) renders as Suricata prints it.
#[test]
fn gquic_q046_eve() {
    let Some(td) = testdata() else {
        println!("shared/testdata not found: skipping");
        return;
    };
    let flows = group_flows(read_capture(&td.join("ndpi/pcap/quic046.pcap")).unwrap_or_default());
    let eves: Vec<_> = flows.iter().filter_map(|f| run_flow(f).0.eve()).collect();
    let eve = serde_json::to_value(eves.first().expect("one QUIC flow")).expect("serialisable");
    assert_eq!(
        eve,
        serde_json::json!({
            "version": "Q046",
            "sni": "i.ytimg.com",
            "ua": "Chrome/80.0.3987.132 Windows NT 6.3; Win64; x64",
        })
    );
}
