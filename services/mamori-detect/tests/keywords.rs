//! Rules in, packets and transactions in, alerts out: one test per keyword
//! family, with rules and payloads written out byte for byte.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use mamori_applayer::{AppProto, Direction};
use mamori_detect::{
    BuildOptions, Detect, Detector, DropReason, FlowDetect, FlowFacts, IcmpHdr, MemCache, Packet, Reject, TcpHdr,
    TxSource, Verdict,
};
use mamori_rules::{Buffer, Classifications, RuleSet, ThresholdConfig, Vars};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5));

fn detector_with(rules: &str, threshold: &str, opts: &BuildOptions) -> Arc<Detector> {
    let (set, summary) = RuleSet::load(&[("t.rules", rules)], &Vars::default(), &Classifications::empty());
    assert_eq!(summary.skipped, vec![], "all test rules must load");
    let (th, errs) = ThresholdConfig::parse("threshold.config", threshold, &Vars::default());
    assert!(errs.is_empty(), "{errs:?}");
    Arc::new(Detector::build_with(&set, &th, opts, None))
}

fn detector(rules: &str) -> Arc<Detector> {
    detector_with(rules, "", &BuildOptions::default())
}

/// A TCP flow between CLIENT:40000 and SERVER:`port` (80 unless changed).
struct Flow {
    d: Detect,
    f: FlowDetect,
    ts: u64,
    established: bool,
    app: Option<AppProto>,
    port: u16,
}

struct Pkt<'a> {
    dir: Direction,
    payload: &'a [u8],
    flags: u8,
    proto: u8,
    ttl: u8,
    icmp: Option<IcmpHdr>,
}

impl<'a> Pkt<'a> {
    fn tcp(dir: Direction, payload: &'a [u8]) -> Pkt<'a> {
        Pkt { dir, payload, flags: 0x18, proto: 6, ttl: 64, icmp: None }
    }
}

// Packets borrow their payload; build them in place.
fn make<'a>(ts: u64, p: &Pkt<'a>, port: u16) -> Packet<'a> {
    let (src, dst, sp, dp) =
        if p.dir == Direction::ToServer { (CLIENT, SERVER, 40000, port) } else { (SERVER, CLIENT, port, 40000) };
    Packet {
        ts_us: ts,
        src,
        dst,
        sp,
        dp,
        proto: p.proto,
        ipv6: false,
        ttl: p.ttl,
        tos: 0,
        ip_id: 1,
        frag_bits: 0,
        frag_offset: 0,
        ipopts: 0,
        tcp: (p.proto == 6).then_some(TcpHdr { flags: p.flags, seq: 1, ack: 1, window: 1024, mss: None }),
        icmp: p.icmp,
        payload: p.payload,
        pseudo: false,
    }
}

impl Flow {
    fn new(det: &Arc<Detector>, ips: bool) -> Flow {
        Flow {
            d: Detect::new(det.clone(), ips),
            f: FlowDetect::new(7),
            ts: 1_000_000_000,
            established: true,
            app: None,
            port: 80,
        }
    }

    fn facts(&self, dir: Direction, stream_added: bool) -> FlowFacts {
        FlowFacts { dir, established: self.established, app_proto: self.app, stream_added, stream_bytes: [0, 0] }
    }

    /// One packet; TCP payload also goes through stream inspection.
    fn send(&mut self, p: Pkt<'_>) -> (Vec<u32>, Verdict) {
        self.ts += 1_000_000;
        let pkt = make(self.ts, &p, self.port);
        let stream = p.proto == 6 && !p.payload.is_empty();
        let f = self.facts(p.dir, stream);
        if stream {
            self.d.stream(&mut self.f, &pkt, &f, p.dir, p.payload);
        }
        self.d.packet(&mut self.f, &pkt, &f);
        self.finish(&pkt)
    }

    /// One packet that did not go to a stream (no TCP session).
    fn send_packet_only(&mut self, p: Pkt<'_>) -> Vec<u32> {
        self.ts += 1_000_000;
        let pkt = make(self.ts, &p, self.port);
        let f = self.facts(p.dir, false);
        self.d.packet(&mut self.f, &pkt, &f);
        self.finish(&pkt).0
    }

    fn tx(&mut self, dir: Direction, tx: &dyn TxSource) -> Vec<u32> {
        self.tx_in(dir, tx, b"")
    }

