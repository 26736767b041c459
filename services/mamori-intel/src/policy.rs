//! What to do with a match: the customer's choices.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::label::{Label, ThreatKind};
use crate::matcher::{DomainSet, IpSet, UrlSet};
use crate::normalize::{normalize_domain, normalize_url};

/// The action configured for a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// On the customer's allowlist: never blocked, whatever the lists say.
    Allow,
    /// Recorded for reports, traffic passes.
    Log,
    /// Stopped (sinkhole/NXDOMAIN, block page, reset, firewall set).
    Block,
}

/// Per-customer policy. Malicious indicators block by default, categories
/// only log by default; the allowlist wins over every list.
#[derive(Clone, Debug)]
pub struct Policy {
    pub malicious: Action,
    pub threat_overrides: BTreeMap<ThreatKind, Action>,
    pub categories: BTreeMap<Category, Action>,
    pub allowlist: Allowlist,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            malicious: Action::Block,
            threat_overrides: BTreeMap::new(),
            categories: BTreeMap::new(),
            allowlist: Allowlist::default(),
        }
    }
}

impl Policy {
    /// The configured action for a label (allowlist not considered).
    pub fn action_for(&self, label: Label) -> Action {
        match label {
            Label::Threat(t) => self.threat_overrides.get(&t).copied().unwrap_or(self.malicious),
            Label::Category(c) => self.categories.get(&c).copied().unwrap_or(Action::Log),
        }
    }

    /// Sets a category to block (or back to log).
    pub fn set_category(&mut self, c: Category, a: Action) {
        self.categories.insert(c, a);
    }
}

/// The serialisable form of [`Policy`] (config files).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    pub malicious: Option<Action>,
    pub threats: BTreeMap<ThreatKind, Action>,
    pub categories: BTreeMap<Category, Action>,
    pub allowlist: AllowlistConfig,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllowlistConfig {
    pub domains: Vec<String>,
    pub urls: Vec<String>,
    pub ips: Vec<String>,
}

/// An allowlist entry that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("allowlist entry {entry:?}: {reason}")]
pub struct AllowlistError {
    pub entry: String,
    pub reason: String,
}

impl TryFrom<PolicyConfig> for Policy {
    type Error = AllowlistError;
    fn try_from(c: PolicyConfig) -> Result<Policy, AllowlistError> {
        Ok(Policy {
            malicious: c.malicious.unwrap_or(Action::Block),
            threat_overrides: c.threats,
            categories: c.categories,
            allowlist: Allowlist::new(&c.allowlist)?,
        })
    }
}

/// The customer's own "never block" list: domains (with everything below
/// them), URL prefixes and networks.
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    domains: DomainSet,
    urls: UrlSet,
    ips: IpSet,
}

impl Allowlist {
    pub fn new(c: &AllowlistConfig) -> Result<Allowlist, AllowlistError> {
        let err = |entry: &str, reason: String| AllowlistError { entry: entry.to_owned(), reason };
        let mut domains = Vec::new();
        for d in &c.domains {
            domains.push((normalize_domain(d).map_err(|e| err(d, e.to_string()))?, 0));
        }
        let mut urls = Vec::new();
        for u in &c.urls {
            urls.push((normalize_url(u).map_err(|e| err(u, e.to_string()))?.key().to_owned(), 0));
        }
        let mut ips = Vec::new();
        for i in &c.ips {
            let net = match i.parse::<IpAddr>() {
                Ok(a) => ipnet::IpNet::from(a),
                Err(_) => i.parse::<ipnet::IpNet>().map_err(|e| err(i, e.to_string()))?,
            };
            ips.push((net, 0));
        }
        Ok(Allowlist {
            domains: DomainSet::build(domains),
            urls: UrlSet::build(Vec::new(), urls),
            ips: IpSet::build(ips),
        })
    }

    /// `name` must be ASCII (callers normalize IDNs first).
    pub fn allows_domain(&self, name: &str) -> bool {
        let mut hit = false;
        self.domains.for_each_suffix(name, |_, _| hit = true);
        hit
    }

    /// `key` is a [`crate::NormUrl::key`]; the URL's host is checked too.
    pub fn allows_url_key(&self, key: &str, host: &str) -> bool {
        let mut hit = false;
        self.urls.for_each_match(key, |_, _| hit = true);
        hit || self.allows_domain(host)
    }

    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let mut hit = false;
        self.ips.for_each_match(ip, |_, _| hit = true);
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_block_threats_log_categories() {
        let mut p = Policy::default();
        assert_eq!(p.action_for(Label::Threat(ThreatKind::Phishing)), Action::Block);
        assert_eq!(p.action_for(Label::Category(Category::Games)), Action::Log);
        p.set_category(Category::Games, Action::Block);
        assert_eq!(p.action_for(Label::Category(Category::Games)), Action::Block);
        p.threat_overrides.insert(ThreatKind::Compromised, Action::Log);
        assert_eq!(p.action_for(Label::Threat(ThreatKind::Compromised)), Action::Log);
    }

    #[test]
    fn config_round_trip_and_allowlist() {
        let json = r#"{"categories":{"games":"block"},"allowlist":{"domains":["Partner.example"],
            "urls":["http://intranet.example/app"],"ips":["192.0.2.0/24","2001:db8::1"]}}"#;
        let c: PolicyConfig = serde_json::from_str(json).unwrap();
        let p = Policy::try_from(c).unwrap();
        assert_eq!(p.action_for(Label::Category(Category::Games)), Action::Block);
        assert!(p.allowlist.allows_domain("www.partner.example"));
        assert!(!p.allowlist.allows_domain("notpartner.example"));
        assert!(p.allowlist.allows_url_key("intranet.example/app/x", "intranet.example"));
        assert!(!p.allowlist.allows_url_key("intranet.example/other", "intranet.example"));
        assert!(p.allowlist.allows_ip("192.0.2.200".parse().unwrap()));
        assert!(p.allowlist.allows_ip("2001:db8::1".parse().unwrap()));
        assert!(!p.allowlist.allows_ip("198.51.100.1".parse().unwrap()));
    }

    #[test]
    fn bad_allowlist_entry_is_reported() {
        let c = PolicyConfig {
            allowlist: AllowlistConfig { domains: vec!["bad..name".into()], ..Default::default() },
            ..Default::default()
        };
        let e = Policy::try_from(c).unwrap_err();
        assert_eq!(e.entry, "bad..name");
        assert!(serde_json::from_str::<PolicyConfig>(r#"{"colour":1}"#).is_err());
    }
}
