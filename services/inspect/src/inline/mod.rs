//! Inline mode: NFQUEUE in, verdicts out (`mamori-inspect run`).
//!
//! Threads: one worker per queue (each with its own engine), one EVE
//! writer, one control-socket server, and with `realtime = "auto"` one
//! scheduling governor ([`rt::govern`]); the main thread feeds the systemd
//! watchdog only while every worker turns.

pub mod blockpage;
pub mod control;
pub mod hold;
pub mod inject;
pub mod poll;
pub mod respond;
pub mod rt;
pub mod sched;
pub mod slice;
pub mod worker;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use mamori_engine::{Detect, Detector, Engine, EngineConfig};
use mamori_nfq::{NfqSocket, QueueOptions};
use tracing::{error, info, warn};

use crate::config::{DnsBlockMode, InspectConfig, Realtime};
use crate::rules::RuleFiles;
use control::Control;
use mamori_engine::WebProtection;
use mamori_intel::{BundleError, IntelHandle, Policy, VerifyingKey};
use respond::DnsBlock;
use worker::{Settings, Worker, WorkerShared};

struct Rules {
    files: RuleFiles,
    count: AtomicUsize,
    workers: Vec<Arc<WorkerShared>>,
    lock: Mutex<()>,
    web: Option<WebSource>,
}

/// Where intel comes from: a signed bundle file, verified with the key.
struct WebSource {
    blocked_apps: Vec<mamori_apps::App>,
    handle: IntelHandle,
    path: std::path::PathBuf,
    policy: Arc<Policy>,
    /// The blocked networks go here for netd's block sets.
    export: std::path::PathBuf,
}

impl WebSource {
    /// Verify the bundle file and swap it in if it is newer. Returns the
    /// version in force; an unusable bundle leaves the current one.
    fn refresh(&self) -> Result<u64, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => match self.handle.update(&bytes) {
                Ok(v) => Ok(v),
                // The same bundle again is not news.
                Err(BundleError::Rollback { current, offered }) if current == offered => Ok(current),
                Err(e) => Err(format!("{}: {e}", self.path.display())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(self.handle.version()),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Write the blocked networks of the intel in force for the firewall,
    /// atomically (netd notices the change and updates its sets in place).
    fn export_networks(&self) -> Result<usize, String> {
        let nets = self.handle.current().blocked_networks(&self.policy);
        let mut text = format!("# written by mamori-inspect from intel version {}\n", self.handle.version());
        for n in &nets {
            text.push_str(&n.to_string());
            text.push('\n');
        }
        let tmp = self.export.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.export.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&tmp, &text)?;
            std::fs::rename(&tmp, &self.export)
        };
        write().map_err(|e| format!("{}: {e}", self.export.display()))?;
        Ok(nets.len())
    }

    fn protection(&self) -> WebProtection {
        WebProtection::new(self.handle.current().clone(), self.policy.clone())
            .with_blocked_apps(self.blocked_apps.clone())
    }
}

impl Rules {
    fn push_web(&self) {
        let Some(w) = &self.web else { return };
        match w.export_networks() {
            Ok(n) => info!(networks = n, path = %w.export.display(), "blocked networks handed to the firewall"),
            Err(e) => error!(error = %e, "could not hand blocked networks to the firewall"),
        }
        let p = w.protection();
        for s in &self.workers {
            if let Ok(mut slot) = s.web.lock() {
                *slot = Some(p.clone());
            }
            s.web_pending.store(true, Ordering::Release);
        }
    }
}

impl Rules {
    fn load(&self) -> Result<(Arc<Detector>, String), String> {
        let (det, loaded) = self.files.build().map_err(|e| e.to_string())?;
        for w in &loaded.warnings {
            warn!(warning = %w, "rules");
        }
        let s = &loaded.summary;
        let summary = format!("loaded {} of {} rules", s.loaded, s.total);
        self.count.store(s.loaded, Ordering::Relaxed);
        Ok((det, summary))
    }
}

