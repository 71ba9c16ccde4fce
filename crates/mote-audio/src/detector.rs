//! Turning a stream of classifier scores into detections.

/// Most classes a [`Detector`] tracks.
pub const MAX_CLASSES: usize = 16;
/// Most classifications averaged.
pub const MAX_AVERAGE: usize = 16;

/// How scores become detections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectorConfig {
    /// Classifications averaged (posterior smoothing), 1 to [`MAX_AVERAGE`].
    pub average: usize,
    /// Least smoothed score, as `int8 score + 128` (0..=255, i.e. probability x 256).
    pub threshold: u8,
    /// Hops after a detection during which no other is reported.
    pub suppression_hops: usize,
    /// Bit `c` set: class `c` never triggers (silence, unknown, background).
    pub ignore: u32,
}

impl Default for DetectorConfig {
    /// Average 3 hops (60 ms), threshold 200/256, suppress 1 s (50 hops),
    /// ignore classes 0 and 1 (micro_speech's silence and unknown).
    fn default() -> Self {
        DetectorConfig {
            average: 3,
            threshold: 200,
            suppression_hops: 50,
            ignore: 0b11,
        }
    }
}

/// A detection: the class, its smoothed score and the hop it was made at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The class index.
    pub class: usize,
    /// Its smoothed score, `int8 + 128`.
    pub score: u8,
    /// The hop (feature frame) index of the classification.
    pub hop: usize,
}

/// Averages the latest scores per class and reports a class once its average
/// crosses the threshold (then stays quiet for `suppression_hops`).
#[derive(Clone, Debug)]
pub struct Detector {
    config: DetectorConfig,
    history: [[u8; MAX_CLASSES]; MAX_AVERAGE],
    next: usize,
    count: usize,
    last: Option<usize>,
}

impl Detector {
    /// A detector with `config` (`average` is clamped to 1..=[`MAX_AVERAGE`]).
    pub fn new(mut config: DetectorConfig) -> Self {
        config.average = config.average.clamp(1, MAX_AVERAGE);
        Detector {
            config,
            history: [[0; MAX_CLASSES]; MAX_AVERAGE],
            next: 0,
            count: 0,
            last: None,
        }
    }

    /// The smoothed score of `class` (`int8 + 128`) over the latest classifications.
    pub fn smoothed(&self, class: usize) -> u8 {
        let n = self.count.min(self.config.average);
        if n == 0 {
            return 0;
        }
        let sum: usize = (1..=n)
            .map(|back| (self.next + MAX_AVERAGE - back) % MAX_AVERAGE)
            .filter_map(|slot| self.history.get(slot)?.get(class))
            .map(|v| usize::from(*v))
            .sum();
        (sum / n) as u8
    }

    /// Adds the scores (int8, one per class) of the classification at `hop`.
    pub fn update(&mut self, hop: usize, scores: &[i8]) -> Option<Detection> {
        if let Some(row) = self.history.get_mut(self.next) {
            for (slot, s) in row.iter_mut().zip(scores) {
                *slot = (i16::from(*s) + 128) as u8;
            }
        }
        self.next = (self.next + 1) % MAX_AVERAGE;
        self.count = self.count.saturating_add(1);
        let best = (0..scores.len().min(MAX_CLASSES))
            .filter(|c| self.config.ignore & (1 << c) == 0)
            .map(|c| (c, self.smoothed(c)))
            .max_by_key(|&(c, s)| (s, usize::MAX - c))?;
        let quiet = self
            .last
            .is_none_or(|last| hop >= last + self.config.suppression_hops);
        if best.1 >= self.config.threshold && quiet {
            self.last = Some(hop);
            return Some(Detection {
                class: best.0,
                score: best.1,
                hop,
            });
        }
        None
    }

    /// Forgets every score and detection.
    pub fn reset(&mut self) {
        *self = Detector::new(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_then_detects_once() {
        let config = DetectorConfig {
            average: 2,
            threshold: 200,
            suppression_hops: 3,
            ignore: 0b1,
        };
        let mut d = Detector::new(config);
        // Class 1 at 100 + 128 = 228 after a 0 (128): average (128 + 228) / 2 = 178 < 200.
        assert_eq!(d.update(0, &[0, 0]), None);
        assert_eq!(d.update(1, &[0, 100]), None);
        // Then (228 + 228) / 2 = 228 >= 200: detected at hop 2.
        let hit = d.update(2, &[0, 100]).unwrap();
        assert_eq!((hit.class, hit.score, hit.hop), (1, 228, 2));
        // Suppressed until hop 5.
        assert_eq!(d.update(3, &[0, 100]), None);
        assert_eq!(d.update(4, &[0, 100]), None);
        assert!(d.update(5, &[0, 100]).is_some());
        // Class 0 is ignored however high it scores.
        let mut d = Detector::new(config);
        assert_eq!(d.update(0, &[127, -128]), None);
        assert_eq!(d.update(1, &[127, -128]), None);
    }
}
