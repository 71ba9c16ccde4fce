//! From recorded values to an int8 activation's `(scale, zero_point)`.
//!
//! A tensor's range is chosen by one of three methods: the observed min/max,
//! percentiles (clipping rare outliers), or the clipping that minimizes the
//! mean squared quantization error over the tensor's histogram. The range is
//! then widened to contain 0 and mapped onto `[-128, 127]` with an integer
//! zero point, as TensorFlow Lite's converter does, so that real 0 is exact.

/// How a tensor's float range is chosen from calibration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RangeMethod {
    /// The smallest and largest value seen.
    #[default]
    MinMax,
    /// The [`PERCENTILE`]th percentile at each end (outliers beyond it clip).
    Percentile,
    /// The clipping range with the least mean squared quantization error.
    Mse,
}

/// The percentile kept by [`RangeMethod::Percentile`], at each end.
pub const PERCENTILE: f64 = 99.99;

/// Bins of the histograms [`RangeMethod::Percentile`] and [`RangeMethod::Mse`] use.
pub const BINS: usize = 4096;

/// Asymmetric int8 quantization `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationQuant {
    /// The step between two int8 values.
    pub scale: f32,
    /// The int8 value of real 0.
    pub zero_point: i32,
}

impl ActivationQuant {
    /// The quantization of `[lo, hi]`: widened to contain 0, 256 levels, the
    /// zero point nudged to an integer (TensorFlow Lite's `ChooseQuantizationParams`).
    pub fn from_range(lo: f32, hi: f32) -> Self {
        let lo = f64::from(lo.min(0.0));
        let mut hi = f64::from(hi.max(0.0));
        if hi - lo < 1e-9 {
            // A tensor that is always 0: any scale represents it exactly.
            hi = lo + 1e-3;
        }
        let scale = (hi - lo) / 255.0;
        let zero_point = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i32;
        ActivationQuant {
            scale: scale as f32,
            zero_point,
        }
    }

    /// `x` quantized and dequantized again.
    pub fn fake_quantize(&self, x: f32) -> f32 {
        let q = (x / self.scale).round() + self.zero_point as f32;
        (q.clamp(-128.0, 127.0) - self.zero_point as f32) * self.scale
    }
}

/// A histogram of a tensor's values over its observed `[min, max]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// The smallest value seen.
    pub min: f32,
    /// The largest value seen.
    pub max: f32,
    /// Counts of equal-width bins from `min` to `max`.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// An empty histogram of `bins` bins over `[min, max]`.
    pub fn new(min: f32, max: f32, bins: usize) -> Self {
        Histogram {
            min,
            max,
            counts: vec![0; bins.max(1)],
        }
    }

    fn width(&self) -> f64 {
        (f64::from(self.max) - f64::from(self.min)) / self.counts.len() as f64
    }

    /// Counts `values` (values outside `[min, max]` go to the end bins).
    pub fn add(&mut self, values: &[f32]) {
        let width = self.width();
        let last = self.counts.len() - 1;
        for &v in values {
            let bin = if width > 0.0 {
                ((f64::from(v) - f64::from(self.min)) / width).max(0.0) as usize
            } else {
                0
            };
            self.counts[bin.min(last)] += 1;
        }
    }

    /// The center of bin `i`.
    fn center(&self, i: usize) -> f64 {
        f64::from(self.min) + (i as f64 + 0.5) * self.width()
    }

    /// The upper edge of the first bin where the counts so far reach a fraction `q`.
    pub fn upper_quantile(&self, q: f64) -> f32 {
        let target = q * self.counts.iter().sum::<u64>() as f64;
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen as f64 >= target {
                return (f64::from(self.min) + (i + 1) as f64 * self.width()) as f32;
            }
        }
        self.max
    }

    /// The lower edge of the first bin where the counts so far pass a fraction `q`.
    pub fn lower_quantile(&self, q: f64) -> f32 {
        let target = q * self.counts.iter().sum::<u64>() as f64;
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen as f64 > target {
                return (f64::from(self.min) + i as f64 * self.width()) as f32;
            }
        }
        self.min
    }

    /// The mean squared error of quantizing these values with `quant`,
    /// taking each bin's values at its center.
    pub fn quantization_error(&self, quant: &ActivationQuant) -> f64 {
        let total: u64 = self.counts.iter().sum();
        let sum: f64 = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let x = self.center(i);
                let e = x - f64::from(quant.fake_quantize(x as f32));
                c as f64 * e * e
            })
            .sum();
        sum / total.max(1) as f64
    }
}

