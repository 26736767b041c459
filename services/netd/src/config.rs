//! `/etc/mamori/netd.toml`: parsed, validated, with defaults that work on the appliance.
//!
//! Parsing goes through a TOML table so the optional overlay (docs/config.md) can be merged over the
//! image's file before the typed structs are built. Unknown keys are reported, not fatal, so an older
//! binary runs with a newer file. Every error names the file and the dotted field.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use thiserror::Error;

/// The default config path, as the systemd unit passes it.
pub const DEFAULT_PATH: &str = "/etc/mamori/netd.toml";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read { file: PathBuf, source: io::Error },
    #[error("{file}: {message}")]
    Syntax { file: PathBuf, message: String },
    #[error("{file}: field `{field}`: {message}")]
    Field { file: PathBuf, field: String, message: String },
}

/// A validated Linux interface name (what `dev_valid_name` accepts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfName(String);

impl IfName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IfName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // IFNAMSIZ is 16 including the NUL.
        if s.is_empty() || s.len() > 15 {
            return Err(format!("interface name {s:?} must be 1 to 15 bytes"));
        }
        if s == "." || s == ".." || s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control()) {
            return Err(format!("{s:?} is not a valid interface name"));
        }
        Ok(IfName(s.to_owned()))
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
    }
}

impl FromStr for MacAddr {
    type Err = String;

    /// `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`, either case.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a MAC address (want aa:bb:cc:dd:ee:ff)");
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for byte in &mut out {
            let part = parts.next().ok_or_else(bad)?;
            if part.len() != 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

/// How a bridge port is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSelector {
    /// The wired PCI/USB NICs in bus order: first WAN, second LAN.
    Auto,
    Name(IfName),
    /// Matched against the permanent and the current hardware address, so a renamed NIC is still found.
    Mac(MacAddr),
}

impl FromStr for PortSelector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            Ok(PortSelector::Auto)
        } else if s.contains(':') || (s.len() == 17 && s.matches('-').count() == 5) {
            // ':' never occurs in an interface name, so this can only be meant as a MAC.
            s.parse().map(PortSelector::Mac)
        } else {
            s.parse().map(PortSelector::Name)
        }
    }
}

impl fmt::Display for PortSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSelector::Auto => f.write_str("auto"),
            PortSelector::Name(n) => write!(f, "{n}"),
            PortSelector::Mac(m) => write!(f, "{m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    pub name: IfName,
    pub wan: PortSelector,
    pub lan: PortSelector,
}

/// The NFQUEUE numbers the queue rule balances over; inspect binds the same ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueRange {
    first: u16,
    count: u16,
}

impl QueueRange {
    /// `None` when the range would run past queue 65535 or is empty.
    pub fn new(first: u16, count: u16) -> Option<QueueRange> {
        (count >= 1 && u32::from(first) + u32::from(count) - 1 <= u32::from(u16::MAX))
            .then_some(QueueRange { first, count })
    }

    pub fn first(&self) -> u16 {
        self.first
    }

    pub fn last(&self) -> u16 {
        self.first + (self.count - 1)
    }

