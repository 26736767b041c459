use serde::Deserialize;

/// Lifecycle stage of a flow, which picks its idle timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowState {
    /// Only one side has spoken (or a TCP handshake is under way).
    New,
    /// Both sides have spoken (TCP: handshake done or picked up mid-stream).
    Established,
    /// TCP FIN/RST seen; lingers briefly for retransmissions.
    Closed,
}

/// Idle timeouts in seconds, per protocol family and state. Defaults follow
/// Suricata's `flow-timeouts`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    pub tcp_new: u32,
    pub tcp_established: u32,
    pub tcp_closed: u32,
    pub udp_new: u32,
    pub udp_established: u32,
    pub icmp_new: u32,
    pub icmp_established: u32,
    pub other_new: u32,
    pub other_established: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_new: 60,
            tcp_established: 600,
            tcp_closed: 60,
            udp_new: 30,
            udp_established: 300,
            icmp_new: 30,
            icmp_established: 300,
            other_new: 30,
            other_established: 300,
        }
    }
}

/// Protocol families with their own timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Tcp,
    Udp,
    Icmp,
    Other,
}

impl Family {
    pub(crate) fn of(proto: u8) -> Family {
        match proto {
            6 => Family::Tcp,
            17 => Family::Udp,
            1 | 58 => Family::Icmp,
            _ => Family::Other,
        }
    }
}

/// Number of (family, state) timeout classes; each has its own idle list.
pub(crate) const CLASSES: usize = 12;

pub(crate) fn class(proto: u8, state: FlowState) -> usize {
    let f = match Family::of(proto) {
        Family::Tcp => 0,
        Family::Udp => 1,
        Family::Icmp => 2,
        Family::Other => 3,
    };
    let s = match state {
        FlowState::New => 0,
        FlowState::Established => 1,
        FlowState::Closed => 2,
    };
    f * 3 + s
}

impl Timeouts {
    /// Timeout in microseconds for each class, in `class()` order.
    pub(crate) fn per_class_us(&self) -> [u64; CLASSES] {
        let s = |v: u32| u64::from(v) * 1_000_000;
        [
            s(self.tcp_new),
            s(self.tcp_established),
            s(self.tcp_closed),
            s(self.udp_new),
            s(self.udp_established),
            s(self.udp_established),
            s(self.icmp_new),
            s(self.icmp_established),
            s(self.icmp_established),
            s(self.other_new),
            s(self.other_established),
            s(self.other_established),
        ]
    }
}