impl Control for Rules {
    fn reload(&self) -> Result<String, String> {
        let _one_at_a_time = self.lock.lock().map_err(|_| "reload lock poisoned".to_string())?;
        let intel = match &self.web {
            Some(w) => {
                let v = w.refresh()?;
                self.push_web();
                format!(", intel version {v}")
            }
            None => String::new(),
        };
        if self.files.rules.is_empty() {
            return Ok(format!("no rules{intel}"));
        }
        let (det, summary) = self.load()?;
        let summary = format!("{summary}{intel}");
        for w in &self.workers {
            if let Ok(mut slot) = w.reload.lock() {
                *slot = Some(det.clone());
            }
            w.reload_pending.store(true, Ordering::Release);
        }
        Ok(summary)
    }

    fn rule_count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

fn engine_config(cfg: &InspectConfig) -> EngineConfig {
    EngineConfig {
        stream_depth: cfg.inline.stream_depth,
        bypass: cfg.inline.bypass,
        bypass_one_side: true,
        bypass_app_over: cfg.inline.bypass_app_over,
        // After a restart every flow is picked up mid-stream.
        midstream: true,
        ..EngineConfig::default()
    }
}

fn eve_writer(path: &Path, rx: mpsc::Receiver<worker::EveBatch>) -> Result<std::thread::JoinHandle<()>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening EVE log {}", path.display()))?;
    let h = std::thread::Builder::new().name("eve".into()).spawn(move || {
        // Lines come serialised by the workers (see `worker::EveBatch`).
        for batch in rx {
            if let Err(e) = f.write_all(&batch.lines) {
                error!(error = %e, "writing EVE failed");
            }
        }
    })?;
    Ok(h)
}

fn web_source(cfg: &InspectConfig) -> Result<Option<WebSource>> {
    let Some(key) = cfg.intel.key_bytes() else {
        warn!("intel.public_key not set: no intel bundle is accepted, web protection has no lists");
        return Ok(None);
    };
    let key = key.map_err(|e| anyhow::anyhow!("intel.public_key: {e}"))?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| anyhow::anyhow!("intel.public_key: {e}"))?;
    let policy = Policy::try_from(cfg.web.policy.clone()).map_err(|e| anyhow::anyhow!("web: {e}"))?;
    let export = cfg.intel.firewall_export.clone().unwrap_or_else(|| cfg.state_dir.join("intel-blocklist.txt"));
    let blocked_apps = cfg.web.blocked_apps().map_err(|e| anyhow::anyhow!("web.apps: {e}"))?;
    Ok(Some(WebSource {
        blocked_apps,
        handle: IntelHandle::new(key),
        path: cfg.intel.bundle_path(),
        policy: Arc::new(policy),
        export,
    }))
}

