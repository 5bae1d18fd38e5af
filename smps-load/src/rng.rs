//! The seedable random stream behind Poisson arrivals, segment seeds and the reference
//! servers' fault injection: SplitMix64 (Steele, Lea and Flood, 2014), chosen because a given
//! seed must give the same stream on every platform and in every release (a run is
//! reproducible from its seed), which a general-purpose generator crate does not promise
//! across versions.

/// A small, fast, seedable PRNG (SplitMix64). Not cryptographic.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub(crate) fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Exponential with mean 1.
    pub(crate) fn exp1(&mut self) -> f64 {
        -self.unit().ln()
    }
}