    /// A transaction inspected on a packet carrying `payload`.
    fn tx_in(&mut self, dir: Direction, tx: &dyn TxSource, payload: &[u8]) -> Vec<u32> {
        self.ts += 1_000_000;
        let pkt = make(self.ts, &Pkt::tcp(dir, payload), self.port);
        let f = self.facts(dir, false);
        let _ = self.d.tx(&mut self.f, &pkt, &f, dir, tx, 1);
        self.finish(&pkt).0
    }

    fn finish(&mut self, pkt: &Packet<'_>) -> (Vec<u32>, Verdict) {
        let mut alerts = Vec::new();
        let v = self.d.finish(&mut self.f, pkt, &mut alerts);
        (alerts.iter().map(|a| a.info.sid).collect(), v)
    }
}

fn sids(rules: &str, dir: Direction, payload: &[u8]) -> Vec<u32> {
    let det = detector(rules);
    Flow::new(&det, false).send(Pkt::tcp(dir, payload)).0
}

const TS: Direction = Direction::ToServer;
const TC: Direction = Direction::ToClient;

#[test]
fn content_modifiers() {
    let rules = r#"
alert tcp any any -> any any (content:"GET"; depth:3; content:"/admin"; distance:1; within:6; sid:1;)
alert tcp any any -> any any (content:"get"; nocase; offset:0; depth:3; sid:2;)
alert tcp any any -> any any (content:"GET"; startswith; content:"HTTP/1.1|0d 0a|"; endswith; sid:3;)
alert tcp any any -> any any (content:"GET"; content:!"evil"; sid:4;)
alert tcp any any -> any any (content:"/admin"; offset:5; sid:5;)
alert tcp any any -> any any (content:"|2f|ad"; fast_pattern; content:"min"; within:3; sid:6;)
"#;
    let got = sids(rules, TS, b"GET /admin HTTP/1.1\r\n");
    assert_eq!(got, vec![1, 2, 3, 4, 6], "sid 5: /admin starts at 4, before offset 5");
    let got = sids(rules, TS, b"GET /x/admin evil HTTP/1.1\r\nX");
    assert_eq!(got, vec![2, 5, 6], "distance/within (1), endswith (3) and the negation (4) fail");
}

#[test]
fn pcre_modifiers() {
    let rules = r#"
alert tcp any any -> any any (pcre:"/^get \/[a-z]+/i"; sid:1;)
alert tcp any any -> any any (content:"id="; pcre:"/^[0-9]{3}&/R"; sid:2;)
alert tcp any any -> any any (content:"GET"; pcre:!"/passwd/"; sid:3;)
alert tcp any any -> any any (pcre:"/(?<=id=)\d+/"; sid:4;)
"#;
    assert_eq!(sids(rules, TS, b"GET /page?id=123&x=1"), vec![1, 2, 3, 4]);
    assert_eq!(sids(rules, TS, b"GET /page?id=12&passwd"), vec![1, 4], "R anchors right after id=");
}

#[test]
fn byte_keywords_and_isdataat() {
    let rules = r#"
alert tcp any any -> any any (content:"|00 01|"; depth:2; byte_test:2,>,0x1000,2; sid:1;)
alert tcp any any -> any any (byte_extract:1,0,len; content:"END"; distance:len; within:3; sid:2;)
alert tcp any any -> any any (content:"|00 01|"; byte_jump:2,0,relative; content:"Z"; within:1; sid:3;)
alert tcp any any -> any any (content:"|00 01|"; isdataat:4,relative; isdataat:!9,relative; sid:4;)
alert tcp any any -> any any (byte_test:3,=,123,6,string,dec; sid:5;)
"#;
    // 00 01 | 20 00 (=0x2000) | 00 02 | "123" ...
    let payload = b"\x00\x01\x20\x00\x00\x02123";
    assert_eq!(sids(rules, TS, payload), vec![1, 4, 5]);
    // byte_extract reads 2, skips 2 bytes after it, then END.
    assert_eq!(sids(rules, TS, b"\x02abEND"), vec![2]);
    // byte_jump: 2 bytes (=1) after |00 01|, jump 1 more: lands on Z; 4
    // bytes follow |00 01| and fewer than 9.
    assert_eq!(sids(rules, TS, b"\x00\x01\x00\x01xZ"), vec![3, 4]);
}

