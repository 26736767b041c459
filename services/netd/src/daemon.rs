//! The service: converge, tell systemd, then keep things converged.
//!
//! Order at start: br_netfilter and the table first, then the bridge, so the blocklist is in force
//! from the first forwarded packet. Nothing is torn down on exit: the bridge keeps forwarding and the
//! table keeps blocking while netd restarts.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context};
use futures::StreamExt;
use mamori_netd::blocklist::{self, Blocklist};
use mamori_netd::brnf::{self, BrnfError};
use mamori_netd::config::Config;
use mamori_netd::firewall::{Firewall, TableOutcome};
use mamori_netd::links::{LinkState, Note, Target};
use mamori_netd::netlink::{self, link_state};
use mamori_netd::nft::Nft;
use mamori_netd::nics::SYS_CLASS_NET;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::MulticastGroup;
use sd_notify::NotifyState;
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::{interval, Instant, MissedTickBehavior};

/// How often the table's presence is checked (someone may `nft flush ruleset`).
const TABLE_POLL: Duration = Duration::from_secs(5);
/// How often set contents are compared in full, in case elements were removed by hand.
const SET_RESYNC: Duration = Duration::from_secs(300);

/// `--once`: every part is attempted; the exit status fails if any did.
pub async fn once(cfg: &Config) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    if let Err(e) = brnf::ensure(Path::new(brnf::PROC_SYS)) {
        tracing::error!("{e}");
        if matches!(e, BrnfError::Module(_)) {
            failed.push("br_netfilter");
        }
    }
    let mut fw = Firewall::new(Nft::default(), cfg);
    match fw.ensure_table() {
        Ok(outcome) => {
            tracing::info!(table = cfg.ruleset.table, ?outcome, "table");
            match blocklist::load(&cfg.blocklist.files) {
                Ok(loaded) => {
                    report_blocklist(&loaded);
                    match fw.sync_sets(&loaded.blocklist) {
                        Ok(o) => tracing::info!(added = o.added, removed = o.removed, "block sets"),
                        Err(e) => {
                            tracing::error!("block sets: {e}");
                            failed.push("sets");
                        }
                    }
                }
                Err(e) => {
                    tracing::error!("blocklist: {e}");
                    failed.push("blocklist");
                }
            }
        }
        Err(e) => {
            tracing::error!("table: {e}");
            failed.push("table");
        }
    }
    let (conn, handle, _) = rtnetlink::new_connection().context("opening rtnetlink")?;
    tokio::spawn(conn);
    match netlink::converge(&handle, &cfg.bridge, Path::new(SYS_CLASS_NET)).await {
        Ok(c) => {
            log_target(&c.target);
            c.notes.iter().for_each(|n| tracing::warn!("{n}"));
        }
        Err(e) => {
            tracing::error!("bridge: {e}");
            failed.push("bridge");
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("failed: {}", failed.join(", ")))
    }
}

fn log_target(t: &Target) {
    let [wan, lan] = &t.ports;
    tracing::info!(bridge = t.bridge.as_str(), wan = wan.name, lan = lan.name, "bridge converged");
}

fn report_blocklist(loaded: &blocklist::Loaded) {
    const SHOWN: usize = 10;
    for f in &loaded.files {
        let file = f.file.display().to_string();
        if f.missing {
            tracing::info!(file, "blocklist file absent; treated as empty");
            continue;
        }
        for b in f.bad.iter().take(SHOWN) {
            tracing::warn!(file, line = b.line, text = b.text, "blocklist line skipped: {}", b.reason);
        }
        if !f.bad.is_empty() {
            tracing::warn!(file, entries = f.entries, skipped = f.bad.len(), "blocklist loaded with bad lines");
        } else {
            tracing::info!(file, entries = f.entries, "blocklist loaded");
        }
    }
}

/// Logs a failure once while it persists, and its recovery.
#[derive(Default)]
struct Reporter {
    failing: Option<String>,
}

