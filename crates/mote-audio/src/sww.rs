//! MLPerf Tiny's streaming wake-word (SWW) front-end and pipeline.
//!
//! The features of mlcommons/tiny `streaming_wakeword/get_dataset.py`
//! (`get_lfbe_func`), which the reference model `str_ww_ref_model.tflite` was
//! trained and is evaluated on, computed in `f32` without `std`:
//!
//! 1. samples / 32768, pre-emphasis `y[n] = x[n] - (1 - 2^-5) x[n-1]` over the
//!    whole stream (`x[-1] = 0`);
//! 2. a 1024-sample (64 ms) window every 512 samples (32 ms), multiplied by a
//!    non-periodic Hamming window (`0.54 - 0.46 cos(2 pi n / 1023)`);
//! 3. power spectrum `|rfft|^2 / 1024` (513 bins);
//! 4. 40 mel bands over 0-8000 Hz, weights as `tf.signal.linear_to_mel_weight_matrix`
//!    builds them (HTK mel `1127 ln(1 + f / 700)`, triangles on the 513 bins, DC
//!    weight 0);
//! 5. `(10 log10(max(mel, 1e-30)) + 52) / 64` clipped to `[0, 1]`;
//! 6. 30 frames per model input, quantized as the references do:
//!    `trunc(feature / scale + zero_point)` (see [`quantize`]).
//!
//! [`SwwFrontEnd`] turns one window into one frame; [`SwwListener`] streams
//! samples through it, the classifier and a [`Detector`].

use mote_runtime::{Interpreter, Shape};

use crate::classifier::ClassifierStage;
use crate::detector::DetectorConfig;
use crate::error::AudioError;
use crate::features::FeatureWindow;
use crate::framer::Framer;
use crate::listener::Classification;
use crate::SAMPLE_RATE;

/// Samples per analysis window: 64 ms at 16 kHz.
pub const SWW_WINDOW: usize = 1024;
/// Samples between windows: 32 ms at 16 kHz.
pub const SWW_HOP: usize = 512;
/// Milliseconds per hop.
pub const SWW_HOP_MS: u32 = 32;
/// Mel bands per frame.
pub const SWW_BANDS: usize = 40;
/// Frames per classifier input (about 1 s).
pub const SWW_FRAMES: usize = 30;
/// Bins of the power spectrum (`SWW_WINDOW / 2 + 1`).
pub const SWW_BINS: usize = SWW_WINDOW / 2 + 1;
/// The pre-emphasis coefficient, `1 - 2^-5`.
pub const SWW_PREEMPHASIS: f32 = 0.968_75;
/// Added to the log-mel energy (dB) before scaling by 1/64.
pub const SWW_POWER_OFFSET: f32 = 52.0;

/// Room for the packed mel weights: every bin 1..=511 lies in at most two bands.
const MEL_CAPACITY: usize = 2 * (SWW_BINS - 2);
/// Points of the complex FFT behind the 1024-point real FFT.
const HALF: usize = SWW_WINDOW / 2;

/// The detector settings mote uses for the streaming wake-word model: the raw
/// marvin probability at least 0.5 (`int8 + 128 >= 128`), no averaging, one
/// detection per second, only class 0 (marvin) triggers. The threshold is the
/// one that separates the model's 45 calibration samples (every non-marvin
/// scores 0, every marvin the model recognises at least 0.62; checked in
/// `mote-conformance/tests/audio.rs`), not one tuned on a test stream.
pub const SWW_DETECTOR: DetectorConfig = DetectorConfig {
    average: 1,
    threshold: 128,
    suppression_hops: 32,
    ignore: !1,
};

/// MLPerf Tiny's own streaming evaluation rule (`evaluate.py`, and the
/// reference submission's `DETECT_THRESHOLD 115`): the raw marvin probability
/// above 0.95 (int8 > 115, i.e. `int8 + 128 >= 244`), otherwise as
/// [`SWW_DETECTOR`].
pub const SWW_BENCHMARK_DETECTOR: DetectorConfig = DetectorConfig {
    threshold: 244,
    ..SWW_DETECTOR
};

/// `ln(x)` in `f64` for finite `x > 0` (others give `-inf` or NaN): `x = 2^e m`
/// with `m` in `[sqrt(1/2), sqrt(2))`, `ln m = 2 atanh((m - 1) / (m + 1))` by
/// its series (error below 1e-16).
fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return if x == 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::NAN
        };
    }
    let (mut x, mut e) = (x, 0i32);
    if x < f64::MIN_POSITIVE {
        x *= 18_014_398_509_481_984.0; // 2^54
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > core::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for k in 0..16 {
        sum += term / f64::from(2 * k + 1);
        term *= s2;
    }
    f64::from(e) * core::f64::consts::LN_2 + 2.0 * sum
}

