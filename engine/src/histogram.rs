//! Log-bucketed histograms, recorded from any thread without locks (relaxed atomic adds to the
//! value's bucket and the sum, and the maximum when it grows), read as a snapshot.
//!
//! Values are non-negative integers (microseconds, or a batch's size). 0 to 16 have a bucket
//! each; above that every power-of-two octave is split into 8 buckets, so a bucket is at most
//! 1/8 of its lower bound wide (percentiles are within 12.5% of the true value, and exact at
//! the powers of two, the Prometheus bucket bounds). Buckets are closed above: bucket `i` counts
//! the values `v` with `upper(i - 1) < v <= upper(i)`. Values beyond 2^40 count in the last.
//!
//! Each recording thread has a shard of its own (2.4 KiB, allocated on its first value), so what
//! never runs costs a few pointers and workers never share a cache line.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Values with a bucket of their own: 0..=EXACT.
const EXACT: u64 = 16;
/// Buckets per octave above EXACT (a power of two).
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
/// The first octave split into sub-buckets: [2^FIRST_OCTAVE, 2^(FIRST_OCTAVE + 1)).
const FIRST_OCTAVE: u32 = 4;
/// Octaves split: those of x = v - 1 in [2^4, 2^40).
const LAST_OCTAVE: u32 = 39;
/// Number of buckets.
pub const BUCKETS: usize =
    (EXACT as usize + 1) + ((LAST_OCTAVE - FIRST_OCTAVE + 1) as usize) * SUB as usize;
/// The largest value with a bucket of its own range; larger values count in the last bucket.
pub const MAX_VALUE: u64 = 1 << (LAST_OCTAVE + 1);

/// The bucket of `v`.
pub fn bucket_of(v: u64) -> usize {
    if v <= EXACT {
        return v as usize;
    }
    let x = v.min(MAX_VALUE) - 1; // >= EXACT = 2^FIRST_OCTAVE
    let octave = 63 - x.leading_zeros(); // FIRST_OCTAVE..=LAST_OCTAVE
    let sub = (x >> (octave - SUB_BITS)) & (SUB - 1);
    EXACT as usize + 1 + ((octave - FIRST_OCTAVE) as usize) * SUB as usize + sub as usize
}

/// The largest value bucket `i` counts (its inclusive upper bound).
pub fn upper_bound(i: usize) -> u64 {
    if i <= EXACT as usize {
        return i as u64;
    }
    let j = (i - EXACT as usize - 1) as u64;
    let octave = FIRST_OCTAVE as u64 + j / SUB;
    let sub = j % SUB;
    (SUB + sub + 1) << (octave - SUB_BITS as u64)
}

/// The smallest value bucket `i` counts.
pub fn lower_bound(i: usize) -> u64 {
    if i == 0 {
        0
    } else {
        upper_bound(i - 1) + 1
    }
}

/// Shards of a histogram: each recording thread writes its own (threads are numbered in the
/// order they first record, modulo this), so workers running the same model do not fight over
/// the same cache lines; a snapshot adds them up.
const SHARDS: usize = 8;

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// One thread's part, an allocation of its own; the trailing padding keeps the next
/// allocation's first fields off the cache line of this one's last.
struct Shard {
    sum: AtomicU64,
    max: AtomicU64,
    counts: [AtomicU64; BUCKETS],
    _pad: [u64; 8],
}

impl Shard {
    fn new() -> Box<Shard> {
        Box::new(Shard {
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            _pad: [0; 8],
        })
    }
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard").finish_non_exhaustive()
    }
}

/// A histogram shared by the threads that record into it.
#[derive(Debug, Default)]
pub struct Histogram {
    shards: [OnceLock<Box<Shard>>; SHARDS],
}

impl Histogram {
    /// Counts one value.
    pub fn record(&self, v: u64) {
        let i = SHARD.with(|s| *s);
        let shard = self.shards[i].get_or_init(Shard::new);
        shard.counts[bucket_of(v)].fetch_add(1, Ordering::Relaxed);
        shard.sum.fetch_add(v, Ordering::Relaxed);
        if v > shard.max.load(Ordering::Relaxed) {
            shard.max.fetch_max(v, Ordering::Relaxed);
        }
    }

    fn used(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().filter_map(|s| s.get().map(|b| &**b))
    }

    /// Forgets every value (AI.INFO RESETSTAT). Values recorded while it runs may be half kept.
    pub fn reset(&self) {
        for shard in self.used() {
            shard
                .counts
                .iter()
                .for_each(|b| b.store(0, Ordering::Relaxed));
            shard.sum.store(0, Ordering::Relaxed);
            shard.max.store(0, Ordering::Relaxed);
        }
    }

