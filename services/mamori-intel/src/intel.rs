//! The loaded intelligence: every matcher of one bundle, and the lookups
//! the engine calls per DNS name, SNI, HTTP request, IP and file hash.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::feeds::{Indicator, ParsedFeed};
use crate::label::Label;
use crate::matcher::{Code, DomainSet, HashSet256, IpSet, Postings, PostingsBuilder, UrlSet};
use crate::normalize::{normalize_domain, normalize_url};
use crate::policy::{Action, Policy};
use crate::verdict::{IndicatorKind, Match, Verdict};

/// Matches reported per lookup at most; a name on more lists than this is
/// blocked or logged all the same.
pub const MAX_MATCHES: usize = 16;

/// One list inside a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    pub entries: usize,
    pub skipped: usize,
    pub filtered: usize,
}

/// A (list, meaning) pair; label ids index these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct LabelEntry {
    pub(crate) source: u32,
    pub(crate) label: Label,
}

/// Sizes of the matchers, for capacity planning and the benchmark doc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IntelStats {
    pub domains: usize,
    pub domain_bytes: usize,
    pub urls: usize,
    pub url_bytes: usize,
    pub networks: usize,
    pub network_bytes: usize,
    pub hashes: usize,
    pub hash_bytes: usize,
    pub posting_bytes: usize,
}

/// Compiled, read-only intelligence. Cheap to query from many threads.
#[derive(Clone, Debug, Default)]
pub struct Intel {
    pub(crate) version: u64,
    pub(crate) created_unix: i64,
    pub(crate) sources: Vec<SourceInfo>,
    pub(crate) source_names: Vec<Arc<str>>,
    pub(crate) labels: Vec<LabelEntry>,
    pub(crate) postings: Postings,
    pub(crate) domains: DomainSet,
    pub(crate) urls: UrlSet,
    pub(crate) ips: IpSet,
    pub(crate) hashes: HashSet256,
    pub(crate) app_signatures: Vec<u8>,
    pub(crate) rules: String,
}

/// A raw hit before the policy is applied.
struct Hit {
    kind: IndicatorKind,
    matched: String,
    code: Code,
    /// Longer = more specific (suffix length, prefix length).
    specificity: usize,
}

#[derive(Default)]
struct Groups {
    domains: HashMap<String, Vec<u32>>,
    url_exact: HashMap<String, Vec<u32>>,
    url_prefix: HashMap<String, Vec<u32>>,
    nets: HashMap<IpNet, Vec<u32>>,
    hashes: HashMap<[u8; 32], Vec<u32>>,
}

impl Intel {
    /// Compiles parsed feeds into matchers. `sources` pairs a list name with
    /// what its parser produced; names must be unique (checked by the
    /// builder).
    pub(crate) fn compile(sources: &[(String, ParsedFeed)], app_signatures: Vec<u8>, rules: String) -> Intel {
        let mut label_ids: HashMap<LabelEntry, u32> = HashMap::new();
        let mut labels: Vec<LabelEntry> = Vec::new();
        let mut g = Groups::default();
        for (si, (_, feed)) in sources.iter().enumerate() {
            let source = u32::try_from(si).unwrap_or(u32::MAX);
            for e in &feed.entries {
                let le = LabelEntry { source, label: e.label };
                let id = *label_ids.entry(le).or_insert_with(|| {
                    labels.push(le);
                    u32::try_from(labels.len().saturating_sub(1)).unwrap_or(u32::MAX)
                });
                let slot = match &e.indicator {
                    Indicator::Domain(d) => g.domains.entry(d.clone()).or_default(),
                    Indicator::Url(u) => g.url_exact.entry(u.key().to_owned()).or_default(),
                    Indicator::UrlPrefix(u) => g.url_prefix.entry(u.key().to_owned()).or_default(),
                    Indicator::Net(n) => g.nets.entry(n.trunc()).or_default(),
                    Indicator::Sha256(h) => g.hashes.entry(*h).or_default(),
                };
                slot.push(id);
            }
        }
        let mut pb = PostingsBuilder::default();
        let domains = g.domains.into_iter().map(|(k, ids)| (k, pb.code(&ids))).collect();
        let exact = g.url_exact.into_iter().map(|(k, ids)| (k, pb.code(&ids))).collect();
        let prefix = g.url_prefix.into_iter().map(|(k, ids)| (k, pb.code(&ids))).collect();
        let nets = g.nets.into_iter().map(|(k, ids)| (k, pb.code(&ids))).collect();
        let hashes = g.hashes.into_iter().map(|(k, ids)| (k, pb.code(&ids))).collect();
        Intel {
            version: 0,
            created_unix: 0,
            sources: sources
                .iter()
                .map(|(name, f)| SourceInfo {
                    name: name.clone(),
                    entries: f.entries.len(),
                    skipped: f.skipped_total,
                    filtered: f.filtered,
                })
                .collect(),
            source_names: sources.iter().map(|(n, _)| Arc::from(n.as_str())).collect(),
            labels,
            domains: DomainSet::build(domains),
            urls: UrlSet::build(exact, prefix),
            ips: IpSet::build(nets),
            hashes: HashSet256::build(hashes),
            postings: pb.finish(),
            app_signatures,
            rules,
        }
    }