/// Run inline until killed.
pub fn run(config_path: &Path) -> Result<()> {
    let (cfg, warnings) = InspectConfig::load(config_path)?;
    for w in warnings {
        warn!("{w}");
    }
    let queues = cfg.queue_count();
    let workers: Vec<Arc<WorkerShared>> = (0..queues).map(|_| Arc::new(WorkerShared::default())).collect();
    let files = RuleFiles {
        rules: if cfg.protections.ips { cfg.ips.rules.clone() } else { Vec::new() },
        classification: cfg.ips.classification.clone(),
        vars: cfg.ips.vars.clone(),
        threshold: cfg.ips.threshold.clone(),
        cache_dir: Some(cfg.state_dir.join("cache/rules")),
    };
    let web = if cfg.protections.web_protection { web_source(&cfg)? } else { None };
    let rules =
        Arc::new(Rules { files, count: AtomicUsize::new(0), workers: workers.clone(), lock: Mutex::new(()), web });
    if let Some(w) = &rules.web {
        match w.refresh() {
            Ok(v) => info!(version = v, "intel"),
            Err(e) => error!(error = %e, "intel bundle refused; web protection has no lists until a good one loads"),
        }
        rules.push_web();
    }
    // Bad rules must not keep the bridge from inspecting at all: run
    // without IPS and say so loudly (reload fixes it).
    let detector = if rules.files.rules.is_empty() {
        None
    } else {
        match rules.load() {
            Ok((d, summary)) => {
                info!(%summary, "rules");
                Some(d)
            }
            Err(e) => {
                error!(error = %e, "rules not loaded; inspecting without IPS rules");
                None
            }
        }
    };

    // Batches of lines waiting for the writer (up to about 80 KB each, see
    // `worker::EveOutbox`); bounded so a slow disk costs events, not memory.
    let (eve_tx, eve_rx) = mpsc::sync_channel(512);
    let writer = eve_writer(&cfg.eve.path, eve_rx)?;
    let settings = Settings {
        bypass_mark: cfg.marks.bypass,
        block_mark: cfg.marks.block,
        contact: cfg.inline.block_page_contact.clone(),
        dns_block: match cfg.web.dns_block {
            DnsBlockMode::Nxdomain => DnsBlock::NxDomain,
            DnsBlockMode::Sinkhole => DnsBlock::Sinkhole(cfg.web.sinkhole_v4, cfg.web.sinkhole_v6),
        },
        busy_poll: Duration::from_micros(cfg.inline.busy_poll_us.into()),
    };
    let opts = QueueOptions { max_len: cfg.inline.queue_max_len, ..QueueOptions::default() };
    // SIGTERM/SIGINT: workers finish their flows (flow events) and the EVE
    // writer drains before we exit; the queues' bypass flag passes traffic
    // from the moment the sockets close.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone()).context("signal handler")?;
    }
    let mut handles = Vec::new();
    for (i, shared) in workers.iter().enumerate() {
        let q = cfg.queues.first + i as u16;
        let sock = NfqSocket::open(q, &opts)?;
        if !sock.conntrack() {
            warn!(queue = q, "kernel lacks nf_conntrack_netlink: flow marks go via the packet mark");
        }
        let (ecfg, det, shared2, settings, eve, stop) =
            (engine_config(&cfg), detector.clone(), shared.clone(), settings.clone(), eve_tx.clone(), stop.clone());
        let realtime = cfg.inline.effective_realtime();
        shared.heartbeat_ms.store(worker::now_ms(), Ordering::Relaxed);
        // The engine is built on its own thread: it never moves between threads.
        let h = std::thread::Builder::new().name(format!("queue-{q}")).spawn(move || {
            if realtime != Realtime::Off {
                match rt::make_realtime() {
                    Ok(()) => {
                        shared2.realtime.store(true, Ordering::Relaxed);
                        if realtime == Realtime::Auto {
                            shared2.tid.store(rt::current_tid(), Ordering::Relaxed);
                        }
                        info!(
                            queue = q,
                            priority = rt::PRIORITY,
                            ?realtime,
                            "worker runs at real-time priority (SCHED_FIFO)"
                        )
                    }
                    Err(e) => {
                        let why =
                            "worker cannot take real-time priority (needs CAP_SYS_NICE); it runs as an ordinary thread";
                        // Asked for outright, a refusal is worth a warning;
                        // under "auto" ordinary workers are a fine default.
                        if realtime == Realtime::Auto {
                            info!(queue = q, error = %e, "{why}")
                        } else {
                            warn!(queue = q, error = %e, "{why}")
                        }
                    }
                }
            }
            let mut engine = Engine::new(ecfg).with_file_gate(Box::new(mamori_engine::PassAllSha256));
            if let Some(d) = det {
                engine = engine.with_detect(Detect::new(d, true));
            }
            Worker::new(sock, engine, shared2, settings, eve).run(&stop)
        })?;
        handles.push(h);
    }
    drop(eve_tx);
    if cfg.inline.effective_realtime() == Realtime::Auto {
        let (workers, stop) = (workers.clone(), stop.clone());
        std::thread::Builder::new().name("rt-governor".into()).spawn(move || rt::govern(workers, stop))?;
    }

    let listener = control::bind(&cfg.control_socket)
        .with_context(|| format!("control socket {}", cfg.control_socket.display()))?;
    {
        let workers = workers.clone();
        let rules: Arc<dyn Control> = rules.clone();
        std::thread::Builder::new().name("control".into()).spawn(move || control::serve(listener, workers, rules))?;
    }
    info!(queues, first = cfg.queues.first, "inspecting inline");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let beat = sd_notify::watchdog_enabled().map(|d| d / 2).unwrap_or(Duration::from_secs(2));
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(beat.min(Duration::from_millis(500)));
        if control::all_alive(&workers) {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        } else {
            // No keep-alive: systemd restarts us; the queue's bypass flag
            // keeps traffic flowing meanwhile.
            error!("a queue worker is stuck");
        }
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    info!("stopping: writing the flows' last events");
    for h in handles {
        let _ = h.join();
    }
    let _ = writer.join();
    let _ = std::fs::remove_file(&cfg.control_socket);
    Ok(())
}
