//! Whole messages: header, questions and the three record sections.

use mamori_applayer::Anomaly;

use crate::error::DnsError;
use crate::header::{Header, HEADER_LEN};
use crate::name::{parse_name, Name, NameIssues};
use crate::rdata::RData;

/// Most records kept per message over all sections. Compression lets a
/// small message name huge names many times over; this bounds the memory a
/// single datagram can make us hold (about 1 MiB of names at worst).
pub const MAX_RECORDS: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: Name,
    pub rrtype: u16,
    pub rrclass: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: Name,
    pub rrtype: u16,
    pub rrclass: u16,
    pub ttl: u32,
    pub data: RData,
}

/// The record sections, in wire order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Answers,
    Authorities,
    Additionals,
}

/// A parsed message. Parsing is lenient: once the header and questions are
/// in, damage further on stops parsing and is recorded in `broken_section`
/// while everything before it is kept.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DnsMessage {
    pub header: Header,
    pub queries: Vec<Question>,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
    /// The first section that did not parse completely, if any.
    pub broken_section: Option<Section>,
    /// More than [`MAX_RECORDS`] records: the rest were dropped.
    pub records_capped: bool,
    /// Names that were cut or looped.
    pub name_issues: NameIssues,
}

impl DnsMessage {
    /// The anomalies this message carries, named as Suricata's DNS events.
    pub fn anomalies(&self) -> Vec<Anomaly> {
        let mut out = Vec::new();
        let f = self.header.flags;
        if f.z() {
            out.push(Anomaly::new("dns", "z_flag_set"));
        }
        if matches!(f.opcode(), 3 | 7..=15) {
            out.push(Anomaly::new("dns", "invalid_opcode"));
        }
        match self.broken_section {
            Some(Section::Answers) => out.push(Anomaly::new("dns", "malformed_data")),
            Some(Section::Authorities) => out.push(Anomaly::new("dns", "invalid_authorities")),
            Some(Section::Additionals) => out.push(Anomaly::new("dns", "invalid_additionals")),
            None => {}
        }
        if self.records_capped {
            out.push(Anomaly::new("dns", "too_many_records"));
        }
        if self.name_issues.truncated {
            out.push(Anomaly::new("dns", "name_too_long"));
        }
        if self.name_issues.infinite_loop {
            out.push(Anomaly::new("dns", "infinite_loop"));
        }
        if self.name_issues.label_limit {
            out.push(Anomaly::new("dns", "too_many_labels"));
        }
        out
    }
}

/// Parses one DNS message (a UDP payload, or a TCP message without its
/// length prefix).
pub fn parse_message(data: &[u8]) -> Result<DnsMessage, DnsError> {
    let header = Header::parse(data)?;
    let mut msg = DnsMessage { header, ..DnsMessage::default() };
    let mut pos = HEADER_LEN;

    // Each question takes at least 5 bytes, so the count the header claims
    // never makes us reserve more than the data could hold.
    let remaining = data.len().saturating_sub(pos);
    msg.queries.reserve(usize::from(header.qdcount).min(remaining / 5));
    for _ in 0..header.qdcount {
        let (q, next) = parse_question(data, pos, &mut msg.name_issues)?;
        msg.queries.push(q);
        pos = next;
    }

    let sections = [
        (Section::Answers, header.ancount),
        (Section::Authorities, header.nscount),
        (Section::Additionals, header.arcount),
    ];
    let mut kept = 0usize;
    for (section, count) in sections {
        for _ in 0..count {
            if kept >= MAX_RECORDS {
                msg.records_capped = true;
                return Ok(msg);
            }
            match parse_record(data, pos, &mut msg.name_issues) {
                Some((rec, next)) => {
                    pos = next;
                    kept += 1;
                    match section {
                        Section::Answers => msg.answers.push(rec),
                        Section::Authorities => msg.authorities.push(rec),
                        Section::Additionals => msg.additionals.push(rec),
                    }
                }
                None => {
                    msg.broken_section = Some(section);
                    return Ok(msg);
                }
            }
        }
    }
    Ok(msg)
}

