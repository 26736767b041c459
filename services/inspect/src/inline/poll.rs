//! How long a worker spins on its queue before it sleeps.
//!
//! A packet that arrives while the worker sleeps pays a wake-up before its
//! verdict: tens to hundreds of microseconds when the core was idle (more
//! on virtual machines, where an idle vCPU is descheduled), and it pays it
//! twice per round trip. Spinning for a short while after the last packet
//! catches the next one without that wake-up, but a spin that catches
//! nothing is a wasted core. The window adapts the way KVM's halt polling
//! does: it grows while packets keep arriving soon after the worker would
//! have slept, and shrinks when the worker sleeps longer than the largest
//! window, so an idle appliance does not spin at all.
//!
//! Pure bookkeeping, no clock: the worker reports what happened.

use std::time::Duration;

/// First non-zero window, and the step below which a shrinking window
/// becomes zero.
const START: Duration = Duration::from_micros(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollWindow {
    window: Duration,
    max: Duration,
}

impl PollWindow {
    /// `max` zero turns spinning off.
    pub fn new(max: Duration) -> PollWindow {
        PollWindow { window: Duration::ZERO, max }
    }

    /// How long to spin before the next sleep.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The worker slept (after a spin of [`Self::window`] caught nothing)
    /// and a packet came after `slept`, or the sleep timed out (`slept` is
    /// the timeout).
    pub fn slept(&mut self, slept: Duration) {
        if slept <= self.max {
            // A longer spin would have caught it.
            self.window = (self.window * 2).max(START).min(self.max);
        } else {
            // Traffic is sparser than any window worth spinning for.
            self.window /= 2;
            if self.window < START {
                self.window = Duration::ZERO;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_micros(200);

    #[test]
    fn steady_traffic_opens_the_window_up_to_the_limit() {
        let mut w = PollWindow::new(MAX);
        assert_eq!(w.window(), Duration::ZERO, "an idle worker starts without spinning");
        for _ in 0..20 {
            w.slept(Duration::from_micros(80));
        }
        assert_eq!(w.window(), MAX);
    }

    #[test]
    fn an_idle_queue_closes_the_window() {
        let mut w = PollWindow::new(MAX);
        for _ in 0..20 {
            w.slept(Duration::from_micros(50));
        }
        for _ in 0..5 {
            w.slept(Duration::from_millis(500));
        }
        assert_eq!(w.window(), Duration::ZERO, "sleeping 500 ms at a time must stop the spinning");
    }

    #[test]
    fn one_long_gap_halves_rather_than_closes() {
        let mut w = PollWindow::new(MAX);
        for _ in 0..20 {
            w.slept(Duration::from_micros(50));
        }
        w.slept(Duration::from_millis(3));
        assert_eq!(w.window(), MAX / 2);
    }

    #[test]
    fn zero_max_never_spins() {
        let mut w = PollWindow::new(Duration::ZERO);
        w.slept(Duration::ZERO);
        w.slept(Duration::from_micros(5));
        assert_eq!(w.window(), Duration::ZERO);
    }
}
