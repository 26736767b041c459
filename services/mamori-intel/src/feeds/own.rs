//! Our own list format, for customer lists and the Japanese supplement.

use super::{net_indicator, sha256_indicator, url_indicator, Collector, Indicator, SkipReason};
use crate::label::Label;
use crate::normalize::{normalize_domain, normalize_url};

/// The format, as documentation shown by the `mamori-intel` binary.
pub const OWN_FORMAT_DOC: &str = "\
mamori list format (UTF-8 text, one entry a line):
  <type> <value> [<label>]
  # starts a comment line; blank lines are ignored.
types:
  domain      a name; matches it and every name below it (IDN allowed)
  url         an exact URL (normalized; scheme optional, http assumed)
  url-prefix  a URL and everything below it, e.g. example.com/games
  ip          an address or CIDR network, v4 or v6
  sha256      a file hash, 64 hex digits
labels:
  threat:<malware|malware_distribution|botnet_c2|phishing|compromised|
          hijacked_network|cryptojacking|other>
  category:<sns|video|games|shopping|gambling|adult|dating|file_sharing|...>
A line without a label takes the source's default label (mamori@<label>).";

pub(super) fn parse(text: &str, default: Option<Label>, c: &mut Collector) {
    for (i, raw) in text.lines().enumerate() {
        let n = i.saturating_add(1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        c.line();
        let mut parts = line.split_whitespace();
        let (Some(kind), Some(value)) = (parts.next(), parts.next()) else {
            c.skip(n, SkipReason::MissingField("value"));
            continue;
        };
        let label = match parts.next() {
            Some(l) => Label::parse(l),
            None => default,
        };
        let Some(label) = label else {
            c.skip(n, SkipReason::UnknownLabel);
            continue;
        };
        let indicator = match kind {
            "domain" => normalize_domain(value).map(Indicator::Domain).map_err(SkipReason::from),
            "url" => url_indicator(value),
            "url-prefix" => {
                normalize_url(value).map(Indicator::UrlPrefix).map_err(|e| SkipReason::InvalidUrl(e.to_string()))
            }
            "ip" => net_indicator(value),
            "sha256" => sha256_indicator(value),
            _ => Err(SkipReason::UnknownType),
        };
        c.push_or_skip(n, indicator, label);
    }
}

#[cfg(test)]
mod tests {
    use crate::category::Category;
    use crate::feeds::{parse_feed, FeedFormat, Indicator, SkipReason};
    use crate::label::{Label, ThreatKind};

    #[test]
    fn own_list() {
        let text =
            std::fs::read_to_string(format!("{}/tests/fixtures/own_list.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let p = parse_feed(&FeedFormat::Own { default: None }, &text).unwrap();
        assert_eq!(p.entries.len(), 7);
        assert_eq!(p.entries[0].indicator, Indicator::Domain("evil.example".into()));
        assert_eq!(p.entries[0].label, Label::Threat(ThreatKind::Phishing));
        assert_eq!(p.entries[1].label, Label::Category(Category::Forum));
        assert!(matches!(p.entries[3].indicator, Indicator::UrlPrefix(_)));
        let reasons: Vec<_> = p.skipped.iter().map(|s| (s.line, s.reason.clone())).collect();
        assert_eq!(
            reasons,
            vec![(10, SkipReason::UnknownLabel), (11, SkipReason::UnknownLabel), (12, SkipReason::UnknownType)]
        );

        let p = parse_feed(&FeedFormat::Own { default: Some(Label::Category(Category::Sns)) }, &text).unwrap();
        assert_eq!(p.entries.len(), 8, "default label applies to the unlabelled line");
    }
}
