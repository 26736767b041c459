//! `mamori-bench replay`: throughput of `mamori-inspect replay` against
//! `suricata -r`, on the same captures, in one run.
//!
//! The captures are concatenated (Ethernet ones only) and repeated, each
//! repetition two hours after the previous one so that every flow of the
//! previous round has timed out in both engines and the rounds are new flows.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use mamori_engine::LinkType;
use mamori_inspect::capture::Capture;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

#[derive(Parser)]
#[command(name = "mamori-bench")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Offline replay throughput.
    Replay {
        /// Folders searched recursively for *.pcap / *.pcapng.
        #[arg(long = "captures", required = true)]
        captures: Vec<PathBuf>,
        /// How many times the corpus is repeated.
        #[arg(long, default_value_t = 20)]
        repeat: u32,
        /// Timed runs per engine; the best is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        /// Rules for both engines (e.g. ET Open); none by default.
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
        #[arg(long, default_value = "target/release/mamori-inspect")]
        inspect: PathBuf,
        #[arg(long, default_value = "suricata")]
        suricata: PathBuf,
        /// Work folder for the corpus and outputs.
        #[arg(long, default_value = "/tmp/mamori-bench")]
        workdir: PathBuf,
    },
}

fn find_captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            find_captures(&p, out);
        } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
            out.push(p);
        }
    }
}

/// Build the corpus; returns (packets, bytes).
fn build_corpus(captures: &[PathBuf], repeat: u32, out: &Path) -> Result<(u64, u64)> {
    let mut files = Vec::new();
    for c in captures {
        find_captures(c, &mut files);
    }
    let mut packets: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut offset = 0u64;
    for f in &files {
        let Ok(cap) = Capture::open(f) else { continue };
        let mut first = None;
        let mut last = 0;
        for p in cap.flatten() {
            if p.link != LinkType::Ethernet {
                continue;
            }
            let base = *first.get_or_insert(p.ts_us);
            // Some captures jump by years inside; keep each file within an hour.
            let rel = p.ts_us.saturating_sub(base).min(3_600_000_000);
            last = last.max(rel);
            packets.push((offset + rel, p.data));
        }
        offset += last + 7_200_000_000;
    }
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..Default::default() };
    let file = std::fs::File::create(out).with_context(|| format!("{}", out.display()))?;
    let mut w = PcapWriter::with_header(std::io::BufWriter::new(file), header)?;
    let (mut n, mut bytes) = (0u64, 0u64);
    const EPOCH: u64 = 1_700_000_000_000_000;
    for r in 0..u64::from(repeat) {
        for (ts, data) in &packets {
            let t = EPOCH + r * (offset + 7_200_000_000) + ts;
            let pkt = PcapPacket::new(Duration::from_micros(t), data.len() as u32, data);
            w.write_packet(&pkt)?;
            n += 1;
            bytes += data.len() as u64;
        }
    }
    Ok((n, bytes))
}

fn time(mut cmd: Command, runs: u32) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
        let el = t.elapsed();
        if !out.status.success() {
            bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        best = best.min(el);
    }
    Ok(best)
}

fn count_events(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|s| s.lines().count()).unwrap_or(0)
}

