//! `mamori-netd [--config FILE] [--once | --print-ruleset]`

mod daemon;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mamori_netd::config;
use mamori_netd::ruleset::{ruleset, to_json};

#[derive(Parser)]
#[command(name = "mamori-netd", version, about = "Builds Mamori's inline bridge and owns its nftables table")]
struct Cli {
    /// Configuration file.
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
    config: PathBuf,
    /// Converge bridge, table and sets once, then exit (non-zero if any part failed).
    #[arg(long, conflicts_with = "print_ruleset")]
    once: bool,
    /// Print the table definition as `nft -j` JSON and exit.
    #[arg(long)]
    print_ruleset: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let loaded = config::load(&cli.config)?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let cfg = loaded.config;

    if cli.print_ruleset {
        let json = to_json(&ruleset(&cfg, cfg.ruleset.queues()));
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    if cli.once {
        rt.block_on(daemon::once(&cfg))
    } else {
        rt.block_on(daemon::run(cfg))
    }
}
