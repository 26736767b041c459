//! Adapters between the engine and each app-layer parser crate. Each adapter
//! turns a parser's typed events into EVE objects and keeps whatever the
//! engine needs per transaction.

use mamori_applayer::{Anomaly, AppProto, Direction, FileSink, Status};
use mamori_eve::Json;
use serde_json::Value;

use crate::inspect::Inspector;

pub(crate) mod detect;
pub(crate) mod dns;
pub(crate) mod http;
pub(crate) mod http_detect;
pub(crate) mod mail;
pub(crate) mod quic;
pub(crate) mod tls;

/// An app-layer event ready to become an EVE record.
pub(crate) struct AppRecord {
    pub event_type: &'static str,
    pub tx_id: Option<u64>,
    /// Which way to print the tuple: `Some(ToServer)` prints client to
    /// server, `Some(ToClient)` server to client, `None` the flow's direction.
    pub dir: Option<Direction>,
    pub objects: Objects,
}

/// What an app-layer event says.
pub(crate) enum Objects {
    /// Objects in output order, e.g. `[("smtp", ..), ("email", ..)]`.
    Values(Vec<(&'static str, Value)>),
    /// An HTTP transaction's `http` object, written as JSON text once: it
    /// goes into the transaction's event and its files' events and is never
    /// read back, but for the names app naming and web protection judge.
    Http { json: Json, hostname: Option<String>, url: Option<String> },
}

#[derive(Default)]
pub(crate) struct AppOut {
    pub records: Vec<AppRecord>,
    pub anomalies: Vec<Anomaly>,
    /// What a transaction's event will say, known before the event is
    /// logged (the TLS SNI at the ClientHello, an HTTP request's host and
    /// URL at its headers), for web protection to judge in time:
    /// (event type, its object so far).
    pub early: Vec<(&'static str, Value)>,
    /// Web protection is on: only then is `early` judged, so only then is
    /// it worth building (an HTTP object per request).
    judging: bool,
}

impl AppOut {
    pub fn new(judging: bool) -> AppOut {
        AppOut { judging, ..AppOut::default() }
    }

    /// What a transaction's event will say, for web protection to judge
    /// before the event is logged; built only when something judges it.
    pub fn early(&mut self, event_type: &'static str, object: impl FnOnce() -> Value) {
        if self.judging {
            self.early.push((event_type, object()));
        }
    }

    /// A record with one object named like the event type.
    pub fn record(&mut self, event_type: &'static str, tx_id: Option<u64>, dir: Option<Direction>, object: Value) {
        self.records.push(AppRecord { event_type, tx_id, dir, objects: Objects::Values(vec![(event_type, object)]) });
    }

    /// An HTTP transaction's event.
    pub fn http(&mut self, tx_id: u64, eve: &mamori_http::HttpEve<'_>) {
        let objects = Objects::Http {
            json: Json::encode(eve),
            hostname: eve.hostname.as_deref().map(str::to_owned),
            // Only web protection reads it.
            url: if self.judging { eve.url.as_deref().map(str::to_owned) } else { None },
        };
        self.records.push(AppRecord { event_type: "http", tx_id: Some(tx_id), dir: None, objects });
    }
}

/// One flow's app-layer session, whatever the protocol.
pub(crate) trait AppSession {
    fn proto(&self) -> AppProto;
    fn input(&mut self, dir: Direction, data: &[u8], files: &mut dyn FileSink, out: &mut AppOut) -> Status;
    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status;
    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut);
    /// The transaction's objects (`[("http", {...})]`) for a `fileinfo` event.
    fn tx_objects(&self, _tx_id: u64) -> Vec<(&'static str, Value)> {
        Vec::new()
    }
    /// The flow ends: log what was seen but not logged yet.
    fn flush(&mut self, _out: &mut AppOut) {}
    /// Rules are loaded: keep what transaction inspection needs (bodies).
    fn enable_inspection(&mut self) {}
    /// Bytes kept for inspection (bodies and the like).
    fn held_bytes(&self) -> usize {
        0
    }
    /// Hand the transactions that progressed since the last call to the IPS.
    fn inspect(&mut self, _insp: &mut Inspector<'_, '_>) {}
    /// The protocol has ended for good and everything it carried has been
    /// logged and inspected: nothing more this connection carries is read
    /// by a peer speaking the protocol (an HTTP exchange that closes the
    /// connection). The flow can then leave the data path before its
    /// closing packets (see `EngineConfig::bypass_app_over`).
    fn over(&self) -> bool {
        false
    }
}

/// Start a session for a stream protocol found by detection.
pub(crate) fn new_stream_session(proto: AppProto) -> Option<Box<dyn AppSession>> {
    Some(match proto {
        AppProto::Http => Box::new(http::HttpSession::default()),
        AppProto::Tls => Box::new(tls::TlsSession::default()),
        AppProto::Dns => Box::new(dns::DnsTcpSession::default()),
        AppProto::Smtp => Box::new(mail::MailSession::smtp()),
        AppProto::Pop3 => Box::new(mail::MailSession::pop3()),
        AppProto::Imap => Box::new(mail::MailSession::imap()),
        AppProto::Quic | AppProto::Failed => return None,
    })
}

/// Serialize a parser's EVE object; a failure yields null rather than a lost event.
pub(crate) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_objects_are_built_only_for_web_protection() {
        let mut off = AppOut::new(false);
        off.early("http", || panic!("built with nobody to judge it"));
        assert!(off.early.is_empty());
        let mut on = AppOut::new(true);
        on.early("tls", || serde_json::json!({ "sni": "example.com" }));
        assert_eq!(on.early, vec![("tls", serde_json::json!({ "sni": "example.com" }))]);
    }
}
