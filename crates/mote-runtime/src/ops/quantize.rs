//! QUANTIZE: float32 to int8/int16 (`zp + round(x / s)`, divided in `float`,
//! clamped), or requantization between integer types (`zp_out +
//! MultiplyByQuantizedMultiplier(x - zp_in, s_in / s_out)`, clamped).
//!
//! The type pairs are TensorFlow Lite Micro's: float32 -> int8, int16;
//! int8 -> int8, uint8, int16, int32; uint8 -> int8; int16 -> int8, int16,
//! int32; int32 -> int8, int16. The output is quantized per tensor.

use super::arithmetic::check_scale;
use super::values::{map, Value};
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier, round_f32};

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct QuantizeParams {
    /// The input's type.
    pub from: TensorType,
    /// The output's type.
    pub to: TensorType,
    /// The output's scale (float input).
    pub scale: f32,
    /// The input's zero point (integer input).
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Multiplier and shift of `s_in / s_out` (integer input).
    pub multiplier: (i32, i32),
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<QuantizeParams, Error> {
    use TensorType::*;
    let (input, output) = (ctx.input(0)?, ctx.output(0)?);
    let (from, to) = (input.dtype(), output.dtype());
    let supported = matches!(
        (from, to),
        (Float32, Int8 | Int16)
            | (Int8, Int8 | UInt8 | Int16 | Int32)
            | (UInt8, Int8)
            | (Int16, Int8 | Int16 | Int32)
            | (Int32, Int8 | Int16)
    );
    if !supported {
        let known_input = matches!(from, Float32 | Int8 | UInt8 | Int16 | Int32);
        return Err(ctx.unsupported_type(if known_input { to } else { from }));
    }
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("output size differs from the input's"));
    }
    if output.quantization().map_or(0, |q| q.scale_count()) != 1 {
        return Err(ctx.invalid("the output must be quantized per tensor"));
    }
    let q = |t| {
        super::quantization::per_tensor(t).ok_or(ctx.invalid("zero point does not fit 32 bits"))
    };
    let (qi, qo) = (q(&input)?, q(&output)?);
    check_scale(ctx, qo.scale)?;
    let multiplier = if from == Float32 {
        (0, 0)
    } else {
        check_scale(ctx, qi.scale)?;
        quantize_multiplier(f64::from(qi.scale) / f64::from(qo.scale))
    };
    Ok(QuantizeParams {
        from,
        to,
        scale: qo.scale,
        input_zero_point: qi.zero_point,
        output_zero_point: qo.zero_point,
        multiplier,
    })
}

/// A value clamped into an integer output type.
trait Saturate: Value {
    fn saturate(x: i32) -> Self;
}

macro_rules! saturate {
    ($($t:ty),*) => {$(
        impl Saturate for $t {
            #[inline]
            fn saturate(x: i32) -> Self {
                x.max(<$t>::MIN as i32).min(<$t>::MAX as i32) as $t
            }
        }
    )*};
}
saturate!(i8, u8, i16, i32);

fn quantize_to<U: Saturate>(p: &QuantizeParams, input: &[u8], output: &mut [u8]) {
    let requantize = |x: i32| {
        let (m, s) = p.multiplier;
        let y = multiply_by_quantized_multiplier(x.wrapping_sub(p.input_zero_point), m, s);
        U::saturate(y.wrapping_add(p.output_zero_point))
    };
    match p.from {
        TensorType::Float32 => map(input, output, |x: f32| {
            // `static_cast<int32_t>(TfLiteRound(x / scale)) + zero_point`;
            // out-of-range floats saturate here (undefined in C++).
            let q = round_f32(x / p.scale) as i32;
            U::saturate(q.saturating_add(p.output_zero_point))
        }),
        TensorType::Int8 => map(input, output, |x: i8| requantize(x.into())),
        TensorType::UInt8 => map(input, output, |x: u8| requantize(x.into())),
        TensorType::Int16 => map(input, output, |x: i16| requantize(x.into())),
        _ => map(input, output, |x: i32| requantize(x)),
    }
}

/// Runs the operator.
pub fn eval(params: &QuantizeParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    match params.to {
        TensorType::Int8 => quantize_to::<i8>(params, input, output),
        TensorType::UInt8 => quantize_to::<u8>(params, input, output),
        TensorType::Int16 => quantize_to::<i16>(params, input, output),
        _ => quantize_to::<i32>(params, input, output),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::values::{bytes_of, values_of};
    use super::*;

    #[test]
    fn float_to_int8_rounds_half_away_and_clamps() {
        // s = 0.5, zp = 3: 1.25 / 0.5 = 2.5 -> 3 -> 6; -0.25 -> -0.5 -> -1 -> 2;
        // 100 -> 200 + 3 -> 127
        let p = QuantizeParams {
            from: TensorType::Float32,
            to: TensorType::Int8,
            scale: 0.5,
            input_zero_point: 0,
            output_zero_point: 3,
            multiplier: (0, 0),
        };
        let mut out = vec![0u8; 3];
        quantize_to::<i8>(&p, &bytes_of(&[1.25f32, -0.25, 100.0]), &mut out);
        assert_eq!(values_of::<i8>(&out), [6, 2, 127]);
    }

    #[test]
    fn int16_to_int8_requantizes() {
        // s_in / s_out = 1/256 = 0.5 * 2^-7: (2^30, -7); 1000 / 256 = 3.9 -> 4
        let p = QuantizeParams {
            from: TensorType::Int16,
            to: TensorType::Int8,
            scale: 1.0,
            input_zero_point: 0,
            output_zero_point: 0,
            multiplier: (1 << 30, -7),
        };
        let mut out = vec![0u8; 2];
        quantize_to::<i8>(&p, &bytes_of(&[1000i16, -32768]), &mut out);
        assert_eq!(values_of::<i8>(&out), [4, -128]);
    }
}
