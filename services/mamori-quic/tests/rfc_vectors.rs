//! The sample client Initials of RFC 9001 A.2 (QUIC v1) and RFC 9369 A.2
//! (QUIC v2), both for DCID 0x8394c8f03e515708: header protection, AEAD,
//! CRYPTO frames and the ClientHello all have to be right to get the SNI.

use mamori_applayer::{Direction, Probe};
use mamori_quic::{probe, QuicEvent, QuicFlow};

const V1_INITIAL: &[u8] = include_bytes!("fixtures/rfc9001_a2_client_initial.bin");
const V2_INITIAL: &[u8] = include_bytes!("fixtures/rfc9369_a2_client_initial.bin");

const JA3_STRING: &str = "771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,";
const JA3_HASH: &str = "41bc9ae914d6cb3bd0bd0a5453ab7d7f";
const JA4: &str = "q13d0211an_62ed6f6ca7ad_4d634acda6c0";

fn run(datagram: &[u8]) -> (QuicFlow, Vec<QuicEvent>) {
    let mut flow = QuicFlow::new();
    let mut events = Vec::new();
    flow.datagram(Direction::ToServer, datagram, &mut events);
    (flow, events)
}

fn assert_example_com(datagram: &[u8], version: &str) {
    assert_eq!(probe(datagram), Probe::Match);
    let (flow, events) = run(datagram);
    let [QuicEvent::ClientHello { sni, tls: Some(ch), .. }] = events.as_slice() else {
        panic!("one ClientHello expected, got {events:?}");
    };
    assert_eq!(sni.as_deref(), Some("example.com"));
    assert_eq!(ch.alpn_strings(), vec!["alpn"]);
    let eve = serde_json::to_value(flow.eve().expect("eve")).expect("serialisable");
    assert_eq!(eve["version"], version);
    assert_eq!(eve["sni"], "example.com");
    assert_eq!(eve["ja3"]["string"], JA3_STRING);
    assert_eq!(eve["ja3"]["hash"], JA3_HASH);
    assert_eq!(eve["ja4"], JA4);
    assert_eq!(eve["extensions"][0], serde_json::json!({"name": "server_name", "type": 0, "values": ["example.com"]}));
    assert_eq!(eve["extensions"][3], serde_json::json!({"name": "alpn", "type": 16, "values": ["alpn"]}));
    assert!(eve.get("ua").is_none());
}

#[test]
fn rfc9001_v1_client_initial() {
    assert_example_com(V1_INITIAL, "1");
}

#[test]
fn rfc9369_v2_client_initial() {
    assert_example_com(V2_INITIAL, "6b3343cf");
}

#[test]
fn tampered_ciphertext_is_rejected() {
    let mut d = V1_INITIAL.to_vec();
    d[600] ^= 1;
    let (flow, events) = run(&d);
    assert!(flow.client_hello().is_none());
    assert!(matches!(events.as_slice(), [QuicEvent::Anomaly(a)] if a.event == "decryption_failed"));
}

#[test]
fn truncated_datagrams_never_yield_a_hello() {
    for cut in [0, 1, 5, 18, 22, 40, 600, 1199] {
        let (flow, _) = run(&V1_INITIAL[..cut]);
        assert!(flow.client_hello().is_none(), "cut at {cut}");
    }
}

#[test]
fn wrong_direction_cannot_decrypt() {
    let mut flow = QuicFlow::new();
    let mut events = Vec::new();
    flow.datagram(Direction::ToClient, V1_INITIAL, &mut events);
    assert!(flow.client_hello().is_none());
}
