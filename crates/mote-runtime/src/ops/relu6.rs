//! RELU6: `clamp(x, 0, 6)`. float32, and int8/int16 as TensorFlow Lite
//! Micro's `Relu6Quantized`: no requantization (the output is taken to share
//! the input's quantization), clamp to `[zp_in, zp_in + round(6 / s_in)]`.

use super::unary::unary;
use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum Relu6Params {
    /// float32.
    Float32,
    /// int8: the quantized 0 and 6.
    Int8(i8, i8),
    /// int16: the quantized 0 and 6.
    Int16(i16, i16),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<Relu6Params, Error> {
    let u = unary(ctx)?;
    let (zero, scale) = (u.input.zero_point, u.input.scale);
    // TensorFlow Lite Micro's `FloatToQuantizedType`: round(6 / s) + zp,
    // clamped to the type (then checked to lie in it, which it always does).
    let six = |lo: i32, hi: i32| {
        let q = crate::quant::round_f64(f64::from(6.0f32 / scale));
        let q = if q.is_nan() {
            0
        } else {
            q.clamp(-2e9, 2e9) as i32
        };
        q.wrapping_add(zero).max(lo).min(hi)
    };
    match u.dtype {
        TensorType::Float32 => Ok(Relu6Params::Float32),
        TensorType::Int8 => {
            let zero = i8::try_from(zero).map_err(|_| ctx.invalid("zero point outside int8"))?;
            Ok(Relu6Params::Int8(zero, six(-128, 127) as i8))
        }
        TensorType::Int16 => {
            let zero = i16::try_from(zero).map_err(|_| ctx.invalid("zero point outside int16"))?;
            Ok(Relu6Params::Int16(zero, six(-32768, 32767) as i16))
        }
        other => Err(ctx.unsupported_type(other)),
    }
}

/// `val > upper ? upper : val < lower ? lower : val`, as TensorFlow Lite Micro.
fn clamp<T: PartialOrd>(x: T, lower: T, upper: T) -> T {
    if x > upper {
        upper
    } else if x < lower {
        lower
    } else {
        x
    }
}

/// Runs the operator.
pub fn eval(params: &Relu6Params, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match *params {
        Relu6Params::Float32 => map(input, output, |x: f32| clamp(x, 0.0, 6.0)),
        Relu6Params::Int8(lo, hi) => map(input, output, |x: i8| clamp(x, lo, hi)),
        Relu6Params::Int16(lo, hi) => map(input, output, |x: i16| clamp(x, lo, hi)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps() {
        // scale 0.1, zp -20: six = 60 - 20 = 40
        assert_eq!(
            (clamp(-30, -20, 40), clamp(50, -20, 40), clamp(7, -20, 40)),
            (-20, 40, 7)
        );
        assert_eq!(clamp(7.5f32, 0.0, 6.0), 6.0);
    }
}