impl Reporter {
    fn result<T, E: std::fmt::Display>(&mut self, what: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => {
                if self.failing.take().is_some() {
                    tracing::info!("{what}: recovered");
                }
                Some(v)
            }
            Err(e) => {
                let msg = format!("{e:#}");
                if self.failing.as_deref() != Some(msg.as_str()) {
                    tracing::error!("{what}: {msg}");
                } else {
                    tracing::debug!("{what}: still failing: {msg}");
                }
                self.failing = Some(msg);
                None
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    admin_up: bool,
    lower_up: bool,
    controller: Option<u32>,
}

impl From<&LinkState> for Seen {
    fn from(l: &LinkState) -> Self {
        Seen { name: l.name.clone(), admin_up: l.admin_up, lower_up: l.lower_up, controller: l.controller }
    }
}

struct Daemon {
    cfg: Config,
    firewall: Firewall,
    blocklist: Option<Blocklist>,
    target: Option<Target>,
    seen: HashMap<u32, Seen>,
    notes: BTreeSet<String>,
    bridge_report: Reporter,
    brnf_report: Reporter,
    table_report: Reporter,
    sets_report: Reporter,
    blocklist_report: Reporter,
}

impl Daemon {
    /// Names whose link events are logged: the bridge and its ports.
    fn watched(&self, name: &str) -> bool {
        name == self.cfg.bridge.name.as_str()
            || self.target.as_ref().is_some_and(|t| t.ports.iter().any(|p| p.name == name))
    }

    async fn converge_bridge(&mut self) -> bool {
        // A connection per round: a request socket that broke (ENOBUFS, say) can't wedge netd for good.
        let r = match rtnetlink::new_connection() {
            Ok((conn, handle, _)) => {
                tokio::spawn(conn);
                netlink::converge(&handle, &self.cfg.bridge, Path::new(SYS_CLASS_NET))
                    .await
                    .map_err(anyhow::Error::from)
            }
            Err(e) => Err(anyhow::Error::from(e).context("opening rtnetlink")),
        };
        let Some(c) = self.bridge_report.result("bridge", r) else { return false };
        if self.target.as_ref() != Some(&c.target) {
            log_target(&c.target);
        }
        let notes: BTreeSet<String> = c.notes.iter().map(Note::to_string).collect();
        for n in notes.difference(&self.notes) {
            tracing::warn!("{n}");
        }
        self.notes = notes;
        self.target = Some(c.target);
        if self.seen.is_empty() {
            // From then on link events keep it current, including those netd's own actions cause.
            self.seen = c.initial.iter().map(|l| (l.index, Seen::from(l))).collect();
        }
        true
    }

    fn reload_blocklist(&mut self) {
        let r = blocklist::load(&self.cfg.blocklist.files);
        if let Some(loaded) = self.blocklist_report.result("blocklist (sets left as they are)", r) {
            report_blocklist(&loaded);
            self.blocklist = Some(loaded.blocklist);
        }
    }

    fn sync_sets(&mut self) {
        let Some(bl) = &self.blocklist else { return };
        let r = self.firewall.sync_sets(bl);
        if let Some(o) = self.sets_report.result("block sets", r) {
            if o.added + o.removed > 0 {
                tracing::info!(added = o.added, removed = o.removed, "block sets updated");
            }
            if o.unreadable > 0 {
                tracing::warn!(elements = o.unreadable, "block sets hold elements netd cannot read; left in place");
            }
        }
    }

    /// Makes sure br_netfilter is on and the table is there; fills the sets when the table was (re)made.
    /// `None` if the table could not be loaded.
    fn converge_firewall(&mut self) -> Option<TableOutcome> {
        match brnf::ensure(Path::new(brnf::PROC_SYS)) {
            Ok(()) => {
                self.brnf_report.result::<_, BrnfError>("br_netfilter", Ok(()));
            }
            // The per-bridge nf_call options cover read-only sysctls; only a missing module is fatal
            // to filtering.
            Err(e @ BrnfError::Sysctl { .. }) => {
                if self.brnf_report.failing.is_none() {
                    tracing::warn!("{e}; relying on the bridge's own nf_call_iptables/ip6tables options");
                }
                self.brnf_report.failing = Some(e.to_string());
            }
            Err(e) => {
                self.brnf_report.result::<(), _>("br_netfilter", Err(e));
            }
        }
        let r = self.firewall.ensure_table();
        let outcome = self.table_report.result("table", r)?;
        if outcome != TableOutcome::Unchanged {
            tracing::info!(table = self.cfg.ruleset.table, ?outcome, "table loaded");
            self.sync_sets();
        }
        Some(outcome)
    }

    fn on_link_message(&mut self, payload: &NetlinkPayload<RouteNetlinkMessage>) {
        match payload {
            // AF_BRIDGE messages describe bridge port membership, not the link itself (a port leaving
            // its bridge is an AF_BRIDGE DELLINK).
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m) | RouteNetlinkMessage::DelLink(m))
                if m.header.interface_family != AddressFamily::Unspec => {}
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                let now = Seen::from(&link_state(m));
                let before = self.seen.insert(m.header.index, now.clone());
                if !self.watched(&now.name) {
                    return;
                }
                let name = &now.name;
                match before {
                    None => tracing::info!(link = name, "link appeared"),
                    Some(b) => {
                        if b.admin_up != now.admin_up {
                            tracing::info!(link = name, "link set {}", if now.admin_up { "up" } else { "down" });
                        }
                        if b.lower_up != now.lower_up {
                            tracing::info!(link = name, "carrier {}", if now.lower_up { "up" } else { "down" });
                        }
                        if b.controller.is_some() && now.controller.is_none() {
                            tracing::info!(link = name, "link left its bridge");
                        }
                    }
                }
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                if let Some(gone) = self.seen.remove(&m.header.index) {
                    if self.watched(&gone.name) {
                        tracing::warn!(link = gone.name, "link removed");
                    }
                }
            }
            _ => {}
        }
    }
}