/// `cos(x)` in `f64`: reduced to `[-pi, pi]`, then its Taylor series (error
/// below 1e-15). Only used to build tables.
fn cos(x: f64) -> f64 {
    use core::f64::consts::PI;
    let turns = x / (2.0 * PI);
    // Nearest whole number of turns (|x| stays small here: table angles).
    let whole = if turns >= 0.0 {
        (turns + 0.5) as i64
    } else {
        (turns - 0.5) as i64
    };
    let r = x - 2.0 * PI * whole as f64;
    let r2 = r * r;
    let (mut term, mut sum) = (1.0, 0.0);
    for k in 0..30 {
        sum += term;
        term *= -r2 / f64::from((2 * k + 1) * (2 * k + 2));
    }
    sum
}

/// `sin(x)` in `f64`.
fn sin(x: f64) -> f64 {
    cos(x - core::f64::consts::FRAC_PI_2)
}

/// HTK mel of `hz`, as TensorFlow's `_hertz_to_mel`: `1127 ln(1 + hz / 700)`.
pub fn hertz_to_mel(hz: f64) -> f64 {
    1127.0 * ln(1.0 + hz / 700.0)
}

/// The 513 x 40 mel weights of `tf.signal.linear_to_mel_weight_matrix(40, 513,
/// 16000, 0, 8000)`, stored packed: each band's non-zero run of bins.
#[derive(Clone, Debug)]
pub struct MelMatrix {
    weights: [f32; MEL_CAPACITY],
    start: [u16; SWW_BANDS],
    len: [u16; SWW_BANDS],
}

impl Default for MelMatrix {
    fn default() -> Self {
        Self::new()
    }
}

impl MelMatrix {
    /// Builds the weights (computed in `f64`, stored as `f32`): band `b` rises
    /// from mel edge `b` to `b + 1` and falls to `b + 2`, the 42 edges evenly
    /// spaced from mel(0) to mel(8000); bin `k` is at `8000 k / 512` Hz; the DC
    /// bin gets no weight.
    pub fn new() -> Self {
        let mut m = MelMatrix {
            weights: [0.0; MEL_CAPACITY],
            start: [0; SWW_BANDS],
            len: [0; SWW_BANDS],
        };
        let nyquist = f64::from(SAMPLE_RATE) / 2.0;
        let top = hertz_to_mel(nyquist);
        let edge = |i: usize| top * i as f64 / (SWW_BANDS + 1) as f64;
        let mut at = 0usize;
        for (band, (start, len)) in m.start.iter_mut().zip(m.len.iter_mut()).enumerate() {
            let (lower, center, upper) = (edge(band), edge(band + 1), edge(band + 2));
            let mut first = None;
            let mut count = 0u16;
            for bin in 1..SWW_BINS {
                let mel = hertz_to_mel(nyquist * bin as f64 / (SWW_BINS - 1) as f64);
                let rising = (mel - lower) / (center - lower);
                let falling = (upper - mel) / (upper - center);
                let w = rising.min(falling).max(0.0);
                if w > 0.0 {
                    if let Some(slot) = m.weights.get_mut(at) {
                        *slot = w as f32;
                        at += 1;
                        count += 1;
                        first.get_or_insert(bin);
                    }
                }
            }
            *start = first.unwrap_or(0) as u16;
            *len = count;
        }
        m
    }

    /// The weight of spectrum bin `bin` (0..513) in band `band` (0..40).
    pub fn weight(&self, bin: usize, band: usize) -> f32 {
        let (start, len) = self.range(band);
        if bin < start || bin >= start + len {
            return 0.0;
        }
        let offset: usize = self.len.iter().take(band).map(|l| usize::from(*l)).sum();
        self.weights
            .get(offset + bin - start)
            .copied()
            .unwrap_or(0.0)
    }

    /// The first bin with a non-zero weight in `band`, and how many follow
    /// (0, 0 past the last band).
    pub fn range(&self, band: usize) -> (usize, usize) {
        match (self.start.get(band), self.len.get(band)) {
            (Some(s), Some(l)) => (usize::from(*s), usize::from(*l)),
            _ => (0, 0),
        }
    }

