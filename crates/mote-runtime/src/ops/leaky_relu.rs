//! LEAKY_RELU: `x > 0 ? x : alpha * x` (options field `alpha`).
//!
//! float32, and int8/int16 as TensorFlow Lite Micro's `QuantizeLeakyRelu`:
//! `x - zp_in` requantized by `s_in / s_out` when non-negative and by
//! `s_in * alpha / s_out` when negative (a negative alpha multiplier is
//! applied by magnitude and negated), plus `zp_out`, clamped to the type.
//!
//! The multipliers are computed in `double`, as the `tflite-micro` package
//! (2026-10) does; TensorFlow Lite, and TensorFlow Lite Micro's source of
//! 2026-08, compute them in `float`, which gives a different multiplier for a
//! few scales (four SEANet models differ by one there). mote follows the
//! package, the reference it is tested against.

use super::unary::unary;
use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// Field ids of `LeakyReluOptions`.
mod field {
    pub const ALPHA: u16 = 0;
}

/// int8/int16 params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct LeakyReluQuantized {
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Multiplier and shift of `s_in / s_out`.
    pub identity: (i32, i32),
    /// Multiplier (magnitude) and shift of `s_in * alpha / s_out`.
    pub alpha: (i32, i32),
    /// Whether alpha is negative.
    pub alpha_negative: bool,
    /// The type's range.
    pub range: (i32, i32),
}

impl LeakyReluQuantized {
    /// One element.
    #[inline]
    pub fn apply(&self, x: i32) -> i32 {
        let v = x.wrapping_sub(self.input_zero_point);
        let scaled = if v >= 0 {
            multiply_by_quantized_multiplier(v, self.identity.0, self.identity.1)
        } else {
            let a = multiply_by_quantized_multiplier(v, self.alpha.0, self.alpha.1);
            if self.alpha_negative {
                a.wrapping_neg()
            } else {
                a
            }
        };
        super::arithmetic::clamp_i32(self.output_zero_point.wrapping_add(scaled), self.range)
    }
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum LeakyReluParams {
    /// float32 with alpha.
    Float32(f32),
    /// int8.
    Int8(LeakyReluQuantized),
    /// int16.
    Int16(LeakyReluQuantized),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<LeakyReluParams, Error> {
    let u = unary(ctx)?;
    let alpha = ctx.options().f32(field::ALPHA, 0.0);
    match u.dtype {
        TensorType::Float32 => Ok(LeakyReluParams::Float32(alpha)),
        TensorType::Int8 | TensorType::Int16 => {
            super::arithmetic::check_scale(ctx, u.input.scale)?;
            super::arithmetic::check_scale(ctx, u.output.scale)?;
            let real_alpha =
                f64::from(u.input.scale) * f64::from(alpha) / f64::from(u.output.scale);
            if !real_alpha.is_finite() {
                return Err(ctx.invalid("alpha is not finite"));
            }
            // QuantizeMultiplier(-r) is (-m, s) for QuantizeMultiplier(r) = (m, s).
            let (m, s) = quantize_multiplier(real_alpha.abs());
            let q = LeakyReluQuantized {
                input_zero_point: u.input.zero_point,
                output_zero_point: u.output.zero_point,
                identity: quantize_multiplier(f64::from(u.input.scale) / f64::from(u.output.scale)),
                alpha: (m, s),
                alpha_negative: real_alpha < 0.0,
                range: super::arithmetic::type_range(u.dtype).unwrap_or((0, 0)),
            };
            Ok(if u.dtype == TensorType::Int8 {
                LeakyReluParams::Int8(q)
            } else {
                LeakyReluParams::Int16(q)
            })
        }
        other => Err(ctx.unsupported_type(other)),
    }
}

/// Runs the operator.
pub fn eval(params: &LeakyReluParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match params {
        LeakyReluParams::Float32(alpha) => {
            map(input, output, |x: f32| if x > 0.0 { x } else { x * alpha })
        }
        LeakyReluParams::Int8(q) => map(input, output, |x: i8| q.apply(x.into()) as i8),
        LeakyReluParams::Int16(q) => map(input, output, |x: i16| q.apply(x.into()) as i16),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int16_halves_negatives() {
        // same scales, alpha 0.5: identity (2^30, 1), alpha (2^30, 0)
        // 100 -> 100; -100 -> -50; -3 -> -1.5, which the doubling high multiply
        // rounds to -1 (its nudge for negative products is 1 - 2^30, not -2^30)
        let q = LeakyReluQuantized {
            input_zero_point: 0,
            output_zero_point: 0,
            identity: (1 << 30, 1),
            alpha: (1 << 30, 0),
            alpha_negative: false,
            range: (-32768, 32767),
        };
        assert_eq!((q.apply(100), q.apply(-100), q.apply(-3)), (100, -50, -1));
        let negative = LeakyReluQuantized {
            alpha_negative: true,
            ..q
        };
        assert_eq!(negative.apply(-100), 50);
    }
}
