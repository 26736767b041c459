//! Record data for the types we understand; everything else stays raw.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::name::{parse_name, Name, NameIssues};

/// Record type numbers used by the parser and the EVE writer.
pub mod rrtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
    pub const SSHFP: u16 = 44;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Soa {
    pub mname: Name,
    pub rname: Name,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: Name,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sshfp {
    pub algo: u8,
    pub fp_type: u8,
    pub fingerprint: Vec<u8>,
}

/// One EDNS(0) option of an OPT pseudo-record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnsOption {
    pub code: u16,
    pub data: Vec<u8>,
}

/// Parsed record data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(Name),
    Ns(Name),
    Ptr(Name),
    Mx {
        preference: u16,
        exchange: Name,
    },
    /// The character-strings of a TXT record, in order.
    Txt(Vec<Vec<u8>>),
    Soa(Soa),
    Srv(Srv),
    Sshfp(Sshfp),
    /// SVCB or HTTPS: only the priority and target name are decoded.
    Svcb {
        priority: u16,
        target: Name,
    },
    Opt(Vec<EdnsOption>),
    Null(Vec<u8>),
    /// A known type whose data does not have the shape the type demands
    /// (an A record that is not 4 bytes, a name running past the data...).
    Malformed(Vec<u8>),
    /// A type we do not decode: the raw data.
    Unknown(Vec<u8>),
}

impl RData {
    /// Decodes `msg[start..end]` as data of `rtype`; names may point anywhere
    /// in `msg`. Never fails: data that does not fit its type is kept raw.
    pub fn parse(msg: &[u8], start: usize, end: usize, rtype: u16, issues: &mut NameIssues) -> RData {
        let data = msg.get(start..end).unwrap_or_default();
        let mut r = Reader { msg, pos: start, end, issues };
        let parsed = match rtype {
            rrtype::A => <[u8; 4]>::try_from(data).ok().map(|b| RData::A(Ipv4Addr::from(b))),
            rrtype::AAAA => <[u8; 16]>::try_from(data).ok().map(|b| RData::Aaaa(Ipv6Addr::from(b))),
            rrtype::CNAME => r.name().map(RData::Cname),
            rrtype::NS => r.name().map(RData::Ns),
            rrtype::PTR => r.name().map(RData::Ptr),
            rrtype::MX => r.mx(),
            rrtype::TXT => txt(data).map(RData::Txt),
            rrtype::SOA => r.soa().map(RData::Soa),
            rrtype::SRV => r.srv().map(RData::Srv),
            rrtype::SSHFP => sshfp(data).map(RData::Sshfp),
            rrtype::SVCB | rrtype::HTTPS => r.svcb(),
            rrtype::OPT => opt(data).map(RData::Opt),
            rrtype::NULL => Some(RData::Null(data.to_vec())),
            _ => return RData::Unknown(data.to_vec()),
        };
        parsed.unwrap_or_else(|| RData::Malformed(data.to_vec()))
    }
}

struct Reader<'a, 'i> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
    issues: &'i mut NameIssues,
}

impl Reader<'_, '_> {
    fn u16(&mut self) -> Option<u16> {
        let b = self.msg.get(self.pos..self.pos.checked_add(2)?.min(self.end))?;
        let v = u16::from_be_bytes(<[u8; 2]>::try_from(b).ok()?);
        self.pos += 2;
        Some(v)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.msg.get(self.pos..self.pos.checked_add(4)?.min(self.end))?;
        let v = u32::from_be_bytes(<[u8; 4]>::try_from(b).ok()?);
        self.pos += 4;
        Some(v)
    }

    /// A name must start inside the record data; only its pointers may
    /// leave it.
    fn name(&mut self) -> Option<Name> {
        if self.pos >= self.end {
            return None;
        }
        let (name, next) = parse_name(self.msg, self.pos, self.issues).ok()?;
        if next > self.end {
            return None;
        }
        self.pos = next;
        Some(name)
    }

    fn mx(&mut self) -> Option<RData> {
        let preference = self.u16()?;
        let exchange = self.name()?;
        Some(RData::Mx { preference, exchange })
    }

    fn soa(&mut self) -> Option<Soa> {
        Some(Soa {
            mname: self.name()?,
            rname: self.name()?,
            serial: self.u32()?,
            refresh: self.u32()?,
            retry: self.u32()?,
            expire: self.u32()?,
            minimum: self.u32()?,
        })
    }

