//! `mamori-inspect`: the inspection service's command line.
//!
//! `replay` is how the engine is scored: keep its flags stable.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use mamori_inspect::replay::{replay, ReplayOptions};

#[derive(Parser)]
#[command(name = "mamori-inspect", version, about = "Mamori deep packet inspection")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Replay { pcap, eve, rules, threshold, simulate_ips } => {
            if let Some(r) = rules.first() {
                bail!("--rules {}: the IPS rule engine is not part of this build yet", r.display());
            }
            if let Some(t) = threshold {
                bail!("--threshold {}: the IPS rule engine is not part of this build yet", t.display());
            }
            let opts = ReplayOptions { simulate_ips, ..Default::default() };
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
    }
    Ok(())
}