    pub fn count(&self) -> u16 {
        self.count
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesetConfig {
    pub table: String,
    pub block_set_v4: String,
    pub block_set_v6: String,
    pub queue_first: u16,
    /// `None`: one queue per online CPU, decided at run time.
    pub queue_count: Option<u16>,
    pub bypass_mark: u32,
    pub block_mark: u32,
    /// Accept the payload-less ACKs of established connections without queueing them (the
    /// engine needs SYN, FIN, RST and data; see `ruleset::pure_ack_chain`).
    pub skip_pure_acks: bool,
}

impl RulesetConfig {
    /// The queues to spread over. An absent `queue_count` means one per CPU we may run on, counted the
    /// way inspect counts them (`available_parallelism` honours the affinity mask and cgroup quota).
    pub fn queues(&self) -> QueueRange {
        let count = self.queue_count.unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            u16::try_from(cpus).unwrap_or(u16::MAX)
        });
        let room = u16::try_from(65536 - u32::from(self.queue_first)).unwrap_or(u16::MAX);
        // Validation guarantees an explicit count fits; a huge CPU count is clamped to what's left.
        QueueRange::new(self.queue_first, count.clamp(1, room))
            .unwrap_or(QueueRange { first: self.queue_first, count: 1 })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistConfig {
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub state_dir: PathBuf,
    pub bridge: BridgeConfig,
    pub ruleset: RulesetConfig,
    pub blocklist: BlocklistConfig,
}

impl Default for Config {
    fn default() -> Self {
        let raw = RawConfig::default();
        raw.validate(Path::new("<defaults>")).unwrap_or_else(|e| unreachable!("defaults are valid: {e}"))
    }
}

/// A loaded config plus what the operator should hear about (unknown keys, an ignored overlay).
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Reads `path`, merges the overlay over it if the file names one that exists, validates.
///
/// A broken overlay is reported and skipped rather than fatal: the overlay is written on site, the base
/// file ships with the image, and a typo on site must not take the bridge down.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: path.to_owned(), source })?;
    let mut loaded = parse(path, &text)?;
    let base: toml::Table = text.parse().map_err(|e: toml::de::Error| syntax(path, &e))?;
    let Some(overlay) = base.get("overlay").and_then(|v| v.as_str()).map(PathBuf::from) else {
        return Ok(loaded);
    };
    let overlay_text = match std::fs::read_to_string(&overlay) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(loaded),
        Err(source) => {
            let e = ConfigError::Read { file: overlay, source };
            loaded.warnings.push(format!("overlay ignored: {e}"));
            return Ok(loaded);
        }
    };
    let merged = overlay_text.parse::<toml::Table>().map_err(|e| syntax(&overlay, &e)).and_then(|over| {
        let mut merged = base.clone();
        merge(&mut merged, over);
        let label = PathBuf::from(format!("{} + {}", path.display(), overlay.display()));
        from_table(&label, merged)
    });
    match merged {
        Ok(l) => Ok(l),
        Err(e) => {
            loaded.warnings.push(format!("overlay ignored: {e}"));
            Ok(loaded)
        }
    }
}

/// Parses one file's text (no overlay). `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Result<Loaded, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| syntax(file, &e))?;
    from_table(file, table)
}

fn from_table(file: &Path, table: toml::Table) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(toml::Value::Table(table), &mut track);
    let raw: RawConfig = serde_ignored::deserialize(de, |path| {
        warnings.push(format!("{}: unknown key `{path}` ignored", file.display()));
    })
    .map_err(|e: toml::de::Error| ConfigError::Field {
        file: file.to_owned(),
        field: track.path().to_string(),
        message: e.message().to_owned(),
    })?;
    Ok(Loaded { config: raw.validate(file)?, warnings })
}

fn syntax(file: &Path, e: &toml::de::Error) -> ConfigError {
    ConfigError::Syntax { file: file.to_owned(), message: e.to_string().trim_end().to_owned() }
}

/// Tables merge key by key; any other value replaces (docs/config.md).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawConfig {
    state_dir: PathBuf,
    /// Read by `load` before deserialising; declared so it isn't reported as unknown.
    #[allow(dead_code)]
    overlay: Option<PathBuf>,
    bridge: RawBridge,
    ruleset: RawRuleset,
    blocklist: RawBlocklist,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            state_dir: PathBuf::from("/var/lib/mamori"),
            overlay: None,
            bridge: RawBridge::default(),
            ruleset: RawRuleset::default(),
            blocklist: RawBlocklist::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawBridge {
    name: String,
    wan: String,
    lan: String,
}

