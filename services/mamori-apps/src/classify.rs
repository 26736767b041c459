//! Putting the evidence together.

use serde::Serialize;

use crate::addresses::app_for_ip;
use crate::app::App;
use crate::facts::{FlowFacts, NameSource, Transport};
use crate::hosts::app_for_name;
use crate::sig;

/// Why the classifier named the app, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Evidence {
    /// A payload signature matched.
    Payload { signature: &'static str },
    /// A name the flow carried belongs to the app.
    Name {
        #[serde(serialize_with = "ser_source")]
        source: NameSource,
    },
    /// The server address is in the app's published range.
    Address,
    /// Nothing but the server port: nDPI's "match by port". Callers may
    /// prefer not to act on it.
    Port,
}

fn ser_source<S: serde::Serializer>(s: &NameSource, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(match s {
        NameSource::TlsSni => "tls_sni",
        NameSource::QuicSni => "quic_sni",
        NameSource::DnsQuery => "dns_query",
        NameSource::HttpHost => "http_host",
    })
}

/// The classifier's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub app: App,
    #[serde(flatten)]
    pub evidence: Evidence,
}

/// Names the flow's application from its bounded facts, or `None`.
///
/// Order: payload signatures (they identify the protocol itself), then
/// names, then published server ranges, then, for flows that showed no
/// recognisable payload, the proxy ports nDPI also guesses from.
pub fn classify(f: &FlowFacts) -> Option<Detection> {
    if let Some(h) = sig::strong(f) {
        return Some(Detection { app: h.app, evidence: Evidence::Payload { signature: h.signature } });
    }
    for (source, name) in f.names() {
        if let Some(app) = app_for_name(name) {
            return Some(Detection { app, evidence: Evidence::Name { source } });
        }
    }
    if let Some(app) = f.server_ip.and_then(app_for_ip) {
        // WhatsApp's servers sit in Meta's ranges: chat keeps the XMPP
        // port, calls relay through STUN/TURN on 3478.
        let whatsapp_port = match f.transport {
            Transport::Tcp => f.server_port == 5222,
            Transport::Udp => f.server_port == 3478 || f.client_port == 3478,
        };
        let app = if app == App::Facebook && whatsapp_port { App::WhatsApp } else { app };
        return Some(Detection { app, evidence: Evidence::Address });
    }
    port_guess(f).map(|app| Detection { app, evidence: Evidence::Port })
}

fn port_guess(f: &FlowFacts) -> Option<App> {
    if f.transport != Transport::Tcp || f.names().next().is_some() {
        return None;
    }
    // A plain web request on 8080 is a web server, not a proxy.
    let plain_http = f.first(mamori_applayer::Direction::ToServer).is_some_and(|c| {
        [&b"GET /"[..], b"POST /", b"HEAD /", b"PUT /", b"OPTIONS /"].iter().any(|m| c.starts_with(m))
    });
    match f.server_port {
        3128 | 8080 if !plain_http => Some(App::HttpProxy),
        1080 => Some(App::Socks),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use mamori_applayer::Direction;

    use super::*;

    #[test]
    fn payload_beats_names_and_names_beat_addresses() {
        let mut f = FlowFacts::new(Transport::Tcp, 50000, 6881).with_server_ip("149.154.167.91".parse().unwrap());
        f.add_name(NameSource::DnsQuery, "www.youtube.com");
        f.add_payload(Direction::ToServer, b"\x13BitTorrent protocol\0\0\0\0\0\0\0\0");
        let d = classify(&f).unwrap();
        assert_eq!((d.app, d.evidence), (App::BitTorrent, Evidence::Payload { signature: "bittorrent-handshake" }));

        let mut f = FlowFacts::new(Transport::Tcp, 50000, 443).with_server_ip("149.154.167.91".parse().unwrap());
        f.add_name(NameSource::TlsSni, "www.YouTube.com");
        let d = classify(&f).unwrap();
        assert_eq!((d.app, d.evidence), (App::YouTube, Evidence::Name { source: NameSource::TlsSni }));

        let f = FlowFacts::new(Transport::Tcp, 50000, 443).with_server_ip("149.154.167.91".parse().unwrap());
        assert_eq!(classify(&f).map(|d| (d.app, d.evidence)), Some((App::Telegram, Evidence::Address)));
    }

    #[test]
    fn meta_ranges_split_whatsapp_from_facebook() {
        let meta = "157.240.20.53".parse().unwrap();
        let f = FlowFacts::new(Transport::Tcp, 49355, 5222).with_server_ip(meta);
        assert_eq!(classify(&f).map(|d| d.app), Some(App::WhatsApp));
        let f = FlowFacts::new(Transport::Udp, 53688, 3478).with_server_ip(meta);
        assert_eq!(classify(&f).map(|d| d.app), Some(App::WhatsApp));
        let f = FlowFacts::new(Transport::Tcp, 49355, 443).with_server_ip(meta);
        assert_eq!(classify(&f).map(|d| d.app), Some(App::Facebook));
    }

    #[test]
    fn port_guesses_only_without_better_evidence() {
        let f = FlowFacts::new(Transport::Tcp, 36050, 3128);
        assert_eq!(classify(&f).map(|d| (d.app, d.evidence)), Some((App::HttpProxy, Evidence::Port)));
        let mut f = FlowFacts::new(Transport::Tcp, 36050, 8080);
        f.add_payload(Direction::ToServer, b"GET / HTTP/1.1\r\nHost: intranet\r\n\r\n");
        assert_eq!(classify(&f), None, "a web server on 8080 is not a proxy");
        assert_eq!(classify(&FlowFacts::new(Transport::Udp, 36050, 1080)), None);
        assert_eq!(classify(&FlowFacts::new(Transport::Tcp, 36050, 443)), None);
    }

    #[test]
    fn detection_serializes_for_eve() {
        let d = Detection { app: App::EDonkey, evidence: Evidence::Payload { signature: "edonkey-header" } };
        assert_eq!(
            serde_json::to_value(d).unwrap(),
            serde_json::json!({"app": "eDonkey", "by": "payload", "signature": "edonkey-header"})
        );
        let d = Detection { app: App::Line, evidence: Evidence::Name { source: NameSource::DnsQuery } };
        assert_eq!(
            serde_json::to_value(d).unwrap(),
            serde_json::json!({"app": "Line", "by": "name", "source": "dns_query"})
        );
    }
}
