//! DIV: `output = act(input1 / input2)`, broadcasting up to 5-D.
//!
//! float32, int32 and int8, as TensorFlow Lite Micro. int32 divides as C++
//! does (truncating toward zero); a division by zero or `MIN / -1`, undefined
//! there, gives 0 here. int8 follows TensorFlow Lite's `DivElementwise`: the divisor's reciprocal
//! in fixed point, the dividend shifted to use its headroom, one rescale by
//! `s1 / (s2 * s_out)`. A divisor equal to its zero point is undefined in
//! TensorFlow Lite; mote gives some value without failing.

use super::arithmetic::{
    binary, check_scale, clamp_i32, float_range, int32_range, quantized_range,
};
use super::broadcast::Broadcast;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{
    get_reciprocal, multiply_by_quantized_multiplier_greater_than_one, quantize_multiplier,
    saturating_rounding_doubling_high_mul,
};

/// int8 params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct DivQuantized {
    /// Minus input 1's zero point.
    pub input1_offset: i32,
    /// Minus input 2's zero point.
    pub input2_offset: i32,
    /// The output's zero point.
    pub output_offset: i32,
    /// The multiplier and shift of `s1 / (s2 * s_out)`.
    pub output: (i32, i32),
    /// The fused activation's clamp range.
    pub range: (i32, i32),
}

/// TensorFlow Lite's `CountLeadingSignBits` (`__builtin_clrsb`): the bits
/// below the sign bit that equal it.
fn leading_sign_bits(x: i32) -> i32 {
    (x ^ (x >> 31)).leading_zeros() as i32 - 1
}

/// gemmlowp's `RoundingDivideByPOT` as the `tflite-micro` package computes it
/// when DIV asks for a shift outside `0..=31`, which happens for most small
/// quotients (`total_shift` reaches -40) and is undefined in C++: the mask
/// `(1ll << exponent) - 1` is computed in 64 bits and truncated to 32, and
/// the arithmetic shift uses the exponent modulo 32 (x86's `shl`/`sar`). mote
/// reproduces this so that int8 DIV agrees bit for bit with the reference;
/// inside `0..=31` it is the ordinary rounding shift.
fn rounding_divide_by_pot_unchecked(x: i32, exponent: i32) -> i32 {
    let mask = 1i64.wrapping_shl(exponent as u32).wrapping_sub(1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1).wrapping_add(i32::from(x < 0));
    x.wrapping_shr(exponent as u32)
        .wrapping_add(i32::from(remainder > threshold))
}

impl DivQuantized {
    /// One element.
    #[inline]
    pub fn apply(&self, x: i32, y: i32) -> i32 {
        let mut dividend = self.input1_offset.wrapping_add(x);
        let mut divisor = self.input2_offset.wrapping_add(y);
        if divisor < 0 {
            dividend = dividend.wrapping_neg();
            divisor = divisor.wrapping_neg();
        }
        let (reciprocal, reciprocal_shift) = get_reciprocal(divisor, 31);
        let headroom = leading_sign_bits(dividend);
        let unscaled =
            multiply_by_quantized_multiplier_greater_than_one(dividend, reciprocal, headroom);
        let (m, s) = self.output;
        let total_shift = s.wrapping_sub(reciprocal_shift).wrapping_sub(headroom);
        let result = rounding_divide_by_pot_unchecked(
            saturating_rounding_doubling_high_mul(unscaled, m),
            total_shift.wrapping_neg(),
        );
        clamp_i32(self.output_offset.wrapping_add(result), self.range)
    }
}

/// The kernel and its params, by type.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum DivKernel {
    /// float32 with the activation's clamp range.
    Float32((f32, f32)),
    /// int32 with the activation's clamp range.
    Int32((i32, i32)),
    /// int8, requantized.
    Int8(DivQuantized),
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct DivParams {
    /// The element mapping.
    pub broadcast: Broadcast,
    /// The kernel.
    pub kernel: DivKernel,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<DivParams, Error> {
    let b = binary(ctx, 5, true)?;
    let kernel = match b.dtype {
        TensorType::Float32 => DivKernel::Float32(float_range(b.activation)),
        TensorType::Int32 => DivKernel::Int32(int32_range(b.activation)),
        TensorType::Int8 => {
            let [x, y, out] = b.quant;
            for q in b.quant {
                check_scale(ctx, q.scale)?;
            }
            // In `float`, then widened, as TensorFlow Lite Micro's `CalculateOpDataDiv`.
            let real = f64::from(x.scale / (y.scale * out.scale));
            DivKernel::Int8(DivQuantized {
                input1_offset: x.zero_point.wrapping_neg(),
                input2_offset: y.zero_point.wrapping_neg(),
                output_offset: out.zero_point,
                output: quantize_multiplier(real),
                range: quantized_range(ctx, b.dtype, b.activation, out)?,
            })
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(DivParams {
        broadcast: b.broadcast,
        kernel,
    })
}

/// Runs the operator.
pub fn eval(params: &DivParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let other = ctx.input(1);
    let (input, output) = ctx.io(0, 0);
    div(params, input, other, output);
    Ok(())
}

/// The reference kernel.
pub fn div(params: &DivParams, input1: &[u8], input2: &[u8], output: &mut [u8]) {
    let bc = &params.broadcast;
    match &params.kernel {
        DivKernel::Float32(range) => bc.map(input1, input2, output, |x: f32, y: f32| {
            super::activation::clamp(x / y, *range)
        }),
        DivKernel::Int32(range) => bc.map(input1, input2, output, |x: i32, y: i32| {
            clamp_i32(x.checked_div(y).unwrap_or(0), *range)
        }),
        DivKernel::Int8(q) => bc.map(input1, input2, output, |x: i8, y: i8| {
            q.apply(x.into(), y.into()) as i8
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_bits() {
        // 1 = 0b0...01: 30 copies of the sign bit below it; -1: all 31
        assert_eq!(
            (
                leading_sign_bits(1),
                leading_sign_bits(-1),
                leading_sign_bits(0)
            ),
            (30, 31, 31)
        );
        assert_eq!(leading_sign_bits(i32::MIN), 0);
    }

    #[test]
    fn shifts_past_31_as_the_reference_package() {
        // In range: 7 / 2^1 = 3.5 -> 4; -7 / 2 = -3.5 -> -4
        assert_eq!(
            (
                rounding_divide_by_pot_unchecked(7, 1),
                rounding_divide_by_pot_unchecked(-7, 1)
            ),
            (4, -4)
        );
        // 34: mask all ones, shift by 34 mod 32 = 2: 100 >> 2 = 25, and
        // 100 > threshold -1 adds 1
        assert_eq!(rounding_divide_by_pot_unchecked(100, 34), 26);
    }

    #[test]
    fn int8_element() {
        // All scales 1, zero points 0: real 1 = (2^30, 1).
        // 12 / 4 = 3 and 12 / -4 = -3; 7 / 2 = 3.5 rounds away from zero to 4
        let q = DivQuantized {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            output: (1 << 30, 1),
            range: (-128, 127),
        };
        assert_eq!((q.apply(12, 4), q.apply(12, -4), q.apply(7, 2)), (3, -3, 4));
    }
}