fn notify(states: &[NotifyState]) {
    // Outside systemd NOTIFY_SOCKET is unset and this is a no-op; a failure to reach systemd is only
    // worth a debug line since systemd will act on the missing notification itself.
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {e}");
    }
}

/// Modification time and size of each blocklist file (None: missing).
fn blocklist_stamps(files: &[std::path::PathBuf]) -> Vec<Option<(std::time::SystemTime, u64)>> {
    files.iter().map(|f| std::fs::metadata(f).ok().and_then(|m| Some((m.modified().ok()?, m.len())))).collect()
}

pub async fn run(cfg: Config) -> anyhow::Result<()> {
    // Subscribe before the first convergence so no change between it and the subscription is missed.
    let (mconn, _, mut events) =
        rtnetlink::new_multicast_connection(&[MulticastGroup::Link]).context("subscribing to link events")?;
    tokio::spawn(mconn);
    let mut hup = signal(SignalKind::hangup()).context("SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;

    let firewall = Firewall::new(Nft::default(), &cfg);
    let mut d = Daemon {
        cfg,
        firewall,
        blocklist: None,
        target: None,
        seen: HashMap::new(),
        notes: BTreeSet::new(),
        bridge_report: Reporter::default(),
        brnf_report: Reporter::default(),
        table_report: Reporter::default(),
        sets_report: Reporter::default(),
        blocklist_report: Reporter::default(),
    };

    d.reload_blocklist();
    let table = d.converge_firewall();
    if table == Some(TableOutcome::Unchanged) {
        // A table left by the previous run: its sets may predate the files.
        d.sync_sets();
    }
    let table_ok = table.is_some();
    let bridge_ok = d.converge_bridge().await;
    // Ready even if a part failed: the failure is logged and retried, and holding back READY would
    // only make systemd restart netd into the same failure.
    let status = match (bridge_ok, table_ok) {
        (true, true) => "bridge and table converged".to_owned(),
        (b, t) => format!(
            "degraded: {}{}",
            if b { "" } else { "bridge not converged " },
            if t { "" } else { "table not loaded" }
        ),
    };
    notify(&[NotifyState::Ready, NotifyState::Status(status.trim())]);

    let mut poll = interval(TABLE_POLL);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    poll.reset();
    let mut last_resync = Instant::now();
    // Blocklist files written by others (inspect exports the intel bundle's
    // blocked networks) are picked up when they change, no signal needed.
    let mut stamps = blocklist_stamps(&d.cfg.blocklist.files);
    let mut watchdog = sd_notify::watchdog_enabled().map(|usec| {
        let mut i = interval(usec / 2);
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        i
    });

    loop {
        tokio::select! {
            ev = events.next() => {
                let Some((msg, _)) = ev else {
                    return Err(anyhow!("the link event socket closed"));
                };
                d.on_link_message(&msg.payload);
                // Take everything already queued before acting once on the lot.
                while let Ok((msg, _)) = events.try_recv() {
                    d.on_link_message(&msg.payload);
                }
                d.converge_bridge().await;
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading blocklist files");
                d.reload_blocklist();
                if d.converge_firewall() == Some(TableOutcome::Unchanged) {
                    d.sync_sets();
                }
                last_resync = Instant::now();
            }
            _ = poll.tick() => {
                let now_stamps = blocklist_stamps(&d.cfg.blocklist.files);
                if now_stamps != stamps {
                    stamps = now_stamps;
                    tracing::info!("a blocklist file changed: updating the sets");
                    d.reload_blocklist();
                    d.sync_sets();
                }
                let table = d.converge_firewall();
                if table.is_some_and(|t| t != TableOutcome::Unchanged) {
                    last_resync = Instant::now();
                } else if table.is_some() && last_resync.elapsed() >= SET_RESYNC {
                    d.sync_sets();
                    last_resync = Instant::now();
                }
                // Retry a failed bridge (e.g. a NIC that isn't there yet) without waiting for an event.
                if d.bridge_report.failing.is_some() {
                    d.converge_bridge().await;
                }
            }
            _ = async { match watchdog.as_mut() { Some(w) => { w.tick().await; } None => std::future::pending().await } } => {
                notify(&[NotifyState::Watchdog]);
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    notify(&[NotifyState::Stopping]);
    tracing::info!("stopping; bridge and table stay in place");
    Ok(())
}