    /// Non-zero weights in all.
    pub fn nonzero(&self) -> usize {
        self.len.iter().map(|l| usize::from(*l)).sum()
    }

    /// Mel energies of a power spectrum.
    pub fn apply(&self, power: &[f32; SWW_BINS], out: &mut [f32; SWW_BANDS]) {
        let mut weights = self.weights.iter();
        for (band, out) in out.iter_mut().enumerate() {
            let (start, len) = self.range(band);
            *out = power
                .iter()
                .skip(start)
                .zip(weights.by_ref().take(len))
                .map(|(p, w)| p * w)
                .sum();
        }
    }
}

/// The SWW front-end: one 1024-sample window in, 40 features in `[0, 1]` out.
/// Holds its tables (window, FFT twiddles, mel weights; about 18 KB with its
/// scratch) and the pre-emphasis state. Windows must follow each other by
/// [`SWW_HOP`] samples (as a `Framer<1024, 512>` gives them).
#[derive(Clone, Debug)]
pub struct SwwFrontEnd {
    hamming: [f32; SWW_WINDOW],
    /// `cos(2 pi k / 1024)` and `sin(2 pi k / 1024)`, k < 512.
    cos: [f32; HALF],
    sin: [f32; HALF],
    mel: MelMatrix,
    re: [f32; HALF],
    im: [f32; HALF],
    power: [f32; SWW_BINS],
    /// The sample just before the next window (scaled), for pre-emphasis.
    previous: f32,
}

impl Default for SwwFrontEnd {
    fn default() -> Self {
        Self::new()
    }
}

impl SwwFrontEnd {
    /// Builds the tables; the stream starts from silence.
    pub fn new() -> Self {
        use core::f64::consts::PI;
        let mut f = SwwFrontEnd {
            hamming: [0.0; SWW_WINDOW],
            cos: [0.0; HALF],
            sin: [0.0; HALF],
            mel: MelMatrix::new(),
            re: [0.0; HALF],
            im: [0.0; HALF],
            power: [0.0; SWW_BINS],
            previous: 0.0,
        };
        for (n, w) in f.hamming.iter_mut().enumerate() {
            *w = (0.54 - 0.46 * cos(2.0 * PI * n as f64 / (SWW_WINDOW - 1) as f64)) as f32;
        }
        for (k, (c, s)) in f.cos.iter_mut().zip(f.sin.iter_mut()).enumerate() {
            let angle = 2.0 * PI * k as f64 / SWW_WINDOW as f64;
            *c = cos(angle) as f32;
            *s = sin(angle) as f32;
        }
        f
    }

    /// The mel weights.
    pub fn mel(&self) -> &MelMatrix {
        &self.mel
    }

    /// The power spectrum (`|X|^2 / 1024`, 513 bins) of the latest window.
    pub fn power(&self) -> &[f32; SWW_BINS] {
        &self.power
    }

    /// Forgets the stream (the pre-emphasis state), as before a new clip.
    pub fn reset(&mut self) {
        self.previous = 0.0;
    }

    /// The features of the next window of the stream.
    pub fn frame(&mut self, window: &[i16; SWW_WINDOW], out: &mut [f32; SWW_BANDS]) {
        // Pre-emphasis (continuing the stream) and the Hamming window, packed
        // as 512 complex points: z[m] = x[2m] + i x[2m + 1].
        let mut previous = self.previous;
        let scaled = window.iter().map(|s| f32::from(*s) / 32768.0);
        let mut emphasized = scaled.clone().map(|x| {
            let y = x - SWW_PREEMPHASIS * previous;
            previous = x;
            y
        });
        let mut hamming = self.hamming.iter();
        for (re, im) in self.re.iter_mut().zip(self.im.iter_mut()) {
            let mut next =
                || emphasized.next().unwrap_or(0.0) * hamming.next().copied().unwrap_or(0.0);
            *re = next();
            *im = next();
        }
        self.previous = scaled.clone().nth(SWW_HOP - 1).unwrap_or(0.0);
        self.fft();
        self.split_power();
        let mut mel = [0.0f32; SWW_BANDS];
        self.mel.apply(&self.power, &mut mel);
        for (o, m) in out.iter_mut().zip(mel) {
            let db = 10.0 * (ln(f64::from(m.max(1e-30))) / core::f64::consts::LN_10) as f32;
            *o = ((db + SWW_POWER_OFFSET) / 64.0).clamp(0.0, 1.0);
        }
    }

