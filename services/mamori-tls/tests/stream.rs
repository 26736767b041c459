//! Behaviour of the stream parser on handshakes built byte by byte.

use mamori_applayer::{Anomaly, Direction, NullSink, ParseCtx, Status, StreamParser};
use mamori_tls::{TlsEvent, TlsParser, Transport, MAX_HANDSHAKE_MESSAGE};

const R3: &[u8] = include_bytes!("fixtures/r3.der");

fn u24(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![typ];
    v.extend_from_slice(&u24(body.len()));
    v.extend_from_slice(body);
    v
}

fn records(content_type: u8, payload: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in payload.chunks(max) {
        out.extend_from_slice(&[content_type, 3, 3]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

fn ext(typ: u16, body: &[u8]) -> Vec<u8> {
    let mut v = typ.to_be_bytes().to_vec();
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn client_hello(sni: &str, key_share_len: usize) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(32);
    b.extend_from_slice(&[9; 32]);
    b.extend_from_slice(&[0, 6, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]);
    b.extend_from_slice(&[1, 0]);
    let mut sni_body = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
    sni_body.push(0);
    sni_body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sni_body.extend_from_slice(sni.as_bytes());
    let mut ks = ((key_share_len + 4) as u16).to_be_bytes().to_vec();
    ks.extend_from_slice(&[0x11, 0xec]);
    ks.extend_from_slice(&(key_share_len as u16).to_be_bytes());
    ks.extend(std::iter::repeat_n(0x55, key_share_len));
    let exts = [
        ext(0, &sni_body),
        ext(0x10, &[0, 3, 2, b'h', b'2']),
        ext(0x0a, &[0, 4, 0x11, 0xec, 0, 0x1d]),
        ext(0x0d, &[0, 2, 4, 3]),
        ext(0x2b, &[2, 3, 4]),
        ext(0x33, &ks),
    ]
    .concat();
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    handshake(1, &b)
}

fn server_hello(tls13: bool) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[1; 32]);
    b.push(32);
    b.extend_from_slice(&[9; 32]);
    b.extend_from_slice(if tls13 { &[0x13, 0x01] } else { &[0xc0, 0x2f] });
    b.push(0);
    let exts = if tls13 { ext(0x2b, &[3, 4]) } else { [ext(0xff01, &[0]), ext(0x10, &[0, 3, 2, b'h', b'2'])].concat() };
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    handshake(2, &b)
}

fn certificate() -> Vec<u8> {
    let mut b = u24(R3.len() + 3).to_vec();
    b.extend_from_slice(&u24(R3.len()));
    b.extend_from_slice(R3);
    handshake(11, &b)
}

struct Harness {
    parser: TlsParser,
    events: Vec<TlsEvent>,
    sink: NullSink,
}

impl Harness {
    fn new() -> Harness {
        Harness { parser: TlsParser::new(), events: Vec::new(), sink: NullSink::default() }
    }
    fn input(&mut self, dir: Direction, data: &[u8]) -> Status {
        let mut ctx = ParseCtx { events: &mut self.events, files: &mut self.sink };
        self.parser.input(dir, data, &mut ctx)
    }
    fn gap(&mut self, dir: Direction, len: u64) -> Status {
        let mut ctx = ParseCtx { events: &mut self.events, files: &mut self.sink };
        self.parser.gap(dir, len, &mut ctx)
    }
    fn anomalies(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                TlsEvent::Anomaly(Anomaly { event, .. }) => Some(*event),
                _ => None,
            })
            .collect()
    }
    fn kinds(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .map(|e| match e {
                TlsEvent::ClientHello(_) => "client_hello",
                TlsEvent::ServerHello(_) => "server_hello",
                TlsEvent::Certificate(_) => "certificate",
                TlsEvent::HandshakeDone => "done",
                TlsEvent::Anomaly(_) => "anomaly",
            })
            .collect()
    }
}

const CCS: [u8; 6] = [0x14, 3, 3, 0, 1, 1];
const APPDATA: [u8; 8] = [0x17, 3, 3, 0, 3, 0xaa, 0xbb, 0xcc];

#[test]
fn tls12_handshake_yields_hellos_certificate_and_eve() {
    let mut h = Harness::new();
    assert_eq!(
        h.input(Direction::ToServer, &records(22, &client_hello("www.example.com", 32), 16384)),
        Status::Continue
    );
    let flight = [server_hello(false), certificate(), handshake(14, &[])].concat();
    assert_eq!(h.input(Direction::ToClient, &records(22, &flight, 16384)), Status::Continue);
    assert_eq!(h.input(Direction::ToServer, &[&CCS[..], &records(22, &[0x42; 40], 100)].concat()), Status::Continue);
    assert_eq!(h.input(Direction::ToClient, &[&CCS[..], &APPDATA[..]].concat()), Status::Stop);
    assert_eq!(h.kinds(), vec!["client_hello", "server_hello", "certificate", "done"]);

    let eve = serde_json::to_value(h.parser.eve()).expect("serialisable");
    let ch = h.parser.session().client_hello.clone().expect("client hello kept");
    let want = serde_json::json!({
        "subject": "C=US, O=Let's Encrypt, CN=R3",
        "issuerdn": "C=US, O=Let's Encrypt, CN=R3",
        "serial": "00:AB:12:CD",
        "fingerprint": "b8:af:d1:4f:c9:bc:04:b4:c4:59:c8:b3:6e:8b:90:43:17:32:00:f8",
        "sni": "www.example.com",
        "version": "TLS 1.2",
        "notbefore": "2026-11-26T08:56:04",
        "notafter": "2027-11-26T08:56:04",
        "ja3": {"hash": ch.ja3().hash, "string": "771,4865-4866-49199,0-16-10-13-43-51,4588-29,"},
        "ja3s": {"hash": h.parser.session().server_hello.as_ref().expect("sh").ja3s().hash, "string": "771,49199,65281-16"},
        "ja4": ch.ja4(Transport::Tcp),
        "client_alpns": ["h2"],
        "server_alpns": ["h2"],
    });
    assert_eq!(eve, want);
    assert!(ch.ja4(Transport::Tcp).starts_with("t13d0306h2_"));
}