#[test]
fn header_keywords() {
    let rules = r#"
alert tcp any any -> any 80 (flags:S; sid:1;)
alert tcp any any -> any any (flags:SA,12; sid:2;)
alert ip any any -> any any (ttl:<10; sid:3;)
alert icmp any any -> any any (itype:8; icode:0; sid:4;)
alert ip any any -> any any (ip_proto:1; sid:5;)
alert tcp 192.168.1.0/24 any -> !192.168.0.0/16 [80,443] (dsize:>3; sid:6;)
alert tcp any 80 <> any any (dsize:<2; sid:7;)
"#;
    let det = detector(rules);
    let mut f = Flow::new(&det, false);
    let syn = Pkt { flags: 0x02, ..Pkt::tcp(TS, b"") };
    assert_eq!(f.send(syn).0, vec![1, 7], "<> also matches the reversed tuple");
    let synack = Pkt { flags: 0x12 | 0x40, ..Pkt::tcp(TC, b"") };
    assert_eq!(f.send(synack).0, vec![2, 7], "the ECN bit is ignored");
    let low_ttl = Pkt { ttl: 5, ..Pkt::tcp(TS, b"abcd") };
    assert_eq!(f.send(low_ttl).0, vec![3, 6]);
    let ping = Pkt { proto: 1, icmp: Some(IcmpHdr { kind: 8, code: 0, rest: [0; 4] }), ..Pkt::tcp(TS, b"ping") };
    assert_eq!(Flow::new(&det, false).send(ping).0, vec![4, 5]);
}

#[test]
fn flow_keywords_and_stream_modes() {
    let rules = r#"
alert tcp any any -> any any (flow:established,to_server; content:"EVIL"; sid:1;)
alert tcp any any -> any any (flow:to_client; content:"EVIL"; sid:2;)
alert tcp any any -> any any (flow:not_established; content:"EVIL"; sid:3;)
alert tcp-stream any any -> any any (content:"EVIL"; sid:4;)
alert tcp-pkt any any -> any any (content:"EVIL"; sid:5;)
alert tcp any any -> any any (flow:only_stream; content:"EVIL"; sid:6;)
alert tcp any any -> any any (flow:no_stream; content:"EVIL"; sid:7;)
"#;
    let det = detector(rules);
    assert_eq!(Flow::new(&det, false).send(Pkt::tcp(TS, b"xEVILx")).0, vec![1, 4, 5, 6, 7]);
    let mut f = Flow::new(&det, false);
    f.established = false;
    // Without a session the payload is only seen as a packet.
    assert_eq!(f.send_packet_only(Pkt::tcp(TC, b"EVIL")), vec![2, 3, 5, 7]);
}