    /// In-place radix-2 decimation-in-time FFT of the 512 points in `re`/`im`.
    fn fft(&mut self) {
        let bits = HALF.trailing_zeros();
        for i in 0..HALF {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                self.re.swap(i, j);
                self.im.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= HALF {
            let half = len / 2;
            // W_len^j = W_1024^(j * 1024 / len).
            let stride = SWW_WINDOW / len;
            for (re, im) in self
                .re
                .chunks_exact_mut(len)
                .zip(self.im.chunks_exact_mut(len))
            {
                let (re_a, re_b) = re.split_at_mut(half);
                let (im_a, im_b) = im.split_at_mut(half);
                let twiddles = self
                    .cos
                    .iter()
                    .step_by(stride)
                    .zip(self.sin.iter().step_by(stride));
                for ((((ar, ai), br), bi), (c, s)) in re_a
                    .iter_mut()
                    .zip(im_a.iter_mut())
                    .zip(re_b.iter_mut())
                    .zip(im_b.iter_mut())
                    .zip(twiddles)
                {
                    // b * W, W = c - i s.
                    let tr = *br * c + *bi * s;
                    let ti = *bi * c - *br * s;
                    *br = *ar - tr;
                    *bi = *ai - ti;
                    *ar += tr;
                    *ai += ti;
                }
            }
            len *= 2;
        }
    }

    /// The 1024-point real spectrum from the 512-point complex one, as power.
    fn split_power(&mut self) {
        let scale = 1.0 / SWW_WINDOW as f32;
        let (z0r, z0i) = (self.re.first().copied(), self.im.first().copied());
        let (z0r, z0i) = (z0r.unwrap_or(0.0), z0i.unwrap_or(0.0));
        if let Some(p) = self.power.first_mut() {
            *p = (z0r + z0i) * (z0r + z0i) * scale;
        }
        if let Some(p) = self.power.last_mut() {
            *p = (z0r - z0i) * (z0r - z0i) * scale;
        }
        // k = 1..512 with Z[512 - k] from the other end.
        let forward = self.re.iter().zip(self.im.iter()).skip(1);
        let backward = self.re.iter().zip(self.im.iter()).skip(1).rev();
        let twiddles = self.cos.iter().zip(self.sin.iter()).skip(1);
        for ((((kr, ki), (mr, mi)), (c, s)), p) in forward
            .zip(backward)
            .zip(twiddles)
            .zip(self.power.iter_mut().skip(1))
        {
            let (er, ei) = (0.5 * (kr + mr), 0.5 * (ki - mi));
            let (or, oi) = (0.5 * (ki + mi), -0.5 * (kr - mr));
            let xr = er + c * or + s * oi;
            let xi = ei + c * oi - s * or;
            *p = (xr * xr + xi * xi) * scale;
        }
    }
}

/// Quantizes features as MLPerf Tiny's `evaluate.py`
/// (`np.array(f / scale + zero_point, dtype=np.int8)`) and the reference
/// submission (`(int8_t)(f / scale - 128)`) do: truncation toward zero. Values
/// past the int8 range saturate (both references leave that to an out-of-range
/// float-to-int8 cast; with the model's scale, features above 0.944 get there).
pub fn quantize(features: &[f32], scale: f32, zero_point: i32, out: &mut [i8]) {
    for (o, f) in out.iter_mut().zip(features) {
        let v = f / scale + zero_point as f32;
        // `as` truncates toward zero and saturates (NaN gives 0).
        *o = (v as i32).clamp(-128, 127) as i8;
    }
}

/// Streams 16 kHz samples through the SWW front-end and a classifier: one
/// feature frame per 32 ms hop, and once 30 frames have arrived the classifier
/// runs after every hop (as `evaluate.py` slides it over the spectrogram).
pub struct SwwListener<'m, 'a, 's> {
    frontend: SwwFrontEnd,
    framer: Framer<SWW_WINDOW, SWW_HOP>,
    stage: ClassifierStage<'m, 'a, 's>,
    hops: usize,
    scale: f32,
    zero_point: i32,
}

