//! Per-transaction data the engine and the IPS inspect, and its EVE form.

use std::borrow::Cow;

use crate::body::BodyProgress;
use crate::headers::Header;
use crate::startline::HttpVersion;
use serde::Serialize;

/// How far one side of a transaction got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Nothing of this side yet.
    #[default]
    NotStarted,
    /// Start line seen; headers being read (or read, when no body follows).
    Headers,
    /// Headers done; body bytes flowing.
    Body,
    /// This side is finished (possibly truncated: see `body.truncated`).
    Complete,
}

/// The request side of a transaction. Wire data stays raw bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    pub progress: Progress,
    /// Request line as sent, without its line break.
    pub line: Vec<u8>,
    pub method: Vec<u8>,
    /// Target as sent (`http.uri.raw`).
    pub uri_raw: Vec<u8>,
    /// Normalised path and query (`http.uri`).
    pub uri_normalized: Vec<u8>,
    /// Protocol as sent; `None` for HTTP/0.9 requests.
    pub protocol: Option<Vec<u8>>,
    pub version: HttpVersion,
    /// Host header (else absolute-URI host), lowercased, without port.
    pub host: Option<Vec<u8>>,
    /// Port given in the Host header or absolute URI.
    pub port: Option<u16>,
    pub user_agent: Option<Vec<u8>>,
    pub cookie: Option<Vec<u8>>,
    pub content_type: Option<Vec<u8>>,
    pub referer: Option<Vec<u8>>,
    pub x_forwarded_for: Option<Vec<u8>>,
    pub content_length: Option<u64>,
    /// Header fields in order of arrival.
    pub headers: Vec<Header>,
    /// Header block as received, up to and including the empty line.
    pub headers_raw: Vec<u8>,
    /// Suricata's `http.header_names`: `\r\n`, each distinct name followed
    /// by `\r\n`, then a final `\r\n` (empty without headers).
    pub header_names: Vec<u8>,
    pub body: BodyProgress,
}

/// The response side of a transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub progress: Progress,
    /// Status line as sent, without its line break.
    pub line: Vec<u8>,
    pub protocol: Vec<u8>,
    pub version: HttpVersion,
    /// Status code text as sent (`2xx` stays `2xx`).
    pub status: Vec<u8>,
    /// Status code when it is three digits in 100..=999.
    pub status_code: Option<u16>,
    pub status_message: Vec<u8>,
    pub headers: Vec<Header>,
    pub headers_raw: Vec<u8>,
    pub header_names: Vec<u8>,
    pub content_type: Option<Vec<u8>>,
    pub content_length: Option<u64>,
    pub location: Option<Vec<u8>>,
    /// No status line came: the bytes were taken as an HTTP/0.9 body.
    pub http09: bool,
    /// An interim 100 Continue preceded this response.
    pub saw_100_continue: bool,
    pub body: BodyProgress,
}

/// One request/response exchange.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpTx {
    /// Index of the transaction in its flow, from 0.
    pub tx_id: u64,
    pub request: HttpRequest,
    pub response: HttpResponse,
    /// The response came without a request to match it.
    pub orphan_response: bool,
    /// ResponseComplete was reported; the transaction is finished.
    pub(crate) done: bool,
}

/// Suricata's EVE `http` object for a transaction (field names and
/// omission rules of Suricata 8's `output-json-http.c`). The fields are in
/// alphabetical order, the order EVE has always had them in (the object
/// once went through a JSON map sorted by key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpEve<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_content_type: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_refer: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_user_agent: Option<Cow<'a, str>>,
    /// Response body length as seen on the wire.
    pub length: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_string: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xff: Option<Cow<'a, str>>,
}

// Borrowed where the bytes are UTF-8 (nearly always): the object is built
// for each event and alert of the transaction, and serialised at once.
fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

fn opt_text(b: Option<&Vec<u8>>) -> Option<Cow<'_, str>> {
    b.map(|v| text(v))
}

fn non_empty(b: &[u8]) -> Option<Cow<'_, str>> {
    (!b.is_empty()).then(|| text(b))
}

impl HttpTx {
    /// Whether ResponseComplete was reported for this transaction.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// The EVE `http` object.
    pub fn eve(&self) -> HttpEve<'_> {
        let req = &self.request;
        let res = &self.response;
        let started = req.progress != Progress::NotStarted && !self.orphan_response;
        let content_type = res.content_type.as_ref().map(|ct| {
            // Suricata logs the value up to the first ';'.
            let end = memchr::memchr(b';', ct).unwrap_or(ct.len());
            text(ct.get(..end).unwrap_or(&[]))
        });
        let status = res.status_code;
        HttpEve {
            hostname: opt_text(req.host.as_ref()).filter(|h| !h.is_empty()),
            http_port: req.port,
            url: if started { Some(text(&req.uri_raw)) } else { None },
            http_user_agent: opt_text(req.user_agent.as_ref()),
            xff: opt_text(req.x_forwarded_for.as_ref()),
            http_content_type: content_type,
            http_refer: opt_text(req.referer.as_ref()),
            http_method: if started { non_empty(&req.method) } else { None },
            protocol: req.protocol.as_deref().and_then(non_empty),
            status,
            status_string: if status.is_none() { non_empty(&res.status) } else { None },
            redirect: opt_text(res.location.as_ref()),
            length: res.body.wire_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_uses_suricata_names_and_omits_missing_fields() {
        let mut tx = HttpTx::default();
        tx.request.progress = Progress::Complete;
        tx.request.method = b"GET".to_vec();
        tx.request.uri_raw = b"/a%20b".to_vec();
        tx.request.protocol = Some(b"HTTP/1.1".to_vec());
        tx.request.host = Some(b"example.com".to_vec());
        tx.response.status_code = Some(301);
        tx.response.status = b"301".to_vec();
        tx.response.location = Some(b"/new".to_vec());
        tx.response.content_type = Some(b"text/html; charset=utf-8".to_vec());
        tx.response.body.wire_len = 12;
        let json = serde_json::to_string(&tx.eve()).unwrap();
        assert_eq!(
            json,
            r#"{"hostname":"example.com","http_content_type":"text/html","http_method":"GET","length":12,"protocol":"HTTP/1.1","redirect":"/new","status":301,"url":"/a%20b"}"#
        );
    }

    #[test]
    fn invalid_status_is_logged_as_string() {
        let mut tx = HttpTx::default();
        tx.response.status = b"2xx".to_vec();
        let eve = tx.eve();
        assert_eq!(eve.status, None);
        assert_eq!(eve.status_string.as_deref(), Some("2xx"));
        assert_eq!(eve.url, None);
    }
}
