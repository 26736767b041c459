//! Turning flow facts into EVE records.

use mamori_applayer::Direction;
use mamori_apps::Detection;
use mamori_eve::{proto_name, EveRecord, Timestamp};
use mamori_flow::{Flow, FlowState};
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
        (Some(t), _) => match t.conn.flow_state() {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        },
        (None, FlowState::New) => "new",
        (None, _) => "established",
    };
    let age = (flow.last_seen_us.saturating_sub(flow.first_seen_us)) / 1_000_000;
    let mut fo = json!({
        "pkts_toserver": d.pkts[0],
        "pkts_toclient": d.pkts[1],
        "bytes_toserver": d.bytes[0],
        "bytes_toclient": d.bytes[1],
        "start": Timestamp(flow.first_seen_us).to_string(),
        "end": Timestamp(flow.last_seen_us).to_string(),
        "age": age,
        "state": state,
        "reason": reason.name(),
        "alerted": d.alerted,
    });
    if d.bypassed {
        fo["bypass"] = Value::from("local");
    }
    rec.push("flow", &fo);
    if let Some(t) = &d.tcp {
        let ts = t.conn.flags(Direction::ToServer);
        let tc = t.conn.flags(Direction::ToClient);
        let all = ts | tc;
        let mut tcp = json!({
            "tcp_flags": format!("{all:02x}"),
            "tcp_flags_ts": format!("{ts:02x}"),
            "tcp_flags_tc": format!("{tc:02x}"),
        });
        let obj = tcp.as_object_mut();
        if let Some(o) = obj {
            for (bit, name) in
                [(0x02, "syn"), (0x01, "fin"), (0x04, "rst"), (0x08, "psh"), (0x10, "ack"), (0x20, "urg")]
            {
                if all & bit != 0 {
                    o.insert(name.into(), Value::Bool(true));
                }
            }
            o.insert("state".into(), Value::from(t.conn.state().name()));
        }
        rec.push("tcp", &tcp);
    }
    rec
}
