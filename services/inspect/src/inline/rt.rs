//! Real-time scheduling for the queue workers (`inline.realtime`).
//!
//! A packet waits in the bridge while its worker is not on a CPU. With
//! ordinary scheduling the worker shares its core with every other process
//! (on the appliance the agent, the anti-virus scanner; on a test bed the
//! traffic generators): once it has run for a while, a woken process may
//! take the core for a whole time slice, milliseconds, and every packet
//! queued meanwhile waits that long. At the lowest real-time priority the
//! worker runs as soon as a packet arrives and ordinary processes get the
//! core whenever the queue is empty. Kernel threads with real-time
//! priority (interrupt threads, the watchdog) still go first, and the
//! kernel reserves 5 % of each second for ordinary processes
//! (`kernel.sched_rt_runtime_us`), so an overloaded worker cannot lock the
//! appliance up.
//!
//! Real-time priority pays only while the CPU has time to spare. When it
//! has none, a real-time worker preempts whoever else runs at every packet
//! and handles one or two packets per wake-up, so the per-packet costs
//! (two context switches, a verdict message) are paid per packet instead
//! of per batch, and the softirq work that a busy kernel defers to its
//! ordinary `ksoftirqd` threads waits behind the workers. On the benchmark
//! VM short connections per second fell by a sixth to a third. An ordinary
//! worker that falls behind sleeps rarely and drains long batches, and
//! under saturation the queueing delay dwarfs what priority saves anyway.
//! So the default, `auto`, is the interrupt/polling trade that NAPI makes:
//! a [`Governor`] watches how much of the CPU sits idle and keeps the
//! workers real-time while there is slack, ordinary while there is none.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use super::worker::WorkerShared;

/// The lowest real-time priority: above every ordinary process, below
/// every real-time kernel thread.
pub const PRIORITY: i32 = 1;

/// Move the calling thread to SCHED_FIFO at [`PRIORITY`]. Needs
/// CAP_SYS_NICE (or an RLIMIT_RTPRIO of at least 1).
pub fn make_realtime() -> io::Result<()> {
    set_realtime(0, true)
}

/// Put thread `tid` of this process (0: the calling thread) at real-time
/// priority or back to ordinary scheduling. Going back needs no privilege.
pub fn set_realtime(tid: libc::pid_t, realtime: bool) -> io::Result<()> {
    let (policy, prio) = if realtime { (libc::SCHED_FIFO, PRIORITY) } else { (libc::SCHED_OTHER, 0) };
    let param = libc::sched_param { sched_priority: prio };
    // SAFETY: `param` is valid for the call; a stale tid fails with ESRCH.
    if unsafe { libc::sched_setscheduler(tid, policy, &param) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread's id, for [`set_realtime`] from another thread.
pub fn current_tid() -> libc::pid_t {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// How often the governor looks at the CPU.
pub const WINDOW: Duration = Duration::from_millis(250);
/// Idle share (of all cores) below which a window counts as saturated.
/// /proc/stat counts in 10 ms ticks, so a window of a 2-core machine has
/// 50 and this is "at most one tick idle". On the benchmark VM saturated
/// windows read 0–2 % idle; at half load with real-time workers 4–20 %
/// (docs/benchmarks.md, session 8).
pub const SATURATED_BELOW: f64 = 0.03;
/// Idle share from which one window shows slack again. Ordinary workers
/// leave less idle time than real-time ones under the same load (they
/// batch, and the traffic's processes fill the gaps), so a higher bar
/// would keep them ordinary at half load.
pub const SLACK_FROM: f64 = 0.05;
/// Saturated windows in a row before the workers turn ordinary: a burst
/// shorter than this keeps its low latency.
pub const SATURATED_WINDOWS: u32 = 2;

/// Cumulative CPU time of all cores (the first line of /proc/stat), in
/// the kernel's clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTimes {
    pub idle: u64,
    pub total: u64,
}

impl CpuTimes {
    /// Parse /proc/stat. Idle counts `idle` and `iowait`; `steal` (time the
    /// hypervisor gave to others) counts as busy, since we could not use it.
    pub fn parse(stat: &str) -> Option<CpuTimes> {
        let line = stat.lines().find(|l| l.split_whitespace().next() == Some("cpu"))?;
        let f: Vec<u64> = line.split_whitespace().skip(1).take(8).map(|v| v.parse().ok()).collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal; older kernels
        // print fewer fields, which count as zero.
        let idle = f.get(3)?.checked_add(f.get(4).copied().unwrap_or(0))?;
        let total = f.iter().try_fold(0u64, |a, &v| a.checked_add(v))?;
        Some(CpuTimes { idle, total })
    }

    /// The idle share of the time between `earlier` and `self`; `None`
    /// when no time passed (or the counters went back).
    pub fn idle_since(&self, earlier: &CpuTimes) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total).filter(|&t| t > 0)?;
        let idle = self.idle.checked_sub(earlier.idle)?.min(total);
        Some(idle as f64 / total as f64)
    }
}

/// Decides, window by window, whether the workers should be real-time.
/// Pure: it is told each window's idle share.
#[derive(Clone, Debug, PartialEq)]
pub struct Governor {
    realtime: bool,
    saturated_run: u32,
}

