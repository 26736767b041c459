//! Port groups resolved to range sets with negation applied.

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::group::{self, Domain};
use crate::ranges::RangeSet;
use crate::vars::Vars;

/// A set of ports as sorted, disjoint inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct PortSet {
    set: RangeSet<u16>,
}

impl PortSet {
    pub fn any() -> Self {
        PortSet { set: RangeSet::full() }
    }

    pub fn is_any(&self) -> bool {
        self.set.is_full()
    }

    pub fn contains(&self, port: u16) -> bool {
        self.set.contains(port)
    }

    /// Inclusive ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[(u16, u16)] {
        self.set.ranges()
    }

    /// Resolves a port group (`any`, `80`, `1024:`, `[1:1024,!80]`, `$HTTP_PORTS`, ...).
    pub fn parse(s: &str, vars: &Vars) -> KwResult<PortSet> {
        group::resolve::<PortDomain>(s, vars)
    }
}

pub(crate) struct PortDomain;

impl Domain for PortDomain {
    type Set = PortSet;

    fn atom(s: &str) -> KwResult<PortSet> {
        if s.eq_ignore_ascii_case("any") {
            return Ok(PortSet::any());
        }
        let num = |t: &str| -> KwResult<u16> {
            let t = t.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!("bad port {s:?}")));
            }
            t.parse::<u16>().map_err(|_| invalid(format!("port out of range {s:?}")))
        };
        let (lo, hi) = match s.split_once(':') {
            Some((a, b)) => {
                let lo = if a.trim().is_empty() { 0 } else { num(a)? };
                let hi = if b.trim().is_empty() { u16::MAX } else { num(b)? };
                (lo, hi)
            }
            None => {
                let p = num(s)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(invalid(format!("reversed port range {s:?}")));
        }
        Ok(PortSet { set: RangeSet::from_ranges(vec![(lo, hi)]) })
    }

    fn lookup<'v>(vars: &'v Vars, name: &str) -> Option<&'v str> {
        vars.port(name)
    }

    fn union_into(acc: &mut PortSet, add: PortSet) {
        acc.set.append_raw(&add.set);
    }

    fn merge(pos: PortSet, neg: PortSet) -> KwResult<PortSet> {
        let (pos, neg) = (PortSet { set: pos.set.normalized() }, PortSet { set: neg.set.normalized() });
        if neg.set.is_full() {
            return Err(invalid("complete port space negated"));
        }
        let pos = if pos.set.is_empty() && !neg.set.is_empty() { RangeSet::full() } else { pos.set };
        let out = pos.subtract(&neg.set);
        if out.is_empty() {
            return Err(invalid("no ports left after negation"));
        }
        Ok(PortSet { set: out })
    }
}

impl std::str::FromStr for PortSet {
    type Err = RuleErrorKind;
    /// Parses a group without variables.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PortSet::parse(s, &Vars::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(s: &str) -> Vec<(u16, u16)> {
        PortSet::parse(s, &Vars::default()).unwrap().ranges().to_vec()
    }

    #[test]
    fn forms() {
        assert_eq!(ports("any"), vec![(0, 65535)]);
        assert_eq!(ports("80"), vec![(80, 80)]);
        assert_eq!(ports("1024:"), vec![(1024, 65535)]);
        assert_eq!(ports(":1024"), vec![(0, 1024)]);
        assert_eq!(ports("[1:1024,!80]"), vec![(1, 79), (81, 1024)]);
        assert_eq!(ports("!80"), vec![(0, 79), (81, 65535)]);
        assert_eq!(ports("[80, 443]"), vec![(80, 80), (443, 443)]);
        assert_eq!(ports("0"), vec![(0, 0)]);
    }

    #[test]
    fn variables() {
        assert_eq!(ports("$HTTP_PORTS"), vec![(80, 80)]);
        assert_eq!(ports("$FILE_DATA_PORTS"), vec![(80, 80), (110, 110), (143, 143)]);
        assert_eq!(ports("$SHELLCODE_PORTS"), vec![(0, 79), (81, 65535)]);
        // Suricata: positives exist, so negatives only cut them.
        assert_eq!(ports("[!$HTTP_PORTS,1024:]"), vec![(1024, 65535)]);
        assert_eq!(ports("[!$HTTP_PORTS,!445,!22]"), vec![(0, 21), (23, 79), (81, 444), (446, 65535)]);
    }

    #[test]
    fn errors() {
        let v = Vars::default();
        assert!(PortSet::parse("65536", &v).is_err());
        assert!(PortSet::parse("90:80", &v).is_err());
        assert!(PortSet::parse("!any", &v).is_err());
        assert!(PortSet::parse("[80,!80]", &v).is_err());
        assert!(PortSet::parse("http", &v).is_err());
        assert_eq!(PortSet::parse("$NOPE", &v), Err(RuleErrorKind::UndefinedVariable("NOPE".into())));
    }
}
