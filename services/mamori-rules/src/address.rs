//! Address groups resolved to typed IPv4/IPv6 sets with negation applied.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::group::{self, Domain};
use crate::ranges::RangeSet;
use crate::vars::Vars;

/// A set of IP addresses. Kept as normalized ranges per family rather than
/// include/exclude prefix lists because nested negation
/// (`![10.0.0.0/8,!10.1.0.0/16]`) is not closed under one include and one
/// exclude list; [`IpSet::to_prefixes`] gives the exact prefix cover.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct IpSet {
    v4: RangeSet<u32>,
    v6: RangeSet<u128>,
}

impl IpSet {
    /// Every IPv4 and IPv6 address (`any`).
    pub fn any() -> Self {
        IpSet { v4: RangeSet::full(), v6: RangeSet::full() }
    }

    pub fn is_any(&self) -> bool {
        self.v4.is_full() && self.v6.is_full()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    /// Inclusive IPv4 ranges, sorted and disjoint.
    pub fn v4_ranges(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr)> + '_ {
        self.v4.ranges().iter().map(|&(a, b)| (Ipv4Addr::from(a), Ipv4Addr::from(b)))
    }

    /// Inclusive IPv6 ranges, sorted and disjoint.
    pub fn v6_ranges(&self) -> impl Iterator<Item = (Ipv6Addr, Ipv6Addr)> + '_ {
        self.v6.ranges().iter().map(|&(a, b)| (Ipv6Addr::from(a), Ipv6Addr::from(b)))
    }

    /// The smallest list of CIDR prefixes covering exactly this set.
    pub fn to_prefixes(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for (a, b) in self.v4_ranges() {
            out.extend(Ipv4Subnets::new(a, b, 0).map(IpNet::V4));
        }
        for (a, b) in self.v6_ranges() {
            out.extend(Ipv6Subnets::new(a, b, 0).map(IpNet::V6));
        }
        out
    }

    /// Resolves an address group (`any`, `$HOME_NET`, `[1.2.3.0/24,!1.2.3.4]`, ...).
    pub fn parse(s: &str, vars: &Vars) -> KwResult<IpSet> {
        group::resolve::<AddrDomain>(s, vars)
    }

    fn append_raw(&mut self, other: &IpSet) {
        self.v4.append_raw(&other.v4);
        self.v6.append_raw(&other.v6);
    }
}

pub(crate) struct AddrDomain;

impl Domain for AddrDomain {
    type Set = IpSet;

    fn atom(s: &str) -> KwResult<IpSet> {
        if s.eq_ignore_ascii_case("any") {
            return Ok(IpSet::any());
        }
        parse_atom(s)
    }

    fn lookup<'v>(vars: &'v Vars, name: &str) -> Option<&'v str> {
        vars.address(name)
    }

    fn union_into(acc: &mut IpSet, add: IpSet) {
        acc.append_raw(&add);
    }

    fn merge(pos: IpSet, neg: IpSet) -> KwResult<IpSet> {
        let mut pos = IpSet { v4: pos.v4.normalized(), v6: pos.v6.normalized() };
        let neg = IpSet { v4: neg.v4.normalized(), v6: neg.v6.normalized() };
        if neg.v4.is_full() {
            return Err(invalid("complete IP space negated"));
        }
        if pos.v4.is_empty() && !neg.v4.is_empty() {
            pos.v4 = RangeSet::full();
        }
        if pos.v6.is_empty() && !neg.v6.is_empty() {
            pos.v6 = RangeSet::full();
        }
        let out = IpSet { v4: pos.v4.subtract(&neg.v4), v6: pos.v6.subtract(&neg.v6) };
        if out.is_empty() {
            return Err(invalid("no addresses left after negation"));
        }
        Ok(out)
    }
}

fn parse_atom(s: &str) -> KwResult<IpSet> {
    let bad = || invalid(format!("bad address {s:?}"));
    let mut set = IpSet::default();
    if s.contains(':') {
        let (lo, hi) = if let Some((ip, len)) = s.split_once('/') {
            let ip: Ipv6Addr = ip.trim().parse().map_err(|_| bad())?;
            let len: u8 = len.trim().parse().map_err(|_| bad())?;
            if len > 128 {
                return Err(bad());
            }
            let mask = u128::MAX.checked_shl(u32::from(128u8.saturating_sub(len))).unwrap_or(0);
            let base = u128::from(ip) & mask;
            (base, base | !mask)
        } else if let Some((a, b)) = s.split_once('-') {
            let a: Ipv6Addr = a.trim().parse().map_err(|_| bad())?;
            let b: Ipv6Addr = b.trim().parse().map_err(|_| bad())?;
            (u128::from(a), u128::from(b))
        } else {
            let a = u128::from(s.parse::<Ipv6Addr>().map_err(|_| bad())?);
            (a, a)
        };
        if lo > hi {
            return Err(invalid(format!("reversed range {s:?}")));
        }
        set.v6 = RangeSet::from_ranges(vec![(lo, hi)]);
    } else {
        let (lo, hi) = if let Some((ip, mask)) = s.split_once('/') {
            let ip: Ipv4Addr = ip.trim().parse().map_err(|_| bad())?;
            let mask = mask.trim();
            let mask_bits = if mask.contains('.') {
                // Dotted netmask: only CIDR-compatible ones (as Suricata, #5168).
                let m = u32::from(mask.parse::<Ipv4Addr>().map_err(|_| bad())?);
                if m.leading_ones().saturating_add(m.trailing_zeros()) != 32 {
                    return Err(invalid(format!("netmask {mask:?} is not CIDR-compatible")));
                }
                m
            } else {
                if !mask.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let len: u8 = mask.parse().map_err(|_| bad())?;
                if len > 32 {
                    return Err(bad());
                }
                u32::MAX.checked_shl(u32::from(32u8.saturating_sub(len))).unwrap_or(0)
            };
            let base = u32::from(ip) & mask_bits;
            (base, base | !mask_bits)
        } else if let Some((a, b)) = s.split_once('-') {
            let a: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
            let b: Ipv4Addr = b.trim().parse().map_err(|_| bad())?;
            (u32::from(a), u32::from(b))
        } else {
            let a = u32::from(s.parse::<Ipv4Addr>().map_err(|_| bad())?);
            (a, a)
        };
        if lo > hi {
            return Err(invalid(format!("reversed range {s:?}")));
        }
        set.v4 = RangeSet::from_ranges(vec![(lo, hi)]);
    }
    Ok(set)
}

