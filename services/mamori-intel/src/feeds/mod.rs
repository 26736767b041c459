//! Parsers for the published feed formats.
//!
//! Every parser is text in, entries out: no files, no network. Bad lines are
//! skipped and counted with their line number and a reason, so a build
//! report can say why a list shrank. A whole feed fails only when it cannot
//! be read at all (no header where one is required, unreadable JSON).

mod abusech;
mod csv;
mod own;
mod phish;
mod plain;
mod spamhaus;
mod ut1;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::Serialize;

use crate::label::Label;
use crate::normalize::{normalize_host, normalize_url, Host, NormUrl, NormalizeError};

pub use own::OWN_FORMAT_DOC;
pub use ut1::ut1_meaning_label;

/// How many skipped lines are kept with details; the rest are only counted.
pub const MAX_SKIP_DETAILS: usize = 1000;

/// ThreatFox confidence threshold when none is configured.
pub const DEFAULT_MIN_CONFIDENCE: u8 = 75;

/// A listed indicator in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Indicator {
    /// Matches the name and every name below it.
    Domain(String),
    /// Matches this exact normalized URL.
    Url(NormUrl),
    /// Matches this URL and everything under it (UT1 `urls` semantics).
    UrlPrefix(NormUrl),
    /// An address or network.
    Net(IpNet),
    Sha256([u8; 32]),
}

/// One indicator with its meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub indicator: Indicator,
    pub label: Label,
}

/// The formats we read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    /// abuse.ch Feodo Tracker `ipblocklist.txt`: one IP a line.
    FeodoTxt,
    /// Feodo Tracker `ipblocklist.csv` (`dst_ip` column).
    FeodoCsv,
    /// Feodo Tracker `ipblocklist.json` (array of objects with `ip_address`).
    FeodoJson,
    /// URLhaus CSV dump (`url` column, header in a `#` comment).
    UrlhausCsv,
    /// URLhaus hostfile: `127.0.0.1<TAB>host`.
    UrlhausHostfile,
    /// ThreatFox CSV export, keeping IOCs with `confidence_level >= min_confidence`.
    ThreatfoxCsv { min_confidence: u8 },
    /// ThreatFox JSON export (object of arrays) or API answer (`data` array).
    ThreatfoxJson { min_confidence: u8 },
    /// MalwareBazaar SHA-256 list: one hash a line.
    MalwareBazaarSha256,
    /// Spamhaus DROP v4/v6 NDJSON (`cidr`, `sblid`).
    SpamhausDropJson,
    /// Legacy Spamhaus DROP text: `cidr ; SBLnnn`, `;` comments.
    SpamhausDropTxt,
    /// Emerging Threats `compromised-ips.txt`.
    EtCompromised,
    /// Emerging Threats `emerging-Block-IPs.txt` (IPs and CIDRs).
    EtBlock,
    /// OpenPhish `feed.txt`: one URL a line.
    OpenPhish,
    /// PhishTank `online-valid.csv` (header line with `url`).
    PhishTankCsv,
    /// A UT1 folder's `domains` file; the folder name gives the meaning.
    Ut1Domains { label: Label },
    /// A UT1 folder's `urls` file (prefix entries).
    Ut1Urls { label: Label },
    /// Our own list format (see [`OWN_FORMAT_DOC`]); `default` labels lines
    /// without one.
    Own { default: Option<Label> },
}

/// Error for a format name that we do not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown feed format {0:?}")]
pub struct UnknownFormat(pub String);

impl FromStr for FeedFormat {
    type Err = UnknownFormat;

    /// Names used on the command line: `feodo-txt`, `threatfox-csv@90`,
    /// `ut1-domains@games`, `mamori@category:forum`, ...
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match s.split_once('@') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let bad = || UnknownFormat(s.to_owned());
        let confidence = || -> Result<u8, UnknownFormat> {
            match arg {
                Some(a) => a.parse::<u8>().ok().filter(|v| *v <= 100).ok_or_else(bad),
                None => Ok(DEFAULT_MIN_CONFIDENCE),
            }
        };
        let ut1_label = || -> Result<Label, UnknownFormat> {
            arg.and_then(|a| ut1_meaning_label(a).or_else(|| Label::parse(a))).ok_or_else(bad)
        };
        Ok(match name {
            "feodo-txt" => FeedFormat::FeodoTxt,
            "feodo-csv" => FeedFormat::FeodoCsv,
            "feodo-json" => FeedFormat::FeodoJson,
            "urlhaus-csv" => FeedFormat::UrlhausCsv,
            "urlhaus-hostfile" => FeedFormat::UrlhausHostfile,
            "threatfox-csv" => FeedFormat::ThreatfoxCsv { min_confidence: confidence()? },
            "threatfox-json" => FeedFormat::ThreatfoxJson { min_confidence: confidence()? },
            "malwarebazaar-sha256" => FeedFormat::MalwareBazaarSha256,
            "spamhaus-drop-json" => FeedFormat::SpamhausDropJson,
            "spamhaus-drop-txt" => FeedFormat::SpamhausDropTxt,
            "et-compromised" => FeedFormat::EtCompromised,
            "et-block" => FeedFormat::EtBlock,
            "openphish" => FeedFormat::OpenPhish,
            "phishtank-csv" => FeedFormat::PhishTankCsv,
            "ut1-domains" => FeedFormat::Ut1Domains { label: ut1_label()? },
            "ut1-urls" => FeedFormat::Ut1Urls { label: ut1_label()? },
            "mamori" => FeedFormat::Own {
                default: match arg {
                    Some(a) => Some(Label::parse(a).ok_or_else(bad)?),
                    None => None,
                },
            },
            _ => return Err(bad()),
        })
    }
}

