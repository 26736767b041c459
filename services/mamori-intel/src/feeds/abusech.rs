//! abuse.ch CSV and JSON exports (Feodo Tracker, URLhaus, ThreatFox).

use serde_json::Value;

use super::csv::{for_each_row, Record};
use super::{
    host_indicator, net_indicator, sha256_indicator, url_indicator, Collector, FeedError, Indicator, SkipReason,
};
use crate::label::{Label, ThreatKind};

const C2: Label = Label::Threat(ThreatKind::BotnetC2);

pub(super) fn feodo_csv(text: &str, c: &mut Collector) -> Result<(), FeedError> {
    // Older exports named the column `DstIP`.
    const IP: &[&str] = &["dst_ip", "dstip"];
    for_each_row(text, IP, c, |r, c| match r.get(IP) {
        Some(ip) => c.push_or_skip(r.line, net_indicator(ip), C2),
        None => c.skip(r.line, SkipReason::MissingField("dst_ip")),
    })
}

fn json_doc(text: &str) -> Result<Value, FeedError> {
    serde_json::from_str(text).map_err(|e| FeedError::Json(e.to_string()))
}

pub(super) fn feodo_json(text: &str, c: &mut Collector) -> Result<(), FeedError> {
    let doc = json_doc(text)?;
    let Value::Array(items) = doc else {
        return Err(FeedError::Json("expected an array".into()));
    };
    for (i, item) in items.iter().enumerate() {
        let n = i.saturating_add(1);
        c.line();
        match item.get("ip_address").and_then(Value::as_str) {
            Some(ip) => c.push_or_skip(n, net_indicator(ip), C2),
            None => c.skip(n, SkipReason::MissingField("ip_address")),
        }
    }
    Ok(())
}

pub(super) fn urlhaus_csv(text: &str, c: &mut Collector) -> Result<(), FeedError> {
    const URL: &[&str] = &["url"];
    let label = Label::Threat(ThreatKind::MalwareDistribution);
    for_each_row(text, URL, c, |r, c| match r.get(URL) {
        Some(u) => c.push_or_skip(r.line, url_indicator(u), label),
        None => c.skip(r.line, SkipReason::MissingField("url")),
    })
}

/// ThreatFox's `threat_type` to our kind.
fn threatfox_label(threat_type: Option<&str>) -> Label {
    Label::Threat(match threat_type {
        Some("botnet_cc") => ThreatKind::BotnetC2,
        Some("payload_delivery") => ThreatKind::MalwareDistribution,
        Some("payload") => ThreatKind::Malware,
        _ => ThreatKind::Other,
    })
}

/// ThreatFox IOC value by its `ioc_type`.
fn threatfox_indicator(ioc_type: &str, value: &str) -> Result<Indicator, SkipReason> {
    match ioc_type {
        "ip:port" => {
            // `1.2.3.4:443` or `[2001:db8::1]:443`.
            let host = match value.rsplit_once(':') {
                Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
                _ => value,
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            net_indicator(host)
        }
        "domain" => host_indicator(value),
        "url" => url_indicator(value),
        "sha256_hash" => sha256_indicator(value),
        _ => Err(SkipReason::UnsupportedType),
    }
}

/// One ThreatFox IOC, after the confidence filter.
fn threatfox_ioc(
    line: usize,
    value: Option<&str>,
    ioc_type: Option<&str>,
    threat_type: Option<&str>,
    confidence: Result<u8, SkipReason>,
    min_confidence: u8,
    c: &mut Collector,
) {
    let (Some(value), Some(ioc_type)) = (value, ioc_type) else {
        return c.skip(line, SkipReason::MissingField(if value.is_none() { "ioc_value" } else { "ioc_type" }));
    };
    match confidence {
        Err(e) => return c.skip(line, e),
        Ok(conf) if conf < min_confidence => return c.filtered(),
        Ok(_) => {}
    }
    c.push_or_skip(line, threatfox_indicator(ioc_type, value), threatfox_label(threat_type));
}

fn csv_confidence(r: &Record<'_>) -> Result<u8, SkipReason> {
    r.get(&["confidence_level"])
        .ok_or(SkipReason::MissingField("confidence_level"))?
        .parse::<u8>()
        .map_err(|_| SkipReason::BadConfidence)
}

pub(super) fn threatfox_csv(text: &str, min_confidence: u8, c: &mut Collector) -> Result<(), FeedError> {
    const VALUE: &[&str] = &["ioc_value", "ioc"];
    for_each_row(text, VALUE, c, |r, c| {
        threatfox_ioc(
            r.line,
            r.get(VALUE),
            r.get(&["ioc_type"]),
            r.get(&["threat_type"]),
            csv_confidence(r),
            min_confidence,
            c,
        )
    })
}

fn json_confidence(item: &Value) -> Result<u8, SkipReason> {
    let v = item.get("confidence_level").ok_or(SkipReason::MissingField("confidence_level"))?;
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| u8::try_from(n).ok()).ok_or(SkipReason::BadConfidence)
}

