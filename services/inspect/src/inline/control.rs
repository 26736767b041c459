//! The control socket (docs/config.md): one line in, one line out.
//! `ping` → `pong` while every worker turns; `stats` → one JSON line;
//! `reload` → rules re-read and swapped in, or the error (old rules stay).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tracing::{info, warn};

use super::hold;
use super::worker::{now_ms, WorkerShared};

/// A worker that has not turned for this long is stuck (it turns at least
/// every receive timeout, 0.5 s).
pub const STALL_MS: u64 = 3_000;

pub fn all_alive(workers: &[Arc<WorkerShared>]) -> bool {
    let now = now_ms();
    workers.iter().all(|w| now.saturating_sub(w.heartbeat_ms.load(Ordering::Relaxed)) < STALL_MS)
}

pub fn stats_json(workers: &[Arc<WorkerShared>], rules: usize) -> String {
    let sum = |f: fn(&WorkerShared) -> u64| workers.iter().map(|w| f(w)).sum::<u64>();
    json!({
        "queues": workers.len(),
        "rules": rules,
        "packets": sum(|w| w.stats.packets.load(Ordering::Relaxed)),
        "accepted": sum(|w| w.stats.accepted.load(Ordering::Relaxed)),
        "drops": sum(|w| w.stats.drops.load(Ordering::Relaxed)),
        "rejects": sum(|w| w.stats.rejects.load(Ordering::Relaxed)),
        "block_pages": sum(|w| w.stats.block_pages.load(Ordering::Relaxed)),
        "flows_bypassed": sum(|w| w.stats.flows_bypassed.load(Ordering::Relaxed)),
        "alerts": sum(|w| w.stats.alerts.load(Ordering::Relaxed)),
        "errors": sum(|w| w.stats.errors.load(Ordering::Relaxed)),
        "gso_packets": sum(|w| w.stats.gso_packets.load(Ordering::Relaxed)),
        "sliced_packets": sum(|w| w.stats.sliced_packets.load(Ordering::Relaxed)),
        "eve_dropped": sum(|w| w.stats.eve_dropped.load(Ordering::Relaxed)),
        "realtime_workers": sum(|w| u64::from(w.realtime.load(Ordering::Relaxed))),
        "scheduling_changes": sum(|w| w.scheduling_changes.load(Ordering::Relaxed)),
        "intel_matched": sum(|w| w.intel_matched.load(Ordering::Relaxed)),
        "intel_blocked": sum(|w| w.intel_blocked.load(Ordering::Relaxed)),
        "verdict_hold_us": hold_quantiles(workers, |w| &w.stats.hold),
        "verdict_hold_small_us": hold_quantiles(workers, |w| &w.stats.hold_small),
    })
    .to_string()
}

/// Quantiles of how long packets waited in the workers for their verdict
/// (upper bounds of log2 buckets, so "p99 ≤ N µs").
fn hold_quantiles(
    workers: &[Arc<WorkerShared>],
    which: fn(&WorkerShared) -> &hold::HoldHistogram,
) -> serde_json::Value {
    let all = hold::merge(workers.iter().map(|w| which(w).snapshot()));
    json!({
        "p50": hold::quantile(&all, 0.5),
        "p90": hold::quantile(&all, 0.9),
        "p99": hold::quantile(&all, 0.99),
        "p999": hold::quantile(&all, 0.999),
        // Bucket i: holds of [2^i, 2^(i+1)) µs, for differences over time.
        "buckets": all,
    })
}

/// What the control side can do beyond reading worker state.
pub trait Control: Send + Sync {
    /// Reload rules; `Ok(summary)` or the error.
    fn reload(&self) -> Result<String, String>;
    fn rule_count(&self) -> usize;
}

pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A socket file left by a previous run would make bind fail.
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path)
}

pub fn serve(listener: UnixListener, workers: Vec<Arc<WorkerShared>>, control: Arc<dyn Control>) {
    for conn in listener.incoming() {
        match conn {
            Ok(c) => {
                if let Err(e) = answer(c, &workers, &*control) {
                    warn!(error = %e, "control connection failed");
                }
            }
            Err(e) => warn!(error = %e, "control socket accept failed"),
        }
    }
}

fn answer(c: UnixStream, workers: &[Arc<WorkerShared>], control: &dyn Control) -> std::io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&c).take(4096).read_line(&mut line)?;
    let reply = match line.trim() {
        "ping" if all_alive(workers) => "pong".to_string(),
        "ping" => "stalled".to_string(),
        "stats" => stats_json(workers, control.rule_count()),
        "reload" => match control.reload() {
            Ok(s) => {
                info!(summary = %s, "rules reloaded");
                format!("ok {s}")
            }
            Err(e) => {
                warn!(error = %e, "rule reload failed; the previous rules stay");
                format!("error {e}")
            }
        },
        other => format!("error unknown command {other:?} (ping, stats, reload)"),
    };
    let mut c = c;
    c.write_all(reply.as_bytes())?;
    c.write_all(b"\n")
}