#[test]
fn stream_matches_across_segments() {
    let det = detector(r#"alert tcp any any -> any any (content:"VERYGOOD"; sid:1;)"#);
    let mut f = Flow::new(&det, false);
    assert_eq!(f.send(Pkt::tcp(TS, b"xxVERY")).0, Vec::<u32>::new());
    assert_eq!(f.send(Pkt::tcp(TS, b"GOODxx")).0, vec![1], "the stream window spans the segments");
    assert_eq!(f.send(Pkt::tcp(TS, b"zz")).0, Vec::<u32>::new(), "an old match does not fire again");
}

#[test]
fn rules_on_ports_and_directions_match_wherever_their_header_allows() {
    // Signatures are scanned in groups by direction and server port, and
    // per-packet ones on large payloads without those `dsize` rules out:
    // every rule still fires exactly where its header and options allow.
    let rules = r#"
alert tcp any any -> any 445 (flow:to_server; content:"EVIL"; sid:1;)
alert tcp any 445 -> any any (flow:to_client; content:"EVIL"; sid:2;)
alert tcp any any -> any !80 (content:"EVIL"; sid:3;)
alert tcp any any <> any 8081 (content:"EVIL"; sid:4;)
alert tcp any any -> any [80,8080] (content:"EVIL"; sid:5;)
alert tcp-pkt any any -> any 80 (flow:to_server; content:"EVIL"; sid:6;)
alert tcp any 80 -> any any (dsize:<100; content:"EVIL"; sid:7;)
alert tcp any 80 -> any any (dsize:>1200; content:"EVIL"; sid:8;)
alert tcp-pkt any 80 -> any any (content:"EVIL"; sid:9;)
"#;
    let det = detector(rules);
    let mut large = vec![b'.'; 1300];
    large[600..604].copy_from_slice(b"EVIL");
    let cases: [(u16, Direction, &[u8], &[u32]); 10] = [
        (445, TS, b"xEVILx", &[1, 3]),
        (445, TC, b"xEVILx", &[2, 3]),
        (8081, TS, b"xEVILx", &[3, 4]),
        (8081, TC, b"xEVILx", &[3, 4]),
        (80, TS, b"xEVILx", &[5, 6]),
        (80, TC, b"xEVILx", &[3, 7, 9]),
        (80, TC, &large, &[3, 8, 9]),
        (8080, TS, b"xEVILx", &[3, 5]),
        (8080, TC, &large, &[3]),
        (22, TS, &large, &[3]),
    ];
    for (port, dir, payload, want) in cases {
        let mut f = Flow::new(&det, false);
        f.port = port;
        assert_eq!(f.send(Pkt::tcp(dir, payload)).0, want, "server port {port}, {dir:?}, {} bytes", payload.len());
    }
}

#[test]
fn anchored_patterns_are_found_at_the_far_end_of_their_window_in_large_packets() {
    // A group whose signatures all anchor their fast pattern near the
    // payload's start is scanned only that far: depth counts from offset,
    // and a chopped fast pattern lies inside its content.
    let rules = r#"
alert tcp-pkt any 80 -> any any (content:"MZ"; startswith; sid:1;)
alert tcp-pkt any 80 -> any any (content:"EVIL"; offset:20; depth:4; sid:2;)
alert tcp-pkt any 80 -> any any (content:"abcdefgh"; fast_pattern:4,4; offset:30; depth:8; sid:3;)
"#;
    let det = detector(rules);
    let mut large = vec![b'.'; 3000];
    large[..2].copy_from_slice(b"MZ");
    large[20..24].copy_from_slice(b"EVIL");
    large[30..38].copy_from_slice(b"abcdefgh");
    let mut late = vec![b'.'; 3000];
    late[2000..2002].copy_from_slice(b"MZ");
    late[2100..2104].copy_from_slice(b"EVIL");
    late[2200..2208].copy_from_slice(b"abcdefgh");
    for (payload, want) in [(&large, &[1u32, 2, 3][..]), (&late, &[][..])] {
        let mut f = Flow::new(&det, false);
        f.port = 80;
        assert_eq!(f.send(Pkt::tcp(TC, payload)).0, want);
    }
}

#[test]
fn flowbits_and_flowints() {
    let rules = r#"
alert tcp any any -> any any (content:"LOGIN"; flowbits:set,logged; flowbits:noalert; sid:1;)
alert tcp any any -> any any (content:"CMD"; flowbits:isset,logged; sid:2;)
alert tcp any any -> any any (content:"CMD"; flowbits:isnotset,logged; sid:3;)
alert tcp any any -> any any (content:"LOGOUT"; flowbits:unset,logged; flowbits:noalert; sid:4;)
alert tcp any any -> any any (content:"X"; flowint:xs,+,1; noalert; sid:5;)
alert tcp any any -> any any (content:"X"; flowint:xs,>=,3; sid:6;)
"#;
    let det = detector(rules);
    let mut f = Flow::new(&det, false);
    assert_eq!(f.send(Pkt::tcp(TS, b"CMD")).0, vec![3]);
    assert_eq!(f.send(Pkt::tcp(TS, b"LOGIN")).0, Vec::<u32>::new(), "noalert");
    assert_eq!(f.send(Pkt::tcp(TS, b"CMD")).0, vec![2]);
    assert_eq!(f.send(Pkt::tcp(TS, b"LOGOUT")).0, Vec::<u32>::new());
    assert_eq!(f.send(Pkt::tcp(TS, b"CMD")).0, vec![3]);
    assert_eq!(f.send(Pkt::tcp(TS, b"X")).0, Vec::<u32>::new());
    assert_eq!(f.send(Pkt::tcp(TS, b"X")).0, Vec::<u32>::new());
    assert_eq!(f.send(Pkt::tcp(TS, b"X")).0, vec![6], "the third X makes the count 3");
}

#[test]
fn thresholds_detection_filter_and_config() {
    let rules = r#"
alert tcp any any -> any any (content:"A"; threshold:type limit, track by_src, count 2, seconds 60; sid:1;)
alert tcp any any -> any any (content:"B"; detection_filter:track by_src, count 2, seconds 60; sid:2;)
alert tcp any any -> any any (content:"C"; sid:3;)
alert tcp any any -> any any (content:"D"; sid:4;)
"#;
    let config = "suppress gen_id 1, sig_id 3, track by_src, ip 192.168.1.0/24
                  threshold gen_id 1, sig_id 4, type threshold, track by_dst, count 2, seconds 60
";
    let det = detector_with(rules, config, &BuildOptions::default());
    let mut f = Flow::new(&det, false);
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.extend(f.send(Pkt::tcp(TS, b"ABCD")).0);
    }
    seen.sort();
    // limit 2 -> 2; detection_filter after 2 -> 2 (3rd, 4th); suppressed -> 0; every 2nd -> 2.
    assert_eq!(seen, vec![1, 1, 2, 2, 4, 4]);
    // The suppression is by source: the server side still alerts.
    assert_eq!(f.send(Pkt::tcp(TC, b"C")).0, vec![3]);
}

