//! Address intervals as nftables interval sets hold them, and the diff that updates a set in place.
//!
//! The desired set is kept canonical (sorted, disjoint, adjacent ranges merged), so adding it never
//! overlaps what stays, with or without the set's auto-merge. The current set is taken exactly as the
//! kernel lists it: deleting an element needs its exact bounds.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use nftables::expr::{Expression, NamedExpression, Prefix, Range};
use serde_json::Value;

/// IPv4 or IPv6 addresses as integers.
pub trait IpBits: Copy + Ord + fmt::Debug + fmt::Display + FromStr {
    const BITS: u32;
    fn bits(self) -> u128;
    fn from_bits(bits: u128) -> Self;
}

impl IpBits for Ipv4Addr {
    const BITS: u32 = 32;
    fn bits(self) -> u128 {
        u128::from(self.to_bits())
    }
    fn from_bits(bits: u128) -> Self {
        // Callers only pass values that came from an Ipv4Addr.
        Ipv4Addr::from_bits(u32::try_from(bits).unwrap_or(u32::MAX))
    }
}

impl IpBits for Ipv6Addr {
    const BITS: u32 = 128;
    fn bits(self) -> u128 {
        self.to_bits()
    }
    fn from_bits(bits: u128) -> Self {
        Ipv6Addr::from_bits(bits)
    }
}

/// An inclusive address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval<A> {
    pub first: A,
    pub last: A,
}

impl<A: IpBits> Interval<A> {
    /// `None` when `first > last`.
    pub fn new(first: A, last: A) -> Option<Self> {
        (first <= last).then_some(Interval { first, last })
    }

    pub fn single(addr: A) -> Self {
        Interval { first: addr, last: addr }
    }

    /// The network `addr/len`, host bits cleared. `None` when `len` is too long.
    pub fn prefix(addr: A, len: u32) -> Option<Self> {
        if len > A::BITS {
            return None;
        }
        let host = host_mask::<A>(len);
        let first = addr.bits() & !host;
        Some(Interval { first: A::from_bits(first), last: A::from_bits(first | host) })
    }

    /// The prefix length if this interval is exactly one CIDR block.
    pub fn prefix_len(&self) -> Option<u32> {
        let span = self.last.bits() - self.first.bits();
        // A block spans 2^k - 1 past an address aligned to 2^k.
        let aligned = span & span.wrapping_add(1) == 0 && self.first.bits() & span == 0;
        aligned.then(|| A::BITS - span.count_ones())
    }

    /// The element as nft writes it: an address, a prefix or a range.
    pub fn to_expr(&self) -> Expression<'static> {
        let addr = |a: A| Expression::String(Cow::Owned(a.to_string()));
        match self.prefix_len() {
            Some(len) if len == A::BITS => addr(self.first),
            Some(len) => Expression::Named(NamedExpression::Prefix(Prefix { addr: Box::new(addr(self.first)), len })),
            None => Expression::Range(Box::new(Range { range: [addr(self.first), addr(self.last)] })),
        }
    }

    /// Reads one element of `nft -j list set` output: `"a"`, `{"prefix": …}`, `{"range": […]}`, or any of
    /// them wrapped in `{"elem": {"val": …}}` (elements with timeouts, counters or comments).
    pub fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => match s.split_once('/') {
                Some((a, len)) => Interval::prefix(a.parse().ok()?, len.parse().ok()?),
                None => Some(Interval::single(s.parse().ok()?)),
            },
            Value::Object(o) => {
                if let Some(p) = o.get("prefix") {
                    let addr = p.get("addr")?.as_str()?.parse().ok()?;
                    let len = u32::try_from(p.get("len")?.as_u64()?).ok()?;
                    Interval::prefix(addr, len)
                } else if let Some(r) = o.get("range") {
                    let [a, b] = r.as_array()?.as_slice() else { return None };
                    Interval::new(Interval::<A>::from_json(a)?.first, Interval::<A>::from_json(b)?.last)
                } else {
                    Interval::from_json(o.get("elem")?.get("val")?)
                }
            }
            _ => None,
        }
    }
}

impl<A: IpBits> fmt::Display for Interval<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len() {
            Some(len) if len == A::BITS => write!(f, "{}", self.first),
            Some(len) => write!(f, "{}/{len}", self.first),
            None => write!(f, "{}-{}", self.first, self.last),
        }
    }
}

fn host_mask<A: IpBits>(len: u32) -> u128 {
    let host_bits = A::BITS - len;
    if host_bits == 0 {
        0
    } else {
        u128::MAX >> (128 - host_bits)
    }
}

/// Sorts and merges overlapping and adjacent intervals.
pub fn canonical<A: IpBits>(mut v: Vec<Interval<A>>) -> Vec<Interval<A>> {
    v.sort_unstable();
    let mut out: Vec<Interval<A>> = Vec::with_capacity(v.len());
    for iv in v {
        match out.last_mut() {
            Some(prev) if iv.first.bits() <= prev.last.bits().saturating_add(1) => {
                if iv.last > prev.last {
                    prev.last = iv.last;
                }
            }
            _ => out.push(iv),
        }
    }
    out
}

