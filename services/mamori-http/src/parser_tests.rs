//! Connection-level behaviour: pipelining, bodies, gaps, limits.

use super::*;
use mamori_applayer::{FileEnd, MemorySink};
use std::io::Write;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

struct Run {
    p: HttpParser,
    files: MemorySink,
    events: Vec<HttpEvent>,
}

impl Run {
    fn new() -> Run {
        Run::with(HttpConfig::default())
    }

    fn with(cfg: HttpConfig) -> Run {
        Run { p: HttpParser::new(cfg), files: MemorySink::default(), events: Vec::new() }
    }

    fn send(&mut self, dir: Direction, data: &[u8]) -> Status {
        let mut ctx = ParseCtx { events: &mut self.events, files: &mut self.files };
        self.p.input(dir, data, &mut ctx)
    }

    fn gap(&mut self, dir: Direction, len: u64) -> Status {
        let mut ctx = ParseCtx { events: &mut self.events, files: &mut self.files };
        self.p.gap(dir, len, &mut ctx)
    }

    fn close(&mut self, dir: Direction) {
        let mut ctx = ParseCtx { events: &mut self.events, files: &mut self.files };
        self.p.close(dir, &mut ctx)
    }

    fn anomalies(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                HttpEvent::Anomaly(a) => Some(a.event),
                _ => None,
            })
            .collect()
    }

    fn non_anomaly_events(&self) -> Vec<HttpEvent> {
        self.events.iter().filter(|e| !matches!(e, HttpEvent::Anomaly(_))).cloned().collect()
    }

    fn file(&self, i: usize) -> (&[u8], &[u8], Option<FileEnd>) {
        let f = &self.files.files[i];
        (&f.meta.name, &f.content, f.end)
    }
}

use HttpEvent::{RequestComplete as RqC, RequestHeaders as RqH, ResponseComplete as RsC, ResponseHeaders as RsH};

const PIPELINED_REQ: &[u8] =
    b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
const PIPELINED_RES: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nghi";

#[test]
fn pipelined_transactions_match_in_order() {
    let mut r = Run::new();
    r.send(C, PIPELINED_REQ);
    r.send(S, PIPELINED_RES);
    r.close(S);
    r.close(C);
    assert_eq!(
        r.non_anomaly_events(),
        vec![
            RqH { tx_id: 0 },
            RqC { tx_id: 0 },
            RqH { tx_id: 1 },
            RqC { tx_id: 1 },
            RqH { tx_id: 2 },
            RqC { tx_id: 2 },
            RsH { tx_id: 0 },
            RsC { tx_id: 0 },
            RsH { tx_id: 1 },
            RsC { tx_id: 1 },
            RsH { tx_id: 2 },
            RsC { tx_id: 2 },
        ]
    );
    assert_eq!(r.files.files.len(), 3);
    assert_eq!(r.file(0), (&b"/a"[..], &b"abc"[..], Some(FileEnd::Closed)));
    assert_eq!(r.file(1), (&b"/b"[..], &b"def"[..], Some(FileEnd::Closed)));
    assert_eq!(r.file(2), (&b"/c"[..], &b"ghi"[..], Some(FileEnd::Closed)));
    for (i, f) in r.files.files.iter().enumerate() {
        assert_eq!(f.meta.tx_id, i as u64);
    }
    assert_eq!(r.files.files[0].meta.declared_size, Some(3));
    assert!(r.anomalies().is_empty(), "{:?}", r.anomalies());
}

