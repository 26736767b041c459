use std::borrow::Cow;
use std::cell::OnceCell;

use mamori_applayer::{AppProto, Direction, FileSink, ParseCtx, Status, StreamParser};
use mamori_detect::TxSource;
use mamori_rules::Buffer;
use mamori_tls::{JaFingerprint, TlsEvent, TlsParser, Transport};

use super::{to_value, AppOut, AppSession};
use crate::inspect::Inspector;

/// Logs one `tls` event per connection: when the handshake is done, or at
/// flow end if it never finished but a hello was seen.
#[derive(Default)]
pub(crate) struct TlsSession {
    parser: TlsParser,
    events: Vec<TlsEvent>,
    seen_hello: bool,
    logged: bool,
    inspecting: bool,
    /// Directions whose handshake messages progressed since the last inspection.
    dirty: [bool; 2],
}

impl TlsSession {
    fn drain(&mut self, out: &mut AppOut) {
        for ev in self.events.drain(..) {
            match ev {
                TlsEvent::ClientHello(ch) => {
                    self.seen_hello = true;
                    self.dirty[0] = true;
                    if let Some(name) = ch.server_name.as_deref() {
                        out.early("tls", || serde_json::json!({ "sni": String::from_utf8_lossy(name) }));
                    }
                }
                TlsEvent::ServerHello(_) => {
                    self.seen_hello = true;
                    self.dirty[1] = true;
                }
                TlsEvent::HandshakeDone => {
                    if !self.logged {
                        self.logged = true;
                        out.record("tls", Some(0), None, to_value(&self.parser.eve()));
                    }
                }
                TlsEvent::Anomaly(a) => out.anomalies.push(a),
                TlsEvent::Certificate(_) => self.dirty[1] = true,
            }
        }
    }
}

impl AppSession for TlsSession {
    fn proto(&self) -> AppProto {
        AppProto::Tls
    }

    fn input(&mut self, dir: Direction, data: &[u8], files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.input(dir, data, &mut ParseCtx { events: &mut self.events, files });
        self.drain(out);
        st
    }

    fn gap(&mut self, dir: Direction, len: u64, files: &mut dyn FileSink, out: &mut AppOut) -> Status {
        let st = self.parser.gap(dir, len, &mut ParseCtx { events: &mut self.events, files });
        self.drain(out);
        st
    }

    fn close(&mut self, dir: Direction, files: &mut dyn FileSink, out: &mut AppOut) {
        self.parser.close(dir, &mut ParseCtx { events: &mut self.events, files });
        self.drain(out);
    }

    fn tx_objects(&self, _tx_id: u64) -> Vec<(&'static str, serde_json::Value)> {
        vec![("tls", to_value(&self.parser.eve()))]
    }

    fn flush(&mut self, out: &mut AppOut) {
        if self.seen_hello && !self.logged {
            self.logged = true;
            out.record("tls", Some(0), None, to_value(&self.parser.eve()));
        }
    }

    fn enable_inspection(&mut self) {
        self.inspecting = true;
    }

    fn inspect(&mut self, insp: &mut Inspector<'_, '_>) {
        if !self.inspecting {
            return;
        }
        for dir in [Direction::ToServer, Direction::ToClient] {
            if std::mem::take(&mut self.dirty[dir.index()]) {
                let view =
                    TlsView { parser: &self.parser, ja3: OnceCell::new(), ja3s: OnceCell::new(), ja4: OnceCell::new() };
                insp.tx(dir, &view, &|| vec![("tls", to_value(&self.parser.eve()))]);
            }
        }
    }
}

/// The TLS handshake as one transaction (Suricata's TLS has one per flow).
/// Fingerprints are computed once per inspection, when first asked for.
struct TlsView<'a> {
    parser: &'a TlsParser,
    ja3: OnceCell<Option<JaFingerprint>>,
    ja3s: OnceCell<Option<JaFingerprint>>,
    ja4: OnceCell<Option<String>>,
}

impl TxSource for TlsView<'_> {
    fn proto(&self) -> AppProto {
        AppProto::Tls
    }

    fn tx_id(&self) -> u64 {
        0
    }

    fn buffer(&self, buffer: Buffer, idx: usize) -> Option<Cow<'_, [u8]>> {
        let s = self.parser.session();
        let ch = s.client_hello.as_ref();
        let cert = s.certificates.first();
        if idx > 0 {
            return None;
        }
        match buffer {
            Buffer::TlsSni => ch?.server_name.as_deref().map(Cow::Borrowed),
            Buffer::TlsCertSubject => cert.map(|c| Cow::Borrowed(c.subject.as_bytes())),
            Buffer::TlsCertIssuer => cert.map(|c| Cow::Borrowed(c.issuer.as_bytes())),
            Buffer::TlsCertSerial => cert.map(|c| Cow::Borrowed(c.serial.as_bytes())),
            Buffer::TlsCertFingerprint => cert.map(|c| Cow::Borrowed(c.fingerprint.as_bytes())),
            Buffer::Ja3Hash | Buffer::Ja3String => {
                let j = self.ja3.get_or_init(|| ch.map(|c| c.ja3())).as_ref()?;
                let v = if buffer == Buffer::Ja3Hash { &j.hash } else { &j.string };
                Some(Cow::Borrowed(v.as_bytes()))
            }
            Buffer::Ja3sHash | Buffer::Ja3sString => {
                let j = self.ja3s.get_or_init(|| s.server_hello.as_ref().map(|h| h.ja3s())).as_ref()?;
                let v = if buffer == Buffer::Ja3sHash { &j.hash } else { &j.string };
                Some(Cow::Borrowed(v.as_bytes()))
            }
            Buffer::Ja4Hash => {
                let j = self.ja4.get_or_init(|| ch.map(|c| c.ja4(Transport::Tcp))).as_ref()?;
                Some(Cow::Borrowed(j.as_bytes()))
            }
            _ => None,
        }
    }
}
