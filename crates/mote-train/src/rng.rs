//! A small deterministic random number generator of our own (PCG-XSH-RR 32,
//! seeded through SplitMix64), so a seed gives the same model on every run
//! and every platform.

/// Deterministic pseudo-random numbers (PCG32 seeded with SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    increment: u64,
}

/// What a generator is for. One seed gives each use its own stream, so the
/// initial weights, the shuffling and the dropout masks never share random
/// numbers (Keras draws them from separate generators too). With one stream
/// for weights and shuffling, the first kernel's values and the first epoch's
/// order were the same draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Initial weights (the plain stream of the seed).
    Weights,
    /// The order of the samples in each epoch.
    Shuffle,
    /// Dropout masks.
    Dropout,
}

impl Rng {
    /// The generator of `seed` for `stream`.
    pub(crate) fn stream(seed: u64, stream: Stream) -> Self {
        Rng::new(match stream {
            Stream::Weights => seed,
            Stream::Shuffle => seed ^ 0x5348_5546_464C_4500,
            Stream::Dropout => seed ^ 0x5EED_D20F,
        })
    }

    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut mix = seed;
        let state = splitmix64(&mut mix);
        let increment = splitmix64(&mut mix) | 1;
        let mut rng = Rng {
            state: 0,
            increment,
        };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(state);
        rng.next_u32();
        rng
    }

    /// The next 32 uniformly distributed bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(self.increment);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform in `[0, 1)` with 24 bits of precision.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.next_f32()
    }

    /// Uniform integer in `[0, n)` (Lemire's method, unbiased); `n > 0`.
    pub fn below(&mut self, n: u32) -> u32 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u64::from(self.next_u32()) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.next_f32(); // in (0, 1]
        let u2 = self.next_f32();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below((i + 1) as u32) as usize;
            items.swap(i, j);
        }
    }
}

impl Default for Rng {
    /// The generator of seed [`crate::DEFAULT_SEED`].
    fn default() -> Self {
        Rng::new(crate::DEFAULT_SEED)
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let a: Vec<u32> = (0..4)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u32()
            })
            .collect();
        let b: Vec<u32> = (0..4)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u32()
            })
            .collect();
        let c: Vec<u32> = (0..4)
            .map({
                let mut r = Rng::new(8);
                move |_| r.next_u32()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn streams_of_one_seed_share_no_draws() {
        // the first 1000 draws of the weight stream and those of the
        // shuffle and dropout streams have nothing in common
        let draws = |stream| {
            let mut r = Rng::stream(42, stream);
            (0..1000).map(|_| r.next_u32()).collect::<Vec<u32>>()
        };
        let weights = draws(Stream::Weights);
        assert_eq!(
            weights[..4],
            (0..4)
                .map({
                    let mut r = Rng::new(42);
                    move |_| r.next_u32()
                })
                .collect::<Vec<u32>>()[..]
        );
        for other in [Stream::Shuffle, Stream::Dropout] {
            let shared = draws(other).iter().filter(|v| weights.contains(v)).count();
            assert_eq!(shared, 0, "{other:?}");
        }
    }

    #[test]
    fn uniform_mean_and_range() {
        // mean of U[0,1) is 1/2; of 100k draws within 0.01.
        let mut r = Rng::new(1);
        let n = 100_000;
        let mut sum = 0.0f64;
        for _ in 0..n {
            let v = r.next_f32();
            assert!((0.0..1.0).contains(&v));
            sum += f64::from(v);
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.01);
    }

    #[test]
    fn normal_has_unit_variance() {
        // E[z] = 0, E[z^2] = 1 for a standard normal.
        let mut r = Rng::new(3);
        let n = 100_000;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let z = f64::from(r.normal());
            s += z;
            s2 += z * z;
        }
        assert!((s / n as f64).abs() < 0.02);
        assert!((s2 / n as f64 - 1.0).abs() < 0.03);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = Rng::new(5);
        let mut v: Vec<usize> = (0..50).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }
}
