//! What the binary elementwise ops (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM)
//! share: checking two broadcast inputs against one output, the fused
//! activation ranges, and ADD's and SUB's requantization params.

use super::activation::Activation;
use super::broadcast::Broadcast;
use super::quantization::{per_tensor, PerTensor};
use super::PrepareContext;
use crate::error::Error;
use crate::model::TensorType;
use crate::quant::{calculate_activation_range_quantized, quantize_ratio};

/// Field id of `fused_activation_function` in `AddOptions`, `SubOptions`,
/// `MulOptions` and `DivOptions`.
pub const FUSED_ACTIVATION_FUNCTION: u16 = 0;

/// Two inputs and an output as `prepare` found them.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Binary {
    /// The element mapping.
    pub broadcast: Broadcast,
    /// The common type of all three.
    pub dtype: TensorType,
    /// The inputs' and output's quantization (scale 0 when not quantized).
    pub quant: [PerTensor; 3],
    /// The fused activation's schema code (0 where the op has none).
    pub activation: u8,
}

/// Checks that inputs 0 and 1 and output 0 share one type and broadcast
/// (rank at most `max_rank`), and reads the fused activation when
/// `has_activation`.
pub fn binary(
    ctx: &PrepareContext<'_, '_>,
    max_rank: usize,
    has_activation: bool,
) -> Result<Binary, Error> {
    let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output(0)?);
    let dtype = out.dtype();
    ctx.expect_type(&a, dtype)?;
    ctx.expect_type(&b, dtype)?;
    if a.shape().rank() > max_rank || b.shape().rank() > max_rank {
        return Err(ctx.invalid("input rank above the op's limit"));
    }
    let broadcast = Broadcast::new(&a.shape(), &b.shape(), &out.shape())
        .ok_or(ctx.invalid("output shape is not the inputs' broadcast"))?;
    let q = |t| per_tensor(t).ok_or(ctx.invalid("zero point does not fit 32 bits"));
    let activation = if has_activation {
        let code = ctx.options().u8(FUSED_ACTIVATION_FUNCTION, 0);
        Activation::from_code(code).ok_or(ctx.invalid("unknown fused activation"))?;
        code
    } else {
        0
    };
    Ok(Binary {
        broadcast,
        dtype,
        quant: [q(&a)?, q(&b)?, q(&out)?],
        activation,
    })
}

/// TensorFlow Lite's `CalculateActivationRange` for float: RELU, RELU_N1_TO_1
/// and RELU6 clamp; every other code (none, and TANH and SIGN_BIT, which these
/// ops do not apply) leaves the full range.
pub fn float_range(code: u8) -> (f32, f32) {
    Activation::from_code(code)
        .and_then(Activation::float_range)
        .unwrap_or((f32::MIN, f32::MAX))
}

/// `CalculateActivationRange` for int32.
pub fn int32_range(code: u8) -> (i32, i32) {
    match code {
        1 => (0, i32::MAX),
        2 => (-1, 1),
        3 => (0, 6),
        _ => (i32::MIN, i32::MAX),
    }
}

/// The range of an int8 or int16 type.
pub fn type_range(dtype: TensorType) -> Option<(i32, i32)> {
    match dtype {
        TensorType::Int8 => Some((i8::MIN.into(), i8::MAX.into())),
        TensorType::Int16 => Some((i16::MIN.into(), i16::MAX.into())),
        _ => None,
    }
}

/// The quantized clamp range of an int8/int16 output's fused activation.
pub fn quantized_range(
    ctx: &PrepareContext<'_, '_>,
    dtype: TensorType,
    activation: u8,
    output: PerTensor,
) -> Result<(i32, i32), Error> {
    let (qmin, qmax) = type_range(dtype).ok_or(ctx.unsupported_type(dtype))?;
    calculate_activation_range_quantized(activation, output.scale, output.zero_point, qmin, qmax)
        .ok_or(ctx.invalid("activation range outside 32 bits"))
}

/// Checks that a scale is positive and finite.
pub fn check_scale(ctx: &PrepareContext<'_, '_>, scale: f32) -> Result<(), Error> {
    if scale > 0.0 && scale.is_finite() {
        Ok(())
    } else {
        Err(ctx.invalid("quantized tensors need a positive finite scale"))
    }
}

/// TensorFlow Lite Micro's `CalculateOpDataAdd` multipliers for positive
/// finite scales `s1`, `s2` (inputs) and `so` (output): `None` where one is
/// not below one (`QuantizeMultiplierSmallerThanOneExp` requires it).
///
/// TensorFlow Lite computes the quotients in `double`; each is one rounding
/// of an exact ratio of scales times powers of two, which `quantize_ratio`
/// gives in integers (no soft-float `double` code is linked). With `m =
/// max(s1, s2)`: `s1 / 2m = s1 * 0.5 / m` (at most 1/2), and the output's
/// `2m / (2^shift so) = m * 2^(1 - shift) / so`, below one exactly when `m <
/// so * 2^(shift - 1)` (exact in `f32`, an overflow to infinity included).
/// None of the quotients of such scales is 0 in `f64`.
fn multipliers(s1: f32, s2: f32, so: f32, left_shift: i32) -> Option<[(i32, i32); 3]> {
    let max = s1.max(s2);
    // 2^(1 - left_shift) and 2^(left_shift - 1), exact in f32.
    let down = f32::from_bits(((128 - left_shift) as u32) << 23);
    let up = f32::from_bits(((126 + left_shift) as u32) << 23);
    if max.partial_cmp(&(so * up)) != Some(core::cmp::Ordering::Less) {
        return None;
    }
    Some([
        quantize_ratio(s1, 0.5, max)?,
        quantize_ratio(s2, 0.5, max)?,
        quantize_ratio(max, down, so)?,
    ])
}

