//! HTTP transactions as the IPS sees them: Suricata's HTTP buffers
//! (`http.uri`, `http.header`, `file.data`, ...) over a parsed transaction,
//! and the decoded bodies kept for `file.data` / `http.client_body`.

use std::borrow::Cow;

use mamori_applayer::{AppProto, Direction, FileEnd, FileId, FileMeta, FileSink};
use mamori_detect::TxSource;
use mamori_http::{Header, HttpTx, Progress};
use mamori_rules::Buffer;

/// Body bytes kept per transaction and direction (Suricata's default
/// request/response body limits are 100 KiB).
pub(crate) const BODY_LIMIT: usize = 100 * 1024;
/// Bodies kept per flow; the oldest go first.
const MAX_BODIES: usize = 4;
/// How much of a declared body length is reserved before its bytes arrive:
/// enough for common page and object sizes to land in one allocation, small
/// enough that heads which lie about their length cost little.
const DECLARED_TRUST: usize = 32 * 1024;

pub(crate) struct Body {
    pub tx_id: u64,
    pub dir: Direction,
    pub data: Vec<u8>,
}

/// Decoded bodies of the flow's recent transactions.
#[derive(Default)]
pub(crate) struct Bodies {
    /// Open bodies: file, transaction, direction, declared size.
    open: Vec<(FileId, u64, Direction, usize)>,
    pub bufs: Vec<Body>,
    /// Transactions whose body grew since the last inspection.
    pub grew: Vec<(u64, Direction)>,
}

impl Bodies {
    pub fn get(&self, tx_id: u64, dir: Direction) -> Option<&[u8]> {
        self.bufs.iter().find(|b| b.tx_id == tx_id && b.dir == dir).map(|b| b.data.as_slice())
    }

    fn append(&mut self, id: FileId, data: &[u8]) {
        let Some(&(_, tx_id, dir, declared)) = self.open.iter().find(|(f, ..)| *f == id) else { return };
        let pos = match self.bufs.iter().position(|b| b.tx_id == tx_id && b.dir == dir) {
            Some(p) => p,
            None => {
                if self.bufs.len() >= MAX_BODIES {
                    self.bufs.remove(0);
                }
                // Sized for the declared length, so a body that comes in
                // pieces is not copied again as its buffer grows; bounded by
                // the first piece too, so a length that lies costs little.
                let first = data.len().min(BODY_LIMIT);
                let cap = declared.clamp(first, first.saturating_mul(8).clamp(DECLARED_TRUST, BODY_LIMIT));
                self.bufs.push(Body { tx_id, dir, data: Vec::with_capacity(cap) });
                self.bufs.len() - 1
            }
        };
        let Some(b) = self.bufs.get_mut(pos) else { return };
        let room = BODY_LIMIT.saturating_sub(b.data.len());
        if room == 0 || data.is_empty() {
            return;
        }
        b.data.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        if !self.grew.contains(&(tx_id, dir)) {
            self.grew.push((tx_id, dir));
        }
    }

    /// Forget transactions the parser no longer has.
    pub fn retain(&mut self, live: impl Fn(u64) -> bool) {
        self.bufs.retain(|b| live(b.tx_id));
    }
}

/// A file sink that passes everything on and keeps a copy of body bytes.
pub(crate) struct TeeSink<'a> {
    pub inner: &'a mut dyn FileSink,
    pub bodies: &'a mut Bodies,
}

impl FileSink for TeeSink<'_> {
    fn open(&mut self, dir: Direction, meta: FileMeta) -> FileId {
        let tx_id = meta.tx_id;
        let declared = meta.declared_size.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let id = self.inner.open(dir, meta);
        if self.bodies.open.len() >= 16 {
            self.bodies.open.remove(0);
        }
        self.bodies.open.push((id, tx_id, dir, declared));
        id
    }

    fn data(&mut self, id: FileId, data: &[u8]) {
        self.inner.data(id, data);
        self.bodies.append(id, data);
    }

    fn close(&mut self, id: FileId, end: FileEnd) {
        self.inner.close(id, end);
        self.bodies.open.retain(|(f, ..)| *f != id);
    }
}

/// One transaction, inspected in one direction.
pub(crate) struct HttpView<'a> {
    pub tx: &'a HttpTx,
    pub dir: Direction,
    pub req_body: Option<&'a [u8]>,
    pub resp_body: Option<&'a [u8]>,
}

fn header<'a>(hs: &'a [Header], name: &str) -> Option<&'a [u8]> {
    hs.iter().find(|h| h.name().eq_ignore_ascii_case(name.as_bytes())).map(Header::value)
}

