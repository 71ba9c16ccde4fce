//! MUL: `output = act(input1 * input2)`, broadcasting up to 6-D.
//!
//! As TensorFlow Lite Micro: float32, int32, int8 and int16 (int16 with zero
//! points 0). Quantized: `out = zp_out + MultiplyByQuantizedMultiplier((x -
//! zp1) * (y - zp2), s1 * s2 / s_out)`, clamped.

use super::arithmetic::{
    binary, check_scale, clamp_i32, float_range, int32_range, quantized_range,
};
use super::broadcast::Broadcast;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// int8/int16 params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct MulQuantized {
    /// Minus input 1's zero point.
    pub input1_offset: i32,
    /// Minus input 2's zero point.
    pub input2_offset: i32,
    /// The output's zero point.
    pub output_offset: i32,
    /// The multiplier and shift of `s1 * s2 / s_out`.
    pub output: (i32, i32),
    /// The fused activation's clamp range.
    pub range: (i32, i32),
}

impl MulQuantized {
    /// One element.
    #[inline]
    pub fn apply(&self, x: i32, y: i32) -> i32 {
        let product = self
            .input1_offset
            .wrapping_add(x)
            .wrapping_mul(self.input2_offset.wrapping_add(y));
        let (m, s) = self.output;
        clamp_i32(
            self.output_offset
                .wrapping_add(multiply_by_quantized_multiplier(product, m, s)),
            self.range,
        )
    }
}

/// The kernel and its params, by type.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum MulKernel {
    /// float32 with the activation's clamp range.
    Float32((f32, f32)),
    /// int32 with the activation's clamp range.
    Int32((i32, i32)),
    /// int8, requantized.
    Int8(MulQuantized),
    /// int16, requantized.
    Int16(MulQuantized),
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct MulParams {
    /// The element mapping.
    pub broadcast: Broadcast,
    /// The kernel.
    pub kernel: MulKernel,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<MulParams, Error> {
    let b = binary(ctx, 6, true)?;
    let kernel = match b.dtype {
        TensorType::Float32 => MulKernel::Float32(float_range(b.activation)),
        TensorType::Int32 => MulKernel::Int32(int32_range(b.activation)),
        TensorType::Int8 | TensorType::Int16 => {
            let [x, y, out] = b.quant;
            for q in b.quant {
                check_scale(ctx, q.scale)?;
            }
            if b.dtype == TensorType::Int16
                && (x.zero_point, y.zero_point, out.zero_point) != (0, 0, 0)
            {
                return Err(ctx.invalid("int16 MUL needs zero points 0"));
            }
            let real = f64::from(x.scale) * f64::from(y.scale) / f64::from(out.scale);
            let q = MulQuantized {
                input1_offset: x.zero_point.wrapping_neg(),
                input2_offset: y.zero_point.wrapping_neg(),
                output_offset: out.zero_point,
                output: quantize_multiplier(real),
                range: quantized_range(ctx, b.dtype, b.activation, out)?,
            };
            if b.dtype == TensorType::Int8 {
                MulKernel::Int8(q)
            } else {
                MulKernel::Int16(q)
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(MulParams {
        broadcast: b.broadcast,
        kernel,
    })
}

/// Runs the operator.
pub fn eval(params: &MulParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let other = ctx.input(1);
    let (input, output) = ctx.io(0, 0);
    mul(params, input, other, output);
    Ok(())
}

/// The reference kernel.
pub fn mul(params: &MulParams, input1: &[u8], input2: &[u8], output: &mut [u8]) {
    let bc = &params.broadcast;
    match &params.kernel {
        MulKernel::Float32(range) => bc.map(input1, input2, output, |x: f32, y: f32| {
            super::activation::clamp(x * y, *range)
        }),
        MulKernel::Int32(range) => bc.map(input1, input2, output, |x: i32, y: i32| {
            clamp_i32(x.wrapping_mul(y), *range)
        }),
        MulKernel::Int8(q) => bc.map(input1, input2, output, |x: i8, y: i8| {
            q.apply(x.into(), y.into()) as i8
        }),
        MulKernel::Int16(q) => bc.map(input1, input2, output, |x: i16, y: i16| {
            q.apply(x.into(), y.into()) as i16
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_element() {
        // scales 0.5, 0.5 -> 0.25: real 1 = 0.5 * 2^1, i.e. (2^30, 1).
        // (10 - 2) * (6 - 0) = 48; 48 * 2^30 * 2^1 / 2^31 = 48; + zp 1 = 49
        let q = MulQuantized {
            input1_offset: -2,
            input2_offset: 0,
            output_offset: 1,
            output: (1 << 30, 1),
            range: (-128, 127),
        };
        assert_eq!(q.apply(10, 6), 49);
        // 127 * 127 saturates at 127
        assert_eq!(q.apply(127, 127), 127);
    }
}