/// Why a line was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    #[error("invalid domain: {0}")]
    InvalidDomain(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("invalid IP address or network")]
    InvalidIp,
    #[error("invalid SHA-256")]
    InvalidHash,
    #[error("missing field {0}")]
    MissingField(&'static str),
    #[error("unsupported IOC type")]
    UnsupportedType,
    #[error("unparsable confidence level")]
    BadConfidence,
    #[error("data line before the header")]
    BeforeHeader,
    #[error("unbalanced quotes")]
    BadCsv,
    #[error("invalid JSON")]
    BadJson,
    #[error("unknown label")]
    UnknownLabel,
    #[error("unknown entry type")]
    UnknownType,
}

impl From<NormalizeError> for SkipReason {
    fn from(e: NormalizeError) -> Self {
        SkipReason::InvalidDomain(e.to_string())
    }
}

/// A skipped line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// 1-based line number (entry number for JSON arrays).
    pub line: usize,
    pub reason: SkipReason,
}

/// The feed could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("no header line with column {0:?}")]
    MissingHeader(&'static str),
    #[error("not a JSON document of the expected shape: {0}")]
    Json(String),
}

/// What a parser produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedFeed {
    pub entries: Vec<Entry>,
    /// The first [`MAX_SKIP_DETAILS`] skipped lines.
    pub skipped: Vec<Skipped>,
    /// All skipped lines, including those beyond the details kept.
    pub skipped_total: usize,
    /// Entries dropped on purpose (below the confidence threshold, offline).
    pub filtered: usize,
    /// Lines (or JSON records) read.
    pub lines: usize,
}

impl fmt::Display for ParsedFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} entries, {} skipped, {} filtered, {} lines",
            self.entries.len(),
            self.skipped_total,
            self.filtered,
            self.lines
        )
    }
}

/// Accumulates entries and skips for one feed.
#[derive(Default)]
pub(crate) struct Collector {
    out: ParsedFeed,
}

impl Collector {
    pub(crate) fn push(&mut self, indicator: Indicator, label: Label) {
        self.out.entries.push(Entry { indicator, label });
    }

    pub(crate) fn skip(&mut self, line: usize, reason: SkipReason) {
        self.out.skipped_total = self.out.skipped_total.saturating_add(1);
        if self.out.skipped.len() < MAX_SKIP_DETAILS {
            self.out.skipped.push(Skipped { line, reason });
        }
    }

    pub(crate) fn filtered(&mut self) {
        self.out.filtered = self.out.filtered.saturating_add(1);
    }

    pub(crate) fn line(&mut self) {
        self.out.lines = self.out.lines.saturating_add(1);
    }

    pub(crate) fn push_or_skip(&mut self, line: usize, r: Result<Indicator, SkipReason>, label: Label) {
        match r {
            Ok(i) => self.push(i, label),
            Err(e) => self.skip(line, e),
        }
    }

    pub(crate) fn finish(self) -> ParsedFeed {
        self.out
    }
}