fn be16(data: &[u8], pos: usize) -> Option<u16> {
    let b = data.get(pos..pos.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(data: &[u8], pos: usize) -> Option<u32> {
    let b = data.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub(crate) fn parse_question(data: &[u8], pos: usize, issues: &mut NameIssues) -> Result<(Question, usize), DnsError> {
    let (name, pos) = parse_name(data, pos, issues)?;
    let rrtype = be16(data, pos).ok_or(DnsError::TruncatedQuestion)?;
    let rrclass = be16(data, pos + 2).ok_or(DnsError::TruncatedQuestion)?;
    Ok((Question { name, rrtype, rrclass }, pos + 4))
}

fn parse_record(data: &[u8], pos: usize, issues: &mut NameIssues) -> Option<(Record, usize)> {
    let (name, pos) = parse_name(data, pos, issues).ok()?;
    let rrtype = be16(data, pos)?;
    let rrclass = be16(data, pos + 2)?;
    let ttl = be32(data, pos + 4)?;
    let rdlen = usize::from(be16(data, pos + 8)?);
    let start = pos + 10;
    let end = start + rdlen;
    if end > data.len() {
        return None;
    }
    let rdata = RData::parse(data, start, end, rrtype, issues);
    Some((Record { name, rrtype, rrclass, ttl, data: rdata }, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// google.com A response from the suricata-verify dns-incomplete case.
    const RESPONSE: &[u8] = b"\x10\x32\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\
\x06google\x03com\x00\x00\x01\x00\x01\
\xc0\x0c\x00\x01\x00\x01\x00\x01\x40\xef\x00\x04\x01\x02\x03\x04";

    #[test]
    fn response_with_pointer_answer() {
        let m = parse_message(RESPONSE).unwrap();
        assert_eq!(m.header.id, 0x1032);
        assert_eq!(m.queries.len(), 1);
        assert_eq!(m.queries[0].name.value, b"google.com");
        assert_eq!(m.queries[0].rrtype, 1);
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].name.value, b"google.com");
        assert_eq!(m.answers[0].ttl, 0x140ef);
        assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(1, 2, 3, 4)));
        assert!(m.broken_section.is_none());
        assert!(m.anomalies().is_empty());
    }

    #[test]
    fn broken_answer_keeps_questions() {
        let cut = &RESPONSE[..RESPONSE.len() - 2];
        let m = parse_message(cut).unwrap();
        assert_eq!(m.queries[0].name.value, b"google.com");
        assert!(m.answers.is_empty());
        assert_eq!(m.broken_section, Some(Section::Answers));
        assert_eq!(m.anomalies(), vec![Anomaly::new("dns", "malformed_data")]);
    }

    #[test]
    fn broken_question_is_error() {
        assert_eq!(parse_message(&RESPONSE[..20]), Err(DnsError::TruncatedQuestion));
        assert_eq!(parse_message(&RESPONSE[..5]), Err(DnsError::ShortHeader));
    }

    #[test]
    fn huge_counts_do_not_allocate_or_fail_hard() {
        let mut m = RESPONSE[..12].to_vec();
        m[4..12].copy_from_slice(&[0xff; 8]);
        assert_eq!(parse_message(&m), Err(DnsError::TruncatedQuestion));
    }

    #[test]
    fn record_cap() {
        // One question, then 2000 answers each a pointer to it (12 bytes each).
        let mut m = b"\x00\x01\x81\x80\x00\x01\x07\xd0\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01".to_vec();
        for _ in 0..2000 {
            m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04");
        }
        let msg = parse_message(&m).unwrap();
        assert_eq!(msg.answers.len(), MAX_RECORDS);
        assert!(msg.records_capped);
        assert!(msg.anomalies().contains(&Anomaly::new("dns", "too_many_records")));
    }

    #[test]
    fn z_flag_and_opcode_anomalies() {
        let mut m = RESPONSE.to_vec();
        m[2] = 0x81 | (7 << 3);
        m[3] = 0xc0;
        let names: Vec<_> = parse_message(&m).unwrap().anomalies().into_iter().map(|a| a.event).collect();
        assert!(names.contains(&"z_flag_set"));
        assert!(names.contains(&"invalid_opcode"));
    }
}