impl Default for RawBridge {
    fn default() -> Self {
        RawBridge { name: "mamori0".into(), wan: "auto".into(), lan: "auto".into() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawRuleset {
    table: String,
    block_set_v4: String,
    block_set_v6: String,
    queue_first: u16,
    queue_count: Option<u16>,
    bypass_mark: u32,
    block_mark: u32,
    skip_pure_acks: bool,
}

impl Default for RawRuleset {
    fn default() -> Self {
        RawRuleset {
            table: "mamori".into(),
            block_set_v4: "block4".into(),
            block_set_v6: "block6".into(),
            queue_first: 0,
            queue_count: None,
            bypass_mark: 1,
            block_mark: 2,
            skip_pure_acks: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawBlocklist {
    files: Vec<PathBuf>,
}

impl Default for RawBlocklist {
    fn default() -> Self {
        // The second is written by inspect from the intel bundle.
        RawBlocklist {
            files: vec![
                PathBuf::from("/var/lib/mamori/blocklist.txt"),
                PathBuf::from("/var/lib/mamori/intel-blocklist.txt"),
            ],
        }
    }
}

impl RawConfig {
    fn validate(self, file: &Path) -> Result<Config, ConfigError> {
        let field = |field: &str, message: String| ConfigError::Field {
            file: file.to_owned(),
            field: field.to_owned(),
            message,
        };

        let name: IfName = self.bridge.name.parse().map_err(|m| field("bridge.name", m))?;
        let wan: PortSelector = self.bridge.wan.parse().map_err(|m| field("bridge.wan", m))?;
        let lan: PortSelector = self.bridge.lan.parse().map_err(|m| field("bridge.lan", m))?;
        if wan != PortSelector::Auto && wan == lan {
            return Err(field("bridge.lan", format!("names the same port as bridge.wan ({wan})")));
        }
        for (key, sel) in [("bridge.wan", &wan), ("bridge.lan", &lan)] {
            if *sel == PortSelector::Name(name.clone()) {
                return Err(field(key, format!("is the bridge itself ({name})")));
            }
        }

        let r = self.ruleset;
        for (key, value) in [
            ("ruleset.table", &r.table),
            ("ruleset.block_set_v4", &r.block_set_v4),
            ("ruleset.block_set_v6", &r.block_set_v6),
        ] {
            check_nft_name(value).map_err(|m| field(key, m))?;
        }
        if r.block_set_v4 == r.block_set_v6 {
            return Err(field("ruleset.block_set_v6", "must differ from ruleset.block_set_v4".into()));
        }
        if let Some(count) = r.queue_count {
            if QueueRange::new(r.queue_first, count).is_none() {
                return Err(field(
                    "ruleset.queue_count",
                    format!(
                        "{count} queues from {} do not fit in 0..=65535 (and at least one is needed)",
                        r.queue_first
                    ),
                ));
            }
        }
        if r.bypass_mark == 0 {
            return Err(field("ruleset.bypass_mark", "must be a non-zero mark bit".into()));
        }
        if r.block_mark == 0 {
            return Err(field("ruleset.block_mark", "must be a non-zero mark bit".into()));
        }
        if r.bypass_mark & r.block_mark != 0 {
            return Err(field(
                "ruleset.block_mark",
                format!("shares bits with ruleset.bypass_mark ({:#x} & {:#x})", r.block_mark, r.bypass_mark),
            ));
        }

        Ok(Config {
            state_dir: self.state_dir,
            bridge: BridgeConfig { name, wan, lan },
            ruleset: RulesetConfig {
                table: r.table,
                block_set_v4: r.block_set_v4,
                block_set_v6: r.block_set_v6,
                queue_first: r.queue_first,
                queue_count: r.queue_count,
                bypass_mark: r.bypass_mark,
                block_mark: r.block_mark,
                skip_pure_acks: r.skip_pure_acks,
            },
            blocklist: BlocklistConfig { files: self.blocklist.files },
        })
    }
}

/// nft identifiers: a letter, then letters, digits and `_` (the subset every nft version accepts unquoted,
/// so the table can also be typed at the `nft` prompt).
fn check_nft_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    let ok = s.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a valid nftables name (a letter, then letters, digits or _; at most 64)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Loaded, ConfigError> {
        parse(Path::new("/etc/mamori/netd.toml"), text)
    }

    #[test]
    fn empty_file_gives_appliance_defaults() {
        let l = p("").unwrap();
        assert!(l.warnings.is_empty());
        let c = l.config;
        assert_eq!(c.state_dir, Path::new("/var/lib/mamori"));
        assert_eq!(c.bridge.name.as_str(), "mamori0");
        assert_eq!(c.bridge.wan, PortSelector::Auto);
        assert_eq!(c.bridge.lan, PortSelector::Auto);
        assert_eq!(c.ruleset.table, "mamori");
        assert_eq!(c.ruleset.block_set_v4, "block4");
        assert_eq!(c.ruleset.block_set_v6, "block6");
        assert_eq!((c.ruleset.queue_first, c.ruleset.queue_count), (0, None));
        assert_eq!((c.ruleset.bypass_mark, c.ruleset.block_mark), (1, 2));
        assert!(c.ruleset.skip_pure_acks);
        assert_eq!(
            c.blocklist.files,
            vec![PathBuf::from("/var/lib/mamori/blocklist.txt"), PathBuf::from("/var/lib/mamori/intel-blocklist.txt")]
        );
        assert_eq!(c, Config::default());
    }

    #[test]
    fn documented_example_parses() {
        let c = p(r#"
            state_dir = "/var/lib/mamori"
            [bridge]
            name = "mamori0"
            wan = "wan0"
            lan = "AA:bb:cc:dd:ee:0F"
            [ruleset]
            table = "mamori"
            block_set_v4 = "block4"
            block_set_v6 = "block6"
            queue_first = 4
            queue_count = 2
            bypass_mark = 1
            block_mark = 2
            skip_pure_acks = false
            [blocklist]
            files = ["/a.txt", "/b.txt"]
        "#)
        .unwrap()
        .config;
        assert!(!c.ruleset.skip_pure_acks);
        assert_eq!(c.bridge.wan, PortSelector::Name("wan0".parse().unwrap()));
        assert_eq!(c.bridge.lan, PortSelector::Mac(MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f])));
        let q = c.ruleset.queues();
        assert_eq!((q.first(), q.last(), q.count()), (4, 5, 2));
        assert_eq!(c.blocklist.files.len(), 2);
    }

    #[test]
    fn absent_queue_count_is_one_per_cpu() {
        let c = p("").unwrap().config;
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert_eq!(usize::from(c.ruleset.queues().count()), cpus);
    }

    #[test]
    fn unknown_keys_warn_and_name_the_path() {
        let l = p("colour = 1\n[bridge]\nstp = true\n[ruleset]\nfamily = \"inet\"\n").unwrap();
        assert_eq!(l.warnings.len(), 3, "{:?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("`bridge.stp`")), "{:?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("`ruleset.family`")), "{:?}", l.warnings);
        assert!(l.warnings.iter().all(|w| w.starts_with("/etc/mamori/netd.toml")));
    }

    #[test]
    fn type_errors_name_file_and_field() {
        let e = p("[ruleset]\nqueue_first = \"zero\"\n").unwrap_err().to_string();
        assert!(e.contains("/etc/mamori/netd.toml"), "{e}");
        assert!(e.contains("ruleset.queue_first"), "{e}");
        let e = p("[ruleset]\nqueue_count = 70000\n").unwrap_err().to_string();
        assert!(e.contains("ruleset.queue_count"), "{e}");
    }

    #[test]
    fn value_errors_name_file_and_field() {
        let cases = [
            ("[bridge]\nwan = \"aa:bb:cc:dd:ee\"\n", "bridge.wan"),
            ("[bridge]\nlan = \"zz:bb:cc:dd:ee:ff\"\n", "bridge.lan"),
            ("[bridge]\nname = \"a-name-that-is-too-long\"\n", "bridge.name"),
            ("[bridge]\nwan = \"eth0\"\nlan = \"eth0\"\n", "bridge.lan"),
            ("[bridge]\nwan = \"mamori0\"\n", "bridge.wan"),
            ("[ruleset]\ntable = \"1bad\"\n", "ruleset.table"),
            ("[ruleset]\nblock_set_v6 = \"block4\"\n", "ruleset.block_set_v6"),
            ("[ruleset]\nqueue_first = 65535\nqueue_count = 2\n", "ruleset.queue_count"),
            ("[ruleset]\nqueue_count = 0\n", "ruleset.queue_count"),
            ("[ruleset]\nbypass_mark = 0\n", "ruleset.bypass_mark"),
            ("[ruleset]\nblock_mark = 3\n", "ruleset.block_mark"),
        ];
        for (text, want) in cases {
            match p(text) {
                Err(ConfigError::Field { file, field, .. }) => {
                    assert_eq!(file, Path::new("/etc/mamori/netd.toml"));
                    assert_eq!(field, want, "for {text:?}");
                }
                other => panic!("{text:?}: expected a field error on {want}, got {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let e = p("[bridge\n").unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }));
        assert!(e.to_string().starts_with("/etc/mamori/netd.toml:"), "{e}");
    }

    #[test]
    fn mac_parsing() {
        assert_eq!("00:1b:21:0a:ff:9C".parse::<MacAddr>().unwrap(), MacAddr([0, 0x1b, 0x21, 0x0a, 0xff, 0x9c]));
        assert_eq!("00-1b-21-0a-ff-9c".parse::<MacAddr>().unwrap(), MacAddr([0, 0x1b, 0x21, 0x0a, 0xff, 0x9c]));
        for bad in
            ["", "00:1b:21:0a:ff", "00:1b:21:0a:ff:9c:00", "0:1b:21:0a:ff:9c", "00:1b:21:0a:ff:9g", "001b210aff9c"]
        {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?}");
        }
        assert_eq!(MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f]).to_string(), "aa:bb:cc:dd:ee:0f");
        assert_eq!(
            "aa-bb-cc-dd-ee-ff".parse::<PortSelector>().unwrap(),
            PortSelector::Mac(MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]))
        );
        assert_eq!("enp1s0".parse::<PortSelector>().unwrap(), PortSelector::Name("enp1s0".parse().unwrap()));
    }

    #[test]
    fn overlay_merges_tables_and_a_broken_overlay_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("netd.toml");
        let overlay = dir.path().join("overlay.toml");
        std::fs::write(
            &base,
            format!("overlay = {:?}\n[bridge]\nwan = \"eth0\"\nlan = \"eth1\"\n", overlay.display().to_string()),
        )
        .unwrap();

        // Missing overlay: base only.
        let l = load(&base).unwrap();
        assert_eq!(l.config.bridge.lan, PortSelector::Name("eth1".parse().unwrap()));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);

        // Overlay replaces one key of [bridge], keeps the others.
        std::fs::write(&overlay, "[bridge]\nlan = \"eth2\"\n").unwrap();
        let l = load(&base).unwrap();
        assert_eq!(l.config.bridge.wan, PortSelector::Name("eth0".parse().unwrap()));
        assert_eq!(l.config.bridge.lan, PortSelector::Name("eth2".parse().unwrap()));

        // Invalid overlay: warned about, base config used.
        std::fs::write(&overlay, "[bridge]\nlan = \"eth0\"\n").unwrap();
        let l = load(&base).unwrap();
        assert_eq!(l.config.bridge.lan, PortSelector::Name("eth1".parse().unwrap()));
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("overlay ignored") && l.warnings[0].contains("bridge.lan"), "{:?}", l.warnings);
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let e = load(Path::new("/nonexistent/netd.toml")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/netd.toml: cannot read"), "{e}");
    }
}