    /// The counts as of now.
    pub fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot::default();
        for shard in self.used() {
            if snap.counts.is_empty() {
                snap.counts = vec![0; BUCKETS];
            }
            for (total, c) in snap.counts.iter_mut().zip(&shard.counts) {
                *total += c.load(Ordering::Relaxed);
            }
            snap.sum += shard.sum.load(Ordering::Relaxed);
            snap.max = snap.max.max(shard.max.load(Ordering::Relaxed));
        }
        snap
    }
}

/// A histogram's counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Per bucket (empty when nothing was ever recorded).
    counts: Vec<u64>,
    sum: u64,
    max: u64,
}

impl Snapshot {
    /// Number of values.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sum of the values.
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// The largest value (exact; 0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q` quantile (0 < q <= 1): the upper bound of the bucket holding the value of rank
    /// ceil(q * count), never more than the maximum; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let n = self.count();
        if n == 0 {
            return 0;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper_bound(i).min(self.max);
            }
        }
        self.max
    }

    /// Number of values `<= bound` (exact when `bound` is a bucket's upper bound, such as a
    /// power of two; else counted up to the last bucket that ends at or below it).
    pub fn count_at_most(&self, bound: u64) -> u64 {
        self.counts
            .iter()
            .enumerate()
            .take_while(|(i, _)| upper_bound(*i) <= bound)
            .map(|(_, &c)| c)
            .sum()
    }

    /// `(upper bound, count)` of every non-empty bucket, in order.
    pub fn nonzero(&self) -> Vec<(u64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| (upper_bound(i), c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_values_without_gaps() {
        assert_eq!(lower_bound(0), 0);
        for i in 1..BUCKETS {
            assert_eq!(lower_bound(i), upper_bound(i - 1) + 1, "bucket {i}");
            assert!(upper_bound(i) >= lower_bound(i));
            assert_eq!(bucket_of(lower_bound(i)), i, "lower bound of {i}");
            assert_eq!(bucket_of(upper_bound(i)), i, "upper bound of {i}");
        }
        assert_eq!(upper_bound(BUCKETS - 1), MAX_VALUE);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        for v in 0..=EXACT {
            assert_eq!(upper_bound(bucket_of(v)), v, "{v} is exact");
        }
    }

    #[test]
    fn a_bucket_is_at_most_an_eighth_of_its_lower_bound_wide() {
        for i in (EXACT as usize + 1)..BUCKETS {
            let width = upper_bound(i) - lower_bound(i) + 1;
            assert!(width * 8 <= lower_bound(i) + 8, "bucket {i}: width {width}");
        }
    }

    #[test]
    fn powers_of_two_are_bucket_bounds() {
        for k in 0..=40 {
            let p = 1u64 << k;
            assert_eq!(upper_bound(bucket_of(p)), p, "2^{k}");
        }
    }

    #[test]
    fn bucket_of_agrees_with_the_bounds_on_every_small_value() {
        for v in 0..100_000u64 {
            let i = bucket_of(v);
            assert!(lower_bound(i) <= v && v <= upper_bound(i), "{v} in {i}");
        }
    }

    #[test]
    fn quantiles_sum_max_and_counts() {
        let h = Histogram::default();
        assert_eq!(h.snapshot().count(), 0);
        assert_eq!(h.snapshot().quantile(0.5), 0);
        for v in 1..=1000 {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!((s.count(), s.sum(), s.max()), (1000, 500_500, 1000));
        for (q, exact) in [(0.5, 500u64), (0.9, 900), (0.99, 990), (0.999, 999)] {
            let got = s.quantile(q);
            assert!(got >= exact && got <= exact + exact / 8, "q{q}: {got}");
        }
        assert_eq!(s.quantile(1.0), 1000);
        assert_eq!(s.count_at_most(16), 16);
        assert_eq!(s.count_at_most(512), 512);
        assert_eq!(s.count_at_most(1 << 20), 1000);
        assert_eq!(s.nonzero().iter().map(|(_, c)| c).sum::<u64>(), 1000);
        h.reset();
        assert_eq!(h.snapshot().count(), 0);
        assert_eq!(h.snapshot().max(), 0);
    }

    #[test]
    fn an_unused_histogram_allocates_nothing() {
        let h = Histogram::default();
        let _ = h.snapshot();
        h.reset();
        assert_eq!(h.used().count(), 0);
        h.record(1);
        assert_eq!(h.used().count(), 1);
    }

    #[test]
    fn threads_record_without_losing_values() {
        let h = Histogram::default();
        std::thread::scope(|scope| {
            for t in 0..4u64 {
                let h = &h;
                scope.spawn(move || (0..10_000).for_each(|v| h.record(v * (t + 1))));
            }
        });
        assert_eq!(h.snapshot().count(), 40_000);
        assert_eq!(h.snapshot().max(), 9_999 * 4);
    }
}