fn main() -> Result<()> {
    let Cli { cmd: Cmd::Replay { captures, repeat, runs, rules, inspect, suricata, workdir } } = Cli::parse();
    std::fs::create_dir_all(&workdir)?;
    let corpus = workdir.join("corpus.pcap");
    let (pkts, bytes) = build_corpus(&captures, repeat, &corpus)?;
    println!("corpus: {} packets, {:.1} MB ({} repetitions)", pkts, bytes as f64 / 1e6, repeat);

    let eve = workdir.join("mamori-eve.json");
    let mut m = Command::new(&inspect);
    m.args(["replay", "--pcap"]).arg(&corpus).arg("--eve").arg(&eve);
    for r in &rules {
        m.arg("--rules").arg(r);
    }
    let tm = time(m, runs)?;

    let slog = workdir.join("suricata");
    let _ = std::fs::remove_dir_all(&slog);
    std::fs::create_dir_all(&slog)?;
    let rules_file = workdir.join("all.rules");
    let mut text = String::new();
    for r in &rules {
        text.push_str(&std::fs::read_to_string(r).with_context(|| format!("{}", r.display()))?);
        text.push('\n');
    }
    std::fs::write(&rules_file, text)?;
    let mut s = Command::new(&suricata);
    s.arg("-r").arg(&corpus).args(["-k", "none", "-S"]).arg(&rules_file).arg("-l").arg(&slog);
    let ts = time(s, runs)?;

    let mbps = |d: Duration| bytes as f64 * 8.0 / d.as_secs_f64() / 1e6;
    let load = if rules.is_empty() {
        None
    } else {
        Some(load_times(&inspect, &suricata, &rules, &rules_file, &workdir, runs)?)
    };
    println!("{:<22} {:>10} {:>12} {:>10}", "engine", "seconds", "Mbit/s", "events");
    println!("{:<22} {:>10.3} {:>12.1} {:>10}", "mamori-inspect", tm.as_secs_f64(), mbps(tm), count_events(&eve));
    println!(
        "{:<22} {:>10.3} {:>12.1} {:>10}",
        "suricata -r",
        ts.as_secs_f64(),
        mbps(ts),
        count_events(&slog.join("eve.json"))
    );
    println!("throughput ratio (mamori / suricata): {:.2}x", ts.as_secs_f64() / tm.as_secs_f64());
    if let Some((m, s)) = load {
        // Whole runs include loading the rules; without it, what remains is
        // the packet processing itself.
        let (pm, ps) = (tm.saturating_sub(m), ts.saturating_sub(s));
        if !pm.is_zero() && !ps.is_zero() {
            println!(
                "processing only (run minus rule load): mamori {:.3} s ({:.1} Mbit/s), suricata {:.3} s ({:.1} Mbit/s), ratio {:.2}x",
                pm.as_secs_f64(),
                mbps(pm),
                ps.as_secs_f64(),
                mbps(ps),
                ps.as_secs_f64() / pm.as_secs_f64()
            );
        }
        println!("{:<22} {:>10} {:>12}", "rule load", "seconds", "");
        println!("{:<22} {:>10.3}", "mamori (from cache)", m.as_secs_f64());
        println!("{:<22} {:>10.3}", "suricata -T", s.as_secs_f64());
        println!("rule-load ratio (suricata / mamori): {:.1}x", s.as_secs_f64() / m.as_secs_f64());
    }
    Ok(())
}

/// Rule load times: `mamori-inspect replay` of an empty capture with the
/// rules (after one run that fills the database cache), against
/// `suricata -T` (load, check, exit) with the same rules. Best of `runs`.
fn load_times(
    inspect: &Path,
    suricata: &Path,
    rules: &[PathBuf],
    rules_file: &Path,
    workdir: &Path,
    runs: u32,
) -> Result<(Duration, Duration)> {
    let empty = workdir.join("empty.pcap");
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..Default::default() };
    let file = std::fs::File::create(&empty).with_context(|| format!("{}", empty.display()))?;
    PcapWriter::with_header(std::io::BufWriter::new(file), header)?;
    let mamori = || {
        let mut c = Command::new(inspect);
        c.args(["replay", "--pcap"]).arg(&empty).args(["--eve", "/dev/null"]);
        for r in rules {
            c.arg("--rules").arg(r);
        }
        c
    };
    // Fill the cache first; the timed runs then load from it.
    time(mamori(), 1)?;
    let tm = time(mamori(), runs)?;
    let slog = workdir.join("suricata-t");
    std::fs::create_dir_all(&slog)?;
    let mut s = Command::new(suricata);
    s.arg("-T").arg("-S").arg(rules_file).arg("-l").arg(&slog);
    let ts = time(s, runs)?;
    Ok((tm, ts))
}