impl Default for Governor {
    fn default() -> Self {
        Governor { realtime: true, saturated_run: 0 }
    }
}

impl Governor {
    /// Whether the workers should be real-time now.
    pub fn realtime(&self) -> bool {
        self.realtime
    }

    /// Account one window with this idle share; returns the new wish when
    /// it changed.
    pub fn window(&mut self, idle: f64) -> Option<bool> {
        if idle < SATURATED_BELOW {
            self.saturated_run = self.saturated_run.saturating_add(1);
        } else {
            self.saturated_run = 0;
        }
        let want = if self.realtime { self.saturated_run < SATURATED_WINDOWS } else { idle >= SLACK_FROM };
        (want != self.realtime).then(|| {
            self.realtime = want;
            want
        })
    }
}

/// Run the governor until `stop`: every [`WINDOW`], read /proc/stat and
/// move the workers that could take real-time priority at start (their
/// `tid` is set) between real-time and ordinary.
pub fn govern(workers: Vec<Arc<WorkerShared>>, stop: Arc<AtomicBool>) {
    let read = || std::fs::read_to_string("/proc/stat").ok().as_deref().and_then(CpuTimes::parse);
    let Some(mut last) = read() else {
        warn!("cannot read /proc/stat: queue workers keep their scheduling (inline.realtime = \"auto\")");
        return;
    };
    let mut gov = Governor::default();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(WINDOW);
        let Some(now) = read() else { continue };
        let Some(idle) = now.idle_since(&last) else { continue };
        last = now;
        let Some(realtime) = gov.window(idle) else { continue };
        debug!(realtime, idle = format!("{:.1}%", idle * 100.0), "queue workers change scheduling");
        for w in &workers {
            let tid = w.tid.load(Ordering::Relaxed);
            if tid <= 0 {
                continue;
            }
            match set_realtime(tid, realtime) {
                Ok(()) => {
                    w.realtime.store(realtime, Ordering::Relaxed);
                    w.scheduling_changes.fetch_add(1, Ordering::Relaxed);
                }
                // A worker that has just ended (shutdown) is no news.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => warn!(tid, realtime, error = %e, "cannot change a queue worker's scheduling"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  100 5 50 800 20 3 7 15 0 0\ncpu0 50 2 25 400 10 1 3 8 0 0\nintr 1 2 3\n";

    #[test]
    fn proc_stat_gives_idle_and_total_of_all_cores() {
        let t = CpuTimes::parse(STAT).unwrap();
        assert_eq!(t, CpuTimes { idle: 820, total: 1000 });
        assert_eq!(CpuTimes::parse("cpu  1 2 3\n"), None, "fewer than idle's field");
        assert_eq!(CpuTimes::parse("cpu  1 2 3 x 5\n"), None);
        assert_eq!(CpuTimes::parse("cpu0 1 2 3 4 5\n"), None, "only the all-core line counts");
        assert_eq!(CpuTimes::parse(""), None);
        let later = CpuTimes { idle: 830, total: 1200 };
        assert_eq!(later.idle_since(&t), Some(0.05));
        assert_eq!(t.idle_since(&t), None, "no time passed");
        assert_eq!(t.idle_since(&later), None, "counters went back");
    }

    #[test]
    fn workers_turn_ordinary_only_when_the_cpu_stays_saturated() {
        let mut g = Governor::default();
        assert!(g.realtime(), "real-time while nothing is known");
        assert_eq!(g.window(0.50), None);
        assert_eq!(g.window(0.02), None, "one busy window is a burst");
        assert_eq!(g.window(0.30), None);
        assert_eq!(g.window(0.04), None, "a little idle time is not saturation");
        assert_eq!(g.window(0.02), None);
        assert_eq!(g.window(0.00), Some(false), "two in a row: saturated");
        assert!(!g.realtime());
        assert_eq!(g.window(0.02), None);
        assert_eq!(g.window(0.04), None, "too little slack to go back");
        assert_eq!(g.window(0.06), Some(true), "slack: real-time again");
        assert_eq!(g.window(0.00), None);
        assert_eq!(g.window(0.20), None, "the run of saturated windows starts over");
        assert_eq!(g.window(0.00), None);
        assert_eq!(g.window(0.02), Some(false));
    }

    #[test]
    fn a_worker_thread_becomes_real_time_or_says_why_not() {
        let (r, policy) = std::thread::spawn(|| {
            let r = make_realtime();
            // SAFETY: no arguments beyond the calling thread.
            (r, unsafe { libc::sched_getscheduler(0) })
        })
        .join()
        .unwrap();
        // SAFETY: no arguments.
        let root = unsafe { libc::geteuid() } == 0;
        match r {
            Ok(()) => assert_eq!(policy, libc::SCHED_FIFO, "the thread reports SCHED_FIFO"),
            Err(e) => {
                assert!(!root, "root may use real-time priority: {e}");
                assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
                assert_eq!(policy, libc::SCHED_OTHER);
            }
        }
        // SAFETY: as above.
        assert_eq!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_OTHER, "only that thread changed");
    }
}
