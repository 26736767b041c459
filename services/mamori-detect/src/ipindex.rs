//! Finding the IP-only rules whose address lists contain an address without
//! testing each rule: reputation lists (Tor exits, DROP, CINS) make up most
//! IP-only rules, each with tens to thousands of ranges.
//!
//! Each rule is indexed by its narrow side (source list, else destination
//! list); address space is cut at every range boundary and each piece lists
//! the rules covering it. Rules where both sides are wide (`any`,
//! `$HOME_NET`, `!$HOME_NET`) are returned for every lookup.

use std::net::IpAddr;

use mamori_rules::IpSet;

/// A side covering more than this many IPv4 addresses (or the IPv6
/// equivalent /104) is wide: indexing it would list the rule everywhere.
const NARROW_V4: u64 = 1 << 24;
const NARROW_V6: u128 = 1 << 104;

#[derive(Default)]
struct Cuts<T> {
    /// Start of each piece, sorted; piece i is [starts[i], starts[i+1]).
    starts: Vec<T>,
    /// Rules per piece: `rules[offsets[i]..offsets[i+1]]`.
    offsets: Vec<u32>,
    rules: Vec<u32>,
}

impl<T: Copy + Ord> Cuts<T> {
    fn build(entries: &[(T, T, u32)], next: impl Fn(T) -> Option<T>) -> Cuts<T> {
        let mut starts: Vec<T> = Vec::with_capacity(entries.len() * 2);
        for &(a, b, _) in entries {
            starts.push(a);
            if let Some(n) = next(b) {
                starts.push(n);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut per: Vec<Vec<u32>> = vec![Vec::new(); starts.len()];
        for &(a, b, rule) in entries {
            let first = starts.partition_point(|s| *s < a);
            for (i, s) in starts.iter().enumerate().skip(first) {
                if *s > b {
                    break;
                }
                if let Some(v) = per.get_mut(i) {
                    v.push(rule);
                }
            }
        }
        let mut offsets = Vec::with_capacity(per.len() + 1);
        let mut rules = Vec::new();
        for v in per {
            offsets.push(rules.len() as u32);
            rules.extend(v);
        }
        offsets.push(rules.len() as u32);
        Cuts { starts, offsets, rules }
    }

    fn lookup(&self, x: T) -> &[u32] {
        let i = self.starts.partition_point(|s| *s <= x);
        let Some(i) = i.checked_sub(1) else { return &[] };
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.rules.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// Rules indexed by a side's addresses.
#[derive(Default)]
struct SideIndex {
    v4: Cuts<u32>,
    v6: Cuts<u128>,
}

impl SideIndex {
    fn build(sets: &[(&IpSet, u32)]) -> SideIndex {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for &(set, rule) in sets {
            v4.extend(set.v4_ranges().map(|(a, b)| (u32::from(a), u32::from(b), rule)));
            v6.extend(set.v6_ranges().map(|(a, b)| (u128::from(a), u128::from(b), rule)));
        }
        SideIndex { v4: Cuts::build(&v4, |b| b.checked_add(1)), v6: Cuts::build(&v6, |b| b.checked_add(1)) }
    }

    fn lookup(&self, ip: IpAddr) -> &[u32] {
        match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }
}

fn narrow(set: &IpSet) -> bool {
    let v4: u64 = set.v4_ranges().map(|(a, b)| u64::from(u32::from(b)) - u64::from(u32::from(a)) + 1).sum();
    let v6: u128 = set
        .v6_ranges()
        .map(|(a, b)| (u128::from(b) - u128::from(a)).saturating_add(1))
        .fold(0u128, |x, y| x.saturating_add(y));
    v4 <= NARROW_V4 && v6 <= NARROW_V6
}

/// The IP-only rules, indexed.
#[derive(Default)]
pub(crate) struct IpOnlyIndex {
    by_src: SideIndex,
    by_dst: SideIndex,
    /// Both sides wide, or bidirectional: checked for every lookup.
    always: Vec<u32>,
}

impl IpOnlyIndex {
    /// `rules`: (rule number, source set, destination set, bidirectional).
    pub fn build(rules: &[(u32, &IpSet, &IpSet, bool)]) -> IpOnlyIndex {
        let mut src = Vec::new();
        let mut dst = Vec::new();
        let mut always = Vec::new();
        for &(n, s, d, bidir) in rules {
            if bidir {
                always.push(n);
            } else if narrow(s) {
                src.push((s, n));
            } else if narrow(d) {
                dst.push((d, n));
            } else {
                always.push(n);
            }
        }
        IpOnlyIndex { by_src: SideIndex::build(&src), by_dst: SideIndex::build(&dst), always }
    }

    /// Rules that may match a packet from `src` to `dst` (a superset; the
    /// header still has to be checked), unsorted and possibly repeated.
    pub fn candidates(&self, src: IpAddr, dst: IpAddr, out: &mut Vec<u32>) {
        out.extend_from_slice(self.by_src.lookup(src));
        out.extend_from_slice(self.by_dst.lookup(dst));
        out.extend_from_slice(&self.always);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> IpSet {
        IpSet::parse(s, &mamori_rules::Vars::default()).unwrap()
    }

    #[test]
    fn finds_rules_by_narrow_side() {
        let tor = set("[10.0.0.1,10.0.0.5-10.0.0.9]");
        let drop = set("[10.0.0.0/29,2001:db8::/64]");
        let any = set("any");
        let home = set("$HOME_NET");
        let idx = IpOnlyIndex::build(&[
            (1, &tor, &home, false),
            (2, &drop, &any, false),
            (3, &any, &any, false),
            (4, &home, &tor, false),
        ]);
        let mut c = Vec::new();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        idx.candidates(ip("10.0.0.1"), ip("192.168.0.1"), &mut c);
        c.sort();
        assert_eq!(c, vec![1, 2, 3]);
        c.clear();
        idx.candidates(ip("10.0.0.3"), ip("10.0.0.6"), &mut c);
        c.sort();
        assert_eq!(c, vec![2, 3, 4], "4 is indexed by its destination list");
        c.clear();
        idx.candidates(ip("2001:db8::1"), ip("::1"), &mut c);
        assert_eq!(c, vec![2, 3]);
        c.clear();
        idx.candidates(ip("8.8.8.8"), ip("8.8.4.4"), &mut c);
        assert_eq!(c, vec![3]);
    }
}