/// Parses one feed.
pub fn parse_feed(format: &FeedFormat, text: &str) -> Result<ParsedFeed, FeedError> {
    let mut c = Collector::default();
    match format {
        FeedFormat::FeodoTxt => plain::feodo_txt(text, &mut c),
        FeedFormat::FeodoCsv => abusech::feodo_csv(text, &mut c)?,
        FeedFormat::FeodoJson => abusech::feodo_json(text, &mut c)?,
        FeedFormat::UrlhausCsv => abusech::urlhaus_csv(text, &mut c)?,
        FeedFormat::UrlhausHostfile => plain::urlhaus_hostfile(text, &mut c),
        FeedFormat::ThreatfoxCsv { min_confidence } => abusech::threatfox_csv(text, *min_confidence, &mut c)?,
        FeedFormat::ThreatfoxJson { min_confidence } => abusech::threatfox_json(text, *min_confidence, &mut c)?,
        FeedFormat::MalwareBazaarSha256 => plain::sha256_list(text, &mut c),
        FeedFormat::SpamhausDropJson => spamhaus::drop_json(text, &mut c),
        FeedFormat::SpamhausDropTxt => spamhaus::drop_txt(text, &mut c),
        FeedFormat::EtCompromised => plain::et(text, crate::label::ThreatKind::Compromised, &mut c),
        FeedFormat::EtBlock => plain::et(text, crate::label::ThreatKind::Compromised, &mut c),
        FeedFormat::OpenPhish => phish::openphish(text, &mut c),
        FeedFormat::PhishTankCsv => phish::phishtank_csv(text, &mut c)?,
        FeedFormat::Ut1Domains { label } => ut1::domains(text, *label, &mut c),
        FeedFormat::Ut1Urls { label } => ut1::urls(text, *label, &mut c),
        FeedFormat::Own { default } => own::parse(text, *default, &mut c),
    }
    Ok(c.finish())
}

/// A host (domain or IP literal) as an indicator.
pub(crate) fn host_indicator(s: &str) -> Result<Indicator, SkipReason> {
    match normalize_host(s)? {
        Host::Domain(d) => Ok(Indicator::Domain(d)),
        Host::Ip(ip) => Ok(Indicator::Net(IpNet::from(ip))),
    }
}

/// An IP address or CIDR network. Host bits set in a CIDR are cleared, as
/// firewalls do.
pub(crate) fn net_indicator(s: &str) -> Result<Indicator, SkipReason> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Indicator::Net(IpNet::from(ip)));
    }
    s.parse::<IpNet>().map(|n| Indicator::Net(n.trunc())).map_err(|_| SkipReason::InvalidIp)
}

pub(crate) fn url_indicator(s: &str) -> Result<Indicator, SkipReason> {
    normalize_url(s).map(Indicator::Url).map_err(|e| SkipReason::InvalidUrl(e.to_string()))
}

pub(crate) fn sha256_indicator(s: &str) -> Result<Indicator, SkipReason> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).map_err(|_| SkipReason::InvalidHash)?;
    Ok(Indicator::Sha256(out))
}

/// Lines that carry data: not blank, not a comment starting with `comment`.
pub(crate) fn data_lines<'a>(text: &'a str, comment: &'a [char]) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    text.lines().enumerate().filter_map(move |(i, l)| {
        let t = l.trim();
        if t.is_empty() || t.starts_with(comment) {
            None
        } else {
            Some((i.saturating_add(1), t))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::label::ThreatKind;

    #[test]
    fn format_names() {
        assert_eq!("feodo-txt".parse(), Ok(FeedFormat::FeodoTxt));
        assert_eq!("threatfox-csv".parse(), Ok(FeedFormat::ThreatfoxCsv { min_confidence: 75 }));
        assert_eq!("threatfox-json@100".parse(), Ok(FeedFormat::ThreatfoxJson { min_confidence: 100 }));
        assert!("threatfox-json@101".parse::<FeedFormat>().is_err());
        assert_eq!(
            "ut1-domains@social_networks".parse(),
            Ok(FeedFormat::Ut1Domains { label: Label::Category(Category::Sns) })
        );
        assert_eq!("ut1-urls@phishing".parse(), Ok(FeedFormat::Ut1Urls { label: Label::Threat(ThreatKind::Phishing) }));
        assert_eq!(
            "mamori@category:forum".parse(),
            Ok(FeedFormat::Own { default: Some(Label::Category(Category::Forum)) })
        );
        assert!("nonsense".parse::<FeedFormat>().is_err());
        assert!("ut1-domains".parse::<FeedFormat>().is_err());
    }

    #[test]
    fn skip_details_are_bounded_but_counted() {
        let text = "x\n".repeat(MAX_SKIP_DETAILS + 5);
        let p = parse_feed(&FeedFormat::FeodoTxt, &text).unwrap();
        assert_eq!(p.skipped.len(), MAX_SKIP_DETAILS);
        assert_eq!(p.skipped_total, MAX_SKIP_DETAILS + 5);
        assert!(p.entries.is_empty());
    }

    #[test]
    fn cidr_host_bits_cleared() {
        assert_eq!(net_indicator("192.0.2.77/24"), Ok(Indicator::Net("192.0.2.0/24".parse().unwrap())));
        assert_eq!(net_indicator("2001:db8::1"), Ok(Indicator::Net("2001:db8::1/128".parse().unwrap())));
        assert_eq!(net_indicator("300.1.1.1"), Err(SkipReason::InvalidIp));
    }
}