impl<'m, 'a, 's> SwwListener<'m, 'a, 's> {
    /// A listener with `classifier` (a prepared interpreter whose int8 input
    /// holds a whole number of 40-band frames, `[1, 30, 1, 40]` for the
    /// reference model) and `storage` for the feature window (its size). The
    /// input's quantization maps features to int8; without one the features
    /// are taken as int8 values (scale 1, zero point 0), as TFLite reads an
    /// unquantized tensor.
    pub fn new(
        classifier: Interpreter<'m, 'a>,
        storage: &'s mut [i8],
        config: DetectorConfig,
    ) -> Result<Self, AudioError> {
        let (scale, zero_point) = classifier
            .input_tensor(0)?
            .quantization()
            .map_or((1.0, 0), |q| (q.scale(0), q.zero_point(0) as i32));
        let frames_from = Shape::new(&[SWW_BANDS]).unwrap_or_default();
        let stage = ClassifierStage::new(classifier, storage, SWW_BANDS, frames_from, config)?;
        Ok(SwwListener {
            frontend: SwwFrontEnd::new(),
            framer: Framer::new(),
            stage,
            hops: 0,
            scale,
            zero_point,
        })
    }

    /// Feeds samples; `on_classification` is called after every hop once a
    /// window of frames has arrived. `end_ms` is the end of the newest window.
    pub fn push(
        &mut self,
        samples: &[i16],
        mut on_classification: impl FnMut(&Classification<'_>),
    ) -> Result<(), AudioError> {
        let mut frame = [0.0f32; SWW_BANDS];
        let mut quantized = [0i8; SWW_BANDS];
        for &sample in samples {
            let Some(window) = self.framer.push(sample) else {
                continue;
            };
            self.frontend.frame(window, &mut frame);
            quantize(&frame, self.scale, self.zero_point, &mut quantized);
            let hop = self.hops;
            self.hops += 1;
            let end_samples = hop * SWW_HOP + SWW_WINDOW;
            self.stage
                .push(&quantized, hop, end_samples, &mut on_classification)?;
        }
        Ok(())
    }

    /// The current feature window (oldest frame first), int8.
    pub fn features(&self) -> &FeatureWindow<'s> {
        self.stage.features()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.stage.classes()
    }

