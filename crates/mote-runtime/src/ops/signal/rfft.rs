//! SignalRfft: the real FFT of each frame, zero-padded to `fft_length`, as
//! TFLM computes it for int16 with KISS FFT in 16-bit fixed point (each
//! butterfly stage divides by its radix, so the output is the spectrum divided
//! by `fft_length`). Input int16 `[..., n]`; output int16 `[..., fft_length + 2]`
//! (interleaved real and imaginary parts of `fft_length / 2 + 1` bins).
//!
//! Only power-of-two lengths are accepted (KISS FFT's radix-4 and radix-2
//! butterflies); twiddles are `floor(0.5 + 32767 * cos|sin(phase))` with KISS
//! FFT's phases, computed once in `prepare`.

use super::{expect_rank, option_i32, options};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, Persistent, PrepareContext};

/// Longest FFT accepted.
pub const MAX_FFT_LENGTH: usize = 4096;

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalRfftParams {
    /// FFT length (a power of two).
    pub fft_length: usize,
    /// Samples per input frame.
    pub input_length: usize,
    /// int16 values per output frame (`fft_length + 2`).
    pub output_length: usize,
    /// Twiddles, super-twiddles and work buffers (int16), see [`Layout`].
    pub state: Persistent,
}

/// Where each table lives in the int16 state, for `n = fft_length / 2` complex points.
struct Layout {
    n: usize,
}

impl Layout {
    /// `n` complex twiddles of the half-length complex FFT.
    fn twiddles(&self) -> core::ops::Range<usize> {
        0..2 * self.n
    }
    /// `n / 2` complex super-twiddles that split the real spectrum.
    fn super_twiddles(&self) -> core::ops::Range<usize> {
        2 * self.n..3 * self.n
    }
    /// The zero-padded input frame (`2n` values).
    fn frame(&self) -> core::ops::Range<usize> {
        3 * self.n..5 * self.n
    }
    /// Then the complex FFT's output (`n` complex values, to `7n`).
    fn len(&self) -> usize {
        7 * self.n
    }
}

/// Checks the operator and computes the twiddle tables.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalRfftParams, Error> {
    let map = options(ctx)?;
    let fft_length = option_i32(ctx, &map, "fft_length")?;
    let (input, output) = (ctx.input(0)?, ctx.output(0)?);
    ctx.expect_type(&input, TensorType::Int16)?;
    ctx.expect_type(&output, TensorType::Int16)?;
    let rank = input.shape().rank();
    expect_rank(ctx, &output, rank)?;
    let fft_length = usize::try_from(fft_length)
        .ok()
        .filter(|n| n.is_power_of_two() && (4..=MAX_FFT_LENGTH).contains(n))
        .ok_or(ctx.invalid("fft_length must be a power of two from 4 to 4096"))?;
    let input_length = input.shape().dim(rank.saturating_sub(1));
    let output_length = output.shape().dim(rank.saturating_sub(1));
    let frames = input.shape().elements() / input_length.max(1);
    if rank == 0
        || input_length == 0
        || input_length > fft_length
        || output_length != fft_length + 2
        || output.shape().elements() != frames * output_length
    {
        return Err(ctx.invalid("frame or spectrum size does not fit fft_length"));
    }
    let layout = Layout { n: fft_length / 2 };
    let (state, values) = ctx.persistent::<i16>(layout.len())?;
    let n = layout.n;
    if let Some(tw) = values.get_mut(layout.twiddles()) {
        for (i, pair) in tw.chunks_exact_mut(2).enumerate() {
            // kiss_fft_alloc: phase = -2 pi i / nfft.
            let phase = -2.0 * core::f64::consts::PI * i as f64 / n as f64;
            pair.copy_from_slice(&twiddle(phase));
        }
    }
    if let Some(tw) = values.get_mut(layout.super_twiddles()) {
        for (i, pair) in tw.chunks_exact_mut(2).enumerate() {
            // kiss_fftr_alloc: phase = -pi ((i + 1) / nfft + 1/2).
            let phase = -core::f64::consts::PI * ((i + 1) as f64 / n as f64 + 0.5);
            pair.copy_from_slice(&twiddle(phase));
        }
    }
    Ok(SignalRfftParams {
        fft_length,
        input_length,
        output_length,
        state,
    })
}

