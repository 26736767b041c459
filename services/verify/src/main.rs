//! `mamori-verify --tests DIR`: score the engine on suricata-verify cases.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, ValueEnum};
use mamori_verify::{run_case, Case, CaseOutcome, Scope};

#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Alerts,
    Fields,
}

#[derive(Parser)]
#[command(name = "mamori-verify", about = "Score mamori-inspect on suricata-verify cases")]
struct Cli {
    /// Folder holding case folders (each with test.yaml), searched recursively.
    #[arg(long)]
    tests: PathBuf,
    /// Which checks to score.
    #[arg(long, value_enum, default_value = "fields")]
    scope: ScopeArg,
    /// Succeed when at least this many cases pass (a ratchet for CI); by
    /// default any failing case fails the run.
    #[arg(long)]
    min_passed: Option<usize>,
    /// Print the failing checks of each failed case.
    #[arg(long, short)]
    verbose: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let scope = match cli.scope {
        ScopeArg::Alerts => Scope::Alerts,
        ScopeArg::Fields => Scope::Fields,
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for dir in Case::discover(&cli.tests) {
        let case = match Case::load(&dir, &cli.tests) {
            Ok(c) => c,
            Err(e) => {
                println!("ERROR {e}");
                failed += 1;
                continue;
            }
        };
        match run_case(&case, scope) {
            CaseOutcome::Pass { checks } => {
                passed += 1;
                println!("PASS  {} ({checks} checks)", case.name);
            }
            CaseOutcome::Fail { failures } => {
                failed += 1;
                println!("FAIL  {}", case.name);
                if cli.verbose {
                    for f in failures {
                        println!("        {f}");
                    }
                }
            }
            CaseOutcome::Error { why } => {
                failed += 1;
                println!("ERROR {}: {why}", case.name);
            }
            CaseOutcome::Skip { why } => {
                skipped += 1;
                if cli.verbose {
                    println!("SKIP  {}: {why}", case.name);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    let ok = match cli.min_passed {
        Some(min) => {
            if passed < min {
                eprintln!("only {passed} cases passed; at least {min} must");
            }
            passed >= min
        }
        None => failed == 0,
    };
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