    /// Starts over, as before a new clip.
    pub fn reset(&mut self) -> Result<(), AudioError> {
        self.stage.reset()?;
        self.frontend.reset();
        self.framer.reset();
        self.hops = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn math_helpers_agree_with_std() {
        for x in [1e-30, 1e-7, 0.5, 1.0, 1.5, 2.0, 10.0, 12345.678, 3.0e8] {
            assert!(
                (ln(x) - x.ln()).abs() < 1e-14 * x.ln().abs().max(1.0),
                "ln {x}"
            );
        }
        assert!(ln(f64::from_bits(1)).is_finite()); // subnormal
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        for i in 0..200 {
            let x = i as f64 * 0.05 - 1.0;
            assert!((cos(x) - x.cos()).abs() < 1e-14, "cos {x}");
            assert!((sin(x) - x.sin()).abs() < 1e-14, "sin {x}");
        }
    }

    /// Reference values printed by `tools/sww_mel_check.py` (numpy port of
    /// `tf.signal.linear_to_mel_weight_matrix(40, 513, 16000, 0, 8000)`).
    #[test]
    fn mel_matrix_matches_tensorflow_construction() {
        let m = MelMatrix::new();
        for (bin, band, expected) in [
            (1, 0, 0.3591725),
            (2, 0, 0.7105869),
            (3, 0, 0.9454287),
            (3, 1, 0.0545713),
            (38, 9, 0.9932687),
            (90, 17, 0.9226122),
            (270, 31, 0.721813),
            (511, 39, 0.0292466),
            (512, 39, 0.0),
            (0, 0, 0.0),
        ] {
            let w = m.weight(bin, band);
            assert!(
                (w - expected).abs() < 1e-6,
                "m[{bin}][{band}] = {w}, expected {expected}"
            );
        }
        assert_eq!(m.range(0).0, 1);
        assert_eq!(m.range(1).0, 3);
        assert_eq!(m.range(20).0, 109);
        assert_eq!(m.range(39).0, 448);
        assert_eq!(m.nonzero(), 987);
        assert_eq!((0..SWW_BANDS).map(|b| m.range(b).1).max(), Some(64));
        // Interior bins are split between two bands: rows sum to 1.
        let row = |bin| (0..SWW_BANDS).map(|b| m.weight(bin, b)).sum::<f32>();
        assert!((row(100) - 1.0).abs() < 1e-6);
        assert!((row(1) - 0.3591725).abs() < 1e-6);
        assert_eq!(row(512), 0.0);
    }

    /// The real FFT against a direct DFT, on a window of noise-like samples.
    #[test]
    fn power_spectrum_equals_direct_dft() {
        let mut f = SwwFrontEnd::new();
        let mut window = [0i16; SWW_WINDOW];
        let mut seed = 12345u32;
        for s in window.iter_mut() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *s = (seed >> 16) as i16;
        }
        let mut out = [0.0; SWW_BANDS];
        f.frame(&window, &mut out);
        // The same pre-emphasis (from silence) and window, in f64.
        let x: Vec<f64> = (0..SWW_WINDOW)
            .map(|n| {
                let cur = f64::from(window[n]) / 32768.0;
                let prev = if n == 0 {
                    0.0
                } else {
                    f64::from(window[n - 1]) / 32768.0
                };
                let w = 0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / 1023.0).cos();
                (cur - 0.96875 * prev) * w
            })
            .collect();
        let peak = (0..SWW_BINS)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (n, v) in x.iter().enumerate() {
                    let a = 2.0 * std::f64::consts::PI * (k * n % SWW_WINDOW) as f64 / 1024.0;
                    re += v * a.cos();
                    im -= v * a.sin();
                }
                let p = (re * re + im * im) / 1024.0;
                let ours = f64::from(f.power()[k]);
                assert!(
                    (ours - p).abs() < 1e-5 * p.max(1.0),
                    "bin {k}: {ours} vs {p}"
                );
                p
            })
            .fold(0.0, f64::max);
        assert!(peak > 1.0);
    }

    /// A 1 kHz sine (amplitude 16384): reference values printed by
    /// `tools/sww_mel_check.py` (numpy port of `get_lfbe_func`). The first
    /// frame starts the stream (pre-emphasis from 0); the second continues it.
    #[test]
    fn sine_features_match_the_numpy_reference() {
        let samples: Vec<i16> = (0..SWW_WINDOW + SWW_HOP)
            .map(|n| {
                let v = 16384.0 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 16000.0).sin();
                v.round() as i16
            })
            .collect();
        let expected: [[(usize, f32); 8]; 2] = [
            [
                (0, 0.0),
                (11, 0.0),
                (12, 0.0),
                (13, 0.863714),
                (14, 0.846277),
                (15, 0.0),
                (16, 0.0),
                (39, 0.006203),
            ],
            [
                (0, 0.0),
                (11, 0.0),
                (12, 0.0),
                (13, 0.863718),
                (14, 0.846281),
                (15, 0.0),
                (16, 0.0),
                (39, 0.0),
            ],
        ];
        let mut f = SwwFrontEnd::new();
        let mut framer = Framer::<SWW_WINDOW, SWW_HOP>::new();
        let mut frames = Vec::new();
        for s in &samples {
            if let Some(w) = framer.push(*s) {
                let mut out = [0.0; SWW_BANDS];
                f.frame(w, &mut out);
                frames.push(out);
            }
        }
        assert_eq!(frames.len(), 2);
        for (i, (frame, expected)) in frames.iter().zip(expected).enumerate() {
            for (band, value) in expected {
                let ours = frame[band];
                assert!(
                    (ours - value).abs() < 2e-6,
                    "frame {i} band {band}: {ours} vs {value}"
                );
            }
            let best = (0..SWW_BANDS).max_by(|a, b| frame[*a].total_cmp(&frame[*b]));
            assert_eq!(best, Some(13), "frame {i}");
        }
        // Reset starts the stream again: the first frame comes back.
        f.reset();
        let mut again = [0.0; SWW_BANDS];
        f.frame(samples[..SWW_WINDOW].try_into().unwrap(), &mut again);
        assert_eq!(again, frames[0]);
    }

    #[test]
    fn quantize_truncates_like_the_references() {
        let scale = 0.003_701_042_6;
        let mut out = [0i8; 6];
        quantize(
            &[0.0, 0.5 * scale, 1.5 * scale, 0.5, 0.95, 1.0],
            scale,
            -128,
            &mut out,
        );
        // 0.5 - 128 = -127.5 truncates to -127; 1.5 - 128 to -126.
        assert_eq!(out[..3], [-128, -127, -126]);
        assert_eq!(out[3], (0.5 / scale - 128.0) as i8); // 7
        assert_eq!(out[4..], [127, 127]); // saturated
    }

    #[test]
    fn silence_gives_zero_features() {
        let mut f = SwwFrontEnd::new();
        let mut out = [1.0; SWW_BANDS];
        f.frame(&[0; SWW_WINDOW], &mut out);
        assert_eq!(out, [0.0; SWW_BANDS]);
        f.frame(&[i16::MIN; SWW_WINDOW], &mut out);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
