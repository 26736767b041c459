use mamori_applayer::{Direction, MemorySink, ParseCtx, StreamParser};
use mamori_http::HttpParser;
#[test]
fn perf() {
    let mut p = HttpParser::default();
    let mut files = MemorySink::default();
    let mut ev = Vec::new();
    let req = b"GET /some/path?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nCookie: a=b\r\n\r\n";
    let res = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\nServer: x\r\n\r\n";
    let body = vec![b'a'; 1000];
    let t = std::time::Instant::now();
    let n = 20000;
    let mut bytes = 0;
    for _ in 0..n {
        let mut ctx = ParseCtx { events: &mut ev, files: &mut files };
        p.input(Direction::ToServer, req, &mut ctx);
        for piece in res.chunks(7) { p.input(Direction::ToClient, piece, &mut ctx); }
        p.input(Direction::ToClient, &body, &mut ctx);
        bytes += req.len() + res.len() + body.len();
        ev.clear();
        files.files.clear();
    }
    let el = t.elapsed();
    println!("{n} tx, {} MB in {:?} = {:.1} MB/s", bytes / 1_000_000, el, bytes as f64 / el.as_secs_f64() / 1e6);
}