/// What to delete from and add to a set holding `current` so that it holds `desired` (canonical).
/// Both go into one transaction, deletions first, so no address is ever unblocked in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDiff<A> {
    pub delete: Vec<Interval<A>>,
    pub add: Vec<Interval<A>>,
}

impl<A> SetDiff<A> {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.add.is_empty()
    }
}

pub fn diff<A: IpBits>(current: &[Interval<A>], desired: &[Interval<A>]) -> SetDiff<A> {
    let cur: BTreeSet<_> = current.iter().copied().collect();
    let want: BTreeSet<_> = desired.iter().copied().collect();
    SetDiff { delete: cur.difference(&want).copied().collect(), add: want.difference(&cur).copied().collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v4(s: &str) -> Interval<Ipv4Addr> {
        Interval::from_json(&Value::String(s.into())).unwrap()
    }

    #[test]
    fn prefixes_clear_host_bits_and_render_like_nft() {
        assert_eq!(v4("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(v4("10.1.2.3/32").to_string(), "10.1.2.3");
        assert_eq!(v4("0.0.0.0/0"), Interval::new(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST).unwrap());
        let all6 = Interval::<Ipv6Addr>::prefix(Ipv6Addr::UNSPECIFIED, 0).unwrap();
        assert_eq!(all6.prefix_len(), Some(0));
        assert_eq!(all6.to_string(), "::/0");
        assert!(Interval::<Ipv4Addr>::prefix(Ipv4Addr::UNSPECIFIED, 33).is_none());
        let r = Interval::new("192.168.1.5".parse().unwrap(), "192.168.1.9".parse::<Ipv4Addr>().unwrap()).unwrap();
        assert_eq!(r.to_string(), "192.168.1.5-192.168.1.9");
        assert_eq!(serde_json::to_value(r.to_expr()).unwrap(), json!({"range": ["192.168.1.5", "192.168.1.9"]}));
        assert_eq!(
            serde_json::to_value(v4("10.0.0.0/8").to_expr()).unwrap(),
            json!({"prefix": {"addr": "10.0.0.0", "len": 8}})
        );
        assert_eq!(serde_json::to_value(v4("1.2.3.4").to_expr()).unwrap(), json!("1.2.3.4"));
    }

    #[test]
    fn parses_every_listing_form() {
        let cases = [
            json!("1.2.3.4"),
            json!({"prefix": {"addr": "10.0.0.0", "len": 8}}),
            json!({"range": ["192.168.1.5", "192.168.1.9"]}),
            json!({"elem": {"val": {"prefix": {"addr": "10.0.0.0", "len": 8}}, "comment": "x"}}),
        ];
        let got: Vec<String> = cases.iter().map(|c| Interval::<Ipv4Addr>::from_json(c).unwrap().to_string()).collect();
        assert_eq!(got, ["1.2.3.4", "10.0.0.0/8", "192.168.1.5-192.168.1.9", "10.0.0.0/8"]);
        for bad in [
            json!(5),
            json!("nope"),
            json!({"range": ["1.2.3.9", "1.2.3.4"]}),
            json!({"prefix": {"addr": "::", "len": 8}}),
        ] {
            assert!(Interval::<Ipv4Addr>::from_json(&bad).is_none(), "{bad}");
        }
        let v6 = Interval::<Ipv6Addr>::from_json(&json!({"prefix": {"addr": "2001:db8::", "len": 32}})).unwrap();
        assert_eq!(v6.to_string(), "2001:db8::/32");
    }

    #[test]
    fn canonical_merges_overlaps_and_neighbours() {
        let got = canonical(vec![
            v4("10.0.1.0/24"),
            v4("10.0.0.0/24"),
            v4("10.0.0.7"),
            v4("10.0.3.0/24"),
            v4("255.255.255.255"),
        ]);
        let got: Vec<_> = got.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["10.0.0.0/23", "10.0.3.0/24", "255.255.255.255"]);
        let top = canonical(vec![v4("255.255.255.254"), v4("255.255.255.255")]);
        assert_eq!(top, vec![v4("255.255.255.254/31")]);
    }

    #[test]
    fn diff_deletes_and_adds_only_what_changed() {
        let current = vec![v4("1.2.3.4"), v4("10.0.0.0/8"), v4("192.168.0.0/24")];
        let desired = canonical(vec![v4("1.2.3.4"), v4("10.0.0.0/8"), v4("11.0.0.0/8")]);
        // 10/8 and 11/8 merge into 10/7: the old 10/8 goes, the merged block comes.
        let d = diff(&current, &desired);
        assert_eq!(d.delete, vec![v4("10.0.0.0/8"), v4("192.168.0.0/24")]);
        assert_eq!(d.add, vec![v4("10.0.0.0/7")]);
        assert!(diff(&desired, &desired).is_empty());
    }
}
