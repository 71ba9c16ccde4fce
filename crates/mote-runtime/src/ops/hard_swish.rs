//! HARD_SWISH: `x * relu6(x + 3) / 6`.
//!
//! float32, and int8 as TensorFlow Lite's reference `HardSwish`: in 16-bit
//! fixed point, the input moved to a 2^7 finer scale, a "reluish" factor
//! `relu6(x + 3) / 6` in Q0.15 and the output rescale, each with a 16-bit
//! multiplier (TensorFlow Lite's `DownScaleInt32ToInt16Multiplier`). int16
//! intermediate values wrap as the C++ does.

use super::unary::unary;
use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{quantize_multiplier, rounding_divide_by_pot};

/// int8 params (TensorFlow Lite's `HardSwishParams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct HardSwishQuantized {
    /// The input's zero point.
    pub input_zero_point: i16,
    /// The output's zero point.
    pub output_zero_point: i16,
    /// 16-bit multiplier of `s_in / 128 / (3 / 32768)`.
    pub reluish_multiplier: i16,
    /// Its exponent.
    pub reluish_exponent: i32,
    /// 16-bit multiplier of `s_in / 128 / s_out`.
    pub output_multiplier: i16,
    /// Its exponent (at most 0).
    pub output_exponent: i32,
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum HardSwishParams {
    /// float32.
    Float32,
    /// int8.
    Int8(HardSwishQuantized),
}

/// TensorFlow Lite's `DownScaleInt32ToInt16Multiplier`.
fn to_16_bits(multiplier: i32) -> i16 {
    if multiplier >= i32::MAX - (1 << 15) {
        return i16::MAX;
    }
    (multiplier.wrapping_add(1 << 15) >> 16) as i16
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<HardSwishParams, Error> {
    let u = unary(ctx)?;
    match u.dtype {
        TensorType::Float32 => Ok(HardSwishParams::Float32),
        TensorType::Int8 => {
            super::arithmetic::check_scale(ctx, u.input.scale)?;
            super::arithmetic::check_scale(ctx, u.output.scale)?;
            // In `float`, then widened, as TensorFlow Lite Micro's `HardSwishPrepare`.
            let hires = (1.0f32 / 128.0) * u.input.scale;
            let (om, oe) = quantize_multiplier(f64::from(hires / u.output.scale));
            if oe > 0 {
                return Err(ctx.invalid("HARD_SWISH needs an output scale above the input's / 128"));
            }
            let (rm, re) = quantize_multiplier(f64::from(hires / (3.0 / 32768.0)));
            let zero =
                |z: i32| i16::try_from(z).map_err(|_| ctx.invalid("zero point outside int16"));
            Ok(HardSwishParams::Int8(HardSwishQuantized {
                input_zero_point: zero(u.input.zero_point)?,
                output_zero_point: zero(u.output.zero_point)?,
                reluish_multiplier: to_16_bits(rm),
                reluish_exponent: re,
                output_multiplier: to_16_bits(om),
                output_exponent: oe,
            }))
        }
        other => Err(ctx.unsupported_type(other)),
    }
}

/// The float32 kernel.
pub fn hard_swish_f32(x: f32) -> f32 {
    // `std::min(6, std::max(0, x + 3))`: a NaN becomes 0 there, as here.
    let shifted = x + 3.0;
    let low = if 0.0 < shifted { shifted } else { 0.0 };
    let relu6 = if low < 6.0 { low } else { 6.0 };
    x * relu6 / 6.0
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul` on int16.
fn high_mul_rounding(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    let ab = i32::from(a) * i32::from(b);
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// TensorFlow Lite's `SaturatingDoublingHighMul` on int16 (truncating).
fn high_mul_truncating(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    ((i32::from(a) * i32::from(b)) / (1 << 15)) as i16
}

/// TensorFlow Lite's `SaturatingLeftShift` on int16.
fn saturating_left_shift(x: i16, amount: i32) -> i16 {
    let v = i64::from(x) << amount.clamp(0, 40);
    v.clamp(i16::MIN.into(), i16::MAX.into()) as i16
}

/// The int8 kernel.
pub fn hard_swish_i8(p: &HardSwishQuantized, x: i8) -> i8 {
    let input = i16::from(x).wrapping_sub(p.input_zero_point);
    let hires = input.wrapping_mul(1 << 7);
    let preshift = high_mul_rounding(hires, p.output_multiplier);
    let mut reluish = hires;
    if p.reluish_exponent > 0 {
        reluish = saturating_left_shift(reluish, p.reluish_exponent - 1);
    }
    reluish = high_mul_rounding(reluish, p.reluish_multiplier);
    if p.reluish_exponent > 0 {
        reluish = saturating_left_shift(reluish, 1);
    }
    if p.reluish_exponent < 0 {
        reluish = rounding_divide_by_pot(reluish.into(), -p.reluish_exponent) as i16;
    }
    // (reluish + 2^15) >> 1, in int (the C++ promotes), back to int16.
    let reluish = ((i32::from(reluish) + (1 << 15)) >> 1) as i16;
    let out = high_mul_truncating(reluish, preshift);
    let out = rounding_divide_by_pot(out.into(), -p.output_exponent) as i16;
    let out = out.wrapping_add(p.output_zero_point);
    out.clamp(i8::MIN.into(), i8::MAX.into()) as i8
}

/// Runs the operator.
pub fn eval(params: &HardSwishParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match params {
        HardSwishParams::Float32 => map(input, output, hard_swish_f32),
        HardSwishParams::Int8(p) => map(input, output, |x: i8| hard_swish_i8(p, x)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float() {
        // -4 -> 0; -1 -> -1 * 2 / 6 = -1/3; 1 -> 4 / 6; 5 -> 5
        assert_eq!(hard_swish_f32(-4.0), 0.0);
        assert_eq!(hard_swish_f32(1.0), 4.0 / 6.0);
        assert_eq!(hard_swish_f32(5.0), 5.0);
        assert_eq!(to_16_bits(1 << 30), 1 << 14);
    }
}
