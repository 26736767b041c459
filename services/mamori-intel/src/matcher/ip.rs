use std::net::IpAddr;

use ipnet::IpNet;

use super::{len_u32, put_u32, Code, DecodeError, Reader};

/// Networks of one prefix length, sorted, searched by binary search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Table<T> {
    len: u8,
    nets: Vec<T>,
    codes: Vec<Code>,
}

/// IPv4 and IPv6 network set.
///
/// One sorted table per prefix length present (at most 33 + 129): a lookup
/// masks the address once per table and binary-searches. Overlapping
/// entries (a /16 and a /32 inside it) all report, which sorted
/// non-overlapping ranges could not do without merging their labels.
/// Costs 8 bytes per IPv4 entry and 20 per IPv6 entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpSet {
    v4: Vec<Table<u32>>,
    v6: Vec<Table<u128>>,
}

fn mask4(addr: u32, len: u8) -> u32 {
    match len {
        0 => 0,
        l if l >= 32 => addr,
        l => addr & u32::MAX.checked_shl(32u32.saturating_sub(u32::from(l))).unwrap_or(0),
    }
}

fn mask6(addr: u128, len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => addr,
        l => addr & u128::MAX.checked_shl(128u32.saturating_sub(u32::from(l))).unwrap_or(0),
    }
}

fn build_tables<T: Ord + Copy>(mut items: Vec<(u8, T, Code)>) -> Vec<Table<T>> {
    // Longest prefixes first: the most specific entry reports first.
    items.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    items.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
    let mut tables: Vec<Table<T>> = Vec::new();
    for (len, net, code) in items {
        match tables.last_mut() {
            Some(t) if t.len == len => {
                t.nets.push(net);
                t.codes.push(code);
            }
            _ => tables.push(Table { len, nets: vec![net], codes: vec![code] }),
        }
    }
    tables
}