#[test]
fn ips_drop_reject_pass_and_action_order() {
    let rules = r#"
drop tcp any any -> any any (content:"EVIL"; sid:1;)
reject tcp any any -> any any (content:"BAD"; sid:2;)
pass tcp any any -> any any (content:"GOOD"; sid:3;)
alert tcp any any -> any any (content:"GOOD"; sid:4;)
"#;
    let det = detector(rules);
    // IDS: the drop rule alerts, nothing is dropped.
    let (got, v) = Flow::new(&det, false).send(Pkt::tcp(TS, b"EVIL"));
    assert_eq!((got, v), (vec![1], Verdict::default()));
    // IPS: the packet is dropped; a stream match drops the rest of the flow.
    let mut f = Flow::new(&det, true);
    let (got, v) = f.send(Pkt::tcp(TS, b"EVIL"));
    assert_eq!(got, vec![1]);
    assert_eq!(v.drop, Some(DropReason::Rules));
    assert!(f.f.dropped());
    let (_, v) = Flow::new(&det, true).send(Pkt::tcp(TS, b"BAD"));
    assert_eq!(v.reject, Some(Reject::ToSource));
    // pass goes first by default: no alert, and the flow is no longer inspected.
    let mut f = Flow::new(&det, true);
    assert_eq!(f.send(Pkt::tcp(TS, b"GOOD")).0, Vec::<u32>::new());
    assert!(f.f.passed());
    assert_eq!(f.send(Pkt::tcp(TS, b"EVIL")).0, Vec::<u32>::new());
    // With alert before pass the alert is written first.
    let opts = BuildOptions {
        action_order: vec![
            mamori_rules::Action::Alert,
            mamori_rules::Action::Pass,
            mamori_rules::Action::Drop,
            mamori_rules::Action::Reject,
        ],
        ..Default::default()
    };
    let det = detector_with(rules, "", &opts);
    assert_eq!(Flow::new(&det, true).send(Pkt::tcp(TS, b"GOOD")).0, vec![4]);
}

#[test]
fn ip_only_rules_fire_once_per_direction() {
    let det = detector(
        "alert ip 192.168.1.0/24 any -> any any (sid:1;)
alert ip any any <> 192.168.1.10 any (sid:2;)
",
    );
    let mut f = Flow::new(&det, false);
    assert_eq!(f.send(Pkt::tcp(TS, b"a")).0, vec![1, 2]);
    assert_eq!(f.send(Pkt::tcp(TS, b"b")).0, Vec::<u32>::new());
    assert_eq!(f.send(Pkt::tcp(TC, b"c")).0, vec![2]);
}

/// An HTTP transaction with a few buffers.
struct Http {
    uri: &'static [u8],
    host: &'static [u8],
    ua: Option<&'static [u8]>,
    body: &'static [u8],
}

impl TxSource for Http {
    fn proto(&self) -> AppProto {
        AppProto::Http
    }
    fn tx_id(&self) -> u64 {
        0
    }
    fn buffer(&self, b: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        if idx > 0 {
            return None;
        }
        let v: &[u8] = match b {
            Buffer::HttpUri => self.uri,
            Buffer::HttpHost => self.host,
            Buffer::HttpUserAgent => self.ua?,
            Buffer::HttpMethod => b"GET",
            Buffer::FileData => self.body,
            _ => return None,
        };
        Some(Cow::Borrowed(v))
    }
}