    fn srv(&mut self) -> Option<Srv> {
        Some(Srv { priority: self.u16()?, weight: self.u16()?, port: self.u16()?, target: self.name()? })
    }

    fn svcb(&mut self) -> Option<RData> {
        let priority = self.u16()?;
        let target = self.name()?;
        Some(RData::Svcb { priority, target })
    }
}

fn txt(mut data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let s = rest.get(..usize::from(len))?;
        out.push(s.to_vec());
        data = &rest[usize::from(len)..];
    }
    Some(out)
}

fn sshfp(data: &[u8]) -> Option<Sshfp> {
    match data {
        [algo, fp_type, fp @ ..] => Some(Sshfp { algo: *algo, fp_type: *fp_type, fingerprint: fp.to_vec() }),
        _ => None,
    }
}

fn opt(mut data: &[u8]) -> Option<Vec<EdnsOption>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let [c0, c1, l0, l1, rest @ ..] = data else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let value = rest.get(..len)?;
        out.push(EdnsOption { code: u16::from_be_bytes([*c0, *c1]), data: value.to_vec() });
        data = &rest[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &[u8], rtype: u16) -> RData {
        RData::parse(data, 0, data.len(), rtype, &mut NameIssues::default())
    }

    #[test]
    fn addresses() {
        assert_eq!(parse(&[1, 2, 3, 4], rrtype::A), RData::A(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(parse(&[1, 2, 3], rrtype::A), RData::Malformed(vec![1, 2, 3]));
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(parse(&v6, rrtype::AAAA), RData::Aaaa(Ipv6Addr::LOCALHOST));
    }

    #[test]
    fn txt_strings() {
        assert_eq!(parse(b"\x02hi\x00\x03abc", rrtype::TXT), RData::Txt(vec![b"hi".to_vec(), vec![], b"abc".to_vec()]));
        assert!(matches!(parse(b"\x05ab", rrtype::TXT), RData::Malformed(_)));
    }

    #[test]
    fn mx_srv_soa_svcb() {
        let RData::Mx { preference, exchange } = parse(b"\x00\x0a\x02mx\x00", rrtype::MX) else { panic!() };
        assert_eq!((preference, exchange.value.as_slice()), (10, &b"mx"[..]));
        let RData::Srv(s) = parse(b"\x00\x01\x00\x02\x01\xbb\x01t\x00", rrtype::SRV) else { panic!() };
        assert_eq!((s.priority, s.weight, s.port, s.target.value.as_slice()), (1, 2, 443, &b"t"[..]));
        let soa =
            b"\x02ns\x00\x04host\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05";
        let RData::Soa(s) = parse(soa, rrtype::SOA) else { panic!() };
        assert_eq!((s.serial, s.refresh, s.retry, s.expire, s.minimum), (1, 2, 3, 4, 5));
        assert_eq!(s.rname.value, b"host");
        let RData::Svcb { priority, target } = parse(b"\x00\x01\x03cdn\x00\x00\x01\x00\x03\x02h2", rrtype::HTTPS)
        else {
            panic!()
        };
        assert_eq!((priority, target.value.as_slice()), (1, &b"cdn"[..]));
        // SOA missing its counters.
        assert!(matches!(parse(b"\x02ns\x00\x00", rrtype::SOA), RData::Malformed(_)));
    }

    #[test]
    fn name_may_not_run_past_rdata() {
        let msg = b"\x05hello\x00";
        let r = RData::parse(msg, 0, 3, rrtype::CNAME, &mut NameIssues::default());
        assert!(matches!(r, RData::Malformed(_)));
    }

    #[test]
    fn opt_options() {
        assert_eq!(
            parse(b"\x00\x0a\x00\x02\xab\xcd", rrtype::OPT),
            RData::Opt(vec![EdnsOption { code: 10, data: vec![0xab, 0xcd] }])
        );
        assert!(matches!(parse(b"\x00\x0a\x00\x05\xab", rrtype::OPT), RData::Malformed(_)));
        assert_eq!(parse(b"", rrtype::OPT), RData::Opt(vec![]));
    }

    #[test]
    fn unknown_kept_raw() {
        assert_eq!(parse(b"\x01\x02", 999), RData::Unknown(vec![1, 2]));
    }
}