/// Transforms every frame.
pub fn eval(params: &SignalRfftParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let input = ctx.input_as::<i16>(0);
    let layout = Layout {
        n: params.fft_length / 2,
    };
    // The state and the output are disjoint parts of the context.
    let (values, output) = super::persistent_and_output::<i16, i16>(ctx, params.state);
    let (tables, work) = values.split_at_mut(layout.frame().start);
    let (twiddles, super_twiddles) = tables.split_at(layout.super_twiddles().start);
    let (frame, spectrum) = work.split_at_mut(layout.n * 2);
    for (x, out) in input
        .chunks(params.input_length)
        .zip(output.chunks_mut(params.output_length))
    {
        frame.fill(0);
        for (f, v) in frame.iter_mut().zip(x) {
            *f = *v;
        }
        rfft(twiddles, super_twiddles, frame, spectrum, out);
    }
    Ok(())
}

/// The op keeps no state between invokes (its tables never change).
pub fn reset(_: &SignalRfftParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// A complex int16 value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cpx {
    r: i16,
    i: i16,
}

/// Complex value `j` of interleaved `buf` (zero past the end, which `prepare` rules out).
fn load(buf: &[i16], j: usize) -> Cpx {
    Cpx {
        r: buf.get(2 * j).copied().unwrap_or(0),
        i: buf.get(2 * j + 1).copied().unwrap_or(0),
    }
}

/// Stores complex value `j` of interleaved `buf`.
fn store(buf: &mut [i16], j: usize, c: Cpx) {
    if let Some(slot) = buf.get_mut(2 * j..2 * j + 2) {
        slot.copy_from_slice(&[c.r, c.i]);
    }
}

/// KISS FFT's `sround`: rounds a Q30 product to Q15 (and truncates to int16, as C does).
fn sround(x: i32) -> i16 {
    (x.wrapping_add(1 << 14) >> 15) as i16
}

/// `C_MUL` in Q15.
fn mul(a: Cpx, b: Cpx) -> Cpx {
    let (ar, ai, br, bi) = (
        i32::from(a.r),
        i32::from(a.i),
        i32::from(b.r),
        i32::from(b.i),
    );
    Cpx {
        r: sround((ar * br).wrapping_sub(ai * bi)),
        i: sround((ar * bi).wrapping_add(ai * br)),
    }
}

/// `C_FIXDIV(c, k)`: multiplies by `32767 / k` in Q15.
fn fixdiv(c: Cpx, k: i32) -> Cpx {
    let s = 32767 / k;
    Cpx {
        r: sround(i32::from(c.r) * s),
        i: sround(i32::from(c.i) * s),
    }
}

/// `C_ADD` (int arithmetic stored to int16: wraps).
fn add(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: a.r.wrapping_add(b.r),
        i: a.i.wrapping_add(b.i),
    }
}

/// `C_SUB`.
fn sub(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: a.r.wrapping_sub(b.r),
        i: a.i.wrapping_sub(b.i),
    }
}

/// The radix-2 butterfly over `m` pairs.
fn butterfly2(out: &mut [i16], twiddles: &[i16], fstride: usize, m: usize) {
    for k in 0..m {
        let a = fixdiv(load(out, k), 2);
        let b = fixdiv(load(out, k + m), 2);
        let t = mul(b, load(twiddles, k * fstride));
        store(out, k + m, sub(a, t));
        store(out, k, add(a, t));
    }
}

