//! RELU: `max(x, 0)`. float32, and int8/int16 as TensorFlow Lite Micro's
//! `ReluQuantized`: requantize `x - zp_in` by `s_in / s_out` (computed in
//! `float`), add `zp_out`, clamp to `[max(qmin, zp_out), qmax]`; int16 needs
//! zero points 0.

use super::arithmetic::{check_scale, clamp_i32, type_range};
use super::unary::unary;
use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// A quantized requantize-and-clamp, as RELU and LEAKY_RELU's positive side use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Requantize {
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Multiplier and shift of `s_in / s_out`.
    pub multiplier: (i32, i32),
    /// The clamp range.
    pub range: (i32, i32),
}

impl Requantize {
    /// One element.
    #[inline]
    pub fn apply(&self, x: i32) -> i32 {
        let (m, s) = self.multiplier;
        let y = self
            .output_zero_point
            .wrapping_add(multiply_by_quantized_multiplier(
                x.wrapping_sub(self.input_zero_point),
                m,
                s,
            ));
        clamp_i32(y, self.range)
    }
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum ReluParams {
    /// float32.
    Float32,
    /// int8.
    Int8(Requantize),
    /// int16.
    Int16(Requantize),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<ReluParams, Error> {
    let u = unary(ctx)?;
    match u.dtype {
        TensorType::Float32 => Ok(ReluParams::Float32),
        TensorType::Int8 | TensorType::Int16 => {
            check_scale(ctx, u.input.scale)?;
            check_scale(ctx, u.output.scale)?;
            if u.dtype == TensorType::Int16 && (u.input.zero_point, u.output.zero_point) != (0, 0) {
                return Err(ctx.invalid("int16 RELU needs zero points 0"));
            }
            let (qmin, qmax) = type_range(u.dtype).unwrap_or((0, 0));
            let r = Requantize {
                input_zero_point: u.input.zero_point,
                output_zero_point: u.output.zero_point,
                multiplier: quantize_multiplier(f64::from(u.input.scale / u.output.scale)),
                range: (qmin.max(u.output.zero_point), qmax),
            };
            Ok(if u.dtype == TensorType::Int8 {
                ReluParams::Int8(r)
            } else {
                ReluParams::Int16(r)
            })
        }
        other => Err(ctx.unsupported_type(other)),
    }
}

/// Runs the operator.
pub fn eval(params: &ReluParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match params {
        ReluParams::Float32 => map(input, output, |x: f32| if x < 0.0 { 0.0 } else { x }),
        ReluParams::Int8(r) => map(input, output, |x: i8| r.apply(x.into()) as i8),
        ReluParams::Int16(r) => map(input, output, |x: i16| r.apply(x.into()) as i16),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_requantizes_and_clamps_at_the_zero_point() {
        // s_in / s_out = 0.5 = (2^30, 0); zp_in 10, zp_out -5:
        // x = 30 -> (30 - 10) / 2 - 5 = 5; x = 0 -> -5 - 5 = -10 -> clamp -5
        let r = Requantize {
            input_zero_point: 10,
            output_zero_point: -5,
            multiplier: (1 << 30, 0),
            range: (-5, 127),
        };
        assert_eq!((r.apply(30), r.apply(0)), (5, -5));
    }
}
