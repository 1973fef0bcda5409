//! Sliding-window aggregates with one slot per second.
//!
//! A window of `n` seconds is a ring of `n` slots (count, sum, 5xx count and,
//! when asked for, a histogram) plus running totals. Adding a sample touches
//! one slot and the totals; moving time forward subtracts each expired second
//! once. So the work per sample is O(1), the work per second of clock is O(1)
//! amortized (O(histogram buckets) with a histogram), and memory is a function
//! of the window length only.

use crate::sketch;

/// Samples are kept per second; a sample at `t` ms belongs to second
/// `ceil(t / 1000)`, so the window evaluated at whole second `T` covers
/// exactly the samples with `T − interval < t ≤ T` (in seconds).
#[inline]
pub(crate) fn second_of(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    second: u64,
    count: u32,
    errors: u32,
    sum_us: u64,
}

/// Running totals of a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) sum_us: u64,
}

#[derive(Debug, Clone)]
struct Histogram {
    /// `slots × BUCKETS` counts, slot-major.
    per_slot: Vec<u32>,
    totals: Vec<u64>,
}

/// One aggregate over the last `len` seconds.
#[derive(Debug, Clone)]
pub(crate) struct WindowAgg {
    slots: Vec<Slot>,
    hist: Option<Histogram>,
    totals: Totals,
    /// Seconds before this one are out of the window.
    live_from: u64,
}

impl WindowAgg {
    /// A window of `seconds` (at least 1) seconds, with a histogram if asked.
    pub(crate) fn new(seconds: u64, histogram: bool) -> Self {
        // Bounded by the configuration, never by traffic; capped so that a
        // typo such as `interval: 100000h` cannot ask for gigabytes.
        let len = seconds.clamp(1, MAX_WINDOW_SECONDS) as usize;
        WindowAgg {
            slots: vec![Slot::default(); len],
            hist: histogram.then(|| Histogram {
                per_slot: vec![0; len * sketch::BUCKETS],
                totals: vec![0; sketch::BUCKETS],
            }),
            totals: Totals::default(),
            live_from: 0,
        }
    }

    fn len(&self) -> u64 {
        self.slots.len() as u64
    }

    /// Adds one sample to second `second`; `false` when that second already
    /// left the window (a late sample), which is then not counted.
    #[inline]
    pub(crate) fn add(&mut self, second: u64, rt_us: u64, error: bool, bucket: usize) -> bool {
        if second < self.live_from {
            return false;
        }
        let len = self.len();
        let idx = (second % len) as usize;
        let slot = self.slots[idx];
        if slot.second != second {
            if slot.second > second {
                return false;
            }
            self.clear_slot(idx);
            self.slots[idx].second = second;
        }
        let slot = &mut self.slots[idx];
        slot.count += 1;
        slot.errors += u32::from(error);
        slot.sum_us += rt_us;
        self.totals.count += 1;
        self.totals.errors += u64::from(error);
        self.totals.sum_us += rt_us;
        if let Some(h) = &mut self.hist {
            h.per_slot[idx * sketch::BUCKETS + bucket] += 1;
            h.totals[bucket] += 1;
        }
        true
    }

    fn clear_slot(&mut self, idx: usize) {
        let slot = std::mem::take(&mut self.slots[idx]);
        if slot.count == 0 {
            return;
        }
        self.totals.count -= u64::from(slot.count);
        self.totals.errors -= u64::from(slot.errors);
        self.totals.sum_us -= slot.sum_us;
        if let Some(h) = &mut self.hist {
            let row = &mut h.per_slot[idx * sketch::BUCKETS..(idx + 1) * sketch::BUCKETS];
            for (total, c) in h.totals.iter_mut().zip(row.iter_mut()) {
                *total -= u64::from(*c);
                *c = 0;
            }
        }
    }

    /// Moves the window so that it ends at second `now`: it then holds the
    /// seconds `now − len + 1 ..= now`.
    pub(crate) fn advance(&mut self, now: u64) {
        let live_from = (now + 1).saturating_sub(self.len());
        if live_from <= self.live_from {
            return;
        }
        if live_from - self.live_from >= self.len() {
            // A long jump: look at each slot once.
            for idx in 0..self.slots.len() {
                if self.slots[idx].second < live_from {
                    self.clear_slot(idx);
                }
            }
        } else {
            for second in self.live_from..live_from {
                let idx = (second % self.len()) as usize;
                if self.slots[idx].second == second {
                    self.clear_slot(idx);
                }
            }
        }
        self.live_from = live_from;
    }

    pub(crate) fn totals(&self) -> Totals {
        self.totals
    }

    /// The histogram totals, if this window keeps one.
    pub(crate) fn histogram(&self) -> Option<&[u64]> {
        self.hist.as_ref().map(|h| h.totals.as_slice())
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot>()
            + self
                .hist
                .as_ref()
                .map_or(0, |h| h.per_slot.len() * 4 + h.totals.len() * 8)
    }
}

/// The longest window kept, in seconds (one day).
pub(crate) const MAX_WINDOW_SECONDS: u64 = 86_400;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seconds_are_right_closed() {
        assert_eq!(second_of(0), 0);
        assert_eq!(second_of(1), 1);
        assert_eq!(second_of(1000), 1);
        assert_eq!(second_of(1001), 2);
    }

    #[test]
    fn expires_and_rejects_late() {
        let mut w = WindowAgg::new(3, true);
        assert!(w.add(10, 1000, false, 1));
        assert!(w.add(11, 3000, true, 3));
        w.advance(12);
        assert_eq!(w.totals().count, 2);
        w.advance(13); // window (10, 13]
        assert_eq!(
            w.totals(),
            Totals {
                count: 1,
                errors: 1,
                sum_us: 3000
            }
        );
        assert!(!w.add(10, 1, false, 0), "second 10 already left");
        assert_eq!(w.histogram().map(|h| h[3]), Some(1));
        w.advance(1000);
        assert_eq!(w.totals(), Totals::default());
        assert_eq!(w.histogram().map(|h| h.iter().sum::<u64>()), Some(0));
    }

    proptest! {
        /// The running totals always equal a recount of the samples inside
        /// the window, whatever the order of adds and advances.
        #[test]
        fn totals_match_recount(
            len in 1u64..8,
            ops in proptest::collection::vec((0u64..40, 0u64..5000, any::<bool>(), any::<bool>()), 0..200),
        ) {
            let mut w = WindowAgg::new(len, true);
            let mut kept: Vec<(u64, u64, bool)> = Vec::new();
            let mut now = 0u64;
            for (second, rt, err, is_advance) in ops {
                if is_advance {
                    now = now.max(second);
                    w.advance(now);
                } else if second > now.saturating_sub(len) && w.add(second, rt, err, 0) {
                    kept.push((second, rt, err));
                }
                // the recount at the latest second seen
                let horizon = kept.iter().map(|k| k.0).max().unwrap_or(0).max(now);
                let lo = horizon.saturating_sub(len);
                let live: Vec<_> = kept.iter().filter(|k| k.0 > lo).collect();
                w.advance(horizon);
                now = horizon;
                prop_assert_eq!(w.totals().count, live.len() as u64);
                prop_assert_eq!(w.totals().sum_us, live.iter().map(|k| k.1).sum::<u64>());
                prop_assert_eq!(w.totals().errors, live.iter().filter(|k| k.2).count() as u64);
                prop_assert_eq!(w.histogram().map(|h| h[0]), Some(live.len() as u64));
                kept.retain(|k| k.0 > lo);
            }
        }
    }
}