/// Both the full export (`{"<id>": [ {...} ]}`, value in `ioc_value`) and the
/// API answer (`{"query_status": "ok", "data": [ {...} ]}`, value in `ioc`).
pub(super) fn threatfox_json(text: &str, min_confidence: u8, c: &mut Collector) -> Result<(), FeedError> {
    let doc = json_doc(text)?;
    let Value::Object(map) = doc else {
        return Err(FeedError::Json("expected an object".into()));
    };
    let items: Vec<&Value> = match map.get("data") {
        Some(Value::Array(data)) => data.iter().collect(),
        Some(_) => return Err(FeedError::Json("`data` is not an array".into())),
        None => map
            .values()
            .flat_map(|v| match v {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect(),
    };
    for (i, item) in items.into_iter().enumerate() {
        let n = i.saturating_add(1);
        c.line();
        if !item.is_object() {
            c.skip(n, SkipReason::BadJson);
            continue;
        }
        let value = item.get("ioc_value").or_else(|| item.get("ioc")).and_then(Value::as_str);
        threatfox_ioc(
            n,
            value,
            item.get("ioc_type").and_then(Value::as_str),
            item.get("threat_type").and_then(Value::as_str),
            json_confidence(item),
            min_confidence,
            c,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::feeds::{parse_feed, FeedError, FeedFormat, Indicator, SkipReason};
    use crate::label::{Label, ThreatKind};
    use crate::normalize::normalize_url;

    fn fixture(name: &str) -> String {
        let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn net(s: &str) -> Indicator {
        Indicator::Net(s.parse().unwrap())
    }

    #[test]
    fn feodo_csv_by_header() {
        let p = parse_feed(&FeedFormat::FeodoCsv, &fixture("feodo_ipblocklist.csv")).unwrap();
        let got: Vec<_> = p.entries.iter().map(|e| e.indicator.clone()).collect();
        assert_eq!(got, vec![net("51.75.68.161/32"), net("162.243.103.246/32")]);
        assert!(p.entries.iter().all(|e| e.label == Label::Threat(ThreatKind::BotnetC2)));
        assert_eq!(p.skipped_total, 1);
        assert_eq!(p.skipped[0].line, 12);
        assert_eq!(p.skipped[0].reason, SkipReason::InvalidIp);
    }

    #[test]
    fn feodo_csv_with_reordered_columns() {
        let t = "# malware,dst_port,dst_ip\nDridex,443,192.0.2.9\n";
        let p = parse_feed(&FeedFormat::FeodoCsv, t).unwrap();
        assert_eq!(p.entries[0].indicator, net("192.0.2.9/32"));
    }

    #[test]
    fn csv_without_header_fails_whole_feed() {
        let t = "1.2.3.4,443\n";
        assert_eq!(parse_feed(&FeedFormat::FeodoCsv, t), Err(FeedError::MissingHeader("dst_ip")));
    }

    #[test]
    fn feodo_json() {
        let p = parse_feed(&FeedFormat::FeodoJson, &fixture("feodo_ipblocklist.json")).unwrap();
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.skipped[0].line, 3);
        assert_eq!(p.skipped[0].reason, SkipReason::MissingField("ip_address"));
        assert!(matches!(parse_feed(&FeedFormat::FeodoJson, "{}"), Err(FeedError::Json(_))));
        assert!(matches!(parse_feed(&FeedFormat::FeodoJson, "[{"), Err(FeedError::Json(_))));
    }

    #[test]
    fn urlhaus_csv_normalizes_urls() {
        let p = parse_feed(&FeedFormat::UrlhausCsv, &fixture("urlhaus.csv")).unwrap();
        let urls: Vec<String> = p
            .entries
            .iter()
            .map(|e| match &e.indicator {
                Indicator::Url(u) => u.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            urls,
            vec!["http://117.201.4.95:59375/bin.sh", "https://invoice-docs.example/Download/~invoice.zip"]
        );
        assert_eq!(p.entries[0].label, Label::Threat(ThreatKind::MalwareDistribution));
        assert_eq!(p.skipped_total, 2);
        assert_eq!(p.skipped.iter().map(|s| s.line).collect::<Vec<_>>(), vec![12, 13]);
    }

    #[test]
    fn threatfox_csv_types_and_confidence() {
        let p = parse_feed(&FeedFormat::ThreatfoxCsv { min_confidence: 75 }, &fixture("threatfox.csv")).unwrap();
        let expect = vec![
            (net("45.95.147.236/32"), ThreatKind::BotnetC2),
            (Indicator::Domain("c2-panel.example".into()), ThreatKind::BotnetC2),
            (
                Indicator::Url(normalize_url("http://drop.example/payload.exe").unwrap()),
                ThreatKind::MalwareDistribution,
            ),
            (
                crate::feeds::sha256_indicator("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                    .unwrap(),
                ThreatKind::Malware,
            ),
            (net("2001:db8::66/128"), ThreatKind::BotnetC2),
        ];
        let got: Vec<_> = p
            .entries
            .iter()
            .map(|e| {
                (
                    e.indicator.clone(),
                    match e.label {
                        Label::Threat(t) => t,
                        _ => panic!(),
                    },
                )
            })
            .collect();
        assert_eq!(got, expect);
        assert_eq!(p.filtered, 1, "confidence 25 must be filtered");
        let reasons: Vec<_> = p.skipped.iter().map(|s| (s.line, s.reason.clone())).collect();
        assert_eq!(reasons, vec![(15, SkipReason::UnsupportedType), (17, SkipReason::BadConfidence)]);

        let strict = parse_feed(&FeedFormat::ThreatfoxCsv { min_confidence: 100 }, &fixture("threatfox.csv")).unwrap();
        assert_eq!(strict.entries.len(), 3);
        assert_eq!(strict.filtered, 3);
    }

    #[test]
    fn threatfox_json_export_and_api() {
        let p =
            parse_feed(&FeedFormat::ThreatfoxJson { min_confidence: 75 }, &fixture("threatfox_export.json")).unwrap();
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.filtered, 1);
        assert_eq!(p.skipped_total, 1);
        assert_eq!(p.skipped[0].reason, SkipReason::MissingField("ioc_value"));

        let p = parse_feed(&FeedFormat::ThreatfoxJson { min_confidence: 75 }, &fixture("threatfox_api.json")).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].indicator, net("45.95.147.236/32"));
        assert_eq!(p.filtered, 1);
        let p = parse_feed(&FeedFormat::ThreatfoxJson { min_confidence: 0 }, &fixture("threatfox_api.json")).unwrap();
        assert_eq!(p.entries.len(), 2);
    }
}
