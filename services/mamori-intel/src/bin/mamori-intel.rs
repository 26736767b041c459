//! `mamori-intel`: build, sign, verify and query intel bundles.
//!
//! Unlike the library this tool reads files and the clock.

use std::error::Error;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use mamori_intel::{
    feeds::{ut1_meaning_label, OWN_FORMAT_DOC},
    verify_and_load, FeedFormat, IntelBuilder, Policy, PolicyConfig, SigningKey, VerifyingKey,
};

type Res<T> = Result<T, Box<dyn Error>>;

#[derive(Parser)]
#[command(name = "mamori-intel", about = "Build, sign, verify and query Mamori intel bundles")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile sources into a signed bundle.
    Build {
        /// NAME=FORMAT:PATH, e.g. feodo=feodo-csv:ipblocklist.csv,
        /// tf=threatfox-json@90:full.json, ut1=ut1:/path/to/ut1 (a category
        /// folder or a folder of them). See `formats`.
        #[arg(long = "source", required = true)]
        sources: Vec<String>,
        /// Secret key file (from `keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Bundle version; must grow with every release.
        #[arg(long)]
        version: u64,
        #[arg(long)]
        out: PathBuf,
        /// Leave out the built-in Japanese supplement list.
        #[arg(long)]
        no_jp_supplement: bool,
        /// Opaque app-signature section.
        #[arg(long)]
        app_signatures: Option<PathBuf>,
        /// Opaque rules section (text).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Creation time (unix seconds); default now.
        #[arg(long)]
        created: Option<i64>,
    },
    /// Make a key pair: PREFIX.key (secret) and PREFIX.pub.
    Keygen {
        #[arg(long)]
        out: String,
    },
    /// Check a bundle's signature and content.
    Verify {
        #[arg(long)]
        key: PathBuf,
        /// Refuse bundles not newer than this version.
        #[arg(long)]
        current: Option<u64>,
        bundle: PathBuf,
    },
    /// Look something up in a bundle.
    Lookup {
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long, group = "what")]
        domain: Option<String>,
        #[arg(long, group = "what")]
        url: Option<String>,
        #[arg(long, group = "what")]
        ip: Option<IpAddr>,
        #[arg(long, group = "what")]
        sha256: Option<String>,
        /// Policy as JSON (PolicyConfig); default: threats block, categories log.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Describe the source formats.
    Formats,
}

fn read_hex_key<const N: usize>(path: &Path) -> Res<[u8; N]> {
    let text = fs::read_to_string(path)?;
    let mut out = [0u8; N];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(out)
}

fn signing_key(path: &Path) -> Res<SigningKey> {
    Ok(SigningKey::from_bytes(&read_hex_key::<32>(path)?))
}

fn verifying_key(path: &Path) -> Res<VerifyingKey> {
    Ok(VerifyingKey::from_bytes(&read_hex_key::<32>(path)?)?)
}

fn read_text(path: &Path) -> Res<String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn report(name: &str, feed: &mamori_intel::ParsedFeed) {
    eprintln!("{name}: {feed}");
    for s in feed.skipped.iter().take(10) {
        eprintln!("  line {}: {}", s.line, s.reason);
    }
}

fn add_ut1(b: &mut IntelBuilder, name: &str, dir: &Path) -> Res<()> {
    let mut dirs = Vec::new();
    if dir.join("domains").is_file() || dir.join("urls").is_file() {
        dirs.push(dir.to_path_buf());
    } else {
        for e in fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                dirs.push(p);
            }
        }
        dirs.sort();
    }
    for d in dirs {
        let folder = d.file_name().and_then(|f| f.to_str()).unwrap_or("").to_owned();
        let Some(label) = ut1_meaning_label(&folder) else {
            eprintln!("{name}: skipping UT1 folder {folder} (not used)");
            continue;
        };
        for (file, format) in [("domains", FeedFormat::Ut1Domains { label }), ("urls", FeedFormat::Ut1Urls { label })] {
            let p = d.join(file);
            if p.is_file() {
                let source = format!("{name}/{folder}/{file}");
                let feed = b.add_source(&source, &format, &read_text(&p)?)?;
                report(&source, feed);
            }
        }
    }
    Ok(())
}

