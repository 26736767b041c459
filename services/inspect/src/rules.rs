//! Loading rule files, their classification and variables, and building
//! the matcher (with its database cache): the I/O around `mamori-rules` and
//! `mamori-detect`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mamori_detect::{BuildOptions, BuildReport, Detector, DirCache};
use mamori_rules::{Action, Classifications, ConfigError, LoadSummary, RuleSet, ThresholdConfig, Vars};

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Config(String),
}

/// Where rules and their companions come from.
#[derive(Clone, Debug, Default)]
pub struct RuleFiles {
    pub rules: Vec<PathBuf>,
    /// classification.config; default: the one next to the first rules file.
    pub classification: Option<PathBuf>,
    /// suricata.yaml (its `vars`) or a TOML file with `[address-groups]` /
    /// `[port-groups]`.
    pub vars: Option<PathBuf>,
    pub threshold: Option<PathBuf>,
    /// Cache for compiled prefilter databases; none: always compile.
    pub cache_dir: Option<PathBuf>,
}

/// A loaded rule set and everything said about loading it.
pub struct Loaded {
    pub rules: RuleSet,
    pub summary: LoadSummary,
    pub thresholds: ThresholdConfig,
    /// suricata.yaml's `action-order` and `packet-alert-max`.
    pub options: BuildOptions,
    /// Bad lines of classification, vars and threshold files (not fatal).
    pub warnings: Vec<String>,
}

fn read(p: &Path) -> Result<String, RulesError> {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| RulesError::Read { path: p.to_owned(), source })
}

fn warn(errs: Vec<ConfigError>, out: &mut Vec<String>) {
    out.extend(errs.into_iter().map(|e| e.to_string()));
}

impl RuleFiles {
    fn classification_path(&self) -> Option<PathBuf> {
        if let Some(c) = &self.classification {
            return Some(c.clone());
        }
        let next_to = self.rules.first()?.parent()?.join("classification.config");
        next_to.is_file().then_some(next_to)
    }

    /// Read and parse everything (rules are parsed and validated, not compiled).
    pub fn load(&self) -> Result<Loaded, RulesError> {
        let mut warnings = Vec::new();
        let mut vars = Vars::default();
        let mut options = BuildOptions::default();
        if let Some(v) = &self.vars {
            let text = read(v)?;
            let name = v.display().to_string();
            let r = if v.extension().is_some_and(|e| e == "toml") {
                vars.merge_toml(&name, &text)
            } else {
                engine_options(&text, &mut options, &mut warnings);
                vars.merge_yaml(&name, &text)
            };
            r.map_err(|e| RulesError::Config(e.to_string()))?;
        }
        let classes = match self.classification_path() {
            Some(p) => {
                let (c, errs) = Classifications::parse(&p.display().to_string(), &read(&p)?);
                warn(errs, &mut warnings);
                c
            }
            None => Classifications::empty(),
        };
        let texts: Vec<(String, String)> =
            self.rules.iter().map(|p| Ok((p.display().to_string(), read(p)?))).collect::<Result<_, RulesError>>()?;
        let sources: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let (rules, summary) = RuleSet::load(&sources, &vars, &classes);
        let thresholds = match &self.threshold {
            Some(p) => {
                let (t, errs) = ThresholdConfig::parse(&p.display().to_string(), &read(p)?, &vars);
                warn(errs, &mut warnings);
                t
            }
            None => ThresholdConfig::default(),
        };
        Ok(Loaded { rules, summary, thresholds, options, warnings })
    }

    /// Load and compile; the matcher is shared, each engine makes its own runtime.
    pub fn build(&self) -> Result<(Arc<Detector>, Loaded), RulesError> {
        let loaded = self.load()?;
        let det = match &self.cache_dir {
            Some(dir) => {
                let mut cache = DirCache::new(dir);
                Detector::build_with(&loaded.rules, &loaded.thresholds, &loaded.options, Some(&mut cache))
            }
            None => Detector::build_with(&loaded.rules, &loaded.thresholds, &loaded.options, None),
        };
        Ok((Arc::new(det), loaded))
    }
}

