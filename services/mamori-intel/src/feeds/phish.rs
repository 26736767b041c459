//! Phishing URL lists: OpenPhish (plain) and PhishTank (CSV with header).

use super::csv::for_each_row;
use super::{data_lines, url_indicator, Collector, FeedError, SkipReason};
use crate::label::{Label, ThreatKind};

const PHISH: Label = Label::Threat(ThreatKind::Phishing);

pub(super) fn openphish(text: &str, c: &mut Collector) {
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        c.push_or_skip(n, url_indicator(line), PHISH);
    }
}

/// Entries that PhishTank marks unverified or offline are filtered, not
/// skipped: they are well-formed, just not worth blocking.
pub(super) fn phishtank_csv(text: &str, c: &mut Collector) -> Result<(), FeedError> {
    const URL: &[&str] = &["url"];
    for_each_row(text, URL, c, |r, c| {
        let no = |col: &str| r.get(&[col]).is_some_and(|v| v.eq_ignore_ascii_case("no"));
        if no("verified") || no("online") {
            return c.filtered();
        }
        match r.get(URL) {
            Some(u) => c.push_or_skip(r.line, url_indicator(u), PHISH),
            None => c.skip(r.line, SkipReason::MissingField("url")),
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::feeds::{parse_feed, FeedFormat, Indicator};

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn urls(p: &crate::feeds::ParsedFeed) -> Vec<String> {
        p.entries
            .iter()
            .map(|e| match &e.indicator {
                Indicator::Url(u) => u.to_string(),
                o => panic!("{o:?}"),
            })
            .collect()
    }

    #[test]
    fn openphish() {
        let p = parse_feed(&FeedFormat::OpenPhish, &fixture("openphish_feed.txt")).unwrap();
        assert_eq!(
            urls(&p),
            vec![
                "https://secure-login.bank-jp.example/signin/",
                "http://amazon-account.example/update?id=123",
                "https://paypal.example.com.verify.example/login.php",
            ]
        );
        assert_eq!(p.skipped[0].line, 4);
    }

    #[test]
    fn phishtank_csv() {
        let p = parse_feed(&FeedFormat::PhishTankCsv, &fixture("phishtank_online_valid.csv")).unwrap();
        assert_eq!(urls(&p), vec!["https://secure-login.bank-jp.example/signin/", "https://mufg.example/login?a=1,2"]);
        assert_eq!(p.filtered, 1);
        assert_eq!(p.skipped_total, 1);
        assert_eq!(p.skipped[0].line, 5);
    }
}
