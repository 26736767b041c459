//! Sorted, disjoint, non-adjacent inclusive ranges over an integer domain.
//! Address and port groups resolve to these, so that nested negation is
//! exact and lookups are a binary search.

/// An integer domain with a least and greatest element.
pub trait Point: Copy + Ord + std::fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

macro_rules! point {
    ($t:ty) => {
        impl Point for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
        }
    };
}
point!(u16);
point!(u32);
point!(u128);

/// A set of points as normalized inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct RangeSet<T: Point> {
    ranges: Vec<(T, T)>,
}

impl<T: Point> RangeSet<T> {
    pub fn full() -> Self {
        RangeSet { ranges: vec![(T::MIN, T::MAX)] }
    }

    /// Normalizes arbitrary ranges (reversed ones are dropped).
    pub fn from_ranges(mut v: Vec<(T, T)>) -> Self {
        v.retain(|(a, b)| a <= b);
        v.sort_unstable();
        let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            if let Some(last) = out.last_mut() {
                // Merge overlapping or adjacent ranges.
                if last.1 >= a || last.1.succ() == Some(a) {
                    if b > last.1 {
                        last.1 = b;
                    }
                    continue;
                }
            }
            out.push((a, b));
        }
        RangeSet { ranges: out }
    }

    /// Appends without normalizing; call [`RangeSet::normalized`] before
    /// using the set. Lets a group of n items build in O(n log n).
    pub(crate) fn append_raw(&mut self, other: &Self) {
        self.ranges.extend_from_slice(&other.ranges);
    }

    pub(crate) fn normalized(self) -> Self {
        Self::from_ranges(self.ranges)
    }

    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.ranges == [(T::MIN, T::MAX)]
    }

    pub fn contains(&self, p: T) -> bool {
        // First range whose end is >= p.
        let idx = self.ranges.partition_point(|&(_, b)| b < p);
        self.ranges.get(idx).is_some_and(|&(a, _)| a <= p)
    }

    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.ranges.len().saturating_add(1));
        let mut next = Some(T::MIN);
        for &(a, b) in &self.ranges {
            if let Some(n) = next {
                if n < a {
                    if let Some(p) = a.pred() {
                        out.push((n, p));
                    }
                }
            }
            next = b.succ();
        }
        if let Some(n) = next {
            out.push((n, T::MAX));
        }
        RangeSet { ranges: out }
    }

    pub fn subtract(&self, other: &Self) -> Self {
        self.intersect(&other.complement())
    }

    pub fn intersect(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let (mut i, mut j) = (0usize, 0usize);
        while let (Some(&(a1, b1)), Some(&(a2, b2))) = (self.ranges.get(i), other.ranges.get(j)) {
            let lo = a1.max(a2);
            let hi = b1.min(b2);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i = i.saturating_add(1);
            } else {
                j = j.saturating_add(1);
            }
        }
        RangeSet { ranges: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_merges_adjacent() {
        let s = RangeSet::<u16>::from_ranges(vec![(10, 20), (1, 5), (6, 8), (15, 30), (40, 39)]);
        assert_eq!(s.ranges(), &[(1, 8), (10, 30)]);
        assert!(s.contains(1) && s.contains(8) && s.contains(30));
        assert!(!s.contains(9) && !s.contains(0) && !s.contains(31));
    }

    #[test]
    fn complement_and_subtract() {
        let s = RangeSet::<u16>::from_ranges(vec![(0, 10), (100, u16::MAX)]);
        assert_eq!(s.complement().ranges(), &[(11, 99)]);
        assert!(RangeSet::<u16>::full().complement().is_empty());
        assert!(RangeSet::<u16>::from_ranges(vec![]).complement().is_full());
        let d = RangeSet::<u16>::from_ranges(vec![(1, 1024)]).subtract(&RangeSet::from_ranges(vec![(80, 80)]));
        assert_eq!(d.ranges(), &[(1, 79), (81, 1024)]);
    }
}
