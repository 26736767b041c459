//! Suricata 8 EVE `dns` objects (log format version 3, "detailed" answers).
//!
//! Field names, their order and the string forms (hex `flags` without
//! padding, `rcode` names, `rrtype` names, IPv6 written as eight 4-digit
//! groups, bytes of names that are not UTF-8 written as `\xNN`) follow
//! Suricata's `rust/src/dns/log.rs`, so serializing a [`DnsEve`] gives what
//! Suricata puts under `"dns"`.

use serde::Serialize;

use crate::message::{DnsMessage, Record};
use crate::name::Name;
use crate::rdata::{rrtype, RData};

/// Suricata's `set_string_from_bytes`: UTF-8 passes as is, otherwise every
/// byte from 0x80 up becomes the four characters `\xNN`.
pub fn suricata_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() * 2);
            for &b in bytes {
                if b < 0x80 {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

/// The record type mnemonic Suricata prints; unknown types print as their
/// number.
pub fn rrtype_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAPPTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDNSKEY",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        _ => return t.to_string(),
    };
    name.to_owned()
}

/// The response code name Suricata prints (header rcode only).
pub fn rcode_name(rcode: u8) -> String {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return rcode.to_string(),
    };
    name.to_owned()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The `dns` object of an EVE `dns` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsEve {
    pub version: u8,
    /// `request` or `response`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Suricata's per-flow transaction counter (0 for the first message).
    pub tx_id: u64,
    /// The on-the-wire DNS id.
    pub id: u16,
    pub flags: String,
    #[serde(skip_serializing_if = "is_false")]
    pub qr: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub aa: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tc: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub rd: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub ra: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub z: bool,
    pub opcode: u8,
    pub rcode: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<QueryEve>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<RecordEve>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorities: Vec<RecordEve>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additionals: Vec<RecordEve>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueryEve {
    pub rrname: String,
    pub rrtype: String,
    #[serde(skip_serializing_if = "is_false")]
    pub rrname_truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordEve {
    pub rrname: String,
    #[serde(skip_serializing_if = "is_false")]
    pub rrname_truncated: bool,
    pub rrtype: String,
    pub ttl: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdata: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub rdata_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soa: Option<SoaEve>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sshfp: Option<SshfpEve>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srv: Option<SrvEve>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt: Option<Vec<OptEve>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SoaEve {
    pub mname: String,
    #[serde(skip_serializing_if = "is_false")]
    pub mname_truncated: bool,
    pub rname: String,
    #[serde(skip_serializing_if = "is_false")]
    pub rname_truncated: bool,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SshfpEve {
    pub fingerprint: String,
    pub algo: u8,
    #[serde(rename = "type")]
    pub fp_type: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SrvEve {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OptEve {
    pub code: u16,
    pub data: String,
}

impl DnsEve {
    /// Builds the EVE object for `msg`; `tx_id` is the engine's per-flow
    /// message counter.
    pub fn new(msg: &DnsMessage, tx_id: u64) -> DnsEve {
        let f = msg.header.flags;
        let additionals = msg
            .additionals
            .iter()
            // Suricata leaves out OPT records that carry no option.
            .filter(|r| !matches!(&r.data, RData::Opt(o) if o.is_empty()))
            .flat_map(record_eve)
            .collect();
        DnsEve {
            version: 3,
            kind: if f.qr() { "response" } else { "request" },
            tx_id,
            id: msg.header.id,
            flags: format!("{:x}", f.0),
            qr: f.qr(),
            aa: f.aa(),
            tc: f.tc(),
            rd: f.rd(),
            ra: f.ra(),
            z: f.z(),
            opcode: f.opcode(),
            rcode: rcode_name(f.rcode()),
            queries: msg
                .queries
                .iter()
                .map(|q| QueryEve {
                    rrname: suricata_string(&q.name.value),
                    rrtype: rrtype_name(q.rrtype),
                    rrname_truncated: q.name.truncated,
                })
                .collect(),
            answers: msg.answers.iter().flat_map(record_eve).collect(),
            authorities: msg.authorities.iter().flat_map(record_eve).collect(),
            additionals,
        }
    }
}

/// IPv4 dotted, IPv6 as Suricata writes it: eight groups of four hex digits.
fn print_addr(rdata: &RData) -> Option<String> {
    match rdata {
        RData::A(a) => Some(a.to_string()),
        RData::Aaaa(a) => {
            let groups: Vec<String> = a.segments().iter().map(|g| format!("{g:04x}")).collect();
            Some(groups.join(":"))
        }
        _ => None,
    }
}

/// One record becomes one EVE entry, except TXT, which gives one entry per
/// character-string (and none when it has none), as in Suricata.
fn record_eve(r: &Record) -> Vec<RecordEve> {
    let base = RecordEve {
        rrname: suricata_string(&r.name.value),
        rrname_truncated: r.name.truncated,
        rrtype: rrtype_name(r.rrtype),
        ttl: r.ttl,
        rdata: None,
        rdata_truncated: false,
        soa: None,
        sshfp: None,
        srv: None,
        opt: None,
    };
    let with_name =
        |n: &Name| RecordEve { rdata: Some(suricata_string(&n.value)), rdata_truncated: n.truncated, ..base.clone() };
    match &r.data {
        RData::A(_) | RData::Aaaa(_) => vec![RecordEve { rdata: print_addr(&r.data), ..base }],
        RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) | RData::Mx { exchange: n, .. } => {
            vec![with_name(n)]
        }
        RData::Txt(strings) => {
            strings.iter().map(|s| RecordEve { rdata: Some(suricata_string(s)), ..base.clone() }).collect()
        }
        RData::Null(b) => vec![RecordEve { rdata: Some(suricata_string(b)), ..base }],
        RData::Soa(s) => vec![RecordEve {
            soa: Some(SoaEve {
                mname: suricata_string(&s.mname.value),
                mname_truncated: s.mname.truncated,
                rname: suricata_string(&s.rname.value),
                rname_truncated: s.rname.truncated,
                serial: s.serial,
                refresh: s.refresh,
                retry: s.retry,
                expire: s.expire,
                minimum: s.minimum,
            }),
            ..base
        }],
        RData::Sshfp(s) => {
            let hex: Vec<String> = s.fingerprint.iter().map(|b| format!("{b:02x}")).collect();
            vec![RecordEve {
                sshfp: Some(SshfpEve { fingerprint: hex.join(":"), algo: s.algo, fp_type: s.fp_type }),
                ..base
            }]
        }
        RData::Srv(s) => vec![RecordEve {
            srv: Some(SrvEve {
                priority: s.priority,
                weight: s.weight,
                port: s.port,
                name: suricata_string(&s.target.value),
            }),
            ..base
        }],
        RData::Opt(options) => vec![RecordEve {
            opt: Some(
                options
                    .iter()
                    .map(|o| OptEve { code: o.code, data: o.data.iter().map(|b| format!("{b:02x}")).collect() })
                    .collect(),
            ),
            ..base
        }],
        // Suricata prints an empty address for A/AAAA data of the wrong size
        // and nothing for types it does not decode (HTTPS/SVCB included).
        RData::Malformed(_) if matches!(r.rrtype, rrtype::A | rrtype::AAAA) => {
            vec![RecordEve { rdata: Some(String::new()), ..base }]
        }
        RData::Malformed(_) | RData::Unknown(_) | RData::Svcb { .. } => vec![base],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse_message;

    #[test]
    fn request_json_matches_suricata() {
        // google.com A query, id 1234, RD.
        let q = b"\x04\xd2\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06google\x03com\x00\x00\x01\x00\x01";
        let eve = DnsEve::new(&parse_message(q).unwrap(), 0);
        assert_eq!(
            serde_json::to_string(&eve).unwrap(),
            r#"{"version":3,"type":"request","tx_id":0,"id":1234,"flags":"100","rd":true,"opcode":0,"rcode":"NOERROR","queries":[{"rrname":"google.com","rrtype":"A"}]}"#
        );
    }

    #[test]
    fn response_json_matches_suricata() {
        let r = b"\x10\x32\x81\x80\x00\x01\x00\x02\x00\x01\x00\x00\
\x06google\x03com\x00\x00\x1c\x00\x01\
\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x10\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\
\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x06\x02hi\x02yo\
\xc0\x0c\x00\x06\x00\x01\x00\x00\x00\x3c\x00\x1b\x02ns\xc0\x0c\xc0\x0c\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05";
        let eve = DnsEve::new(&parse_message(r).unwrap(), 7);
        let json = serde_json::to_string(&eve).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"version":3,"type":"response","tx_id":7,"id":4146,"flags":"8180","qr":true,"rd":true,"ra":true,"opcode":0,"rcode":"NOERROR","#,
                r#""queries":[{"rrname":"google.com","rrtype":"AAAA"}],"#,
                r#""answers":[{"rrname":"google.com","rrtype":"AAAA","ttl":60,"rdata":"2001:0db8:0000:0000:0000:0000:0000:0001"},"#,
                r#"{"rrname":"google.com","rrtype":"TXT","ttl":60,"rdata":"hi"},{"rrname":"google.com","rrtype":"TXT","ttl":60,"rdata":"yo"}],"#,
                r#""authorities":[{"rrname":"google.com","rrtype":"SOA","ttl":60,"soa":{"mname":"ns.google.com","rname":"google.com","serial":1,"refresh":2,"retry":3,"expire":4,"minimum":5}}]}"#
            )
        );
    }

    #[test]
    fn non_utf8_names_are_escaped_like_suricata() {
        assert_eq!(suricata_string(b"a\xffb.com"), "a\\xffb.com");
        assert_eq!(suricata_string("日本.jp".as_bytes()), "日本.jp");
        let json = serde_json::to_string(&suricata_string(b"\x01\xfe")).unwrap();
        assert_eq!(json, r#""\u0001\\xfe""#);
    }

    #[test]
    fn names_of_codes() {
        assert_eq!(rrtype_name(65), "HTTPS");
        assert_eq!(rrtype_name(64), "64");
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(12), "12");
    }
}