/// The range `method` picks from a tensor's histogram.
pub fn choose(method: RangeMethod, histogram: &Histogram) -> (f32, f32) {
    match method {
        RangeMethod::MinMax => (histogram.min, histogram.max),
        RangeMethod::Percentile => {
            let tail = (100.0 - PERCENTILE) / 100.0;
            let hi = histogram.upper_quantile(1.0 - tail).min(histogram.max);
            let lo = histogram.lower_quantile(tail).max(histogram.min).min(hi);
            (lo, hi)
        }
        RangeMethod::Mse => {
            // Shrink the min/max range by a common factor f in [0.2, 1] and keep the
            // f with the least error (ties go to the widest range).
            let mut best = (f64::INFINITY, histogram.min, histogram.max);
            for step in (0..=160).rev() {
                let f = 0.2 + 0.8 * step as f32 / 160.0;
                let (lo, hi) = (histogram.min * f, histogram.max * f);
                let error = histogram.quantization_error(&ActivationQuant::from_range(lo, hi));
                if error < best.0 {
                    best = (error, lo, hi);
                }
            }
            (best.1, best.2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_maps_onto_256_levels_with_zero_exact() {
        // [-1, 3]: scale = 4/255, zero point = -128 + 1/(4/255) = -64.25 -> -64.
        let q = ActivationQuant::from_range(-1.0, 3.0);
        assert!((q.scale - 4.0 / 255.0).abs() < 1e-9);
        assert_eq!(q.zero_point, -64);
        assert_eq!(q.fake_quantize(0.0), 0.0);
    }

    #[test]
    fn a_positive_range_is_widened_to_contain_zero() {
        // [2, 5] -> [0, 5]: scale 5/255, zero point -128.
        let q = ActivationQuant::from_range(2.0, 5.0);
        assert!((q.scale - 5.0 / 255.0).abs() < 1e-9);
        assert_eq!(q.zero_point, -128);
    }

    #[test]
    fn an_all_zero_tensor_gets_a_valid_scale() {
        let q = ActivationQuant::from_range(0.0, 0.0);
        assert!(q.scale > 0.0);
        assert_eq!(q.fake_quantize(0.0), 0.0);
    }

    /// 10000 values evenly in [0, 1] plus one outlier at 100.
    fn with_outlier() -> Histogram {
        let mut values: Vec<f32> = (0..10_000).map(|i| i as f32 / 9999.0).collect();
        values.push(100.0);
        let mut h = Histogram::new(0.0, 100.0, BINS);
        h.add(&values);
        h
    }

    #[test]
    fn min_max_keeps_the_outlier() {
        assert_eq!(choose(RangeMethod::MinMax, &with_outlier()), (0.0, 100.0));
    }

    #[test]
    fn percentile_clips_the_outlier() {
        // 1 value in 10001 is above 1.0 (0.01%): the 99.99th percentile lies in
        // the bin holding 1.0, whose upper edge is 41 * 100/4096 = 1.001.
        let (lo, hi) = choose(RangeMethod::Percentile, &with_outlier());
        assert_eq!(lo, 0.0);
        assert!((hi - 1.001).abs() < 1e-3, "{hi}");
    }

    #[test]
    fn mse_shrinks_the_range_when_an_outlier_costs_less_than_the_step() {
        // Min/max has a step of 100/255 ~ 0.39: the bulk in [0, 1] rounds to 0.39
        // levels; clipping at 20 (f = 0.2) costs the one outlier 80^2 / 10001 ~ 0.64
        // but cuts the step to 0.078. The error must beat min/max's.
        let h = with_outlier();
        let (lo, hi) = choose(RangeMethod::Mse, &h);
        assert!(hi < 100.0 && lo == 0.0);
        let chosen = h.quantization_error(&ActivationQuant::from_range(lo, hi));
        let full = h.quantization_error(&ActivationQuant::from_range(0.0, 100.0));
        assert!(chosen < full, "{chosen} vs {full}");
    }

    #[test]
    fn quantiles_read_bin_edges() {
        // 4 bins over [0, 4], one value each: half the mass lies below 2.
        let mut h = Histogram::new(0.0, 4.0, 4);
        h.add(&[0.5, 1.5, 2.5, 3.5]);
        assert_eq!(h.upper_quantile(0.5), 2.0);
        assert_eq!(h.lower_quantile(0.5), 2.0);
        assert_eq!(h.lower_quantile(0.0), 0.0);
        assert_eq!(h.counts, vec![1, 1, 1, 1]);
    }
}
