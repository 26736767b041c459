//! Turning flow facts into EVE records.

use mamori_applayer::Direction;
use mamori_apps::Detection;
use mamori_detect::{Alert, DropReason};
use mamori_eve::{proto_name, EveRecord, Timestamp};
use mamori_flow::{Flow, FlowState};
use mamori_wire::ip::IpDatagram;
use serde::Serialize;
use serde_json::{json, Value};

use crate::flowdata::FlowData;

/// Fill the tuple of `rec` for a flow, printed in direction `dir`.
pub(crate) fn tuple(rec: &mut EveRecord, flow: &Flow<FlowData>, dir: Direction) {
    let (src, dst) = match dir {
        Direction::ToServer => (flow.client, flow.server),
        Direction::ToClient => (flow.server, flow.client),
    };
    rec.flow_id = Some(flow.flow_id);
    rec.vlan = flow.data.vlans.clone();
    rec.src_ip = Some(src.ip);
    rec.dest_ip = Some(dst.ip);
    if matches!(flow.key.proto, 6 | 17 | 132) {
        rec.src_port = Some(src.port);
        rec.dest_port = Some(dst.port);
    }
    rec.proto = Some(proto_name(flow.key.proto));
}

/// Why a flow ended, as EVE `flow.reason` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndReason {
    Timeout,
    /// Evicted to stay within a bound.
    Forced,
    /// End of capture or engine shutdown.
    Shutdown,
}

impl EndReason {
    fn name(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// The `flow` event written when a flow ends.
pub(crate) fn flow_record(flow: &Flow<FlowData>, reason: EndReason, app: Option<&Detection>) -> EveRecord {
    let d = &flow.data;
    let mut rec = EveRecord::new(Timestamp(flow.last_seen_us), "flow");
    tuple(&mut rec, flow, Direction::ToServer);
    rec.app_proto = d.app.proto().map(|p| p.eve_name());
    if let Some(det) = app {
        // The app's name as nDPI spells it, and how it was recognised.
        rec.push("app", &det.app.name());
        rec.push("app_evidence", det);
    }
    let state = match (&d.tcp, flow.state) {
        // Its closing packets skipped the engine (Suricata's state for
        // flows that left the data path).
        (Some(t), _) if d.app_over && t.conn.flow_state() != FlowState::Closed => "bypassed",
        (Some(t), _) => match t.conn.flow_state() {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        },
        (None, FlowState::New) => "new",
        (None, _) => "established",
    };
    let action = d.detect.as_ref().and_then(|det| {
        if det.passed() {
            Some("pass")
        } else if det.dropped() {
            Some("drop")
        } else {
            None
        }
    });
    rec.push_json(
        "flow",
        &FlowObject {
            action,
            age: (flow.last_seen_us.saturating_sub(flow.first_seen_us)) / 1_000_000,
            alerted: d.alerted,
            bypass: d.bypassed.then_some("local"),
            bytes_toclient: d.bytes[1],
            bytes_toserver: d.bytes[0],
            end: Timestamp(flow.last_seen_us),
            pkts_toclient: d.pkts[1],
            pkts_toserver: d.pkts[0],
            reason: reason.name(),
            start: Timestamp(flow.first_seen_us),
            state,
        },
    );
    if let Some(t) = &d.tcp {
        let ts = t.conn.flags(Direction::ToServer);
        let tc = t.conn.flags(Direction::ToClient);
        let all = ts | tc;
        let set = |bit: u8| (all & bit != 0).then_some(true);
        rec.push_json(
            "tcp",
            &TcpObject {
                ack: set(0x10),
                fin: set(0x01),
                psh: set(0x08),
                rst: set(0x04),
                state: t.conn.state().name(),
                syn: set(0x02),
                tcp_flags: Hex(all),
                tcp_flags_tc: Hex(tc),
                tcp_flags_ts: Hex(ts),
                urg: set(0x20),
            },
        );
    }
    rec
}

// The flow event's objects, written straight to JSON: nothing reads them
// back, and a value tree per closed connection was most of the cost of its
// record. Fields are in alphabetical order, the order the value trees (maps
// sorted by key) wrote them in, so the lines stay as they were.

#[derive(Serialize)]
struct FlowObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    age: u64,
    alerted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    bypass: Option<&'static str>,
    bytes_toclient: u64,
    bytes_toserver: u64,
    end: Timestamp,
    pkts_toclient: u64,
    pkts_toserver: u64,
    reason: &'static str,
    start: Timestamp,
    state: &'static str,
}

/// TCP flags as Suricata prints them: present (and true) only when seen.
#[derive(Serialize)]
struct TcpObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    ack: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psh: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rst: Option<bool>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    syn: Option<bool>,
    tcp_flags: Hex,
    tcp_flags_tc: Hex,
    tcp_flags_ts: Hex,
    #[serde(skip_serializing_if = "Option::is_none")]
    urg: Option<bool>,
}

/// A byte as two lowercase hex digits.
struct Hex(u8);

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:02x}", self.0))
    }
}

/// An EVE `alert` event, with the app objects of the transaction it came from.
pub(crate) fn alert_record(
    flow: &Flow<FlowData>,
    a: &Alert,
    ts: Timestamp,
    pcap_cnt: Option<u64>,
    app_proto: Option<&'static str>,
    objects: Option<&Vec<(&'static str, Value)>>,
) -> EveRecord {
    let mut rec = EveRecord::new(ts, "alert");
    tuple(&mut rec, flow, a.dir);
    rec.pcap_cnt = pcap_cnt;
    rec.app_proto = app_proto;
    rec.tx_id = a.tx_id;
    rec.pkt_src = Some("wire/pcap");
    let info = &a.info;
    let mut alert = json!({
        "action": if a.blocked { "blocked" } else { "allowed" },
        "gid": info.gid,
        "signature_id": info.sid,
        "rev": info.rev,
        "signature": &*info.msg,
        "category": &*info.category,
        "severity": info.severity,
    });
    if !info.metadata.is_empty() {
        // Suricata groups metadata values by key: {"key": ["v1", "v2"]}.
        let mut m = serde_json::Map::new();
        for (k, v) in &info.metadata {
            let e = m.entry(k.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = e {
                a.push(Value::from(v.to_string()));
            }
        }
        alert["metadata"] = Value::Object(m);
    }
    rec.push(
        "direction",
        &match a.dir {
            Direction::ToServer => "to_server",
            Direction::ToClient => "to_client",
        },
    );
    rec.push_value("alert", alert);
    if let Some(objs) = objects {
        rec.objects.extend(objs.iter().cloned());
    }
    if a.stream {
        rec.push("stream", &1);
    }
    rec
}

/// An EVE `drop` event (inline or simulated inline mode).
pub(crate) fn drop_record(
    flow: &Flow<FlowData>,
    dir: Direction,
    ts: Timestamp,
    pcap_cnt: Option<u64>,
    dg: &IpDatagram<'_>,
    reason: DropReason,
) -> EveRecord {
    let mut rec = EveRecord::new(ts, "drop");
    tuple(&mut rec, flow, dir);
    rec.pcap_cnt = pcap_cnt;
    rec.push(
        "drop",
        &json!({
            "len": dg.header.len() + dg.payload.len(),
            "tos": dg.tos,
            "ttl": dg.ttl,
            "ipid": dg.id,
            "reason": reason.eve_name(),
        }),
    );
    rec
}
