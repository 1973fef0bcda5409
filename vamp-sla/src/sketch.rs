//! A fixed-bucket logarithmic histogram of response times (milliseconds).
//!
//! Values below 16 ms have a bucket each; above, every power of two is split
//! into 16 equal buckets, so a bucket is at most 1/16 of its lower bound wide
//! and the midpoint returned by a quantile query is within about 3% of any
//! value in it. Values from 2^24 ms (about 4.7 hours) up share the last
//! bucket. 336 buckets in all: memory is fixed, whatever the traffic.
//!
//! Hand-written rather than pulled in (HdrHistogram, DDSketch): the windowed
//! aggregate needs to *subtract* expired seconds, which a plain array of
//! counts does trivially, and the whole thing is 60 lines.

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 4;
const SUB: u32 = 1 << SUB_BITS;
/// Values at or above `1 << MAX_EXP` share the last bucket.
const MAX_EXP: u32 = 24;

/// Number of buckets.
pub const BUCKETS: usize = (SUB + (MAX_EXP - SUB_BITS) * SUB) as usize;

/// The bucket of a value in whole milliseconds.
///
/// ```
/// use vamp_sla::sketch::{bucket, BUCKETS};
/// assert_eq!(bucket(3), 3);
/// assert!(bucket(1000) < bucket(1100));
/// assert_eq!(bucket(u32::MAX), BUCKETS - 1);
/// ```
#[inline]
pub fn bucket(ms: u32) -> usize {
    if ms < SUB {
        return ms as usize;
    }
    let exp = 31 - ms.leading_zeros(); // >= SUB_BITS
    if exp >= MAX_EXP {
        return BUCKETS - 1;
    }
    let mantissa = (ms >> (exp - SUB_BITS)) & (SUB - 1);
    (SUB + (exp - SUB_BITS) * SUB + mantissa) as usize
}

/// The range `[low, high)` of values a bucket holds.
pub fn bucket_range(index: usize) -> (f64, f64) {
    let i = index.min(BUCKETS - 1) as u32;
    if i < SUB {
        return (f64::from(i), f64::from(i) + 1.0);
    }
    let exp = (i - SUB) / SUB + SUB_BITS;
    let mantissa = (i - SUB) % SUB;
    let width = f64::from(1u32 << (exp - SUB_BITS));
    let low = f64::from(1u32 << exp) + f64::from(mantissa) * width;
    (low, low + width)
}

/// The value representing a bucket in quantile answers: exact below 16 ms,
/// the bucket's midpoint above.
pub fn representative(index: usize) -> f64 {
    let (low, high) = bucket_range(index);
    if high - low <= 1.0 {
        low
    } else {
        (low + high) / 2.0
    }
}

/// The `q`-quantile (0 < q ≤ 1) of a histogram holding `total` values, by
/// the nearest-rank rule; `None` for an empty histogram.
///
/// ```
/// use vamp_sla::sketch::{bucket, quantile, BUCKETS};
/// let mut counts = vec![0u64; BUCKETS];
/// for ms in 1..=100u32 { counts[bucket(ms)] += 1; }
/// let p95 = quantile(&counts, 100, 0.95).unwrap();
/// assert!((p95 - 95.0).abs() / 95.0 < 0.04);
/// ```
pub fn quantile(counts: &[u64], total: u64, q: f64) -> Option<f64> {
    if total == 0 {
        return None;
    }
    let q = if q.is_nan() { 1.0 } else { q.clamp(0.0, 1.0) };
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0u64;
    for (i, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(representative(i));
        }
    }
    counts.iter().rposition(|&c| c > 0).map(representative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_are_contiguous() {
        let mut expected_low = 0.0;
        for i in 0..BUCKETS {
            let (low, high) = bucket_range(i);
            assert_eq!(low, expected_low, "bucket {i}");
            assert!(high > low);
            expected_low = high;
        }
        assert_eq!(expected_low, f64::from(1u32 << MAX_EXP));
    }

    proptest! {
        #[test]
        fn value_falls_in_its_bucket(ms in 0u32..(1 << MAX_EXP)) {
            let (low, high) = bucket_range(bucket(ms));
            prop_assert!(low <= f64::from(ms) && f64::from(ms) < high);
            let rep = representative(bucket(ms));
            prop_assert!((rep - f64::from(ms)).abs() <= f64::from(ms) / 16.0 + 0.5);
        }
    }
}
