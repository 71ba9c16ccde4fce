//! A small seeded generator (a 64-bit LCG, high bits), the same on every
//! run, so a case is reproduced by its seed and index alone.

/// The generator's state.
pub struct Rng(u64);

impl Rng {
    /// The generator of case `case` of a run seeded with `seed`.
    pub fn for_case(seed: u64, case: u32) -> Self {
        let mut rng = Rng(seed ^ u64::from(case).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    /// 32 random bits.
    pub fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 32) as u32
    }

    /// Uniform in `lo..=hi` (`lo <= hi`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo) as u64 + 1;
        let wide = (u64::from(self.next()) << 32) | u64::from(self.next());
        lo + (wide % span) as i64
    }

    /// Uniform in `lo..=hi`.
    pub fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as i64, hi as i64) as usize
    }

    /// True once in `n` draws.
    pub fn one_in(&mut self, n: u32) -> bool {
        self.next().is_multiple_of(n)
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.usize(0, items.len() - 1)]
    }

    /// Fills `bytes` as a tensor: uniform bytes most often, else only the
    /// extremes -128 and 127, mostly extremes, or one value throughout.
    pub fn fill(&mut self, bytes: &mut [i8]) {
        match self.next() % 10 {
            0 => bytes
                .iter_mut()
                .for_each(|b| *b = if self.one_in(2) { -128 } else { 127 }),
            1 => bytes.iter_mut().for_each(|b| {
                *b = match self.next() % 4 {
                    0 => -128,
                    1 => 127,
                    _ => self.next() as i8,
                }
            }),
            2 => {
                let any = self.next() as i8;
                let v = self.pick(&[-128, 127, -1, 0, any]);
                bytes.fill(v);
            }
            _ => bytes.iter_mut().for_each(|b| *b = self.next() as i8),
        }
    }
}
