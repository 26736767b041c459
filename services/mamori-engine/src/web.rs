//! Web protection: names the engine sees (DNS, TLS and QUIC SNI, HTTP host
//! and URL) looked up in the threat-intel bundle, judged by the customer's
//! policy. The verdict goes into the event (`intel` object: matched entry,
//! list, threat or category in Japanese and English, action) and, for
//! `block`, into the packet's verdict.

use std::sync::Arc;

use mamori_eve::EveRecord;
use mamori_intel::{Action, Intel, Policy, Verdict};
use serde_json::Value;

/// The intel and the policy, swapped together while traffic flows.
#[derive(Clone)]
pub struct WebProtection {
    intel: Arc<Intel>,
    policy: Arc<Policy>,
    /// Apps (nDPI names) the customer blocks; the others are only logged.
    blocked_apps: Arc<Vec<mamori_apps::App>>,
}

impl WebProtection {
    pub fn new(intel: Arc<Intel>, policy: Arc<Policy>) -> WebProtection {
        WebProtection { intel, policy, blocked_apps: Arc::new(Vec::new()) }
    }

    pub fn with_blocked_apps(mut self, apps: Vec<mamori_apps::App>) -> WebProtection {
        self.blocked_apps = Arc::new(apps);
        self
    }

    /// The app's event when the customer blocks it.
    pub fn judge_app(&self, app: mamori_apps::App) -> Option<Value> {
        if !self.blocked_apps.contains(&app) {
            return None;
        }
        Some(serde_json::json!({
            "action": "block",
            "allowlisted": false,
            "matches": [{ "indicator": "app", "matched": app.name(), "list": "policy", "action": "block" }],
        }))
    }

    pub fn version(&self) -> u64 {
        self.intel.version()
    }

    /// Judge a server name seen before its event (TLS SNI at the hello).
    pub fn judge_name(&self, name: &str) -> Option<Verdict> {
        self.intel.lookup_domain(name, &self.policy)
    }

    /// Judge an HTTP request by its host and URL (`/` when it has none).
    pub fn judge_http(&self, host: &str, url: Option<&str>) -> Option<Verdict> {
        self.intel.lookup_http(host, url.unwrap_or("/"), &self.policy)
    }

    /// Judge one app-layer event; the strongest verdict over its names.
    pub fn judge(&self, rec: &EveRecord) -> Option<Verdict> {
        let p = &*self.policy;
        let best = |a: Option<Verdict>, b: Option<Verdict>| match (a, b) {
            (Some(a), Some(b)) => Some(if b.action > a.action { b } else { a }),
            (a, b) => a.or(b),
        };
        match rec.event_type {
            "http" => {
                let h = rec.object("http")?;
                self.judge_http(h.get("hostname").and_then(Value::as_str)?, h.get("url").and_then(Value::as_str))
            }
            "tls" => self.intel.lookup_domain(rec.object("tls")?.get("sni")?.as_str()?, p),
            "quic" => self.intel.lookup_domain(rec.object("quic")?.get("sni")?.as_str()?, p),
            "dns" => {
                let d = rec.object("dns")?;
                let mut v = None;
                let names = d
                    .get("queries")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .chain(d.get("answers").and_then(Value::as_array).into_iter().flatten())
                    .filter_map(|q| q.get("rrname").and_then(Value::as_str));
                for n in names.take(16) {
                    v = best(v, self.intel.lookup_domain(n, p));
                }
                // Answers pointing at listed addresses (fast-flux domains).
                let addrs = d.get("answers").and_then(Value::as_array).into_iter().flatten().filter_map(|a| {
                    a.get("rdata").and_then(Value::as_str).and_then(|r| r.parse::<std::net::IpAddr>().ok())
                });
                for ip in addrs.take(16) {
                    v = best(v, self.intel.lookup_ip(ip, p));
                }
                v
            }
            _ => None,
        }
    }
}

/// What the verdict means for the flow.
pub fn blocks(v: &Verdict) -> bool {
    v.action == Action::Block
}
