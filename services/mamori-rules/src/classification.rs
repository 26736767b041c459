//! classification.config: `config classification: name,description,priority`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::ConfigError;

/// One classtype.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Classtype {
    /// The short name rules use (`trojan-activity`).
    pub name: String,
    /// EVE's `alert.category` (`A Network Trojan was detected`).
    pub description: String,
    /// EVE's `alert.severity` unless the rule sets `priority`.
    pub priority: u32,
}

/// The classtypes rules may reference, by lowercased name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Classifications {
    by_name: HashMap<String, Arc<Classtype>>,
}

impl Classifications {
    pub fn empty() -> Self {
        Classifications::default()
    }

    /// Parses a classification.config. Bad lines are reported and skipped, as
    /// Suricata does, so one typo does not hide every classtype.
    pub fn parse(file: &str, text: &str) -> (Classifications, Vec<ConfigError>) {
        let mut out = Classifications::default();
        let mut errors = Vec::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = u32::try_from(idx.saturating_add(1)).unwrap_or(u32::MAX);
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            match parse_line(t) {
                Ok(ct) => {
                    out.by_name.insert(ct.name.to_ascii_lowercase(), Arc::new(ct));
                }
                Err(message) => errors.push(ConfigError { file: file.to_string(), line, message }),
            }
        }
        (out, errors)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Classtype>> {
        self.by_name.get(&name.to_ascii_lowercase())
    }

    pub fn insert(&mut self, ct: Classtype) {
        self.by_name.insert(ct.name.to_ascii_lowercase(), Arc::new(ct));
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

fn parse_line(t: &str) -> Result<Classtype, String> {
    let rest = t
        .strip_prefix("config")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix("classification"))
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(|| "expected \"config classification: name,description,priority\"".to_string())?;
    let (name, rest) = rest.split_once(',').ok_or("missing description")?;
    let (description, prio) = rest.rsplit_once(',').ok_or("missing priority")?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(format!("bad classtype name {name:?}"));
    }
    let prio = prio.trim();
    let priority: u32 = prio.parse().map_err(|_| format!("bad priority {prio:?}"))?;
    Ok(Classtype { name: name.to_string(), description: description.trim().to_string(), priority })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_et_format() {
        let text = "# comment\nconfig classification: not-suspicious,Not Suspicious Traffic,3\n\nconfig classification: trojan-activity,A Network Trojan was detected, 1\nconfig classification: bad line\nconfig classification: x,Has, commas,2\n";
        let (c, errs) = Classifications::parse("classification.config", text);
        assert_eq!(c.len(), 3);
        let t = c.get("Trojan-Activity").unwrap();
        assert_eq!((t.description.as_str(), t.priority), ("A Network Trojan was detected", 1));
        assert_eq!(c.get("x").unwrap().description, "Has, commas");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 5);
        assert!(errs[0].to_string().starts_with("classification.config:5: "), "{}", errs[0]);
    }
}
