//! LOGISTIC: `1 / (1 + e^-x)`.
//!
//! float32 as TensorFlow Lite's reference: 1 above 16.619047, `e^x` below -9.
//! int8 as TensorFlow Lite Micro: the input rescaled to Q4.27 (inputs beyond
//! the radius saturate), gemmlowp's fixed-point logistic, rounded to 1/256
//! steps; the output must have zero point -128 (its scale is taken as 1/256).
//! int16 (a lookup table in TensorFlow Lite Micro) is not in mote yet.

use super::float_math::exp;
use super::unary::unary;
use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{calculate_input_radius, frexp, multiply_by_quantized_multiplier, round_f64};

/// The input side of the int8 LOGISTIC and TANH: `x - zp` rescaled to Q4.27.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Q4Input {
    /// The input's zero point.
    pub zero_point: i32,
    /// Inputs at or beyond this distance from the zero point saturate.
    pub radius: i32,
    /// Multiplier and left shift of `s_in * 2^27`.
    pub multiplier: (i32, i32),
}

impl Q4Input {
    /// As TensorFlow Lite Micro's `CalculateArithmeticOpData`: `frexp` of
    /// `s_in * 2^27`, the fraction rounded to 31 bits.
    pub fn new(scale: f32) -> Q4Input {
        let (fraction, shift) = frexp(f64::from(scale) * f64::from(1u32 << 27));
        let multiplier = round_f64(fraction * 2_147_483_648.0).min(2_147_483_647.0) as i32;
        Q4Input {
            zero_point: 0,
            radius: calculate_input_radius(4, shift),
            multiplier: (multiplier, shift),
        }
    }

    /// `Some(x in Q4.27)`, or `Err(true)`/`Err(false)` for inputs that saturate
    /// high/low.
    #[inline]
    pub fn rescale(&self, x: i32) -> Result<i32, bool> {
        let v = x.wrapping_sub(self.zero_point);
        if v <= self.radius.wrapping_neg() {
            Err(false)
        } else if v >= self.radius {
            Err(true)
        } else {
            Ok(multiply_by_quantized_multiplier(
                v,
                self.multiplier.0,
                self.multiplier.1,
            ))
        }
    }
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum LogisticParams {
    /// float32.
    Float32,
    /// int8.
    Int8(Q4Input),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<LogisticParams, Error> {
    let u = unary(ctx)?;
    match u.dtype {
        TensorType::Float32 => Ok(LogisticParams::Float32),
        TensorType::Int8 => {
            super::arithmetic::check_scale(ctx, u.input.scale)?;
            if u.output.zero_point != -128 {
                return Err(ctx.invalid("int8 LOGISTIC needs output zero point -128"));
            }
            Ok(LogisticParams::Int8(Q4Input {
                zero_point: u.input.zero_point,
                ..Q4Input::new(u.input.scale)
            }))
        }
        other => Err(ctx.unsupported_type(other)),
    }
}

/// The float32 kernel.
pub fn logistic_f32(x: f32) -> f32 {
    if x > 16.619_047 {
        1.0
    } else if x < -9.0 {
        exp(x)
    } else {
        1.0 / (1.0 + exp(-x))
    }
}

/// The int8 kernel.
pub fn logistic_i8(q: &Q4Input, x: i8) -> i8 {
    match q.rescale(x.into()) {
        Err(high) => {
            if high {
                i8::MAX
            } else {
                i8::MIN
            }
        }
        Ok(v) => {
            let out = crate::quant::rounding_divide_by_pot(crate::quant::logistic(v, 4), 31 - 8);
            out.wrapping_sub(128).clamp(-128, 127) as i8
        }
    }
}

/// Runs the operator.
pub fn eval(params: &LogisticParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match params {
        LogisticParams::Float32 => map(input, output, logistic_f32),
        LogisticParams::Int8(q) => map(input, output, |x: i8| logistic_i8(q, x)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_and_int8() {
        // logistic(0) = 0.5; int8 with scale 1/16: 0 -> 0.5 * 256 - 128 = 0
        assert_eq!(logistic_f32(0.0), 0.5);
        assert_eq!(logistic_f32(20.0), 1.0);
        let q = Q4Input::new(1.0 / 16.0);
        assert_eq!(logistic_i8(&q, 0), 0);
        // x = 127 / 16 = 7.94: logistic = 0.99964 -> 255.9 - 128 -> 127
        assert_eq!(logistic_i8(&q, 127), 127);
        // x = -128 / 16 = -8: logistic = 0.000335 * 256 = 0.086 -> -128
        assert_eq!(logistic_i8(&q, -128), -128);
    }
}