#[test]
fn http_buffers_fire_once_per_transaction() {
    let rules = r#"
alert http any any -> any any (http.uri; content:"/login"; startswith; http.host; content:"example.com"; endswith; sid:1;)
alert http any any -> any any (http.method; content:"GET"; http.uri; bsize:>5; urilen:<20; sid:2;)
alert http any any -> any any (content:"/login"; http_uri; content:!"curl"; http_user_agent; sid:3;)
alert http any any -> any any (file.data; content:"EICAR"; sid:4;)
alert http any any -> any any (http.user_agent; content:"curl"; sid:5;)
"#;
    let det = detector(rules);
    let mut f = Flow::new(&det, false);
    f.app = Some(AppProto::Http);
    let tx = Http { uri: b"/login?next=/", host: b"www.example.com", ua: Some(b"Mozilla"), body: b"" };
    assert_eq!(f.tx(TS, &tx), vec![1, 2, 3], "a buffer that is absent (user agent for 5) cannot match");
    assert_eq!(f.tx(TS, &tx), Vec::<u32>::new(), "each rule fires once per transaction");
    let resp = Http { uri: b"/", host: b"h", ua: None, body: b"X5O!EICAR-STANDARD" };
    assert_eq!(f.tx(TC, &resp), vec![4], "file.data on the response side");
}

#[test]
fn only_a_match_that_can_alert_asks_for_the_transaction_objects() {
    // The engine keeps a transaction's EVE objects for the alerts it will
    // write; ET Open's flowbit setters match ordinary web traffic and never
    // alert, so keeping objects for them would only hold memory per flow.
    let rules = r#"
alert http any any -> any any (http.uri; content:"/index"; flowbits:set,seen; flowbits:noalert; sid:1;)
alert http any any -> any any (http.uri; content:"/login"; sid:2;)
"#;
    let det = detector(rules);
    let pkt_payload: &[u8] = b"";
    let inspect = |uri: &'static [u8]| {
        let mut f = Flow::new(&det, false);
        f.app = Some(AppProto::Http);
        let pkt = make(f.ts, &Pkt::tcp(TS, pkt_payload), f.port);
        let facts = f.facts(TS, false);
        let tx = Http { uri, host: b"h", ua: None, body: b"" };
        let alerting = f.d.tx(&mut f.f, &pkt, &facts, TS, &tx, 1);
        let sids = f.finish(&pkt).0;
        (alerting, sids)
    };
    assert_eq!(inspect(b"/index.html"), (false, vec![]), "a flowbit setter matched; nothing will alert");
    assert_eq!(inspect(b"/login"), (true, vec![2]));
}

#[test]
fn a_transaction_rule_with_a_payload_fast_pattern_is_prefiltered_on_its_buffers() {
    // ET Open writes many HTTP rules this way; the payload pattern cannot
    // prefilter a transaction, so the rule used to be verified for every one.
    let rules = r#"
alert http any any -> any any (content:"user="; fast_pattern; http.uri; content:"/login"; startswith; sid:1;)
alert http any any -> any any (content:!"user="; fast_pattern; http.uri; content:"/login"; sid:2;)
"#;
    let det = detector(rules);
    assert_eq!(det.report().unfiltered_tx, 1, "only the rule whose fast pattern is negated runs unfiltered");
    let mut f = Flow::new(&det, false);
    f.app = Some(AppProto::Http);
    let login = Http { uri: b"/login", host: b"h", ua: None, body: b"" };
    assert_eq!(f.tx_in(TS, &login, b"POST /login HTTP/1.1\r\n\r\nuser=x"), vec![1]);
    let mut f = Flow::new(&det, false);
    f.app = Some(AppProto::Http);
    assert_eq!(f.tx_in(TS, &login, b"GET /login HTTP/1.1\r\n\r\n"), vec![2], "the payload content still decides");
    let mut f = Flow::new(&det, false);
    f.app = Some(AppProto::Http);
    let other = Http { uri: b"/index.html", host: b"h", ua: None, body: b"" };
    assert_eq!(f.tx_in(TS, &other, b"POST /index.html HTTP/1.1\r\n\r\nuser=x"), Vec::<u32>::new());
}

/// A response inspected again as its body grows.
struct Growing {
    status: &'static [u8],
    body: Vec<u8>,
    settled: bool,
    status_fetched: std::cell::Cell<usize>,
}

