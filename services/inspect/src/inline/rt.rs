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

use std::io;

/// The lowest real-time priority: above every ordinary process, below
/// every real-time kernel thread.
pub const PRIORITY: i32 = 1;

/// Move the calling thread to SCHED_FIFO at [`PRIORITY`]. Needs
/// CAP_SYS_NICE (or an RLIMIT_RTPRIO of at least 1).
pub fn make_realtime() -> io::Result<()> {
    let param = libc::sched_param { sched_priority: PRIORITY };
    // SAFETY: `param` is a valid sched_param for the duration of the call;
    // pid 0 is the calling thread.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
