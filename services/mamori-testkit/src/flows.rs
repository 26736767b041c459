//! Segments grouped per bidirectional flow.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::decode::{Segment, L4};

/// A flow's key independent of direction: the endpoints in sorted order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub l4: L4,
    pub a: SocketAddr,
    pub b: SocketAddr,
}

impl FlowKey {
    pub fn new(l4: L4, x: SocketAddr, y: SocketAddr) -> FlowKey {
        let (a, b) = if x <= y { (x, y) } else { (y, x) };
        FlowKey { l4, a, b }
    }

    pub fn of(seg: &Segment) -> FlowKey {
        FlowKey::new(seg.l4(), seg.src, seg.dst)
    }
}

/// Segments of one flow in capture order; `from_first` (the `bool`) is true
/// for packets sent by whoever sent the flow's first packet.
#[derive(Clone, Debug)]
pub struct Flow {
    pub key: FlowKey,
    pub first_sender: SocketAddr,
    pub packets: Vec<(bool, Segment)>,
}

/// Groups segments into flows, in order of each flow's first packet. A flow
/// is its 5-tuple for the whole capture: a reused port pair continues it.
pub fn group_flows(segments: Vec<Segment>) -> Vec<Flow> {
    let mut index: HashMap<FlowKey, usize> = HashMap::new();
    let mut flows: Vec<Flow> = Vec::new();
    for s in segments {
        let key = FlowKey::of(&s);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            flows.push(Flow { key, first_sender: s.src, packets: Vec::new() });
            flows.len() - 1
        });
        let Some(flow) = flows.get_mut(i) else { continue };
        let from_first = s.src == flow.first_sender;
        flow.packets.push((from_first, s));
    }
    flows
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::decode::Transport;

    fn seg(src: &str, dst: &str, transport: Transport) -> Segment {
        Segment {
            frame: 0,
            ts: Duration::ZERO,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport,
            payload: Vec::new(),
        }
    }

    #[test]
    fn both_directions_make_one_flow_in_order_of_first_packet() {
        let tcp = Transport::Tcp { seq: 0, flags: mamori_wire::TcpFlags(0) };
        let flows = group_flows(vec![
            seg("10.0.0.9:5000", "10.0.0.1:80", tcp),
            seg("10.0.0.2:53", "10.0.0.9:6000", Transport::Udp),
            seg("10.0.0.1:80", "10.0.0.9:5000", tcp),
            // Same addresses and ports over UDP: another flow.
            seg("10.0.0.9:5000", "10.0.0.1:80", Transport::Udp),
        ]);
        assert_eq!(flows.len(), 3);
        let f = &flows[0];
        assert_eq!(f.key, FlowKey::new(L4::Tcp, "10.0.0.1:80".parse().unwrap(), "10.0.0.9:5000".parse().unwrap()));
        assert_eq!(f.first_sender, "10.0.0.9:5000".parse().unwrap());
        assert_eq!(f.packets.iter().map(|p| p.0).collect::<Vec<_>>(), [true, false]);
        assert_eq!((flows[1].key.l4, flows[1].first_sender.port()), (L4::Udp, 53));
        assert_eq!(flows[2].key.l4, L4::Udp);
    }
}
