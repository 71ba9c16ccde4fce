//! TANH: `tanh(x)`.
//!
//! float32; int8 as TensorFlow Lite Micro: the input rescaled to Q4.27
//! (inputs beyond the radius saturate), gemmlowp's fixed-point tanh, rounded
//! to 1/128 steps with no output zero point (TensorFlow Lite Micro takes the
//! output as scale 1/128, zero point 0 without checking; so does mote).
//! int16 (a lookup table in TensorFlow Lite Micro) is not in mote yet.

use super::logistic::Q4Input;
use super::unary::unary;
use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum TanhParams {
    /// float32.
    Float32,
    /// int8.
    Int8(Q4Input),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<TanhParams, Error> {
    let u = unary(ctx)?;
    match u.dtype {
        TensorType::Float32 => Ok(TanhParams::Float32),
        TensorType::Int8 => {
            super::arithmetic::check_scale(ctx, u.input.scale)?;
            Ok(TanhParams::Int8(Q4Input {
                zero_point: u.input.zero_point,
                ..Q4Input::new(u.input.scale)
            }))
        }
        other => Err(ctx.unsupported_type(other)),
    }
}

/// The int8 kernel.
pub fn tanh_i8(q: &Q4Input, x: i8) -> i8 {
    match q.rescale(x.into()) {
        Err(high) => {
            if high {
                i8::MAX
            } else {
                i8::MIN
            }
        }
        Ok(v) => {
            let out = crate::quant::rounding_divide_by_pot(crate::quant::tanh(v, 4), 31 - 7);
            out.clamp(-128, 127) as i8
        }
    }
}

/// Runs the operator.
pub fn eval(params: &TanhParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match params {
        TanhParams::Float32 => map(input, output, super::float_math::tanh),
        TanhParams::Int8(q) => map(input, output, |x: i8| tanh_i8(q, x)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8() {
        // scale 1/16: tanh(0) = 0; tanh(16/16 = 1) = 0.7616 * 128 = 97.5 -> 97
        // or 98 by rounding of the fixed point; tanh(-8) -> -1 * 128 -> -128
        let q = Q4Input::new(1.0 / 16.0);
        assert_eq!(tanh_i8(&q, 0), 0);
        assert!((97..=98).contains(&tanh_i8(&q, 16)));
        assert_eq!(tanh_i8(&q, -128), -128);
    }
}