fn build(cmd: Cmd) -> Res<()> {
    let Cmd::Build { sources, key, version, out, no_jp_supplement, app_signatures, rules, created } = cmd else {
        return Ok(());
    };
    let key = signing_key(&key)?;
    let mut b = IntelBuilder::new();
    for spec in &sources {
        let (name, rest) = spec.split_once('=').ok_or_else(|| format!("--source {spec}: expected NAME=FORMAT:PATH"))?;
        let (format, path) = rest.split_once(':').ok_or_else(|| format!("--source {spec}: expected FORMAT:PATH"))?;
        if format == "ut1" {
            add_ut1(&mut b, name, Path::new(path))?;
            continue;
        }
        let format: FeedFormat = format.parse()?;
        let feed = b.add_source(name, &format, &read_text(Path::new(path))?)?;
        report(name, feed);
    }
    if !no_jp_supplement {
        let feed = b.add_jp_supplement()?;
        report(mamori_intel::supplement::SOURCE_NAME, feed);
    }
    if let Some(p) = app_signatures {
        b.set_app_signatures(fs::read(p)?);
    }
    if let Some(p) = rules {
        b.set_rules(read_text(&p)?);
    }
    let created = match created {
        Some(c) => c,
        None => i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?,
    };
    let bytes = b.build_bundle(version, created, &key);
    fs::write(&out, &bytes)?;
    eprintln!("wrote {} ({} bytes, version {version})", out.display(), bytes.len());
    Ok(())
}

fn run(cli: Cli) -> Res<()> {
    match cli.cmd {
        c @ Cmd::Build { .. } => build(c)?,
        Cmd::Keygen { out } => {
            let mut seed = [0u8; 32];
            getrandom::getrandom(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
            let key = SigningKey::from_bytes(&seed);
            let secret = format!("{out}.key");
            fs::write(&secret, format!("{}\n", hex::encode(seed)))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&secret, fs::Permissions::from_mode(0o600))?;
            }
            fs::write(format!("{out}.pub"), format!("{}\n", hex::encode(key.verifying_key().as_bytes())))?;
            println!("key id {}", hex::encode(mamori_intel::key_id(&key.verifying_key())));
        }
        Cmd::Verify { key, current, bundle } => {
            let key = verifying_key(&key)?;
            let intel = verify_and_load(&fs::read(&bundle)?, &key, current)?;
            let info = serde_json::json!({
                "version": intel.version(),
                "created_unix": intel.created_unix(),
                "sources": intel.sources(),
                "stats": intel.stats(),
            });
            println!("{}", serde_json::to_string_pretty(&info)?);
        }
        Cmd::Lookup { bundle, key, domain, url, ip, sha256, policy } => {
            let key = verifying_key(&key)?;
            let intel = verify_and_load(&fs::read(&bundle)?, &key, None)?;
            let policy = match policy {
                Some(p) => Policy::try_from(serde_json::from_str::<PolicyConfig>(&read_text(&p)?)?)?,
                None => Policy::default(),
            };
            let verdict = if let Some(d) = domain {
                intel.lookup_domain(&d, &policy)
            } else if let Some(u) = url {
                intel.lookup_url(&u, &policy)
            } else if let Some(ip) = ip {
                intel.lookup_ip(ip, &policy)
            } else if let Some(h) = sha256 {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(h.trim(), &mut hash)?;
                intel.lookup_sha256(&hash, &policy)
            } else {
                return Err("give one of --domain, --url, --ip, --sha256".into());
            };
            println!("{}", serde_json::to_string_pretty(&verdict)?);
        }
        Cmd::Formats => {
            println!("source formats for --source NAME=FORMAT:PATH:");
            for f in [
                "feodo-txt",
                "feodo-csv",
                "feodo-json",
                "urlhaus-csv",
                "urlhaus-hostfile",
                "threatfox-csv[@MIN_CONFIDENCE]",
                "threatfox-json[@MIN_CONFIDENCE]",
                "malwarebazaar-sha256",
                "spamhaus-drop-json",
                "spamhaus-drop-txt",
                "et-compromised",
                "et-block",
                "openphish",
                "phishtank-csv",
                "ut1 (folder)",
                "ut1-domains@CATEGORY",
                "ut1-urls@CATEGORY",
                "mamori[@LABEL]",
            ] {
                println!("  {f}");
            }
            println!("\n{OWN_FORMAT_DOC}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mamori-intel: {e}");
            ExitCode::FAILURE
        }
    }
}
