//! One-indicator-per-line lists with `#` comments.

use super::{data_lines, host_indicator, net_indicator, sha256_indicator, Collector};
use crate::label::{Label, ThreatKind};

pub(super) fn feodo_txt(text: &str, c: &mut Collector) {
    let label = Label::Threat(ThreatKind::BotnetC2);
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        c.push_or_skip(n, net_indicator(line), label);
    }
}

/// `127.0.0.1<TAB>host`; a bare host is accepted too.
pub(super) fn urlhaus_hostfile(text: &str, c: &mut Collector) {
    let label = Label::Threat(ThreatKind::MalwareDistribution);
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        let mut parts = line.split_whitespace();
        let first = parts.next().unwrap_or("");
        let host = parts.next().unwrap_or(first);
        c.push_or_skip(n, host_indicator(host), label);
    }
}

pub(super) fn sha256_list(text: &str, c: &mut Collector) {
    let label = Label::Threat(ThreatKind::Malware);
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        c.push_or_skip(n, sha256_indicator(line), label);
    }
}

/// Emerging Threats IP lists: addresses or CIDRs.
pub(super) fn et(text: &str, kind: ThreatKind, c: &mut Collector) {
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        c.push_or_skip(n, net_indicator(line), Label::Threat(kind));
    }
}

#[cfg(test)]
mod tests {
    use crate::feeds::{parse_feed, FeedFormat, Indicator, SkipReason};

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn feodo_txt() {
        let p = parse_feed(&FeedFormat::FeodoTxt, &fixture("feodo_ipblocklist.txt")).unwrap();
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.skipped[0].line, 12);
        assert_eq!(p.skipped[0].reason, SkipReason::InvalidIp);
    }

    #[test]
    fn urlhaus_hostfile() {
        let p = parse_feed(&FeedFormat::UrlhausHostfile, &fixture("urlhaus_hostfile.txt")).unwrap();
        let got: Vec<_> = p.entries.iter().map(|e| e.indicator.clone()).collect();
        assert_eq!(
            got,
            vec![Indicator::Domain("malware-host.example".into()), Indicator::Domain("download.evil.example".into())]
        );
        assert_eq!(p.skipped[0].line, 10);
    }

    #[test]
    fn malwarebazaar_sha256() {
        let p = parse_feed(&FeedFormat::MalwareBazaarSha256, &fixture("malwarebazaar_sha256.txt")).unwrap();
        assert_eq!(p.entries.len(), 2);
        let Indicator::Sha256(h) = p.entries[0].indicator else { panic!() };
        assert_eq!(hex::encode(h), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        assert_eq!(p.skipped[0].line, 12);
        assert_eq!(p.skipped[0].reason, SkipReason::InvalidHash);
    }

    #[test]
    fn et_block_ips() {
        let p = parse_feed(&FeedFormat::EtBlock, &fixture("et_block_ips.txt")).unwrap();
        assert_eq!(p.entries.len(), 4);
        assert_eq!(p.entries[0].indicator, Indicator::Net("1.10.16.0/20".parse().unwrap()));
        assert_eq!(p.skipped_total, 1);
        assert_eq!(p.skipped[0].line, 12);
    }

    #[test]
    fn et_compromised_real_file() {
        let path = format!("{}/../../../shared/testdata/et-open/compromised-ips.txt", env!("CARGO_MANIFEST_DIR"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {path} not present");
            return;
        };
        let p = parse_feed(&FeedFormat::EtCompromised, &text).unwrap();
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(p.entries.len(), lines, "skipped: {:?}", p.skipped);
        assert!(p.entries.len() > 200);
        assert_eq!(p.entries[0].indicator, Indicator::Net("101.202.19.199/32".parse().unwrap()));
    }
}
