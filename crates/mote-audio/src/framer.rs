//! Cutting a stream of samples into overlapping windows.

/// Collects samples and hands out a `WINDOW`-sample window every `HOP`
/// samples, however the samples are chunked.
#[derive(Clone, Debug)]
pub struct Framer<const WINDOW: usize, const HOP: usize> {
    buffer: [i16; WINDOW],
    filled: usize,
}

impl<const WINDOW: usize, const HOP: usize> Default for Framer<WINDOW, HOP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WINDOW: usize, const HOP: usize> Framer<WINDOW, HOP> {
    /// An empty framer (`HOP` must be at most `WINDOW`).
    pub const fn new() -> Self {
        Framer {
            buffer: [0; WINDOW],
            filled: 0,
        }
    }

    /// Adds one sample; returns the window it completes, if any. The first
    /// window completes after `WINDOW` samples, each next one `HOP` later.
    pub fn push(&mut self, sample: i16) -> Option<&[i16; WINDOW]> {
        if self.filled == WINDOW {
            // The previous call returned a full window: drop its first hop.
            self.buffer.copy_within(HOP.min(WINDOW).., 0);
            self.filled = WINDOW - HOP.min(WINDOW);
        }
        if let Some(slot) = self.buffer.get_mut(self.filled) {
            *slot = sample;
            self.filled += 1;
        }
        (self.filled == WINDOW).then_some(&self.buffer)
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        self.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_overlap_by_window_minus_hop() {
        // Window 4, hop 2 over 0..8: windows [0..4], [2..6], [4..8].
        let mut framer = Framer::<4, 2>::new();
        let mut windows = Vec::new();
        for s in 0..8 {
            if let Some(w) = framer.push(s) {
                windows.push(*w);
            }
        }
        assert_eq!(windows, [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]]);
    }

    #[test]
    fn one_second_gives_49_frames_as_tflm() {
        // TFLM: while (remaining >= 480) { ...; advance 320 } over 16000 samples.
        let mut framer = Framer::<480, 320>::new();
        let count = (0..16_000).filter(|_| framer.push(1).is_some()).count();
        assert_eq!(count, (16_000 - 480) / 320 + 1);
        assert_eq!(count, 49);
    }
}
