//! suricata-verify cases whose checks are about parsed HTTP fields
//! (http.*, fileinfo.*), replayed through the parser.

mod common;

use common::{run_pcap, testdata, Outcome};
use mamori_applayer::{Direction, FileEnd};
use mamori_http::HttpEvent;

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn case(rel: &str) -> Option<Vec<Outcome>> {
    let data = testdata()?;
    let dir = data.join("suricata-verify/tests").join(rel);
    let pcap = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "pcap"))?;
    Some(run_pcap(&pcap))
}

#[test]
fn http_post_file_request_body_is_a_file() {
    // Three pipelined-in-time POSTs; the third uploads EICAR (flow:to_server
    // file_data rule).
    let Some(flows) = case("http-post-file") else {
        return;
    };
    // Two more flows in the capture are bare keep-alive ACKs.
    let busy: Vec<_> = flows.iter().filter(|o| !o.txs.is_empty()).collect();
    assert_eq!((flows.len(), busy.len()), (3, 1));
    let o = busy[0];
    assert_eq!(o.txs.len(), 3);
    let uploads: Vec<_> = o.files.files.iter().filter(|f| f.dir == Direction::ToServer).collect();
    assert_eq!(uploads.len(), 3, "each POST body is a file");
    let eicar = uploads.iter().find(|f| f.content == EICAR).expect("EICAR upload");
    assert_eq!(eicar.meta.name, b"/api/v4/uploads/is8j4b6s7i839eo38axwmx5pnr");
    assert_eq!(eicar.meta.declared_size, Some(68));
    assert_eq!(eicar.end, Some(FileEnd::Closed));
    let tx = &o.txs[&eicar.meta.tx_id];
    assert_eq!(tx.request.method, b"POST");
    assert_eq!(tx.request.host.as_deref(), Some(&b"localhost"[..]));
    assert_eq!(tx.request.port, Some(8065));
    assert_eq!(tx.response.status_code, Some(200));
    assert_eq!(o.txs[&1].response.status_code, Some(201));
    let eve = serde_json::to_value(tx.eve()).unwrap();
    assert_eq!(eve["http_port"], 8065);
    assert_eq!(eve["http_content_type"], "application/json");
    assert_eq!(eve["length"], 264);
}

#[test]
fn http_close_headers_are_parsed_at_close() {
    // The server closes in the middle of its header block; the header that
    // did arrive must still be inspectable.
    let Some(flows) = case("http-close-headers") else {
        return;
    };
    let o = &flows[0];
    let tx = &o.txs[&0];
    assert_eq!(tx.response.status_code, Some(200));
    let server: Vec<_> = tx.response.headers.iter().filter(|h| h.name() == b"Server").collect();
    assert_eq!(server.len(), 1);
    assert_eq!(server[0].value(), b"ng1nx");
    assert!(o.events.contains(&HttpEvent::ResponseHeaders { tx_id: 0 }));
    assert!(tx.is_complete());
}

#[test]
fn http_encoding_identity_is_not_abnormal() {
    let Some(flows) = case("http-encoding-identity") else {
        return;
    };
    let o = &flows[0];
    assert_eq!(o.files.files.len(), 1);
    assert_eq!(o.files.files[0].content, b"identity content-encoding works");
    assert!(!o.anomalies().contains(&"ABNORMAL_CE_HEADER"));
    let eve = serde_json::to_value(o.txs[&0].eve()).unwrap();
    assert_eq!(eve["hostname"], "127.0.0.1");
    assert_eq!(eve["http_port"], 8080);
    assert_eq!(eve["http_user_agent"], "curl/7.58.0");
    assert_eq!(eve["status"], 200);
    assert_eq!(eve["length"], 31);
}

fn uris(o: &Outcome) -> Vec<String> {
    o.txs.values().map(|t| String::from_utf8_lossy(&t.request.uri_normalized).into_owned()).collect()
}

#[test]
fn detect_http_uri_pipelined_requests() {
    // Two pipelined HTTP/1.0 POSTs without responses; pcre /U matches per
    // transaction URI.
    for (rel, want) in [
        ("detect-http-uri/UriTestSig02", ["/on", "/one"]),
        ("detect-http-uri/UriTestSig03", ["/one", "/oneself"]),
        ("detect-http-uri/UriTestSig06", ["/oneoneoneone", "/oneself"]),
    ] {
        let Some(flows) = case(rel) else { return };
        assert_eq!(flows.len(), 1, "{rel}");
        assert_eq!(uris(&flows[0]), want, "{rel}");
        for tx in flows[0].txs.values() {
            assert_eq!(tx.request.method, b"POST");
            assert_eq!(tx.request.cookie.as_deref(), Some(&b"hellocatch"[..]));
        }
    }
}

#[test]
fn uricontent_two_midstream_flows() {
    // Two flows picked up midstream, one request each: two http records.
    let Some(flows) = case("uricontent/detect-uricontent-02") else {
        return;
    };
    assert_eq!(flows.len(), 2);
    let all: Vec<String> = flows.iter().flat_map(uris).collect();
    assert_eq!(all, ["/one", "/oneself"]);
    for o in &flows {
        // Trailing blank lines after the request do not make transactions.
        assert_eq!(o.txs.len(), 1);
        let eve = serde_json::to_value(o.txs.values().next().unwrap().eve()).unwrap();
        assert_eq!(eve["http_method"], "POST");
        assert_eq!(eve["protocol"], "HTTP/1.0");
        assert_eq!(eve["http_user_agent"], "Mozilla/1.0");
        assert!(eve.get("status").is_none());
    }
}

#[test]
fn evader_eve_record() {
    let Some(data) = testdata() else { return };
    let flows = run_pcap(&data.join("suricata-verify/tests/http-evader/http-evader-009/input.pcap"));
    let tx = &flows[0].txs[&0];
    let eve = serde_json::to_string(&tx.eve()).unwrap();
    assert_eq!(
        eve,
        r#"{"hostname":"evader.example.com","http_content_type":"application/octet-stream","http_method":"GET","length":103,"protocol":"HTTP/1.1","status":200,"url":"/chunked/eicar.txt/size-x"}"#
    );
    assert_eq!(tx.request.header_names, b"\r\nHost\r\n\r\n");
    assert_eq!(tx.request.headers_raw, b"Host: evader.example.com\r\n\r\n");
    assert_eq!(tx.response.status_message, b"ok");
}
