//! How long packets are held in the worker: from being taken off the queue
//! to their verdict going out. This is the latency inspection adds beyond
//! the kernel's queueing, the number to watch when tuning batching,
//! scheduling and polling.

use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: usize = 24;

/// Log2 histogram: bucket `i` counts holds of `[2^i, 2^(i+1))` µs (bucket 0
/// also those under 1 µs; the last everything from 2^23 µs ≈ 8 s on).
#[derive(Default)]
pub struct HoldHistogram {
    buckets: [AtomicU64; BUCKETS],
}

impl HoldHistogram {
    pub fn record(&self, micros: u64) {
        let i = (63 - micros.max(1).leading_zeros()) as usize;
        self.buckets[i.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> [u64; BUCKETS] {
        std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed))
    }
}

/// Sum of several workers' snapshots.
pub fn merge(all: impl IntoIterator<Item = [u64; BUCKETS]>) -> [u64; BUCKETS] {
    let mut sum = [0u64; BUCKETS];
    for s in all {
        for (a, b) in sum.iter_mut().zip(s) {
            *a += b;
        }
    }
    sum
}

/// The upper bound (µs) of the bucket holding quantile `q` (0..=1), or
/// `None` with no samples. An upper bound, so a reading errs on the slow side.
pub fn quantile(buckets: &[u64; BUCKETS], q: f64) -> Option<u64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(1u64 << (i + 1));
        }
    }
    Some(1u64 << BUCKETS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_buckets_upper_bounds() {
        let h = HoldHistogram::default();
        for _ in 0..98 {
            h.record(20); // [16, 32)
        }
        h.record(3_000); // [2048, 4096)
        h.record(0);
        let s = h.snapshot();
        assert_eq!(quantile(&s, 0.5), Some(32));
        assert_eq!(quantile(&s, 0.99), Some(32));
        assert_eq!(quantile(&s, 1.0), Some(4096), "the slowest hold must show at the top");
        assert_eq!(quantile(&[0; BUCKETS], 0.5), None);
    }

    #[test]
    fn huge_holds_land_in_the_last_bucket_and_workers_add_up() {
        let a = HoldHistogram::default();
        a.record(u64::MAX);
        let b = HoldHistogram::default();
        b.record(5);
        let s = merge([a.snapshot(), b.snapshot()]);
        assert_eq!(s.iter().sum::<u64>(), 2);
        assert_eq!(s[BUCKETS - 1], 1);
        assert_eq!(quantile(&s, 0.5), Some(8));
    }
}