    /// The bundle version this was loaded from (0 when compiled in memory).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn created_unix(&self) -> i64 {
        self.created_unix
    }

    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    /// App signatures section, opaque to this crate.
    pub fn app_signatures(&self) -> &[u8] {
        &self.app_signatures
    }

    /// Rules section, opaque to this crate.
    pub fn rules(&self) -> &str {
        &self.rules
    }

    pub fn stats(&self) -> IntelStats {
        IntelStats {
            domains: self.domains.len(),
            domain_bytes: self.domains.heap_bytes(),
            urls: self.urls.len(),
            url_bytes: self.urls.heap_bytes(),
            networks: self.ips.len(),
            network_bytes: self.ips.heap_bytes(),
            hashes: self.hashes.len(),
            hash_bytes: self.hashes.heap_bytes(),
            posting_bytes: self.postings.heap_bytes(),
        }
    }

    /// A DNS query or answer name, TLS/QUIC SNI or HTTP Host. An IP
    /// literal (a Host header or SNI naming an address) is looked up as an
    /// address.
    pub fn lookup_domain(&self, name: &str, policy: &Policy) -> Option<Verdict> {
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.lookup_ip(ip, policy);
        }
        let owned;
        let name = if name.is_ascii() {
            name.strip_suffix('.').unwrap_or(name)
        } else {
            owned = normalize_domain(name).ok()?;
            owned.as_str()
        };
        let mut hits = Vec::new();
        self.domain_hits(name, &mut hits);
        if hits.is_empty() {
            return None;
        }
        let allowed = policy.allowlist.allows_domain(name);
        Some(self.verdict(hits, allowed, policy))
    }

    fn domain_hits(&self, name: &str, hits: &mut Vec<Hit>) {
        self.domains.for_each_suffix(name, |start, code| {
            let suffix = name.get(start..).unwrap_or("");
            hits.push(Hit {
                kind: IndicatorKind::Domain,
                matched: suffix.to_ascii_lowercase(),
                code,
                specificity: suffix.len(),
            });
        });
    }

    /// A full URL (`http://host/path?query`). The URL's host is looked up as
    /// a domain (or IP) as well, so a listed domain blocks all its URLs.
    pub fn lookup_url(&self, url: &str, policy: &Policy) -> Option<Verdict> {
        let u = normalize_url(url).ok()?;
        let mut hits = Vec::new();
        self.urls.for_each_match(u.key(), |len, code| {
            hits.push(Hit {
                kind: IndicatorKind::Url,
                matched: u.key().get(..len).unwrap_or("").to_owned(),
                code,
                // URL entries are more specific than any domain entry.
                specificity: len.saturating_add(1000),
            });
        });
        let host = u.host();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let host_ip = bare.parse::<IpAddr>().ok();
        match host_ip {
            Some(ip) => self.ip_hits(ip, &mut hits),
            None => self.domain_hits(host, &mut hits),
        }
        if hits.is_empty() {
            return None;
        }
        let allowed =
            policy.allowlist.allows_url_key(u.key(), host) || host_ip.is_some_and(|ip| policy.allowlist.allows_ip(ip));
        Some(self.verdict(hits, allowed, policy))
    }

    /// An HTTP request: `Host` header and request target (origin form
    /// `/path?q` or absolute form `http://host/path`).
    pub fn lookup_http(&self, host: &str, target: &str, policy: &Policy) -> Option<Verdict> {
        if target.starts_with('/') {
            self.lookup_url(&format!("http://{host}{target}"), policy)
        } else if target.contains("://") {
            self.lookup_url(target, policy)
        } else {
            self.lookup_url(&format!("http://{host}/"), policy)
        }
    }

    /// The listed networks this policy blocks, for the firewall's sets (a
    /// network on the allowlist, or whose labels only log, is left out).
    pub fn blocked_networks(&self, policy: &Policy) -> Vec<ipnet::IpNet> {
        self.ips
            .networks()
            .filter(|net| {
                self.lookup_ip(net.network(), policy).is_some_and(|v| {
                    v.is_block()
                        && v.matches.iter().any(|m| m.kind == IndicatorKind::Ip && m.matched == net.to_string())
                })
            })
            .collect()
    }

    /// A flow's remote address, or an address from a DNS answer.
    pub fn lookup_ip(&self, ip: IpAddr, policy: &Policy) -> Option<Verdict> {
        let mut hits = Vec::new();
        self.ip_hits(ip, &mut hits);
        if hits.is_empty() {
            return None;
        }
        let allowed = policy.allowlist.allows_ip(ip);
        Some(self.verdict(hits, allowed, policy))
    }

    fn ip_hits(&self, ip: IpAddr, hits: &mut Vec<Hit>) {
        self.ips.for_each_match(ip, |net, code| {
            hits.push(Hit {
                kind: IndicatorKind::Ip,
                matched: net.to_string(),
                code,
                specificity: usize::from(net.prefix_len()),
            })
        });
    }

    /// A file's SHA-256 (from the file sinks).
    pub fn lookup_sha256(&self, hash: &[u8; 32], policy: &Policy) -> Option<Verdict> {
        let code = self.hashes.get(hash)?;
        let hits = vec![Hit { kind: IndicatorKind::Sha256, matched: hex::encode(hash), code, specificity: 32 }];
        Some(self.verdict(hits, false, policy))
    }

    fn verdict(&self, hits: Vec<Hit>, allowlisted: bool, policy: &Policy) -> Verdict {
        // (is threat, specificity, source index, match)
        let mut ranked: Vec<(bool, usize, u32, Match)> = Vec::new();
        for h in hits {
            for id in self.postings.ids(h.code) {
                let Some(le) = usize::try_from(id).ok().and_then(|i| self.labels.get(i)) else { continue };
                let list = usize::try_from(le.source)
                    .ok()
                    .and_then(|i| self.source_names.get(i))
                    .cloned()
                    .unwrap_or_else(|| Arc::from("?"));
                let action = if allowlisted { Action::Allow } else { policy.action_for(le.label) };
                let m = Match { kind: h.kind, matched: h.matched.clone(), list, label: le.label, action };
                ranked.push((le.label.is_threat(), h.specificity, le.source, m));
            }
        }
        // Threats first; then the one category that describes the access:
        // the most specific entry (news.yahoo.co.jp is News although
        // yahoo.co.jp is Portal), and on a tie the source added last, so a
        // curated list (the Japanese supplement says 5ch is a forum) corrects
        // a bulk one (UT1 files it under games).
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
        let mut seen_category = false;
        ranked.retain(|r| {
            if r.0 {
                return true;
            }
            let keep = !seen_category;
            seen_category = true;
            keep
        });
        ranked.truncate(MAX_MATCHES);
        let matches: Vec<Match> = ranked.into_iter().map(|(_, _, _, m)| m).collect();
        let action =
            if allowlisted { Action::Allow } else { matches.iter().map(|m| m.action).max().unwrap_or(Action::Log) };
        Verdict { action, allowlisted, matches }
    }
}
