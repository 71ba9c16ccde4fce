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
            let (input_multiplier, input_left_shift) = quant::preprocess_softmax_scaling(
                f64::from(beta),
                f64::from(input_scale),
                SCALED_DIFF_INTEGER_BITS,
            );
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

/// `e^x` for `f32`, without `std`: `2^k * e^r` with `|r| <= ln(2)/2`, the
/// series for `e^r` in `f64` to 1e-17, rounded once to `f32`.
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
    // 2^k as a double (k in [-151, 129]): build it from its exponent bits.
    let k = k as i64;
    let scale = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    let value = if k < -1000 {
        0.0
    } else if k > 1000 {
        f64::INFINITY
    } else {
        sum * scale(k)
    };
    value as f32
}

#[cfg(test)]
mod tests {
    use super::*;

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
