//! Spamhaus DROP: the NDJSON v4/v6 files and the legacy `;`-commented text.

use serde_json::Value;

use super::{data_lines, net_indicator, Collector, SkipReason};
use crate::label::{Label, ThreatKind};

const DROP: Label = Label::Threat(ThreatKind::HijackedNetwork);

pub(super) fn drop_json(text: &str, c: &mut Collector) {
    for (n, line) in data_lines(text, &[';', '#']) {
        c.line();
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            c.skip(n, SkipReason::BadJson);
            continue;
        };
        // The last line describes the file, it is not an entry.
        if v.get("type").and_then(Value::as_str) == Some("metadata") {
            continue;
        }
        match v.get("cidr").and_then(Value::as_str) {
            Some(cidr) => c.push_or_skip(n, net_indicator(cidr), DROP),
            None => c.skip(n, SkipReason::MissingField("cidr")),
        }
    }
}

/// `1.10.16.0/20 ; SBL256894`.
pub(super) fn drop_txt(text: &str, c: &mut Collector) {
    for (n, line) in data_lines(text, &[';', '#']) {
        c.line();
        let cidr = line.split(';').next().unwrap_or("");
        c.push_or_skip(n, net_indicator(cidr), DROP);
    }
}

#[cfg(test)]
mod tests {
    use crate::feeds::{parse_feed, FeedFormat, Indicator, SkipReason};

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn net(s: &str) -> Indicator {
        Indicator::Net(s.parse().unwrap())
    }

    #[test]
    fn drop_v4_ndjson() {
        let p = parse_feed(&FeedFormat::SpamhausDropJson, &fixture("spamhaus_drop_v4.json")).unwrap();
        let got: Vec<_> = p.entries.iter().map(|e| e.indicator.clone()).collect();
        assert_eq!(got, vec![net("1.10.16.0/20"), net("2.56.192.0/22")]);
        let reasons: Vec<_> = p.skipped.iter().map(|s| (s.line, s.reason.clone())).collect();
        assert_eq!(
            reasons,
            vec![(3, SkipReason::InvalidIp), (4, SkipReason::MissingField("cidr")), (5, SkipReason::BadJson)]
        );
    }

    #[test]
    fn drop_v6_ndjson() {
        let p = parse_feed(&FeedFormat::SpamhausDropJson, &fixture("spamhaus_drop_v6.json")).unwrap();
        let got: Vec<_> = p.entries.iter().map(|e| e.indicator.clone()).collect();
        assert_eq!(got, vec![net("2001:678:738::/48"), net("2a06:4e80::/29")]);
        assert_eq!(p.skipped_total, 0);
    }

    #[test]
    fn drop_legacy_txt() {
        let p = parse_feed(&FeedFormat::SpamhausDropTxt, &fixture("spamhaus_drop.txt")).unwrap();
        let got: Vec<_> = p.entries.iter().map(|e| e.indicator.clone()).collect();
        assert_eq!(got, vec![net("1.10.16.0/20"), net("2.56.192.0/22"), net("5.134.128.0/19")]);
        assert_eq!(p.skipped[0].line, 8);
    }
}