/// The radix-4 butterfly over `m` quadruples (forward transform).
fn butterfly4(out: &mut [i16], twiddles: &[i16], fstride: usize, m: usize) {
    for k in 0..m {
        let f0 = fixdiv(load(out, k), 4);
        let f1 = fixdiv(load(out, k + m), 4);
        let f2 = fixdiv(load(out, k + 2 * m), 4);
        let f3 = fixdiv(load(out, k + 3 * m), 4);
        let s0 = mul(f1, load(twiddles, k * fstride));
        let s1 = mul(f2, load(twiddles, 2 * k * fstride));
        let s2 = mul(f3, load(twiddles, 3 * k * fstride));
        let s5 = sub(f0, s1);
        let f0 = add(f0, s1);
        let s3 = add(s0, s2);
        let s4 = sub(s0, s2);
        store(out, k + 2 * m, sub(f0, s3));
        store(out, k, add(f0, s3));
        store(
            out,
            k + m,
            Cpx {
                r: s5.r.wrapping_add(s4.i),
                i: s5.i.wrapping_sub(s4.r),
            },
        );
        store(
            out,
            k + 3 * m,
            Cpx {
                r: s5.r.wrapping_sub(s4.i),
                i: s5.i.wrapping_add(s4.r),
            },
        );
    }
}

/// KISS FFT's `kf_work`: the decimation-in-time recursion. `n` points of
/// `input` (complex, every `fstride`-th from `offset`) go to `out`; the radix
/// is 4 while `n` is a multiple of 4, then 2 (as `kf_factor` chooses).
fn work(out: &mut [i16], input: &[i16], offset: usize, fstride: usize, n: usize, twiddles: &[i16]) {
    let p = if n.is_multiple_of(4) { 4 } else { 2 };
    let m = n / p;
    if m == 1 {
        for j in 0..p {
            store(out, j, load(input, offset + j * fstride));
        }
    } else {
        for (j, part) in out.chunks_mut(2 * m).take(p).enumerate() {
            work(part, input, offset + j * fstride, fstride * p, m, twiddles);
        }
    }
    if p == 4 {
        butterfly4(out, twiddles, fstride, m);
    } else {
        butterfly2(out, twiddles, fstride, m);
    }
}

/// `kiss_fftr`: the real FFT of `frame` (`2n` samples) via an `n`-point complex
/// FFT into `spectrum`, then the split into `n + 1` bins in `out`.
fn rfft(
    twiddles: &[i16],
    super_twiddles: &[i16],
    frame: &[i16],
    spectrum: &mut [i16],
    out: &mut [i16],
) {
    let n = frame.len() / 2;
    work(spectrum, frame, 0, 1, n, twiddles);
    let dc = fixdiv(load(spectrum, 0), 2);
    store(
        out,
        0,
        Cpx {
            r: dc.r.wrapping_add(dc.i),
            i: 0,
        },
    );
    store(
        out,
        n,
        Cpx {
            r: dc.r.wrapping_sub(dc.i),
            i: 0,
        },
    );
    for k in 1..=n / 2 {
        let fpk = fixdiv(load(spectrum, k), 2);
        let conj = load(spectrum, n - k);
        let fpnk = fixdiv(
            Cpx {
                r: conj.r,
                i: conj.i.wrapping_neg(),
            },
            2,
        );
        let f1k = add(fpk, fpnk);
        let f2k = sub(fpk, fpnk);
        let tw = mul(f2k, load(super_twiddles, k - 1));
        // HALF_OF works on the int sum before it is stored to int16.
        let half = |a: i16, b: i16| ((i32::from(a) + i32::from(b)) >> 1) as i16;
        let half_diff = |a: i16, b: i16| ((i32::from(a) - i32::from(b)) >> 1) as i16;
        store(
            out,
            k,
            Cpx {
                r: half(f1k.r, tw.r),
                i: half(f1k.i, tw.i),
            },
        );
        store(
            out,
            n - k,
            Cpx {
                r: half_diff(f1k.r, tw.r),
                i: half_diff(tw.i, f1k.i),
            },
        );
    }
}

/// `kf_cexp` in fixed point: `floor(0.5 + 32767 * cos|sin(phase))`.
fn twiddle(phase: f64) -> [i16; 2] {
    let (s, c) = sin_cos(phase);
    let q = |x: f64| floor(0.5 + 32767.0 * x) as i16;
    [q(c), q(s)]
}