/// Feeding byte by byte (or in odd pieces) must give the same result as
/// feeding whole messages.
#[test]
fn results_do_not_depend_on_segmentation() {
    let mut whole = Run::new();
    whole.send(C, PIPELINED_REQ);
    whole.send(S, PIPELINED_RES);
    whole.close(S);
    for step in [1usize, 2, 3, 5, 7, 13] {
        let mut r = Run::new();
        for piece in PIPELINED_REQ.chunks(step) {
            r.send(C, piece);
        }
        for piece in PIPELINED_RES.chunks(step) {
            r.send(S, piece);
        }
        r.close(S);
        assert_eq!(r.events, whole.events, "step {step}");
        let a: Vec<_> = r.files.files.iter().map(|f| (&f.content, f.end)).collect();
        let b: Vec<_> = whole.files.files.iter().map(|f| (&f.content, f.end)).collect();
        assert_eq!(a, b, "step {step}");
    }
}

/// A head longer than what its buffer takes per step, with a body behind
/// it in the same segment, parses as it does fed in small pieces.
#[test]
fn a_long_head_and_its_body_in_one_segment_parse_as_in_pieces() {
    let mut res = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..60 {
        res.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "v".repeat(80)).as_bytes());
    }
    let body = vec![b'b'; 30_000];
    res.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    res.extend_from_slice(&body);
    res.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
    let req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut whole = Run::new();
    whole.send(C, req);
    whole.send(S, &res);
    whole.close(S);
    let mut pieces = Run::new();
    for p in req.chunks(7) {
        pieces.send(C, p);
    }
    for p in res.chunks(997) {
        pieces.send(S, p);
    }
    pieces.close(S);
    assert_eq!(whole.events, pieces.events);
    assert_eq!(whole.files.files.len(), 1);
    assert_eq!(whole.files.files[0].content, body);
    assert_eq!(pieces.files.files[0].content, body);
    assert_eq!(whole.anomalies(), Vec::<&str>::new());
}

#[test]
fn request_fields() {
    let mut r = Run::new();
    r.send(
        C,
        b"POST http://Example.COM:8080/a/./b/../c%7e?q=1 HTTP/1.1\r\nHost: other.example\r\nUser-Agent: ua/1\r\nCookie: a=1\r\nReferer: http://r/\r\nContent-Type: text/plain; charset=x\r\nX-Forwarded-For: 1.2.3.4\r\nContent-Length: 4\r\n\r\nbody",
    );
    let tx = r.p.tx(0).unwrap();
    let q = &tx.request;
    assert_eq!(q.method, b"POST");
    assert_eq!(q.uri_raw, b"http://Example.COM:8080/a/./b/../c%7e?q=1");
    assert_eq!(q.uri_normalized, b"/a/c~?q=1");
    assert_eq!(q.host.as_deref(), Some(&b"example.com"[..]), "absolute URI host wins");
    assert_eq!(q.port, Some(8080));
    assert_eq!(q.user_agent.as_deref(), Some(&b"ua/1"[..]));
    assert_eq!(q.cookie.as_deref(), Some(&b"a=1"[..]));
    assert_eq!(q.referer.as_deref(), Some(&b"http://r/"[..]));
    assert_eq!(q.content_type.as_deref(), Some(&b"text/plain; charset=x"[..]));
    assert_eq!(q.content_length, Some(4));
    assert_eq!(
        q.header_names,
        b"\r\nHost\r\nUser-Agent\r\nCookie\r\nReferer\r\nContent-Type\r\nX-Forwarded-For\r\nContent-Length\r\n\r\n"
    );
    assert!(q.headers_raw.starts_with(b"Host: other.example\r\n"));
    assert!(q.headers_raw.ends_with(b"Content-Length: 4\r\n\r\n"));
    assert_eq!(q.headers.len(), 7);
    assert_eq!(q.progress, Progress::Complete);
    assert_eq!(r.files.files[0].content, b"body");
    assert_eq!(r.files.files[0].dir, C);
    assert_eq!(r.files.files[0].meta.content_type.as_deref(), Some(&b"text/plain"[..]));
    let eve = tx.eve();
    assert_eq!(eve.xff.as_deref(), Some("1.2.3.4"));
    assert_eq!(eve.url.as_deref(), Some("http://Example.COM:8080/a/./b/../c%7e?q=1"));
}