#[test]
fn large_client_hello_over_records_and_any_segmentation() {
    // An X25519MLKEM768-sized key share: the hello spans two records.
    let hello = client_hello("pq.example", 1216 + 32);
    let stream = records(22, &hello, 1000);
    for split in (0..stream.len()).step_by(37).chain([1, 4, 5, 6, 1004, 1005, stream.len() - 1]) {
        let mut h = Harness::new();
        h.input(Direction::ToServer, &stream[..split]);
        h.input(Direction::ToServer, &stream[split..]);
        assert_eq!(h.kinds(), vec!["client_hello"], "split at {split}");
        let ch = h.parser.session().client_hello.as_ref().expect("hello");
        assert_eq!(ch.sni().as_deref(), Some("pq.example"));
        assert_eq!(ch.key_share_groups, vec![0x11ec]);
    }
    let mut h = Harness::new();
    for b in &stream {
        h.input(Direction::ToServer, std::slice::from_ref(b));
    }
    assert_eq!(h.kinds(), vec!["client_hello"]);
}

#[test]
fn tls13_stops_reading_after_server_hello() {
    let mut h = Harness::new();
    h.input(Direction::ToServer, &records(22, &client_hello("a.example", 32), 16384));
    // A "certificate" in a plaintext handshake record after a 1.3 ServerHello
    // must not be read: real servers encrypt it.
    let flight = [records(22, &[server_hello(true), certificate()].concat(), 16384), CCS.to_vec()].concat();
    h.input(Direction::ToClient, &flight);
    assert_eq!(h.kinds(), vec!["client_hello", "server_hello"]);
    assert_eq!(h.parser.eve().version, "TLS 1.3");
    assert_eq!(h.input(Direction::ToServer, &APPDATA), Status::Stop);
    assert_eq!(h.kinds(), vec!["client_hello", "server_hello", "done"]);
}

#[test]
fn handshake_records_after_change_cipher_spec_are_not_parsed() {
    let mut h = Harness::new();
    let stream = [CCS.to_vec(), records(22, &client_hello("hidden.example", 0), 16384)].concat();
    h.input(Direction::ToServer, &stream);
    assert!(h.parser.session().client_hello.is_none());
    assert!(h.kinds().is_empty());
}

#[test]
fn oversized_handshake_message_is_an_anomaly_and_stops_the_direction() {
    let mut h = Harness::new();
    let mut hdr = vec![11];
    hdr.extend_from_slice(&u24(MAX_HANDSHAKE_MESSAGE + 1));
    h.input(Direction::ToClient, &records(22, &hdr, 100));
    assert_eq!(h.anomalies(), vec!["handshake_invalid_length"]);
    // A valid ServerHello afterwards is ignored: the direction is stopped.
    h.input(Direction::ToClient, &records(22, &server_hello(false), 16384));
    assert!(h.parser.session().server_hello.is_none());
}

#[test]
fn gap_inside_a_handshake_message_drops_it() {
    let mut h = Harness::new();
    let stream = records(22, &client_hello("gap.example", 32), 16384);
    h.input(Direction::ToServer, &stream[..50]);
    assert_eq!(h.gap(Direction::ToServer, 10), Status::Stop);
    h.input(Direction::ToServer, &stream[60..]);
    assert_eq!(h.anomalies(), vec!["gap_in_handshake"]);
    assert!(h.parser.session().client_hello.is_none());
}

#[test]
fn gap_inside_application_data_keeps_framing() {
    let mut h = Harness::new();
    h.input(Direction::ToServer, &records(22, &client_hello("a.example", 32), 16384));
    h.input(Direction::ToServer, &[0x17, 3, 3, 0, 100, 1, 2]);
    assert_eq!(h.gap(Direction::ToServer, 50), Status::Continue);
    h.input(Direction::ToServer, &[0; 48]);
    h.input(Direction::ToClient, &records(22, &server_hello(false), 16384));
    h.input(Direction::ToClient, &CCS);
    assert!(h.anomalies().is_empty());
    assert_eq!(h.kinds(), vec!["client_hello", "server_hello", "done"]);
}

#[test]
fn not_tls_stops_with_an_anomaly() {
    let mut h = Harness::new();
    assert_eq!(h.input(Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"), Status::Stop);
    assert_eq!(h.anomalies(), vec!["invalid_record_type"]);
}

#[test]
fn malformed_client_hello_is_reported() {
    let mut h = Harness::new();
    h.input(Direction::ToServer, &records(22, &handshake(1, &[3, 3, 0]), 100));
    assert_eq!(h.anomalies(), vec!["invalid_handshake_message"]);
}

#[test]
fn sslv2_compatible_hello_is_recognised() {
    let mut h = Harness::new();
    let v2 = [0x80, 0x0b, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
    assert_eq!(h.input(Direction::ToServer, &v2), Status::Continue);
    assert!(h.parser.session().sslv2_client_hello);
    assert_eq!(h.parser.eve().version, "SSLv2");
    assert!(h.anomalies().is_empty());
}
