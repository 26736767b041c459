//! Naming each flow's application (Steam, BitTorrent, LINE, ...) from its
//! first payloads and the names its app layer revealed.

use mamori_applayer::Direction;
use mamori_apps::{classify, Detection, Evidence, FlowFacts, NameSource, Transport};
use mamori_flow::Flow;
use serde_json::Value;

use crate::app::{AppRecord, Objects};
use crate::flowdata::{AppId, FlowData};

/// Start collecting for a new TCP or UDP flow.
pub(crate) fn start(flow: &mut Flow<FlowData>) {
    let transport = match flow.key.proto {
        6 => Transport::Tcp,
        17 => Transport::Udp,
        _ => return,
    };
    let facts = FlowFacts::new(transport, flow.client.port, flow.server.port).with_server_ip(flow.server.ip);
    flow.data.app_id = AppId::Collecting(Box::new(facts));
}

/// A packet's payload. A payload signature decides at once; once the facts
/// are full, whatever they say decides and the facts are dropped.
pub(crate) fn payload(d: &mut FlowData, dir: Direction, payload: &[u8]) {
    let AppId::Collecting(facts) = &mut d.app_id else { return };
    if payload.is_empty() || !facts.add_payload(dir, payload) {
        return;
    }
    match classify(facts) {
        Some(det @ Detection { evidence: Evidence::Payload { .. }, .. }) => d.app_id = AppId::Known(det),
        other if facts.is_full() => d.app_id = other.map_or(AppId::Unknown, AppId::Known),
        _ => {}
    }
}

/// Names from app-layer records (SNI, Host, DNS query).
pub(crate) fn names(d: &mut FlowData, records: &[AppRecord]) {
    let AppId::Collecting(facts) = &mut d.app_id else { return };
    let mut added = false;
    for r in records {
        let objects = match &r.objects {
            Objects::Values(v) => v.as_slice(),
            Objects::Http { hostname, .. } => {
                if let Some(name) = hostname {
                    facts.add_name(NameSource::HttpHost, name);
                    added = true;
                }
                &[]
            }
        };
        for (key, obj) in objects {
            let (source, name) = match *key {
                "tls" => (NameSource::TlsSni, obj.get("sni")),
                "quic" => (NameSource::QuicSni, obj.get("sni")),
                "http" => (NameSource::HttpHost, obj.get("hostname")),
                "dns" => (NameSource::DnsQuery, obj.pointer("/queries/0/rrname")),
                _ => continue,
            };
            if let Some(name) = name.and_then(Value::as_str) {
                facts.add_name(source, name);
                added = true;
            }
        }
    }
    if added {
        if let Some(det @ Detection { evidence: Evidence::Payload { .. } | Evidence::Name { .. }, .. }) =
            classify(facts)
        {
            d.app_id = AppId::Known(det);
        }
    }
}

/// The flow ends: decide with what was gathered.
pub(crate) fn finish(d: &mut FlowData) -> Option<Detection> {
    if let AppId::Collecting(facts) = &d.app_id {
        d.app_id = classify(facts).map_or(AppId::Unknown, AppId::Known);
    }
    match d.app_id {
        AppId::Known(det) => Some(det),
        _ => None,
    }
}
