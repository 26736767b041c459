//! Signature groups: the per-packet and stream signatures of a transport
//! split by direction and server port, so that each packet or stream chunk
//! is scanned against a database holding only the signatures that could
//! match it (Suricata's signature group heads).
//!
//! A group is a superset of what can match there: a signature joins every
//! group whose direction its `flow` option allows and whose server port its
//! rule header can meet. Verification still checks the header, so the split
//! changes what is scanned, never what matches.

use std::collections::HashMap;

use mamori_applayer::Direction;
use mamori_rules::PortSet;

use crate::sig::{flow_dir_ok, Sig};

/// Server ports with groups of their own: Suricata's defaults for
/// `detect.grouping.tcp-whitelist` and `udp-whitelist`, the ports where
/// both traffic and port-specific rules concentrate. Every other port of
/// the transport shares one group.
const TCP_PORTS: &[u16] = &[53, 80, 139, 443, 445, 1433, 3306, 3389, 6666, 6667, 8080];
const UDP_PORTS: &[u16] = &[53, 135, 5060];

/// Ports with their own group for a transport class (see `sig::class_of`);
/// ICMP and other protocols have no ports and are split by direction only.
pub(crate) fn own_ports(class: usize) -> &'static [u16] {
    match class {
        0 => TCP_PORTS,
        1 => UDP_PORTS,
        _ => &[],
    }
}

/// Which of a class's groups inspects a direction and server port.
#[derive(Default)]
pub(crate) struct GroupMap {
    ports: &'static [u16],
    /// Per direction: the group of each own port, then the group of every
    /// other port.
    index: [Vec<u16>; 2],
}

impl GroupMap {
    /// The group for traffic in `dir` whose server's port is `server_port`
    /// (the destination port of a packet to the server, the source port of
    /// one to the client).
    pub fn get(&self, dir: Direction, server_port: u16) -> usize {
        let key = self.ports.iter().position(|&p| p == server_port).unwrap_or(self.ports.len());
        self.index[dir.index()].get(key).map_or(0, |&g| usize::from(g))
    }
}

/// The server port of a tuple oriented in direction `dir`.
pub(crate) fn server_port(dir: Direction, sp: u16, dp: u16) -> u16 {
    match dir {
        Direction::ToServer => dp,
        Direction::ToClient => sp,
    }
}

/// Whether `sig` can match traffic of transport `class` in direction `dir`
/// whose server port is `key` (`None`: any port without a group of its own).
fn can_match(sig: &Sig, class: usize, dir: Direction, key: Option<u16>) -> bool {
    if !flow_dir_ok(&sig.flow, dir) {
        return false;
    }
    let own = own_ports(class);
    if own.is_empty() {
        return true;
    }
    // The header matches the tuple as written or, if bidirectional, reversed;
    // the server's port is the destination of a packet to it and the source
    // of one from it.
    let (fwd, rev) = match dir {
        Direction::ToServer => (&sig.dst_ports, &sig.src_ports),
        Direction::ToClient => (&sig.src_ports, &sig.dst_ports),
    };
    let meets = |ports: &PortSet| match key {
        Some(p) => ports.contains(p),
        None => has_port_outside(ports, own),
    };
    meets(fwd) || (sig.bidir && meets(rev))
}

/// Whether `ports` holds a port not in `own` (sorted, distinct).
fn has_port_outside(ports: &PortSet, own: &[u16]) -> bool {
    ports.ranges().iter().any(|&(lo, hi)| {
        let inside = own.iter().filter(|&&p| (lo..=hi).contains(&p)).count();
        usize::from(hi - lo) + 1 > inside
    })
}

/// Splits signature lists (each a list of signature numbers) into groups by
/// direction and server port. Returns the map and, per group, the members
/// of each list; groups with the same members are one group.
pub(crate) fn split(sigs: &[Sig], class: usize, lists: &[&[u32]]) -> (GroupMap, Vec<Vec<Vec<u32>>>) {
    let ports = own_ports(class);
    let mut map = GroupMap { ports, index: [Vec::new(), Vec::new()] };
    let mut groups: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut seen: HashMap<Vec<Vec<u32>>, u16> = HashMap::new();
    for dir in [Direction::ToServer, Direction::ToClient] {
        let keys = ports.iter().map(|&p| Some(p)).chain(std::iter::once(None));
        for key in keys {
            let members: Vec<Vec<u32>> = lists
                .iter()
                .map(|l| {
                    l.iter()
                        .copied()
                        .filter(|&n| sigs.get(n as usize).is_some_and(|s| can_match(s, class, dir, key)))
                        .collect()
                })
                .collect();
            let next = groups.len() as u16;
            let g = *seen.entry(members.clone()).or_insert_with(|| {
                groups.push(members);
                next
            });
            map.index[dir.index()].push(g);
        }
    }
    (map, groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Detector;
    use mamori_rules::{Classifications, RuleSet, ThresholdConfig, Vars};

    #[test]
    fn each_group_holds_only_the_signatures_its_direction_and_port_allow() {
        let rules = r#"
alert tcp any any -> any 445 (flow:to_server; content:"smb"; sid:1;)
alert tcp any 80 -> any any (flow:to_client; content:"web"; sid:2;)
alert tcp any any -> any $SHELLCODE_PORTS (content:"shell"; sid:3;)
alert tcp any any -> any any (content:"all"; sid:4;)
"#;
        let (set, _) = RuleSet::load(&[("t.rules", rules)], &Vars::default(), &Classifications::empty());
        let det = Detector::build(&set, &ThresholdConfig::default(), None);
        let all: Vec<u32> = (0..det.sigs.len() as u32).collect();
        let (map, groups) = split(&det.sigs, 0, &[&all]);
        let sids = |dir, port| -> Vec<u32> {
            let g = &groups[map.get(dir, port)][0];
            let mut v: Vec<u32> = g.iter().map(|&n| det.sigs[n as usize].info.sid).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(sids(Direction::ToServer, 445), vec![1, 3, 4]);
        assert_eq!(sids(Direction::ToServer, 80), vec![4], "SHELLCODE_PORTS is !80");
        // To the client, a rule's destination is the client's port.
        assert_eq!(sids(Direction::ToClient, 80), vec![2, 3, 4]);
        assert_eq!(sids(Direction::ToClient, 443), vec![3, 4]);
        assert_eq!(sids(Direction::ToServer, 22), vec![3, 4]);
        assert_eq!(sids(Direction::ToClient, 22), vec![3, 4], "a port without a group of its own shares one");
        // ICMP has no ports: its groups differ by direction only.
        let (imap, igroups) = split(&det.sigs, 2, &[&all]);
        assert_eq!(igroups.len(), 2);
        assert_ne!(imap.get(Direction::ToServer, 0), imap.get(Direction::ToClient, 0));
    }

    #[test]
    fn ports_outside_the_own_ports_are_found() {
        let set = |s: &str| PortSet::parse(s, &mamori_rules::Vars::default()).unwrap();
        assert!(!has_port_outside(&set("80"), TCP_PORTS));
        assert!(!has_port_outside(&set("[80,443]"), TCP_PORTS));
        assert!(has_port_outside(&set("[80,81]"), TCP_PORTS));
        assert!(has_port_outside(&set("!80"), TCP_PORTS));
        assert!(has_port_outside(&set("any"), TCP_PORTS));
        assert!(has_port_outside(&set("6660:6670"), TCP_PORTS));
        assert!(!has_port_outside(&set("6666:6667"), TCP_PORTS));
    }
}
