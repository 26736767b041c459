use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::check::Check;

#[derive(Debug, Error)]
pub enum CaseError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid test.yaml: {source}")]
    Yaml { path: PathBuf, source: serde_yaml::Error },
    #[error("{path}: no capture file (pcap field or *.pcap/*.pcapng in the folder)")]
    NoCapture { path: PathBuf },
}

#[derive(Debug, Default, Deserialize)]
pub struct Requires {
    #[serde(rename = "min-version")]
    pub min_version: Option<serde_yaml::Value>,
    #[serde(rename = "lt-version")]
    pub lt_version: Option<serde_yaml::Value>,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub pcap: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct TestYaml {
    #[serde(default)]
    requires: Option<Requires>,
    #[serde(default)]
    pcap: Option<serde_yaml::Value>,
    #[serde(default)]
    args: Option<serde_yaml::Value>,
    #[serde(default)]
    checks: Vec<Check>,
}

/// One suricata-verify case folder.
#[derive(Debug)]
pub struct Case {
    pub dir: PathBuf,
    pub name: String,
    pub pcap: PathBuf,
    pub rules: Vec<PathBuf>,
    pub threshold: Option<PathBuf>,
    pub requires: Requires,
    pub args: Vec<String>,
    pub checks: Vec<Check>,
}

/// The major version a `requires` value names (`7`, `7.0.7`, `"8.0.0"`).
pub fn major(v: &serde_yaml::Value) -> Option<u32> {
    match v {
        serde_yaml::Value::Number(n) => n.as_u64().map(|n| n as u32).or_else(|| n.as_f64().map(|f| f as u32)),
        serde_yaml::Value::String(s) => s.split('.').next()?.trim().parse().ok(),
        _ => None,
    }
}

impl Case {
    pub fn load(dir: &Path, root: &Path) -> Result<Case, CaseError> {
        let yaml_path = dir.join("test.yaml");
        let text =
            std::fs::read_to_string(&yaml_path).map_err(|source| CaseError::Io { path: yaml_path.clone(), source })?;
        let t: TestYaml =
            serde_yaml::from_str(&text).map_err(|source| CaseError::Yaml { path: yaml_path.clone(), source })?;
        let listing: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| CaseError::Io { path: dir.to_owned(), source })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let with_ext = |ext: &str| {
            let mut v: Vec<PathBuf> =
                listing.iter().filter(|p| p.extension().is_some_and(|e| e == ext)).cloned().collect();
            v.sort();
            v
        };
        let pcap = match t.pcap.as_ref().and_then(|v| v.as_str()) {
            Some(p) => dir.join(p),
            None => with_ext("pcap")
                .into_iter()
                .chain(with_ext("pcapng"))
                .next()
                .ok_or(CaseError::NoCapture { path: dir.to_owned() })?,
        };
        let threshold = Some(dir.join("threshold.config")).filter(|p| p.exists());
        let args = match &t.args {
            Some(serde_yaml::Value::Sequence(s)) => s.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(serde_yaml::Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let name = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
        Ok(Case {
            dir: dir.to_owned(),
            name,
            pcap,
            rules: with_ext("rules"),
            threshold,
            requires: t.requires.unwrap_or_default(),
            args,
            checks: t.checks,
        })
    }

    /// Folders under `root` that hold a `test.yaml`, sorted.
    pub fn discover(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(d) = stack.pop() {
            if d.join("test.yaml").is_file() {
                out.push(d.clone());
            }
            if let Ok(rd) = std::fs::read_dir(&d) {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        stack.push(e.path());
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The case is for a newer engine than the one these cases describe.
    pub fn too_new(&self) -> bool {
        self.requires.min_version.as_ref().and_then(major).is_some_and(|m| m > 8)
    }

    /// The case is only for older engines.
    pub fn too_old(&self) -> bool {
        self.requires.lt_version.as_ref().and_then(major).is_some_and(|m| m <= 8)
    }
}