/// Suricata's normalized `http.header`: `Name: value\r\n` per field, cookies
/// left out (they have their own buffer), then a closing `\r\n`.
fn header_buffer(hs: &[Header], dir: Direction) -> Vec<u8> {
    let skip = if dir == Direction::ToServer { "cookie" } else { "set-cookie" };
    let mut out = Vec::with_capacity(hs.iter().map(|h| h.line().len() + 2).sum::<usize>() + 2);
    for h in hs {
        if h.name().eq_ignore_ascii_case(skip.as_bytes()) {
            continue;
        }
        out.extend_from_slice(h.line());
        out.extend_from_slice(b"\r\n");
    }
    if !out.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Whether [`HttpView::buffer`] reads `buffer` from the response's head
/// when inspecting in `dir` (header buffers follow the direction).
fn from_response(buffer: Buffer, dir: Direction) -> bool {
    use Buffer::*;
    match buffer {
        HttpStatCode | HttpStatMsg | HttpResponseLine | HttpLocation | HttpServer | HttpResponseHeader => true,
        HttpHeader | HttpHeaderRaw | HttpHeaderNames | HttpCookie | HttpContentType | HttpContentLen | HttpProtocol
        | HttpStart | HttpConnection => dir == Direction::ToClient,
        _ => false,
    }
}

fn b(v: &[u8]) -> Option<Cow<'_, [u8]>> {
    Some(Cow::Borrowed(v))
}