/// ADD's and SUB's int8/int16 params (`ArithmeticParams` in TensorFlow Lite):
/// both inputs are shifted left, scaled to a common scale, combined, then
/// scaled to the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct AddSubQuantized {
    /// Minus input 1's zero point.
    pub input1_offset: i32,
    /// Minus input 2's zero point.
    pub input2_offset: i32,
    /// The output's zero point.
    pub output_offset: i32,
    /// 20 for int8, 15 for int16.
    pub left_shift: i32,
    /// Input 1's multiplier and (non-positive) shift.
    pub input1: (i32, i32),
    /// Input 2's multiplier and shift.
    pub input2: (i32, i32),
    /// The output's multiplier and shift.
    pub output: (i32, i32),
    /// The fused activation's clamp range.
    pub range: (i32, i32),
}

impl AddSubQuantized {
    /// The params of an int8/int16 ADD or SUB, as TensorFlow Lite Micro's
    /// `CalculateOpDataAdd` (see [`multipliers`]).
    pub fn new(ctx: &PrepareContext<'_, '_>, binary: &Binary) -> Result<Self, Error> {
        let [a, b, out] = binary.quant;
        for q in [a, b, out] {
            check_scale(ctx, q.scale)?;
        }
        let left_shift = if binary.dtype == TensorType::Int16 {
            15
        } else {
            20
        };
        let [input1, input2, output] = multipliers(a.scale, b.scale, out.scale, left_shift)
            .ok_or(ctx.invalid("quantization scales give a multiplier outside (0, 1)"))?;
        Ok(AddSubQuantized {
            input1_offset: a.zero_point.wrapping_neg(),
            input2_offset: b.zero_point.wrapping_neg(),
            output_offset: out.zero_point,
            left_shift,
            input1,
            input2,
            output,
            range: quantized_range(ctx, binary.dtype, binary.activation, out)?,
        })
    }

    /// Input `x` with `offset` and `(multiplier, shift)`, shifted and scaled.
    #[inline]
    fn scale(&self, x: i32, offset: i32, (multiplier, shift): (i32, i32)) -> i32 {
        let shifted = offset.wrapping_add(x).wrapping_mul(1 << self.left_shift);
        crate::quant::multiply_by_quantized_multiplier_smaller_than_one_exp(
            shifted, multiplier, shift,
        )
    }

    /// One element: `combine(scaled x, scaled y)` scaled to the output,
    /// offset and clamped.
    #[inline]
    pub fn apply(&self, x: i32, y: i32, combine: impl Fn(i32, i32) -> i32) -> i32 {
        let raw = combine(
            self.scale(x, self.input1_offset, self.input1),
            self.scale(y, self.input2_offset, self.input2),
        );
        let (multiplier, shift) = self.output;
        let out = crate::quant::multiply_by_quantized_multiplier_smaller_than_one_exp(
            raw, multiplier, shift,
        )
        .wrapping_add(self.output_offset);
        clamp_i32(out, self.range)
    }
}

/// `min(max, max(min, x))` as TensorFlow Lite clamps (no panic if `min > max`).
#[inline]
pub fn clamp_i32(x: i32, (min, max): (i32, i32)) -> i32 {
    x.max(min).min(max)
}

#[cfg(test)]
mod tests {
    use super::multipliers;
    use crate::quant::quantize_multiplier;

    /// TensorFlow Lite Micro's `double` computation.
    fn in_f64(s1: f32, s2: f32, so: f32, left_shift: i32) -> Option<[(i32, i32); 3]> {
        let twice = 2.0 * f64::from(s1.max(s2));
        let reals = [
            f64::from(s1) / twice,
            f64::from(s2) / twice,
            twice / (f64::from(1i32 << left_shift) * f64::from(so)),
        ];
        reals
            .iter()
            .all(|&r| r > 0.0 && r < 1.0)
            .then(|| reals.map(quantize_multiplier))
    }

    #[test]
    fn multipliers_equal_the_f64_computation() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut scale = || {
            let state = next();
            // Any positive finite f32, most often near the usual scales.
            let bits = if state.is_multiple_of(4) {
                (state >> 8) as u32 & 0x7f7f_ffff
            } else {
                0x3a00_0000 + ((state >> 8) as u32 % 0x0800_0000)
            };
            f32::from_bits(bits.max(1))
        };
        let mut some = 0;
        for i in 0..300_000 {
            let (s1, s2, so) = (scale(), scale(), scale());
            let shift = if i % 2 == 0 { 20 } else { 15 };
            let want = in_f64(s1, s2, so, shift);
            some += usize::from(want.is_some());
            assert_eq!(
                multipliers(s1, s2, so, shift),
                want,
                "{s1:e} {s2:e} {so:e} {shift}"
            );
        }
        // Edges of the output's bound: m = so 2^(shift - 1), and just below.
        for so in [1e-3f32, 0.5, 3.0e-39, 1.0e30] {
            let edge = so * 524_288.0;
            for m in [edge, f32::from_bits(edge.to_bits() - 1)] {
                assert_eq!(multipliers(m, m / 3.0, so, 20), in_f64(m, m / 3.0, so, 20));
            }
        }
        assert!(some > 1000, "{some}");
    }
}