/// suricata.yaml's `action-order` and `packet-alert-max`. A file that is
/// not YAML leaves the defaults (vars parsing reports it).
fn engine_options(text: &str, o: &mut BuildOptions, warnings: &mut Vec<String>) {
    // Suricata's YAML files start with a %YAML directive serde_yaml rejects.
    let body: String = text.lines().filter(|l| !l.starts_with('%')).collect::<Vec<_>>().join("\n");
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&body) else { return };
    if let Some(list) = doc.get("action-order").and_then(|v| v.as_sequence()) {
        let mut order = Vec::new();
        for item in list {
            match item.as_str().map(Action::parse) {
                Some(Ok(a)) if !order.contains(&a) => order.push(a),
                _ => warnings.push(format!("action-order: ignoring {item:?}")),
            }
        }
        if order.len() == 4 {
            o.action_order = order;
        } else {
            warnings.push("action-order must name pass, drop, reject and alert; using the default".into());
        }
    }
    if let Some(n) = doc.get("packet-alert-max").and_then(serde_yaml::Value::as_u64) {
        o.max_alerts = usize::try_from(n).unwrap_or(usize::MAX).clamp(1, 1024);
    }
}

/// A short account of a build for people.
pub fn describe(r: &BuildReport) -> String {
    let mut s = format!(
        "{} signatures active ({} IP-only), {} prefilter databases with {} patterns{}",
        r.active,
        r.ip_only,
        r.databases,
        r.patterns,
        if r.from_cache { " (from cache)" } else { "" }
    );
    let [tcp, udp, icmp, other] = r.unfiltered_packet;
    s.push_str(&format!(
        "\n  without prefilter: per packet tcp {tcp} udp {udp} icmp {icmp} other {other}; stream {}; transactions {}",
        r.unfiltered_stream, r.unfiltered_tx
    ));
    for (why, n) in &r.inactive {
        s.push_str(&format!("\n  {n:>6}  inactive: {why}"));
    }
    for e in &r.errors {
        s.push_str(&format!("\n  error: {e}"));
    }
    s
}

/// The default cache directory: `$XDG_CACHE_HOME/mamori` or `~/.cache/mamori`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("mamori"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("mamori"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mamori-inspect-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn load_reports_the_summary_and_uses_the_classification_next_to_the_rules() {
        let rules = temp(
            "local.rules",
            "alert tcp any any -> any any (msg:\"a\"; content:\"x\"; classtype:bad; sid:1;)\n\
             alert tcp any any -> any any (msg:\"b\"; http_fancy; sid:2;)\n",
        );
        temp("classification.config", "config classification: bad,Bad Stuff,2\n");
        let files = RuleFiles { rules: vec![rules], ..Default::default() };
        let loaded = files.load().unwrap();
        let text = loaded.summary.to_string();
        assert_eq!(text.lines().next(), Some("loaded 1 of 2 rules"), "{text}");
        assert!(text.contains("http_fancy") || text.contains("unsupported"), "{text}");
        assert_eq!(loaded.rules.rules[0].meta.priority, 2, "classtype priority from classification.config");
        let (det, _) = files.build().unwrap();
        assert_eq!(det.len(), 1);
    }

    #[test]
    fn suricata_yaml_gives_vars_action_order_and_alert_max() {
        let yaml = temp(
            "suricata.yaml",
            "%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: \"[10.0.0.0/8]\"\n\
             action-order:\n  - drop\n  - pass\n  - reject\n  - alert\npacket-alert-max: 6\n",
        );
        let rules = temp("v.rules", "alert ip $HOME_NET any -> any any (sid:1;)\n");
        let files = RuleFiles { rules: vec![rules], vars: Some(yaml), ..Default::default() };
        let loaded = files.load().unwrap();
        assert_eq!(loaded.options.action_order, vec![Action::Drop, Action::Pass, Action::Reject, Action::Alert]);
        assert_eq!(loaded.options.max_alerts, 6);
        assert!(loaded.rules.rules[0].header.src.contains("10.1.2.3".parse().unwrap()));
        assert!(!loaded.rules.rules[0].header.src.contains("192.168.1.1".parse().unwrap()));
    }

    #[test]
    fn a_missing_rules_file_is_named() {
        let files = RuleFiles { rules: vec![PathBuf::from("/nonexistent/x.rules")], ..Default::default() };
        let err = files.load().err().unwrap().to_string();
        assert!(err.contains("/nonexistent/x.rules"), "{err}");
    }
}
