//! Random numbers for decisions: an injectable source and a uniform draw.

/// A source of random numbers for decisions: injectable, so tests and
/// simulations can be seeded.
pub trait RandomSource {
    /// The next 64 uniformly distributed random bits.
    fn next_u64(&mut self) -> u64;
}

/// SplitMix64: a tiny, fast, seedable generator (Steele, Lea and Flood).
///
/// ```
/// use vamp_router::engine::{RandomSource, SplitMix64};
/// let (mut a, mut b) = (SplitMix64::new(1), SplitMix64::new(1));
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
}

impl RandomSource for SplitMix64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A uniform draw in `0..n` (multiply-shift on the high 32 bits).
#[inline]
pub(super) fn below<R: RandomSource + ?Sized>(rng: &mut R, n: u32) -> u32 {
    (((rng.next_u64() >> 32) * u64::from(n)) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_uniform_enough() {
        let mut rng = SplitMix64::new(3);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            let d = below(&mut rng, 10);
            counts[d as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