impl TxSource for Growing {
    fn proto(&self) -> AppProto {
        AppProto::Http
    }
    fn tx_id(&self) -> u64 {
        5
    }
    fn buffer(&self, b: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        match (b, idx) {
            (Buffer::HttpStatCode, 0) => {
                self.status_fetched.set(self.status_fetched.get() + 1);
                Some(Cow::Borrowed(self.status))
            }
            (Buffer::FileData, 0) => Some(Cow::Borrowed(&self.body)),
            _ => None,
        }
    }
    fn append_only(&self, b: Buffer) -> bool {
        b == Buffer::FileData
    }
    fn settled(&self, b: Buffer) -> bool {
        self.settled && b != Buffer::FileData
    }
}

#[test]
fn a_settled_buffer_is_scanned_once_and_its_candidates_wait_for_the_body() {
    let det = detector(
        r#"
alert http any any -> any any (flow:to_client; http.stat_code; content:"404"; fast_pattern; file.data; content:"gotcha"; sid:1;)
alert http any any -> any any (flow:to_client; http.stat_code; content:"404"; sid:2;)
"#,
    );
    let mut fetched = Vec::new();
    for settled in [true, false] {
        let mut f = Flow::new(&det, false);
        f.app = Some(AppProto::Http);
        let mut tx = Growing { status: b"404", body: Vec::new(), settled, status_fetched: Default::default() };
        let mut fired = Vec::new();
        for piece in [&b""[..], b"<html>", b"... gotcha ...", b"</html>"] {
            tx.body.extend_from_slice(piece);
            fired.push(f.tx(TC, &tx));
        }
        let none = Vec::<u32>::new();
        assert_eq!(fired, vec![vec![2], none.clone(), vec![1], none], "settled: {settled}");
        fetched.push(tx.status_fetched.get());
    }
    // Verifying a candidate reads the buffer too; scanning it is what the
    // three later inspections of a settled one leave out.
    assert_eq!(fetched[1] - fetched[0], 3, "fetches, settled and not: {fetched:?}");
}

struct Dns(&'static [&'static [u8]]);

impl TxSource for Dns {
    fn proto(&self) -> AppProto {
        AppProto::Dns
    }
    fn tx_id(&self) -> u64 {
        3
    }
    fn buffer(&self, b: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        (b == Buffer::DnsQuery).then(|| self.0.get(idx).map(|q| Cow::Borrowed(*q))).flatten()
    }
}

#[test]
fn dns_query_with_dotprefix_and_every_question() {
    let rules = r#"
alert dns any any -> any any (dns.query; dotprefix; content:".evil.com"; endswith; sid:1;)
alert dns any any -> any any (dns.query; content:"second"; sid:2;)
"#;
    let det = detector(rules);
    let mut f = Flow::new(&det, false);
    f.app = Some(AppProto::Dns);
    assert_eq!(f.tx(TS, &Dns(&[b"www.evil.com", b"second.example"])), vec![1, 2]);
    let mut f = Flow::new(&det, false);
    f.app = Some(AppProto::Dns);
    assert_eq!(f.tx(TS, &Dns(&[b"notevil.com"])), Vec::<u32>::new(), "dotprefix keeps label boundaries");
}

#[test]
fn build_report_and_cache() {
    let rules = "alert tcp any any -> any any (content:\"abc\"; sid:1;)\nalert smb any any -> any any (sid:2;)\n";
    let (set, _) = RuleSet::load(&[("t.rules", rules)], &Vars::default(), &Classifications::empty());
    let mut cache = MemCache::default();
    let a = Detector::build(&set, &ThresholdConfig::default(), Some(&mut cache));
    assert!(!a.report().from_cache);
    assert_eq!(a.len(), 1);
    assert_eq!(a.report().inactive, vec![("app-layer protocol smb is not inspected".to_string(), 1)]);
    let b = Detector::build(&set, &ThresholdConfig::default(), Some(&mut cache));
    assert!(b.report().from_cache, "unchanged rules load from the cache");
    assert_eq!(a.report().cache_key, b.report().cache_key);
    let (other, _) = RuleSet::load(
        &[("t.rules", "alert tcp any any -> any any (content:\"abd\"; sid:1;)\n")],
        &Vars::default(),
        &Classifications::empty(),
    );
    let c = Detector::build(&other, &ThresholdConfig::default(), Some(&mut cache));
    assert!(!c.report().from_cache, "a changed pattern is a new key");
    // The cached detector works.
    let det = Arc::new(b);
    assert_eq!(Flow::new(&det, false).send(Pkt::tcp(TS, b"xabcx")).0, vec![1]);
}