#[test]
fn header_names_of_a_head_with_many_fields_are_each_listed_once() {
    // Past PAIRWISE_MAX fields the repeats are found another way; the
    // buffer must not change.
    let mut req = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 0..50 {
        req.push_str(&format!("X-{}: v\r\nhost: b\r\n", i % 10));
    }
    req.push_str("\r\n");
    let mut r = Run::new();
    r.send(C, req.as_bytes());
    let mut want = String::from("\r\nHost\r\n");
    for i in 0..10 {
        want.push_str(&format!("X-{i}\r\n"));
    }
    want.push_str("\r\n");
    assert_eq!(String::from_utf8_lossy(&r.p.tx(0).unwrap().request.header_names), want);
}

#[test]
fn header_names_buffer_matches_suricata() {
    let mut r = Run::new();
    r.send(C, b"GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept: b\r\nX-Y: z\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    assert_eq!(r.p.tx(0).unwrap().request.header_names, b"\r\nHost\r\nAccept\r\nX-Y\r\n\r\n");
    assert_eq!(r.p.tx(1).unwrap().request.header_names, b"");
}

#[test]
fn host_header_is_lowercased_without_port() {
    let mut r = Run::new();
    r.send(C, b"get / HTTP/1.1\r\nHost: WWW.Example.ORG:81\r\n\r\n");
    let q = &r.p.tx(0).unwrap().request;
    assert_eq!(q.host.as_deref(), Some(&b"www.example.org"[..]));
    assert_eq!(q.port, Some(81));
    assert_eq!(q.method, b"get");
}

#[test]
fn missing_host_and_ambiguous_host_are_reported() {
    let mut r = Run::new();
    r.send(C, b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    assert!(r.anomalies().contains(&"MISSING_HOST_HEADER"));
    assert!(r.anomalies().contains(&"HOST_HEADER_AMBIGUOUS"));
}

#[test]
fn head_204_304_have_no_body() {
    let mut r = Run::new();
    r.send(C, b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\nGET /m HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\n\r\n");
    r.send(
        S,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    assert_eq!(r.files.files.len(), 1);
    assert_eq!(r.file(0), (&b"/last"[..], &b"ok"[..], Some(FileEnd::Closed)));
    for id in 0..4 {
        assert!(r.events.contains(&RsC { tx_id: id }));
    }
}

#[test]
fn interim_100_continue_then_final_response() {
    let mut r = Run::new();
    r.send(C, b"PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    r.send(S, b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(!r.events.iter().any(|e| matches!(e, RsH { .. })));
    r.send(C, b"abc");
    r.send(S, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    let tx = r.p.tx(0).unwrap();
    assert_eq!(tx.response.status_code, Some(201));
    assert!(tx.response.saw_100_continue);
    assert!(tx.is_complete());
    assert_eq!(r.file(0), (&b"/up"[..], &b"abc"[..], Some(FileEnd::Closed)));
}

#[test]
fn refused_expect_continue_finishes_request_without_body() {
    let mut r = Run::new();
    r.send(C, b"POST /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
    r.send(S, b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
    assert!(r.events.contains(&RqC { tx_id: 0 }));
    assert!(r.events.contains(&RsC { tx_id: 0 }));
    // The client moves on to its next request.
    r.send(C, b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.events.contains(&RqH { tx_id: 1 }));
    assert!(r.files.files.is_empty());
}

#[test]
fn connect_and_upgrade_become_tunnels() {
    let mut r = Run::new();
    r.send(C, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    let st = r.send(S, b"HTTP/1.1 200 Connection established\r\n\r\n");
    assert_eq!(st, Status::Stop);
    assert!(r.events.contains(&RsC { tx_id: 0 }));
    assert_eq!(r.send(C, b"\x16\x03\x01"), Status::Stop);

    let mut r = Run::new();
    r.send(C, b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    let st = r.send(S, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
    assert_eq!(st, Status::Stop);
    assert!(r.files.files.is_empty());
}

#[test]
fn gzip_response_is_decoded_and_bomb_is_stopped_in_sync() {
    let gz = |d: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    };
    let small = gz(b"hello gzip");
    let bomb = gz(&vec![0u8; 4 << 20]);
    let cfg = HttpConfig { decompress_max_output: 1 << 20, ..HttpConfig::default() };
    let mut r = Run::with(cfg);
    r.send(
        C,
        b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let mut res =
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", small.len()).into_bytes();
    res.extend_from_slice(&small);
    res.extend_from_slice(
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nContent-Length: {}\r\n\r\n", bomb.len()).as_bytes(),
    );
    res.extend_from_slice(&bomb);
    res.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast");
    r.send(S, &res);
    assert_eq!(r.file(0), (&b"/1"[..], &b"hello gzip"[..], Some(FileEnd::Closed)));
    assert_eq!(r.files.files[1].end, Some(FileEnd::Truncated));
    assert_eq!(r.files.files[1].content.len(), 1 << 20);
    assert!(r.anomalies().contains(&"COMPRESSION_BOMB"));
    assert_eq!(r.file(2), (&b"/3"[..], &b"last"[..], Some(FileEnd::Closed)));
    let tx = r.p.tx(1).unwrap();
    assert!(tx.response.body.truncated);
    assert_eq!(tx.response.body.wire_len, bomb.len() as u64);
}

#[test]
fn too_many_layers_are_reported() {
    let mut r = Run::new();
    r.send(C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip, gzip, gzip\r\nContent-Length: 3\r\n\r\nabc");
    assert!(r.anomalies().contains(&"TOO_MANY_ENCODING_LAYERS"));
    // Not compressed at all: passed through.
    assert_eq!(r.files.files[0].content, b"abc");
}

#[test]
fn chunked_request_body_becomes_a_file() {
    let mut r = Run::new();
    r.send(C, b"POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Disposition: attachment; filename=\"up.bin\"\r\n\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n");
    assert_eq!(r.file(0), (&b"up.bin"[..], &b"abc"[..], Some(FileEnd::Closed)));
    assert!(r.anomalies().contains(&"REQUEST_CHUNK_EXTENSION"));
    assert!(r.events.contains(&RqC { tx_id: 0 }));
}

#[test]
fn gap_in_response_body_truncates_file_and_keeps_sync() {
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
    r.gap(S, 3);
    r.send(S, b"789HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(r.file(0), (&b"/a"[..], &b"0123"[..], Some(FileEnd::Truncated)));
    assert_eq!(r.file(1), (&b"/b"[..], &b"ok"[..], Some(FileEnd::Closed)));
    assert!(r.anomalies().contains(&"GAP_IN_BODY"));
    assert_eq!(r.p.tx(0).map(|t| t.response.body.truncated), None.or(Some(true)));
}

#[test]
fn gap_past_body_resyncs_on_next_response() {
    let mut r = Run::new();
    r.send(
        C,
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    r.send(S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab");
    r.gap(S, 500);
    // Tail of an unknown message, then a fresh response.
    r.send(S, b"zz\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq");
    assert_eq!(r.file(0).2, Some(FileEnd::Truncated));
    let last = r.files.files.last().unwrap();
    assert_eq!(last.content, b"q");
    assert_eq!(last.meta.tx_id, 1, "next pending transaction takes the response");
}

#[test]
fn gap_in_request_headers_resyncs_on_next_request() {
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: x\r\nX-Lo");
    r.gap(C, 100);
    r.send(C, b"ng: y\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n");
    assert!(r.anomalies().contains(&"GAP_IN_HEADERS"));
    assert!(r.events.contains(&RqC { tx_id: 0 }));
    let b = r.p.tx(1).unwrap();
    assert_eq!(b.request.uri_raw, b"/b");
    assert_eq!(b.request.host.as_deref(), Some(&b"y"[..]));
}

#[test]
fn oversized_head_is_reported_and_resynced() {
    let cfg = HttpConfig { max_head_bytes: 256, ..HttpConfig::default() };
    let mut r = Run::with(cfg);
    let mut req = b"GET /a HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', 1000));
    req.extend_from_slice(b"\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    r.send(C, &req);
    assert!(r.anomalies().contains(&"REQUEST_FIELD_TOO_LONG"));
    assert_eq!(r.p.tx(1).unwrap().request.uri_raw, b"/b");
}

#[test]
fn outstanding_transactions_are_bounded() {
    let cfg = HttpConfig { max_transactions: 4, ..HttpConfig::default() };
    let mut r = Run::with(cfg);
    let reqs = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(5);
    assert_eq!(r.send(C, &reqs), Status::Stop);
    assert!(r.anomalies().contains(&"TOO_MANY_TRANSACTIONS"));
    assert_eq!(r.send(S, b"HTTP/1.1 200 OK\r\n\r\n"), Status::Stop);
}

#[test]
fn completed_transactions_are_freed_after_the_next_call() {
    let mut r = Run::new();
    r.send(C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(r.events.contains(&RsC { tx_id: 0 }));
    assert!(r.p.tx(0).is_some(), "still there until the next call");
    r.send(C, b"GET /2 HTTP/1.1\r\n");
    assert!(r.p.tx(0).is_none());
}

#[test]
fn orphan_response_gets_its_own_transaction_and_junk_is_dropped() {
    let mut r = Run::new();
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiXXXXXXXX\r\nmore junk");
    assert!(r.anomalies().contains(&"UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"));
    assert_eq!(r.files.files.len(), 1);
    assert_eq!(r.files.files[0].content, b"hi");
    let tx = r.p.tx(0).unwrap();
    assert!(tx.orphan_response);
    assert_eq!(tx.eve().http_method, None);
    assert_eq!(tx.eve().status, Some(200));
    r.close(S);
    assert_eq!(r.files.files.len(), 1, "junk after the response made no file");
}

#[test]
fn close_mid_body_truncates_and_close_delimited_completes() {
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    r.close(S);
    assert_eq!(r.file(0).2, Some(FileEnd::Truncated));
    assert!(r.anomalies().contains(&"TRUNCATED_MESSAGE"));
    assert!(r.events.contains(&RsC { tx_id: 0 }));

    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.0\r\n\r\n");
    r.send(S, b"HTTP/1.0 200 OK\r\n\r\nuntil close");
    r.close(S);
    assert_eq!(r.file(0), (&b"/a"[..], &b"until close"[..], Some(FileEnd::Closed)));
}

#[test]
fn unanswered_requests_complete_when_the_server_side_closes() {
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    r.close(S);
    assert!(r.events.contains(&RsC { tx_id: 0 }));
    r.close(C);
}

#[test]
fn http09_request_and_response() {
    let mut r = Run::new();
    r.send(C, b"GET /old\r\n");
    assert!(r.events.contains(&RqC { tx_id: 0 }));
    r.send(S, b"<html>raw</html>");
    r.close(S);
    assert_eq!(r.file(0), (&b"/old"[..], &b"<html>raw</html>"[..], Some(FileEnd::Closed)));
    assert!(r.p.tx(0).unwrap().response.http09);
}

#[test]
fn blank_lines_between_requests_are_ignored() {
    let mut r = Run::new();
    r.send(C, b"\r\n\r\nGET /a HTTP/1.0\r\n\r\n\r\n\r\n  \r\nGET /b HTTP/1.0\r\n\r\n\r\n");
    let txs: Vec<_> = r.p.transactions().map(|t| t.request.uri_raw.clone()).collect();
    assert_eq!(txs, vec![b"/a".to_vec(), b"/b".to_vec()]);
}

#[test]
fn lf_only_messages() {
    let mut r = Run::new();
    r.send(C, b"GET /lf HTTP/1.1\nHost: x\n\n");
    r.send(S, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
    assert_eq!(r.file(0), (&b"/lf"[..], &b"ok"[..], Some(FileEnd::Closed)));
}

#[test]
fn nothing_panics_on_hostile_mixtures() {
    // A mixed bag of hostile input in both directions, with gaps and odd
    // splits; only looking for panics and unbounded growth.
    let blobs: [&[u8]; 6] = [
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br, gzip, deflate\r\nContent-Length: 99999999999999999999\r\n\r\n\x1f\x8b\x08\x00",
        b"\r\n\r\r\n\n\r\r\n \t\0\x0b\x0c:::\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ];
    for (i, a) in blobs.iter().enumerate() {
        for b in &blobs {
            let mut r = Run::new();
            r.send(C, a);
            r.send(S, b);
            r.gap(if i % 2 == 0 { C } else { S }, 7);
            r.send(C, b);
            r.send(S, a);
            r.close(C);
            r.close(S);
            assert!(r.files.files.iter().all(|f| f.end.is_some()), "every file closed");
        }
    }
}

#[test]
fn junk_line_filling_the_head_buffer_does_not_stall() {
    let cfg = HttpConfig { max_head_bytes: 64, ..HttpConfig::default() };
    let mut r = Run::with(cfg);
    r.send(C, b"GET /j HTTP/1.1\r\nHost: x\r\n\r\n");
    // A 62-byte junk line plus CRLF fills the 64-byte buffer exactly.
    let mut junk = vec![b'j'; 62];
    junk.extend_from_slice(b"\r\n");
    r.send(S, &junk);
    r.send(S, b"more body");
    r.close(S);
    // Taken as a body without status line, like libhtp.
    assert_eq!(r.files.files.len(), 1);
    assert!(r.files.files[0].content.ends_with(b"more body"));
}

#[test]
fn a_finished_connection_holds_no_transaction_room() {
    // A closed connection lingers in the flow table for a minute; at
    // thousands of connections a second, room kept for transactions that
    // will never come adds up to gigabytes.
    let mut r = Run::new();
    r.send(C, PIPELINED_REQ);
    r.send(S, PIPELINED_RES);
    assert!(r.p.txs.capacity() > 0);
    r.close(S);
    r.close(C);
    assert_eq!(r.p.transactions().count(), 0);
    assert_eq!(r.p.txs.capacity(), 0);
    // The next request on a kept-alive connection gets room again.
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    r.send(C, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.p.transactions().map(|t| t.tx_id).collect::<Vec<_>>(), vec![1]);
}

#[test]
fn a_connection_is_over_once_its_closing_exchange_is_complete() {
    // The server says it closes: over once the response body is whole.
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(!r.p.over(), "the request alone does not end the connection");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: keep-alive, Close\r\n\r\nab");
    assert!(!r.p.over(), "half the body is still to come");
    r.send(S, b"cd");
    assert!(r.p.over());
    // The client says it closes; the response is chunked.
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n");
    assert!(!r.p.over(), "the last chunk is still to come");
    r.send(S, b"0\r\n\r\n");
    assert!(r.p.over());
}

#[test]
fn a_connection_is_not_over_while_http_may_follow() {
    // Kept alive: another request may come.
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    assert!(!r.p.over());
    // A client that sends more after `close` is still being read.
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    r.send(C, b"GET /b HTTP/1.1\r\n");
    assert!(!r.p.over());
    // A body read until the close ends only with the close.
    let mut r = Run::new();
    r.send(C, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxyz");
    assert!(!r.p.over());
    // An interim response's `close` is not the final word, and a tunnel is
    // not HTTP at all.
    let mut r = Run::new();
    r.send(C, b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    r.send(S, b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n");
    r.send(C, b"ok");
    r.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(!r.p.over());
    let mut r = Run::new();
    r.send(C, b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nConnection: close\r\n\r\n");
    r.send(S, b"HTTP/1.1 200 Connection established\r\n\r\n");
    assert!(!r.p.over());
}
