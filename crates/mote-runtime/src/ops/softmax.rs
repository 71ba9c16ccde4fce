//! SOFTMAX over the last dimension: int8 -> int8 exactly as TensorFlow Lite
//! Micro's reference kernel (gemmlowp fixed point: exp in Q5.26, sum in
//! Q12.19, one reciprocal per row), and float32.

use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant;

/// Field ids of `SoftmaxOptions`.
mod field {
    pub const BETA: u16 = 0;
}

/// Integer bits of the scaled input differences (TensorFlow Lite's
/// `kScaledDiffIntegerBits`).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (`kAccumulationIntegerBits`).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SoftmaxParams {
    /// Rows (all dimensions but the last).
    pub rows: usize,
    /// Length of a row (the last dimension).
    pub depth: usize,
    /// The arithmetic.
    pub kind: SoftmaxKind,
}

/// The arithmetic of a SOFTMAX.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum SoftmaxKind {
    /// float32 with `beta`.
    Float32 {
        /// The inverse temperature.
        beta: f32,
    },
    /// int8 in, int8 out with scale 1/256 and zero point -128.
    Int8 {
        /// Multiplier taking `input - max` to Q5.26, times beta.
        input_multiplier: i32,
        /// Its left shift.
        input_left_shift: i32,
        /// Differences below this contribute nothing.
        diff_min: i32,
    },
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SoftmaxParams, Error> {
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    let shape = input.shape();
    if shape.rank() == 0 || output.shape().elements() != shape.elements() {
        return Err(ctx.invalid("output shape differs from the input's"));
    }
    let depth = shape.dim(shape.rank() - 1);
    let rows = shape.elements().checked_div(depth).unwrap_or(0);
    let beta = ctx.options().f32(field::BETA, 0.0);
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Float32 => SoftmaxKind::Float32 { beta },
        TensorType::Int8 => {
            let (input_scale, _) = ctx.quantization(&input)?;
            let (output_scale, output_zero_point) = ctx.quantization(&output)?;
            // As TensorFlow Lite Micro: exactly these output params.
            if output_zero_point != -128 || output_scale != 1.0 / 256.0 {
                return Err(
                    ctx.invalid("int8 softmax output must have scale 1/256, zero point -128")
                );
            }
            let (input_multiplier, input_left_shift) =
                quant::preprocess_softmax_scaling(beta, input_scale, SCALED_DIFF_INTEGER_BITS);
            let diff_min =
                -quant::calculate_input_radius(SCALED_DIFF_INTEGER_BITS, input_left_shift);
            SoftmaxKind::Int8 {
                input_multiplier,
                input_left_shift,
                diff_min,
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(SoftmaxParams { rows, depth, kind })
}

/// Runs the operator.
pub fn eval(params: &SoftmaxParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    match params.kind {
        SoftmaxKind::Float32 { beta } => {
            let (input, output) = ctx.io_as::<f32, f32>(0, 0);
            softmax_f32(params.depth, beta, input, output);
        }
        SoftmaxKind::Int8 {
            input_multiplier,
            input_left_shift,
            diff_min,
        } => {
            let (input, output) = ctx.io_as::<i8, i8>(0, 0);
            softmax_i8(
                params.depth,
                (input_multiplier, input_left_shift, diff_min),
                input,
                output,
            );
        }
    }
    Ok(())
}

/// The int8 reference kernel, row by row: differences to the row's maximum,
/// scaled to Q5.26, exponentiated in fixed point, summed in Q12.19; each
/// output is `exp * (1 / sum)` rounded into the output's 8 bits, minus 128.
pub fn softmax_i8(
    depth: usize,
    (multiplier, left_shift, diff_min): (i32, i32, i32),
    input: &[i8],
    output: &mut [i8],
) {
    if depth == 0 {
        return;
    }
    let scaled_exp = |diff: i32| {
        let scaled =
            quant::multiply_by_quantized_multiplier_greater_than_one(diff, multiplier, left_shift);
        quant::exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS)
    };
    for (row, out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let max = row.iter().copied().max().unwrap_or(i8::MIN);
        let mut sum = 0i32;
        for &x in row {
            let diff = i32::from(x) - i32::from(max);
            if diff >= diff_min {
                // Rescale Q0.31 to Q12.19, adding without saturation as gemmlowp.
                sum = sum.wrapping_add(quant::rescale(
                    scaled_exp(diff),
                    0,
                    ACCUMULATION_INTEGER_BITS,
                ));
            }
        }
        let (reciprocal, bits_over_unit) = quant::get_reciprocal(sum, ACCUMULATION_INTEGER_BITS);
        let exponent = bits_over_unit + 31 - 8;
        for (&x, y) in row.iter().zip(out.iter_mut()) {
            let diff = i32::from(x) - i32::from(max);
            *y = if diff >= diff_min {
                let product =
                    quant::saturating_rounding_doubling_high_mul(reciprocal, scaled_exp(diff));
                let unsaturated = quant::rounding_divide_by_pot(product, exponent);
                unsaturated.wrapping_add(-128).clamp(-128, 127) as i8
            } else {
                i8::MIN
            };
        }
    }
}

/// The float32 kernel: `exp((x - max) * beta) / sum`, in f32 as TensorFlow
/// Lite (exp itself is computed in f64 and rounded, which agrees with the C
/// library's `expf` to within an ulp).
pub fn softmax_f32(depth: usize, beta: f32, input: &[f32], output: &mut [f32]) {
    if depth == 0 {
        return;
    }
    for (row, out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let max = row.iter().fold(f32::MIN, |m, &x| if m < x { x } else { m });
        let mut sum = 0f32;
        for (&x, y) in row.iter().zip(out.iter_mut()) {
            let e = exp_f32((x - max) * beta);
            *y = e;
            sum += e;
        }
        for y in out.iter_mut() {
            *y /= sum;
        }
    }
}

/// `ln 2` in 94 fractional bits.
const LN_2_Q94: i128 = 0x2c5c_85fd_f473_de6a_f278_ece6;

/// `e^x` for `f32`, without `std` and without `f64` (whose soft-float code
/// would be 3 KB of a Cortex-M4 firmware): `2^k * e^r` with `k` the nearest
/// integer to `x / ln 2`, `r` exact to 2^-61 in fixed point (`x` is exact in
/// 94 fractional bits, `ln 2` to 2^-94), the series for `e^r` in 61
/// fractional bits (`EXP_SERIES`), rounded once to `f32` (to nearest even, subnormals
/// included): the correctly rounded value but within 2^-55 of a rounding
/// boundary.
pub fn exp_f32(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x > 88.8 {
        return f32::INFINITY;
    }
    if x < -104.0 {
        return 0.0;
    }
    if x.abs() < 1.0 / 1_073_741_824.0 {
        // |x| < 2^-30: e^x is within 2^-29 of 1, which it rounds to.
        return 1.0;
    }
    // x = m 2^e exactly, then in 94 fractional bits (e + 94 is in 41..=77).
    let bits = x.to_bits();
    let m = i128::from((bits & 0x7f_ffff) | 1 << 23);
    let e = ((bits >> 23) & 0xff) as i32 - 150;
    let fixed = m << (e + 94) as u32;
    let fixed = if bits >> 31 != 0 { -fixed } else { fixed };
    // k need only be near x / ln 2: the series converges for |r| < 0.7.
    let k = (x * core::f32::consts::LOG2_E + 0.5f32.copysign(x)) as i32;
    let r = ((fixed - i128::from(k) * LN_2_Q94) >> 33) as i64;
    // Horner's rule over the series' coefficients: one multiply a term, no
    // division (the sum stays below 2.1 * 2^61 for |r| < 0.7).
    let mut sum = 0i64;
    for &c in EXP_SERIES.iter().rev() {
        sum = c + ((i128::from(sum) * i128::from(r)) >> 61) as i64;
    }
    f32_from_scaled(sum as u64, k - 61)
}

/// `2^61 / n!` for n = 0..=20, truncated: the series for `e^r` in 61
/// fractional bits (the first term left out, 0.7^21 / 21!, is below 2^-76).
// Evaluated by the compiler: an index out of range would fail the build, not
// panic at run time.
#[allow(clippy::indexing_slicing)]
const EXP_SERIES: [i64; 21] = {
    let mut c = [0i64; 21];
    let (mut n, mut factorial) = (0, 1i64);
    while n < 21 {
        if n > 0 {
            factorial *= n as i64;
        }
        c[n] = (1i64 << 61) / factorial;
        n += 1;
    }
    c
};

/// `v * 2^s` (`v > 0`) rounded to the nearest `f32`, ties to even.
fn f32_from_scaled(v: u64, s: i32) -> f32 {
    let length = 64 - v.leading_zeros() as i32;
    let biased = s + length - 1 + 127;
    if biased >= 255 {
        return f32::INFINITY;
    }
    // Keep 24 bits (a normal number) or what lies above 2^-149 (subnormal).
    let drop = if biased >= 1 { length - 24 } else { -149 - s };
    if drop >= 64 {
        return 0.0;
    }
    let (kept, rest) = if drop > 0 {
        (v >> drop, v & ((1u64 << drop) - 1))
    } else {
        (v << -drop, 0)
    };
    let half = if drop > 0 { 1u64 << (drop - 1) } else { 1 };
    let up = drop > 0 && (rest > half || (rest == half && kept & 1 == 1));
    let kept = kept + u64::from(up);
    if biased >= 1 {
        // A mantissa that rounded up to 2^24 carries into the exponent.
        let (mantissa, biased) = if kept >> 24 != 0 {
            (kept >> 1, biased + 1)
        } else {
            (kept, biased)
        };
        if biased >= 255 {
            return f32::INFINITY;
        }
        f32::from_bits((biased as u32) << 23 | (mantissa as u32 & 0x7f_ffff))
    } else {
        // A subnormal that rounded up to 2^23 is the smallest normal: the
        // same bits.
        f32::from_bits(kept as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `f64` computation `exp_f32` replaced (series in `f64`, rounded
    /// once to `f32`), for comparison.
    fn exp_f32_in_f64(x: f32) -> f32 {
        if x.is_nan() {
            return x;
        }
        if x > 88.8 {
            return f32::INFINITY;
        }
        if x < -104.0 {
            return 0.0;
        }
        let x = f64::from(x);
        const LN_2: f64 = core::f64::consts::LN_2;
        let k = quant::round_f64(x / LN_2);
        let r = x - k * LN_2;
        let mut term = 1.0f64;
        let mut sum = 1.0f64;
        for n in 1..16 {
            term *= r / f64::from(n);
            sum += term;
        }
        let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
        (sum * scale) as f32
    }

    #[test]
    fn integer_exp_equals_the_f64_one() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut differ = 0;
        let mut check = |x: f32| {
            let (got, want) = (exp_f32(x), exp_f32_in_f64(x));
            if got.to_bits() != want.to_bits() {
                differ += 1;
                assert!(differ < 3, "exp({x:e}): {got:e} against {want:e}");
            }
        };
        for _ in 0..2_000_000 {
            let state = next();
            check(-104.0 + 192.8 * (state >> 40) as f32 / (1u64 << 24) as f32);
            // Every binade, both signs, down to the tiny.
            let tiny = f32::from_bits((state as u32) & 0x42df_ffff);
            check(tiny);
            check(-tiny);
        }
        for x in [
            -104.0f32, -103.9, -87.34, -87.33, -87.0, -1e-30, 1e-30, 88.7, 88.72, 88.73, 88.8,
        ] {
            check(x);
        }
        assert_eq!(differ, 0);
    }

    #[test]
    fn exp_is_accurate() {
        for &x in &[0.0f32, 1.0, -1.0, -10.5, 3.3, -87.0, 20.0] {
            let want = (x as f64).exp() as f32;
            let got = exp_f32(x);
            assert!(
                (got - want).abs() <= want * 1.2e-7,
                "exp({x}) = {got}, want {want}"
            );
        }
        assert_eq!(exp_f32(-200.0), 0.0);
    }

    #[test]
    fn float_rows_sum_to_one() {
        // [0, ln 3] -> [1/4, 3/4].
        let mut out = [0f32; 4];
        softmax_f32(2, 1.0, &[0.0, 3f32.ln(), 5.0, 5.0], &mut out);
        assert!((out[0] - 0.25).abs() < 1e-6 && (out[1] - 0.75).abs() < 1e-6);
        assert_eq!(&out[2..], &[0.5, 0.5]);
    }

    #[test]
    fn int8_equal_inputs_share_the_probability() {
        // Input scale 1/16, beta 1: two equal values -> 1/2 each = 128/256,
        // so 128 - 128 = 0. Four equal values -> 64 - 128 = -64.
        let (m, shift) = quant::preprocess_softmax_scaling(1.0, 1.0 / 16.0, 5);
        let diff_min = -quant::calculate_input_radius(5, shift);
        let mut out = [0i8; 2];
        softmax_i8(2, (m, shift, diff_min), &[7, 7], &mut out);
        assert_eq!(out, [0, 0]);
        let mut out = [0i8; 4];
        softmax_i8(4, (m, shift, diff_min), &[-3; 4], &mut out);
        assert_eq!(out, [-64; 4]);
    }

    #[test]
    fn int8_far_below_the_maximum_is_zero() {
        // Scale 1/16: a difference of -255 is -16 (exp ~ 1e-7): 0 probability
        // (-128); the maximum gets 255/256 or all of it (127 after saturation).
        let (m, shift) = quant::preprocess_softmax_scaling(1.0, 1.0 / 16.0, 5);
        let diff_min = -quant::calculate_input_radius(5, shift);
        let mut out = [0i8; 2];
        softmax_i8(2, (m, shift, diff_min), &[127, -128], &mut out);
        assert_eq!(out, [127, -128]);
    }
}
