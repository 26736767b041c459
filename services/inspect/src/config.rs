//! `/etc/mamori/inspect.toml` (docs/config.md): read, overlay merged,
//! validated. Unknown keys are warned about, not fatal, so an older binary
//! runs with a newer file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {field}: {message}")]
    Invalid { path: PathBuf, field: &'static str, message: String },
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct InspectConfig {
    pub state_dir: PathBuf,
    pub overlay: Option<PathBuf>,
    pub control_socket: PathBuf,
    pub queues: Queues,
    pub marks: Marks,
    pub protections: Protections,
    pub eve: Eve,
    pub ips: Ips,
    pub inline: Inline,
    pub intel: Intel,
    pub web: Web,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Queues {
    pub first: u16,
    /// Absent: one per online CPU, as the ruleset counts them.
    pub count: Option<u16>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Marks {
    /// Conntrack mark bit(s) for a flow inspect no longer needs to see.
    pub bypass: u32,
    /// Conntrack mark bit(s) for a flow whose packets must be dropped.
    pub block: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Protections {
    pub ips: bool,
    pub antivirus: bool,
    pub web_protection: bool,
    pub categories: bool,
    pub apps: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Eve {
    pub path: PathBuf,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Ips {
    pub rules: Vec<PathBuf>,
    pub classification: Option<PathBuf>,
    /// suricata.yaml (its `vars`) or TOML address/port groups.
    pub vars: Option<PathBuf>,
    pub threshold: Option<PathBuf>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Inline {
    /// Bytes of each direction inspected; past them the flow is bypassed.
    pub stream_depth: u64,
    /// Shown on the block page as whom to call.
    pub block_page_contact: String,
    /// Packets the kernel holds per queue before failing open.
    pub queue_max_len: u32,
    /// Let flows that need no more inspection skip the queue (conntrack
    /// mark). Off only to measure inspecting every byte.
    pub bypass: bool,
    /// With `bypass`: let a connection skip the queue once its app protocol
    /// is over (an HTTP exchange with `Connection: close`, complete and
    /// inspected), so its closing packets are not queued. Off: they are.
    pub bypass_app_over: bool,
    /// Longest a worker spins on its queue before it sleeps, in
    /// microseconds (adaptive: the window closes by itself when the queue
    /// goes quiet). Spinning saves a wake-up per packet where wake-ups are
    /// dear; on the 2-vCPU benchmark VM it made no difference beyond the
    /// noise (docs/benchmarks.md), so it is off unless asked for.
    pub busy_poll_us: u32,
    /// Scheduling of the queue workers: `"auto"` (the default) keeps them
    /// at the lowest real-time priority (SCHED_FIFO 1) while the CPU has
    /// idle time and ordinary while it has none; `true` always real-time;
    /// `false` always ordinary. Real-time, a packet's verdict never waits
    /// for a time slice of some other process: on the benchmark VM the p99
    /// latency a packet gains in the bridge at half load fell from about
    /// 350–550 to about 200 µs. Where the CPU is short, real-time workers
    /// preempt everything else at every packet and lose their batches:
    /// short connections per second fell by a sixth to a third
    /// (docs/benchmarks.md), which `auto` avoids (see `inline::rt`). Needs
    /// CAP_SYS_NICE; without it the workers run as ordinary threads.
    pub realtime: Realtime,
}

/// `[inline] realtime`: `true`, `false` or `"auto"`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(try_from = "RealtimeToml")]
pub enum Realtime {
    Off,
    On,
    #[default]
    Auto,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RealtimeToml {
    Flag(bool),
    Word(String),
    // Anything else, so the error below names what is allowed.
    Other(serde::de::IgnoredAny),
}

impl TryFrom<RealtimeToml> for Realtime {
    type Error = String;
    fn try_from(v: RealtimeToml) -> Result<Self, String> {
        match v {
            RealtimeToml::Flag(true) => Ok(Realtime::On),
            RealtimeToml::Flag(false) => Ok(Realtime::Off),
            RealtimeToml::Word(w) if w == "auto" => Ok(Realtime::Auto),
            RealtimeToml::Word(w) => Err(format!("realtime: expected true, false or \"auto\", found \"{w}\"")),
            RealtimeToml::Other(_) => Err("realtime: expected true, false or \"auto\"".into()),
        }
    }
}

impl Inline {
    /// The scheduling the workers get: `auto` yields to an explicit
    /// `busy_poll_us`, since a real-time spin would starve the core.
    pub fn effective_realtime(&self) -> Realtime {
        match self.realtime {
            Realtime::Auto if self.busy_poll_us > 0 => Realtime::Off,
            r => r,
        }
    }
}

impl Default for InspectConfig {
    fn default() -> Self {
        InspectConfig {
            state_dir: "/var/lib/mamori".into(),
            overlay: None,
            control_socket: "/run/mamori-inspect/control.sock".into(),
            queues: Queues::default(),
            marks: Marks::default(),
            protections: Protections::default(),
            eve: Eve::default(),
            ips: Ips::default(),
            inline: Inline::default(),
            intel: Intel::default(),
            web: Web::default(),
        }
    }
}

impl Default for Marks {
    fn default() -> Self {
        Marks { bypass: 1, block: 2 }
    }
}

impl Default for Protections {
    fn default() -> Self {
        Protections { ips: true, antivirus: true, web_protection: true, categories: false, apps: false }
    }
}

impl Default for Eve {
    fn default() -> Self {
        Eve { path: "/var/log/mamori/eve.json".into() }
    }
}

impl Default for Inline {
    fn default() -> Self {
        Inline {
            stream_depth: 1 << 20,
            block_page_contact: String::new(),
            queue_max_len: 4096,
            bypass: true,
            bypass_app_over: true,
            busy_poll_us: 0,
            realtime: Realtime::Auto,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Intel {
    /// Where the agent installs verified bundles.
    pub dir: PathBuf,
    /// The bundle file; default `<dir>/current.bundle`.
    pub bundle: Option<PathBuf>,
    /// Ed25519 public key, hex (64 digits) or base64 of the 32 bytes;
    /// absent: no bundle is accepted.
    pub public_key: Option<String>,
    /// Where the bundle's blocked networks are written for netd's block
    /// sets (one per line); default `<state_dir>/intel-blocklist.txt`.
    pub firewall_export: Option<PathBuf>,
}

impl Default for Intel {
    fn default() -> Self {
        Intel { dir: "/var/lib/mamori/intel".into(), bundle: None, public_key: None, firewall_export: None }
    }
}

impl Intel {
    pub fn bundle_path(&self) -> PathBuf {
        self.bundle.clone().unwrap_or_else(|| self.dir.join("current.bundle"))
    }

    /// The key's 32 bytes, from hex or base64.
    pub fn key_bytes(&self) -> Option<Result<[u8; 32], String>> {
        let k = self.public_key.as_deref()?.trim();
        let bytes = if k.len() == 64 {
            hex::decode(k).map_err(|e| e.to_string())
        } else {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(k).map_err(|e| e.to_string())
        };
        Some(bytes.and_then(|b| <[u8; 32]>::try_from(b).map_err(|_| "not 32 bytes".to_string())))
    }
}

/// How names on the block list are answered in DNS.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DnsBlockMode {
    #[default]
    Sinkhole,
    Nxdomain,
}

/// Web protection policy: what to do with malicious entries and with each
/// category, and the customer's allowlist (it wins over every list).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct Web {
    #[serde(flatten)]
    pub policy: mamori_intel::PolicyConfig,
    pub dns_block: DnsBlockMode,
    pub sinkhole_v4: std::net::Ipv4Addr,
    pub sinkhole_v6: std::net::Ipv6Addr,
    /// Apps by their nDPI name (`BitTorrent`, `TikTok`, ...): logged by
    /// default, `"block"` stops their flows.
    pub apps: std::collections::BTreeMap<String, mamori_intel::Action>,
}

impl Web {
    /// The apps set to block; unknown names are an error naming them.
    pub fn blocked_apps(&self) -> Result<Vec<mamori_apps::App>, String> {
        let mut out = Vec::new();
        for (name, action) in &self.apps {
            let app = mamori_apps::App::ALL.iter().find(|a| a.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
                let known: Vec<&str> = mamori_apps::App::ALL.iter().map(|a| a.name()).collect();
                format!("unknown app {name:?}; known: {}", known.join(", "))
            })?;
            if *action == mamori_intel::Action::Block {
                out.push(*app);
            }
        }
        Ok(out)
    }
}

impl Default for Web {
    fn default() -> Self {
        Web {
            policy: mamori_intel::PolicyConfig::default(),
            dns_block: DnsBlockMode::Sinkhole,
            sinkhole_v4: std::net::Ipv4Addr::UNSPECIFIED,
            sinkhole_v6: std::net::Ipv6Addr::UNSPECIFIED,
            apps: std::collections::BTreeMap::new(),
        }
    }
}

/// Tables merge key by key; any other value replaces.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(bv) => merge(bv, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn parse_file(path: &Path) -> Result<toml::Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    text.parse::<toml::Value>().map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })
}

impl InspectConfig {
    /// Read `path`, merge its overlay if that exists, validate. Returns the
    /// config and warnings (unknown keys).
    pub fn load(path: &Path) -> Result<(InspectConfig, Vec<String>), ConfigError> {
        let mut value = parse_file(path)?;
        let overlay = value.get("overlay").and_then(|v| v.as_str()).map(PathBuf::from);
        if let Some(o) = overlay.filter(|o| o.exists()) {
            merge(&mut value, parse_file(&o)?);
        }
        let mut warnings = Vec::new();
        let cfg: InspectConfig = serde_ignored::deserialize(value, |p| {
            warnings.push(format!("{}: unknown key `{p}` ignored", path.display()));
        })
        .map_err(|e: toml::de::Error| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        cfg.validate(path)?;
        Ok((cfg, warnings))
    }

    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad =
            |field, message: &str| Err(ConfigError::Invalid { path: path.into(), field, message: message.into() });
        if self.marks.bypass == 0 {
            return bad("marks.bypass", "must not be 0");
        }
        if self.marks.block == 0 {
            return bad("marks.block", "must not be 0");
        }
        if self.marks.bypass & self.marks.block != 0 {
            return bad("marks.block", "must not share bits with marks.bypass");
        }
        if self.queues.count == Some(0) || self.queues.count.is_some_and(|c| c > 64) {
            return bad("queues.count", "must be between 1 and 64");
        }
        if u32::from(self.queues.first) + u32::from(self.queue_count()) > 65536 {
            return bad("queues.first", "queue numbers must stay below 65536");
        }
        if let Some(Err(e)) = self.intel.key_bytes() {
            return bad("intel.public_key", &format!("not an Ed25519 public key (hex or base64 of 32 bytes): {e}"));
        }
        if let Err(e) = self.web.blocked_apps() {
            return bad("web.apps", &e);
        }
        if let Err(e) = mamori_intel::Policy::try_from(self.web.policy.clone()) {
            return bad("web", &e.to_string());
        }
        if self.inline.queue_max_len == 0 {
            return bad("inline.queue_max_len", "must not be 0");
        }
        if self.inline.busy_poll_us > 10_000 {
            // Longer spins only burn the core: a sleep costs far less.
            return bad("inline.busy_poll_us", "must be at most 10000 (10 ms)");
        }
        if self.inline.realtime == Realtime::On && self.inline.busy_poll_us > 0 {
            // A real-time thread that spins only yields to its own kind: the
            // core's other processes would wait out every spin.
            return bad("inline.busy_poll_us", "cannot be combined with inline.realtime = true (set one of them off)");
        }
        Ok(())
    }

    pub fn queue_count(&self) -> u16 {
        self.queues
            .count
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get().min(64) as u16).unwrap_or(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mamori-inspect-cfg-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn an_empty_file_gives_working_defaults() {
        let d = tmp("empty");
        let (c, w) = InspectConfig::load(&write(&d, "a.toml", "")).unwrap();
        assert!(w.is_empty());
        assert_eq!(c.marks, Marks { bypass: 1, block: 2 });
        assert_eq!(c.control_socket, PathBuf::from("/run/mamori-inspect/control.sock"));
        assert!(c.queue_count() >= 1);
        assert_eq!(c.inline.stream_depth, 1 << 20);
    }

    #[test]
    fn overlay_merges_tables_key_by_key_and_unknown_keys_warn() {
        let d = tmp("overlay");
        let over = write(&d, "over.toml", "[queues]\ncount = 3\n[inline]\nblock_page_contact = \"総務部\"\n");
        let base = format!(
            "overlay = \"{}\"\nfuture_key = 1\n[queues]\nfirst = 4\ncount = 2\n[marks]\nbypass = 16\nblock = 32\n",
            over.display()
        );
        let (c, w) = InspectConfig::load(&write(&d, "base.toml", &base)).unwrap();
        assert_eq!((c.queues.first, c.queues.count), (4, Some(3)));
        assert_eq!(c.marks.bypass, 16);
        assert_eq!(c.inline.block_page_contact, "総務部");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("future_key"), "{w:?}");
    }

    #[test]
    fn web_policy_and_intel_keys_parse() {
        let d = tmp("web");
        let key = "11".repeat(32);
        let text = format!(
            "[intel]\npublic_key = \"{key}\"\n[web]\nmalicious = \"log\"\ndns_block = \"nxdomain\"\n\
             [web.categories]\ngames = \"block\"\n[web.allowlist]\ndomains = [\"ok.example\"]\n"
        );
        let (c, w) = InspectConfig::load(&write(&d, "web.toml", &text)).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.web.dns_block, DnsBlockMode::Nxdomain);
        assert_eq!(c.web.policy.malicious, Some(mamori_intel::Action::Log));
        assert_eq!(c.web.policy.categories.len(), 1);
        assert_eq!(c.intel.key_bytes(), Some(Ok([0x11; 32])));
        assert_eq!(c.intel.bundle_path(), PathBuf::from("/var/lib/mamori/intel/current.bundle"));
        let e = InspectConfig::load(&write(&d, "badkey.toml", "[intel]\npublic_key = \"xyz\"\n")).unwrap_err();
        assert!(e.to_string().contains("intel.public_key"), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let d = tmp("errors");
        let p = write(&d, "bad.toml", "[marks]\nbypass = 1\nblock = 3\n");
        let e = InspectConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("bad.toml") && e.contains("marks.block"), "{e}");
        let p = write(&d, "type.toml", "[queues]\ncount = \"two\"\n");
        let e = InspectConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("type.toml") && e.contains("count"), "{e}");
        let e = InspectConfig::load(&d.join("missing.toml")).unwrap_err().to_string();
        assert!(e.contains("missing.toml"), "{e}");
        let p = write(&d, "spin.toml", "[inline]\nbusy_poll_us = 50000\n");
        let e = InspectConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("spin.toml") && e.contains("inline.busy_poll_us"), "{e}");
        let p = write(&d, "rtspin.toml", "[inline]\nrealtime = true\nbusy_poll_us = 200\n");
        let e = InspectConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("inline.busy_poll_us") && e.contains("inline.realtime"), "{e}");
        let p = write(&d, "spin-ok.toml", "[inline]\nbusy_poll_us = 200\n");
        let (c, _) = InspectConfig::load(&p).expect("auto yields to an explicit busy poll");
        assert_eq!(c.inline.effective_realtime(), Realtime::Off);
        for (name, value) in [("rtword.toml", "\"always\""), ("rtnumber.toml", "1")] {
            let p = write(&d, name, &format!("[inline]\nrealtime = {value}\n"));
            let e = format!("{:#}", InspectConfig::load(&p).unwrap_err());
            assert!(e.contains(name) && e.contains("realtime") && e.contains("\"auto\""), "{e}");
        }
    }

    #[test]
    fn realtime_is_auto_by_default_and_takes_a_flag_or_auto() {
        let d = tmp("realtime");
        assert_eq!(InspectConfig::default().inline.effective_realtime(), Realtime::Auto);
        for (text, want) in [("true", Realtime::On), ("false", Realtime::Off), ("\"auto\"", Realtime::Auto)] {
            let p = write(&d, "rt.toml", &format!("[inline]\nrealtime = {text}\n"));
            let (c, _) = InspectConfig::load(&p).unwrap();
            assert_eq!(c.inline.effective_realtime(), want, "{text}");
        }
    }
}
