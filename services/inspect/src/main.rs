//! `mamori-inspect`: the inspection service's command line.
//!
//! `replay` is how the engine is scored: keep its flags stable.

mod allocator;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use mamori_inspect::replay::{replay, ReplayOptions};
use mamori_inspect::rules::{default_cache_dir, describe, RuleFiles};

#[derive(Parser)]
#[command(name = "mamori-inspect", version, about = "Mamori deep packet inspection")]
struct Cli {
    /// Run inline with this config (same as `run --config FILE`).
    #[arg(long, global = false)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Rule files and what they depend on.
#[derive(Args)]
struct RuleArgs {
    /// classification.config (default: the one next to the first rules file, if any).
    #[arg(long)]
    classification: Option<PathBuf>,
    /// Address and port variables: a suricata.yaml (its `vars`) or a TOML file.
    #[arg(long)]
    vars: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect NFQUEUE traffic inline (the appliance service).
    Run {
        /// inspect.toml (docs/config.md).
        #[arg(long, default_value = "/etc/mamori/inspect.toml")]
        config: PathBuf,
    },
    /// Replay a capture through the engine and write EVE JSON (like `suricata -r -k none`).
    Replay {
        /// Capture file (pcap or pcapng).
        #[arg(long)]
        pcap: PathBuf,
        /// Where to write EVE JSON lines ("-" for standard output).
        #[arg(long)]
        eve: PathBuf,
        /// Suricata-compatible rules file; may be repeated.
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
        /// threshold.config file.
        #[arg(long)]
        threshold: Option<PathBuf>,
        /// Report what inline mode would have dropped.
        #[arg(long)]
        simulate_ips: bool,
        #[command(flatten)]
        rule_args: RuleArgs,
        /// Where compiled rule databases are cached (default: ~/.cache/mamori).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Always compile; neither read nor write the cache.
        #[arg(long)]
        no_cache: bool,
        /// Suricata-style engine settings: vlan.use-for-tracking,
        /// stream.midstream, stream.async-oneside (`key=value`, repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Rule files: check them and say what loads.
    Rules {
        /// Parse and validate; print `loaded N of M rules` and the reasons for the rest.
        #[arg(long, required = true, num_args = 1..)]
        check: Vec<PathBuf>,
        #[command(flatten)]
        rule_args: RuleArgs,
        /// Also compile the matcher and report on it.
        #[arg(long)]
        compile: bool,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let cli = Cli::parse();
    let command = match (cli.command, cli.config) {
        (Some(c), None) => c,
        (None, Some(config)) => Command::Run { config },
        (None, None) => bail!("nothing to do: give a subcommand (run, replay, rules) or --config FILE"),
        (Some(_), Some(_)) => bail!("--config before a subcommand: use `run --config FILE`"),
    };
    match command {
        Command::Run { config } => return mamori_inspect::inline::run(&config),
        Command::Replay { pcap, eve, rules, threshold, simulate_ips, rule_args, cache_dir, no_cache, set } => {
            if threshold.is_some() && rules.is_empty() {
                bail!("--threshold needs --rules");
            }
            let mut opts = ReplayOptions { simulate_ips, ..Default::default() };
            for kv in &set {
                let Some((k, v)) = kv.split_once('=') else { bail!("--set {kv}: expected key=value") };
                if !opts.set(k, v) {
                    bail!("--set {k}: not a setting this engine has");
                }
            }
            if !rules.is_empty() {
                let files = RuleFiles {
                    rules,
                    classification: rule_args.classification,
                    vars: rule_args.vars,
                    threshold,
                    cache_dir: if no_cache { None } else { cache_dir.or_else(default_cache_dir) },
                };
                let t = Instant::now();
                let (det, loaded) = files.build()?;
                for w in &loaded.warnings {
                    eprintln!("warning: {w}");
                }
                eprint!("{}", loaded.summary.to_string().lines().next().map(|l| format!("{l}\n")).unwrap_or_default());
                eprintln!("{} in {:.3} s", describe(det.report()), t.elapsed().as_secs_f64());
                opts.detector = Some(det);
            }
            let started = Instant::now();
            let summary = if eve.as_os_str() == "-" {
                replay(&pcap, std::io::stdout().lock(), &opts)?
            } else {
                let f = File::create(&eve).with_context(|| format!("{}: cannot create", eve.display()))?;
                replay(&pcap, BufWriter::with_capacity(1 << 16, f), &opts)?
            };
            let secs = started.elapsed().as_secs_f64();
            if let Some(err) = &summary.capture_error {
                eprintln!("warning: {err}; the packets before it were inspected");
            }
            eprintln!(
                "replayed {} packets ({} bytes) in {:.3} s, {} events{}",
                summary.packets,
                summary.bytes,
                secs,
                summary.events,
                if simulate_ips { format!(", {} would be dropped", summary.dropped) } else { String::new() }
            );
        }
        Command::Rules { check, rule_args, compile } => {
            let files = RuleFiles {
                rules: check,
                classification: rule_args.classification,
                vars: rule_args.vars,
                threshold: None,
                cache_dir: None,
            };
            let t = Instant::now();
            let loaded = files.load()?;
            print!("{}", loaded.summary);
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            if compile {
                let det = mamori_engine::Detector::build(&loaded.rules, &loaded.thresholds, None);
                println!("{}", describe(det.report()));
            }
            eprintln!("checked in {:.3} s", t.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

/// mimalloc rather than glibc's malloc: the engine makes and frees dozens of
/// small objects per packet on each queue worker, where glibc's per-thread
/// caches run dry and fall to the arenas' slow paths (a fifth of a worker's
/// user time at thousands of connections a second; docs/benchmarks.md).
/// See [`allocator`] for why not the `mimalloc` crate's own wrapper.
#[global_allocator]
static GLOBAL: allocator::MiMalloc = allocator::MiMalloc;