impl std::str::FromStr for IpSet {
    type Err = RuleErrorKind;
    /// Parses a group without variables.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IpSet::parse(s, &Vars::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn set(s: &str) -> IpSet {
        IpSet::parse(s, &Vars::default()).unwrap()
    }

    #[test]
    fn any_and_single() {
        assert!(set("any").is_any());
        let s = set("1.2.3.4");
        assert!(s.contains(ip("1.2.3.4")) && !s.contains(ip("1.2.3.5")) && !s.contains(ip("::1")));
    }

    #[test]
    fn cidr_masks_host_bits() {
        let s = set("10.1.2.3/8");
        assert!(s.contains(ip("10.255.0.1")) && !s.contains(ip("11.0.0.0")));
        assert_eq!(set("10.0.0.0/255.255.0.0"), set("10.0.0.0/16"));
        assert!(IpSet::parse("10.0.0.0/255.0.255.0", &Vars::empty()).is_err());
        assert!(IpSet::parse("10.0.0.0/33", &Vars::empty()).is_err());
    }

    #[test]
    fn home_net_and_external_net() {
        let home = set("$HOME_NET");
        assert!(home.contains(ip("192.168.1.1")) && home.contains(ip("172.31.255.255")));
        assert!(!home.contains(ip("8.8.8.8")));
        let ext = set("$EXTERNAL_NET");
        assert!(ext.contains(ip("8.8.8.8")) && !ext.contains(ip("10.0.0.1")));
        // Suricata: a v4-only negation leaves no IPv6 in the set.
        assert!(!ext.contains(ip("2001:db8::1")));
    }

    #[test]
    fn group_with_negation() {
        let s = set("[$HOME_NET,!10.0.0.0/8]");
        assert!(s.contains(ip("192.168.0.1")) && !s.contains(ip("10.1.1.1")));
        assert_eq!(
            s.to_prefixes().iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            vec!["172.16.0.0/12", "192.168.0.0/16"]
        );
    }

    #[test]
    fn nested_negated_group_is_exact() {
        let s = set("![10.0.0.0/8,!10.1.0.0/16]");
        assert!(s.contains(ip("10.1.2.3")), "re-included by double negation");
        assert!(!s.contains(ip("10.2.0.0")));
        assert!(s.contains(ip("8.8.8.8")));
    }

    #[test]
    fn ipv6_forms() {
        let s = set("[10.0.0.1,2001:db8::1-2001:db8::ff]");
        assert!(s.contains(ip("2001:db8::80")) && !s.contains(ip("2001:db8::100")));
        assert!(s.contains(ip("10.0.0.1")));
        assert!(set("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(set("!::1").contains(ip("::2")));
    }

    #[test]
    fn errors() {
        let v = Vars::default();
        assert_eq!(IpSet::parse("$NOPE", &v), Err(RuleErrorKind::UndefinedVariable("NOPE".into())));
        assert!(IpSet::parse("!any", &v).is_err());
        assert!(IpSet::parse("[1.2.3.4,!1.2.3.4]", &v).is_err());
        assert!(IpSet::parse("1.2.3.9-1.2.3.1", &v).is_err());
        assert!(IpSet::parse("[1.2.3.4", &v).is_err());
        assert!(IpSet::parse("[]", &v).is_err());
        assert!(IpSet::parse("300.1.1.1", &v).is_err());
    }

    #[test]
    fn variable_loop_is_bounded() {
        let mut v = Vars::empty();
        v.set_address("A", "[$B,1.1.1.1]");
        v.set_address("B", "[$A,2.2.2.2]");
        assert_eq!(IpSet::parse("$A", &v), Err(RuleErrorKind::TooDeep));
        let mut v = Vars::empty();
        // Each level expands eightfold; the item budget stops it long before.
        for i in 0..10 {
            let next = format!("$V{}", i + 1);
            v.set_address(&format!("V{i}"), &format!("[{}]", vec![next; 8].join(",")));
        }
        v.set_address("V10", "1.1.1.1");
        assert!(matches!(IpSet::parse("$V0", &v), Err(RuleErrorKind::TooLarge(_))));
    }
}