/// `floor` without std.
fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Sine and cosine of `x` (|x| < 8) to within a few ulp, without std: Cody-Waite
/// reduction by pi/2 (fdlibm's two-part constant), then Taylor series on
/// [-pi/4, pi/4]. A test checks every twiddle against std's `sin`/`cos`.
fn sin_cos(x: f64) -> (f64, f64) {
    // fdlibm's pio2_1 (the first 33 bits of pi/2) and pio2_1t (pi/2 - pio2_1).
    const PIO2_HI: f64 = f64::from_bits(0x3FF9_21FB_5440_0000);
    const PIO2_LO: f64 = f64::from_bits(0x3DD0_B461_1A62_6331);
    let k = floor(x * core::f64::consts::FRAC_2_PI + 0.5);
    let r = (x - k * PIO2_HI) - k * PIO2_LO;
    let r2 = r * r;
    // sin r = r - r^3/3! + ...; cos r = 1 - r^2/2! + ...
    let mut sin = 0.0;
    let mut cos = 0.0;
    let mut sin_term = r;
    let mut cos_term = 1.0;
    for n in 0..12 {
        sin += sin_term;
        cos += cos_term;
        let a = f64::from(2 * n + 2);
        let b = f64::from(2 * n + 3);
        sin_term = -sin_term * r2 / (a * b);
        cos_term = -cos_term * r2 / ((a - 1.0) * a);
    }
    match (k as i64).rem_euclid(4) {
        0 => (sin, cos),
        1 => (cos, -sin),
        2 => (-sin, -cos),
        _ => (-cos, sin),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    fn tables(fft_length: usize) -> (Vec<i16>, Vec<i16>) {
        let n = fft_length / 2;
        let mut tw = vec![0i16; 2 * n];
        for (i, pair) in tw.chunks_exact_mut(2).enumerate() {
            pair.copy_from_slice(&twiddle(-2.0 * std::f64::consts::PI * i as f64 / n as f64));
        }
        let mut st = vec![0i16; n];
        for (i, pair) in st.chunks_exact_mut(2).enumerate() {
            pair.copy_from_slice(&twiddle(
                -std::f64::consts::PI * ((i + 1) as f64 / n as f64 + 0.5),
            ));
        }
        (tw, st)
    }

    fn transform(input: &[i16], fft_length: usize) -> Vec<i16> {
        let (tw, st) = tables(fft_length);
        let mut frame = vec![0i16; fft_length];
        frame[..input.len()].copy_from_slice(input);
        let mut spectrum = vec![0i16; fft_length];
        let mut out = vec![0i16; fft_length + 2];
        rfft(&tw, &st, &frame, &mut spectrum, &mut out);
        out
    }

    #[test]
    fn twiddles_equal_libm_for_every_length() {
        let q = |x: f64| (0.5 + 32767.0 * x).floor() as i16;
        let mut n = 2;
        while n <= MAX_FFT_LENGTH / 2 {
            for i in 0..n {
                let p = -2.0 * std::f64::consts::PI * i as f64 / n as f64;
                assert_eq!(twiddle(p), [q(p.cos()), q(p.sin())], "n {n} i {i}");
                let p = -std::f64::consts::PI * ((i + 1) as f64 / n as f64 + 0.5);
                assert_eq!(twiddle(p), [q(p.cos()), q(p.sin())], "super n {n} i {i}");
            }
            n *= 2;
        }
    }

    #[test]
    fn matches_tflm_test_vectors() {
        // Header: fft_length; then (input, expected output) line pairs.
        let lines = lines("rfft_test1.txt");
        let fft_length: usize = lines[0][0].parse().unwrap();
        let mut frames = 0;
        for pair in lines[1..].chunks_exact(2) {
            let input: Vec<i16> = ints(&pair[0]);
            assert_eq!(
                transform(&input, fft_length),
                ints::<i16>(&pair[1]),
                "frame {frames}"
            );
            frames += 1;
        }
        assert!(frames > 100);
    }

    #[test]
    fn impulse_is_flat() {
        // An impulse of 32767 at t = 0: every bin is 32767 / fft_length (the
        // stages divide by 2 and 4), here 32767 / 16 = 2047.9 -> 2047 or 2048.
        let out = transform(&[32767], 16);
        for bin in out.chunks(2) {
            assert!((2046..=2048).contains(&bin[0]), "{out:?}");
            assert_eq!(bin[1], 0);
        }
    }
}
