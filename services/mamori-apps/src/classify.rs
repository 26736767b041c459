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
