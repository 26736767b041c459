//! The bundle's sections and how the matchers are written into them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::container::Section;
use super::BundleError;
use crate::intel::{Intel, LabelEntry, SourceInfo};
use crate::matcher::{DecodeError, DomainSet, HashSet256, IpSet, Postings, UrlSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
enum Kind {
    Meta = 1,
    Domains = 2,
    UrlExact = 3,
    UrlPrefix = 4,
    Ips = 5,
    Hashes = 6,
    Postings = 7,
    AppSignatures = 8,
    Rules = 9,
}

/// Lists and label table, as JSON: small, and readable when debugging.
#[derive(Serialize, Deserialize)]
struct Meta {
    sources: Vec<SourceInfo>,
    labels: Vec<LabelEntry>,
}

pub(super) fn encode(intel: &Intel) -> Vec<(u16, Vec<u8>)> {
    let meta = Meta { sources: intel.sources.clone(), labels: intel.labels.clone() };
    // Serializing plain structs of strings and numbers cannot fail.
    let meta = serde_json::to_vec(&meta).unwrap_or_default();
    let mut ips = Vec::new();
    intel.ips.encode(&mut ips);
    let mut hashes = Vec::new();
    intel.hashes.encode(&mut hashes);
    let mut postings = Vec::new();
    intel.postings.encode(&mut postings);
    vec![
        (Kind::Meta as u16, meta),
        (Kind::Domains as u16, intel.domains.as_bytes().to_vec()),
        (Kind::UrlExact as u16, intel.urls.exact_bytes().to_vec()),
        (Kind::UrlPrefix as u16, intel.urls.prefix_bytes().to_vec()),
        (Kind::Ips as u16, ips),
        (Kind::Hashes as u16, hashes),
        (Kind::Postings as u16, postings),
        (Kind::AppSignatures as u16, intel.app_signatures.clone()),
        (Kind::Rules as u16, intel.rules.as_bytes().to_vec()),
    ]
}

fn find<'a>(secs: &'a [Section<'a>], kind: Kind, name: &'static str) -> Result<&'a [u8], BundleError> {
    secs.iter().find(|s| s.kind == kind as u16).map(|s| s.data).ok_or(BundleError::MissingSection(name))
}

/// Rebuilds the matchers. Unknown section kinds are ignored so that a newer
/// builder may add optional sections.
pub(super) fn decode(secs: &[Section<'_>]) -> Result<Intel, BundleError> {
    let meta: Meta =
        serde_json::from_slice(find(secs, Kind::Meta, "meta")?).map_err(|_| DecodeError::Malformed("meta"))?;
    let domains = DomainSet::from_bytes(find(secs, Kind::Domains, "domains")?.to_vec())?;
    let urls = UrlSet::from_bytes(
        find(secs, Kind::UrlExact, "url_exact")?.to_vec(),
        find(secs, Kind::UrlPrefix, "url_prefix")?.to_vec(),
    )?;
    let ips = IpSet::decode(find(secs, Kind::Ips, "ips")?)?;
    let hashes = HashSet256::decode(find(secs, Kind::Hashes, "hashes")?)?;
    let postings = Postings::decode(find(secs, Kind::Postings, "postings")?)?;
    let app_signatures = find(secs, Kind::AppSignatures, "app_signatures").map(<[u8]>::to_vec).unwrap_or_default();
    let rules = match find(secs, Kind::Rules, "rules") {
        Ok(b) => String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Malformed("rules"))?,
        Err(_) => String::new(),
    };
    let source_names = meta.sources.iter().map(|s| Arc::from(s.name.as_str())).collect();
    Ok(Intel {
        version: 0,
        created_unix: 0,
        sources: meta.sources,
        source_names,
        labels: meta.labels,
        postings,
        domains,
        urls,
        ips,
        hashes,
        app_signatures,
        rules,
    })
}
