use std::net::IpAddr;

use mamori_applayer::Direction;

/// One side of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

/// Direction-free identity of a flow: the two endpoints in a canonical order,
/// so both directions of a conversation hash to the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub proto: u8,
    /// Outermost VLAN id (0 without tags): the same addresses on two VLANs are
    /// two conversations.
    pub vlan: u16,
    lo: Endpoint,
    hi: Endpoint,
}

impl FlowKey {
    pub fn new(proto: u8, vlan: u16, a: Endpoint, b: Endpoint) -> FlowKey {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        FlowKey { proto, vlan, lo, hi }
    }

    pub fn endpoints(&self) -> (Endpoint, Endpoint) {
        (self.lo, self.hi)
    }
}

/// Direction of a packet sent by `src`, in a flow whose client is `client`.
pub fn direction(client: Endpoint, src: Endpoint) -> Direction {
    if src == client {
        Direction::ToServer
    } else {
        Direction::ToClient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let a = Endpoint { ip: "10.0.0.1".parse().unwrap(), port: 40000 };
        let b = Endpoint { ip: "10.0.0.2".parse().unwrap(), port: 80 };
        assert_eq!(FlowKey::new(6, 0, a, b), FlowKey::new(6, 0, b, a));
        assert_ne!(FlowKey::new(6, 0, a, b), FlowKey::new(17, 0, a, b));
        assert_ne!(FlowKey::new(6, 1, a, b), FlowKey::new(6, 2, a, b));
    }
}