impl TxSource for HttpView<'_> {
    fn proto(&self) -> AppProto {
        AppProto::Http
    }

    fn tx_id(&self) -> u64 {
        self.tx.tx_id
    }

    fn append_only(&self, buffer: Buffer) -> bool {
        // Bodies are appended to until BODY_LIMIT and never rewritten.
        matches!(buffer, Buffer::HttpRequestBody | Buffer::FileData)
    }

    fn settled(&self, buffer: Buffer) -> bool {
        // A side's start line and headers are fixed once its body follows
        // (trailers are not kept); the rest of a transaction is its bodies.
        let head_done = |p: Progress| matches!(p, Progress::Body | Progress::Complete);
        if self.append_only(buffer) || !head_done(self.tx.request.progress) {
            return false;
        }
        !from_response(buffer, self.dir) || head_done(self.tx.response.progress)
    }

    fn buffer(&self, buffer: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        let (req, resp) = (&self.tx.request, &self.tx.response);
        let to_server = self.dir == Direction::ToServer;
        let hs = if to_server { &req.headers } else { &resp.headers };
        if idx > 0 {
            return match buffer {
                Buffer::HttpRequestHeader | Buffer::HttpResponseHeader => {
                    let list = if buffer == Buffer::HttpRequestHeader { &req.headers } else { &resp.headers };
                    b(list.get(idx)?.line())
                }
                _ => None,
            };
        }
        if req.line.is_empty() && to_server {
            return None;
        }
        match buffer {
            Buffer::HttpUri => b(&req.uri_normalized),
            Buffer::HttpUriRaw => b(&req.uri_raw),
            Buffer::HttpMethod => b(&req.method),
            Buffer::HttpHost => req.host.as_deref().and_then(b),
            Buffer::HttpHostRaw => header(&req.headers, "host").and_then(b),
            Buffer::HttpUserAgent => req.user_agent.as_deref().and_then(b),
            Buffer::HttpHeader => Some(Cow::<[u8]>::Owned(header_buffer(hs, self.dir))).filter(|v| !v.is_empty()),
            Buffer::HttpHeaderRaw => b(if to_server { &req.headers_raw } else { &resp.headers_raw }),
            Buffer::HttpHeaderNames => b(if to_server { &req.header_names } else { &resp.header_names }),
            Buffer::HttpCookie => header(hs, if to_server { "cookie" } else { "set-cookie" }).and_then(b),
            Buffer::HttpContentType => header(hs, "content-type").and_then(b),
            Buffer::HttpContentLen => header(hs, "content-length").and_then(b),
            Buffer::HttpRequestLine => b(&req.line),
            Buffer::HttpResponseLine => b(&resp.line),
            Buffer::HttpRequestBody => self.req_body.and_then(b),
            Buffer::FileData => (if to_server { self.req_body } else { self.resp_body }).and_then(b),
            Buffer::HttpStatCode => b(&resp.status),
            Buffer::HttpStatMsg => b(&resp.status_message),
            Buffer::HttpProtocol => {
                if to_server {
                    req.protocol.as_deref().and_then(b)
                } else {
                    b(&resp.protocol)
                }
            }
            Buffer::HttpStart => {
                let (line, raw) =
                    if to_server { (&req.line, &req.headers_raw) } else { (&resp.line, &resp.headers_raw) };
                let mut v = line.clone();
                v.extend_from_slice(b"\r\n");
                v.extend_from_slice(raw);
                Some(Cow::Owned(v))
            }
            Buffer::HttpReferer => header(&req.headers, "referer").and_then(b),
            Buffer::HttpAccept => header(&req.headers, "accept").and_then(b),
            Buffer::HttpAcceptEnc => header(&req.headers, "accept-encoding").and_then(b),
            Buffer::HttpAcceptLang => header(&req.headers, "accept-language").and_then(b),
            Buffer::HttpConnection => header(hs, "connection").and_then(b),
            Buffer::HttpLocation => header(&resp.headers, "location").and_then(b),
            Buffer::HttpServer => header(&resp.headers, "server").and_then(b),
            Buffer::HttpRequestHeader | Buffer::HttpResponseHeader => {
                let list = if buffer == Buffer::HttpRequestHeader { &req.headers } else { &resp.headers };
                b(list.first()?.line())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &str, v: &str) -> Header {
        Header::new(n.as_bytes(), v.as_bytes())
    }

    #[test]
    fn only_the_buffers_said_to_come_from_the_response_head_change_with_it() {
        use mamori_http::{HttpRequest, HttpResponse};
        use mamori_rules::AppLayer;
        use Buffer::{FileData, HttpServer, HttpStatCode};
        let head = |line: &str, hs: Vec<Header>| {
            let raw: Vec<u8> = hs.iter().flat_map(|h| [h.name(), b": ", h.value(), b"\r\n"].concat()).collect();
            let names: Vec<u8> = hs.iter().flat_map(|h| [h.name(), b"\r\n"].concat()).collect();
            (line.as_bytes().to_vec(), hs, raw, names)
        };
        let (line, headers, headers_raw, header_names) = head(
            "POST /a HTTP/1.1",
            vec![
                h("Host", "a"),
                h("Cookie", "c=1"),
                h("Content-Type", "x/y"),
                h("Content-Length", "1"),
                h("Connection", "keep-alive"),
            ],
        );
        let request = HttpRequest {
            progress: Progress::Body,
            line,
            method: b"POST".to_vec(),
            uri_raw: b"/a".to_vec(),
            uri_normalized: b"/a".to_vec(),
            protocol: Some(b"HTTP/1.1".to_vec()),
            host: Some(b"a".to_vec()),
            headers,
            headers_raw,
            header_names,
            ..Default::default()
        };
        let mut before = HttpTx::default();
        before.request = request;
        let (line, headers, headers_raw, header_names) = head(
            "HTTP/1.0 302 Found",
            vec![
                h("Server", "s"),
                h("Set-Cookie", "d=2"),
                h("Location", "/b"),
                h("Content-Type", "t/u"),
                h("Content-Length", "3"),
                h("Connection", "close"),
            ],
        );
        let response = HttpResponse {
            progress: Progress::Body,
            line,
            protocol: b"HTTP/1.0".to_vec(),
            status: b"302".to_vec(),
            status_message: b"Found".to_vec(),
            headers,
            headers_raw,
            header_names,
            ..Default::default()
        };
        let mut after = before.clone();
        after.response = response;
        // Every buffer HTTP fills, and the bodies.
        let all: Vec<Buffer> =
            Buffer::all().into_iter().filter(|b| b.app_layers() == [AppLayer::Http] || *b == FileData).collect();
        assert!(all.len() > 20 && all.contains(&HttpServer));
        for dir in [Direction::ToServer, Direction::ToClient] {
            for &buffer in &all {
                let read = |tx| {
                    let v = HttpView { tx, dir, req_body: None, resp_body: None };
                    v.buffer(buffer, 0).map(Cow::into_owned)
                };
                let changed = read(&before) != read(&after);
                assert_eq!(changed, from_response(buffer, dir), "{buffer:?} inspected {dir:?}");
            }
            let settled = |tx| HttpView { tx, dir, req_body: None, resp_body: None }.settled(HttpStatCode);
            assert!(!settled(&before) && settled(&after), "a response head is settled once its body follows");
        }
    }

    #[test]
    fn header_buffer_leaves_out_cookies() {
        let hs = [h("Host", "a"), h("Cookie", "x=1"), h("User-Agent", "ua")];
        assert_eq!(header_buffer(&hs, Direction::ToServer), b"Host: a\r\nUser-Agent: ua\r\n\r\n");
    }

    #[test]
    fn bodies_are_capped_and_tied_to_their_transaction() {
        let mut bodies = Bodies::default();
        let mut sink = mamori_applayer::NullSink::default();
        let mut tee = TeeSink { inner: &mut sink, bodies: &mut bodies };
        let id = tee.open(Direction::ToClient, FileMeta { tx_id: 3, ..Default::default() });
        tee.data(id, b"abc");
        tee.data(id, &vec![b'x'; BODY_LIMIT]);
        tee.close(id, FileEnd::Closed);
        let body = bodies.get(3, Direction::ToClient).unwrap();
        assert_eq!(body.len(), BODY_LIMIT);
        assert!(body.starts_with(b"abcx"));
        assert!(bodies.get(3, Direction::ToServer).is_none());
        assert_eq!(bodies.grew, vec![(3, Direction::ToClient)]);
    }
}