impl IpSet {
    /// Builds from networks (host bits are cleared) and their codes.
    pub fn build(nets: Vec<(IpNet, Code)>) -> IpSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (net, code) in nets {
            match net.trunc() {
                IpNet::V4(n) => v4.push((n.prefix_len(), u32::from(n.network()), code)),
                IpNet::V6(n) => v6.push((n.prefix_len(), u128::from(n.network()), code)),
            }
        }
        IpSet { v4: build_tables(v4), v6: build_tables(v6) }
    }

    pub fn len(&self) -> usize {
        let a: usize = self.v4.iter().map(|t| t.nets.len()).sum();
        let b: usize = self.v6.iter().map(|t| t.nets.len()).sum();
        a.saturating_add(b)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every listed network.
    pub fn networks(&self) -> impl Iterator<Item = IpNet> + '_ {
        let v4 = self.v4.iter().flat_map(|t| {
            t.nets
                .iter()
                .filter_map(move |n| ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(*n), t.len).ok().map(IpNet::V4))
        });
        let v6 = self.v6.iter().flat_map(|t| {
            t.nets
                .iter()
                .filter_map(move |n| ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(*n), t.len).ok().map(IpNet::V6))
        });
        v4.chain(v6)
    }

    pub fn heap_bytes(&self) -> usize {
        let a: usize = self.v4.iter().map(|t| t.nets.len().saturating_mul(8)).sum();
        let b: usize = self.v6.iter().map(|t| t.nets.len().saturating_mul(20)).sum();
        a.saturating_add(b)
    }

    /// Calls `hit(network, code)` for every listed network holding `ip`,
    /// most specific first. IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn for_each_match(&self, ip: IpAddr, mut hit: impl FnMut(IpNet, Code)) {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for t in &self.v4 {
                    let m = mask4(a, t.len);
                    if let Ok(i) = t.nets.binary_search(&m) {
                        if let (Some(c), Ok(net)) =
                            (t.codes.get(i), ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(m), t.len))
                        {
                            hit(IpNet::V4(net), *c);
                        }
                    }
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for t in &self.v6 {
                    let m = mask6(a, t.len);
                    if let Ok(i) = t.nets.binary_search(&m) {
                        if let (Some(c), Ok(net)) =
                            (t.codes.get(i), ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(m), t.len))
                        {
                            hit(IpNet::V6(net), *c);
                        }
                    }
                }
            }
        }
    }

    /// `count, (addr u32 | u128 LE, len u8, code u32)*` for v4 then v6.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_u32(out, len_u32(self.v4.iter().map(|t| t.nets.len()).sum()));
        for t in &self.v4 {
            for (n, c) in t.nets.iter().zip(&t.codes) {
                out.extend_from_slice(&n.to_le_bytes());
                out.push(t.len);
                put_u32(out, *c);
            }
        }
        put_u32(out, len_u32(self.v6.iter().map(|t| t.nets.len()).sum()));
        for t in &self.v6 {
            for (n, c) in t.nets.iter().zip(&t.codes) {
                out.extend_from_slice(&n.to_le_bytes());
                out.push(t.len);
                put_u32(out, *c);
            }
        }
    }

    pub(crate) fn decode(buf: &[u8]) -> Result<IpSet, DecodeError> {
        let mut r = Reader::new(buf, "ip");
        let n4 = r.count(9)?;
        let mut v4 = Vec::with_capacity(n4);
        for _ in 0..n4 {
            let addr = u32::from_le_bytes(r.array()?);
            let len = r.u8()?;
            if len > 32 {
                return Err(DecodeError::Malformed("ip"));
            }
            v4.push((len, mask4(addr, len), r.u32()?));
        }
        let n6 = r.count(21)?;
        let mut v6 = Vec::with_capacity(n6);
        for _ in 0..n6 {
            let addr = u128::from_le_bytes(r.array()?);
            let len = r.u8()?;
            if len > 128 {
                return Err(DecodeError::Malformed("ip"));
            }
            v6.push((len, mask6(addr, len), r.u32()?));
        }
        r.finish()?;
        Ok(IpSet { v4: build_tables(v4), v6: build_tables(v6) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[(&str, Code)]) -> IpSet {
        IpSet::build(v.iter().map(|(n, c)| (n.parse().unwrap(), *c)).collect())
    }

    fn hits(s: &IpSet, ip: &str) -> Vec<(String, Code)> {
        let mut v = Vec::new();
        s.for_each_match(ip.parse().unwrap(), |n, c| v.push((n.to_string(), c)));
        v
    }

    #[test]
    fn prefixes_and_hosts_v4() {
        let s = set(&[("1.10.16.0/20", 1), ("1.10.17.5/32", 2), ("0.0.0.0/0", 3)]);
        assert_eq!(
            hits(&s, "1.10.17.5"),
            vec![("1.10.17.5/32".into(), 2), ("1.10.16.0/20".into(), 1), ("0.0.0.0/0".into(), 3)]
        );
        assert_eq!(hits(&s, "1.10.31.255"), vec![("1.10.16.0/20".into(), 1), ("0.0.0.0/0".into(), 3)]);
        assert_eq!(hits(&s, "1.10.32.0"), vec![("0.0.0.0/0".into(), 3)]);
        assert!(hits(&s, "::1").is_empty());
    }

    #[test]
    fn v6_and_mapped() {
        let s = set(&[("2001:db8:bad::/48", 1), ("192.0.2.1/32", 2)]);
        assert_eq!(hits(&s, "2001:db8:bad:1::9"), vec![("2001:db8:bad::/48".into(), 1)]);
        assert!(hits(&s, "2001:db8:bae::1").is_empty());
        assert_eq!(hits(&s, "::ffff:192.0.2.1"), vec![("192.0.2.1/32".into(), 2)]);
    }

    #[test]
    fn round_trip_and_forged_lengths() {
        let s = set(&[("10.0.0.0/8", 1), ("2001:db8::/32", 2)]);
        let mut enc = Vec::new();
        s.encode(&mut enc);
        assert_eq!(IpSet::decode(&enc).unwrap(), s);
        let mut bad = enc.clone();
        bad[8] = 33; // v4 prefix length
        assert_eq!(IpSet::decode(&bad), Err(DecodeError::Malformed("ip")));
        assert!(IpSet::decode(&enc[..enc.len() - 1]).is_err());
    }
}
