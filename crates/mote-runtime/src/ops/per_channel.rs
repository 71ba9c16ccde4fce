//! Per-channel requantization params of the convolution-like int8 ops
//! (TensorFlow Lite's `PopulateConvolutionQuantizationParams`), kept in the
//! arena's persistent tail.

use super::{EvalContext, Persistent, PrepareContext};
use crate::arena::Plain;
use crate::error::Error;
use crate::model::Tensor;
use crate::quant;

/// Where an op's per-channel multipliers and shifts live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct ChannelParams {
    /// `count` multipliers, then `count` shifts (TensorFlow Lite's
    /// convention: positive shifts go left).
    data: Persistent,
    /// Output channels, or 1 when one scale serves them all.
    count: usize,
}

impl ChannelParams {
    /// Rebuilds params from their fields (for code `mote-codegen` generates).
    #[doc(hidden)]
    pub const fn from_literal(data: Persistent, count: usize) -> Self {
        ChannelParams { data, count }
    }
}

impl ChannelParams {
    /// Computes, for each of `channels` output channels, the multiplier and
    /// shift of `input_scale * filter_scale[c] / output_scale` as TensorFlow
    /// Lite Micro does in `f64` (`quant::quantize_ratio`: the same numbers in
    /// integers; a single filter scale serves every channel),
    /// and stores them. `dimension` is the filter axis that holds the channels.
    pub fn prepare(
        ctx: &mut PrepareContext<'_, '_>,
        input: &Tensor<'_>,
        filter: &Tensor<'_>,
        output: &Tensor<'_>,
        channels: usize,
        dimension: usize,
    ) -> Result<Self, Error> {
        let (input_scale, _) = ctx.quantization(input)?;
        let (output_scale, _) = ctx.quantization(output)?;
        let q = filter
            .quantization()
            .ok_or(ctx.invalid("a quantized filter has no quantization"))?;
        let count = q.scale_count();
        if count != 1 && (count != channels || q.quantized_dimension() != dimension) {
            return Err(ctx.invalid("filter scales do not match the output channels"));
        }
        let mut finite = true;
        let stored = if count == 1 { 1 } else { channels };
        let (data, values) = ctx.persistent::<i32>(stored.saturating_mul(2))?;
        let (multipliers, shifts) = values.split_at_mut(stored);
        for (c, (m, s)) in multipliers.iter_mut().zip(shifts.iter_mut()).enumerate() {
            let filter_scale = q.scale(if count == 1 { 0 } else { c });
            let quantized = quant::quantize_ratio(input_scale, filter_scale, output_scale);
            finite &= quantized.is_some();
            (*m, *s) = quantized.unwrap_or((0, 0));
        }
        if !finite {
            return Err(ctx.invalid("filter scale is not finite"));
        }
        Ok(ChannelParams {
            data,
            count: stored,
        })
    }

    /// No params (for tests of kernels that take theirs directly).
    #[cfg(test)]
    pub(crate) fn empty() -> Self {
        ChannelParams {
            data: Persistent::default(),
            count: 0,
        }
    }

    /// Output `o` of the op as `O`, with the multipliers and shifts (one of
    /// each per output channel, or a single one for all).
    pub fn with_output<'c, O: Plain>(
        &self,
        ctx: &'c mut EvalContext<'_>,
        o: usize,
    ) -> (&'c mut [O], &'c [i32], &'c [i32]) {
        let (output, values) = ctx.output_and_persistent::<O, i32>(o, self.data);
        let (multipliers, shifts) = values.split_at(self.count.min(values.len()));
        (output, multipliers, shifts)
    }

    /// [`ChannelParams::with_output`] with persistent values `p` as `P` too.
    pub fn with_output_and<'c, O: Plain, P: Plain>(
        &self,
        ctx: &'c mut EvalContext<'_>,
        o: usize,
        p: Persistent,
    ) -> (&'c mut [O], &'c [i32], &'c [i32], &'c [P]) {
        let (output, values, extra) = ctx.output_and_two_persistent::<O, i32, P>(o, self.data, p);
        let (multipliers, shifts) = values.split_at(self.count.min(values.len()));
        (output, multipliers, shifts, extra)
    }

    /// The operands of an int8 weighted op (CONV_2D, DEPTHWISE_CONV_2D,
    /// FULLY_CONNECTED): input 0, weights 1, bias 2 (if `has_bias`), and
    /// output 0 with its requantization.
    pub fn int8_operands<'c, 'x: 'c>(
        &self,
        ctx: &'c mut EvalContext<'x>,
        has_bias: bool,
        input_offset: i32,
        output: OutputQuant,
    ) -> Int8Operands<'c> {
        let input = ctx.input_as::<i8>(0);
        let weights = ctx.input_as::<i8>(1);
        let bias = if has_bias {
            ctx.input_as::<i32>(2)
        } else {
            &[]
        };
        let (out, multipliers, shifts) = self.with_output::<i8>(ctx, 0);
        let quant = Requant {
            input_offset,
            output,
            multipliers,
            shifts,
        };
        Int8Operands {
            input,
            weights,
            bias,
            out,
            quant,
        }
    }
}

/// What an int8 weighted op's kernel reads and writes.
#[derive(Debug)]
pub struct Int8Operands<'c> {
    /// Input 0.
    pub input: &'c [i8],
    /// The weights (input 1).
    pub weights: &'c [i8],
    /// The bias (input 2), empty without one.
    pub bias: &'c [i32],
    /// Output 0.
    pub out: &'c mut [i8],
    /// The requantization of the accumulators into `out`.
    pub quant: Requant<'c>,
}

/// The quantization of an int8 convolution-like kernel: input offset,
/// per-channel (or per-tensor) scaling, output offset and clamp.
#[derive(Clone, Copy, Debug)]
pub struct Requant<'q> {
    /// Minus the input zero point.
    pub input_offset: i32,
    /// Output zero point and clamp range.
    pub output: OutputQuant,
    /// Multiplier per output channel (or one for all).
    pub multipliers: &'q [i32],
    /// Shift per output channel (or one for all).
    pub shifts: &'q [i32],
}

impl Requant<'_> {
    /// The int8 output of accumulator `acc` of output channel `channel`.
    #[inline]
    pub fn apply(&self, acc: i32, channel: usize) -> i8 {
        let i = if self.multipliers.len() == 1 {
            0
        } else {
            channel
        };
        let m = self.multipliers.get(i).copied().unwrap_or(0);
        let s = self.shifts.get(i).copied().unwrap_or(0);
        requantize(acc, m, s, &self.output)
    }
}

impl Requant<'_> {
    /// Requantizes the accumulators of output channels `first..` (plus their
    /// `bias`, if any) into `out`, as [`Requant::apply`] does one by one. With
    /// AVX2 the arithmetic is branch-free so that it vectorizes (the tests
    /// check it against the reference).
    #[inline]
    pub fn apply_slice(&self, acc: &[i32], bias: &[i32], first: usize, out: &mut [i8]) {
        let n = acc.len().min(out.len());
        let (acc, out) = (
            acc.get(..n).unwrap_or(&[]),
            out.get_mut(..n).unwrap_or(&mut []),
        );
        let per_tensor = self.multipliers.len() == 1;
        let (m0, s0) = (
            self.multipliers.first().copied().unwrap_or(0),
            self.shifts.first().copied().unwrap_or(0),
        );
        let multipliers = if per_tensor {
            &[][..]
        } else {
            self.multipliers.get(first..first + n).unwrap_or(&[])
        };
        let shifts = if per_tensor {
            &[][..]
        } else {
            self.shifts.get(first..first + n).unwrap_or(&[])
        };
        let bias = bias.get(first..first + n);
        for (j, (o, &a)) in out.iter_mut().zip(acc).enumerate() {
            let (m, s) = if per_tensor {
                (m0, s0)
            } else {
                (
                    multipliers.get(j).copied().unwrap_or(0),
                    shifts.get(j).copied().unwrap_or(0),
                )
            };
            let b = bias.and_then(|b| b.get(j)).copied().unwrap_or(0);
            // Branch-free code pays off only where it vectorizes (AVX2's
            // per-lane shifts); elsewhere the plain version is faster.
            *o = if cfg!(target_feature = "avx2") {
                requantize_branchless(a.wrapping_add(b), m, s, &self.output)
            } else {
                requantize(a.wrapping_add(b), m, s, &self.output)
            };
        }
    }

    /// The int16 output of a 16x8 kernel's accumulator: with a 64-bit
    /// accumulator (`wide`, int64 bias) TensorFlow Lite scales with the int64
    /// `MultiplyByQuantizedMultiplier` (16-bit multiplier, one rounding), with
    /// an int32 one (int32 bias) with the int32 version; no output offset
    /// (int16 activations are symmetric), then the clamp.
    #[inline]
    pub fn apply_i16(&self, acc: i64, channel: usize, wide: bool) -> i16 {
        let i = if self.multipliers.len() == 1 {
            0
        } else {
            channel
        };
        let m = self.multipliers.get(i).copied().unwrap_or(0);
        let s = self.shifts.get(i).copied().unwrap_or(0);
        let scaled = if wide {
            quant::multiply_by_quantized_multiplier_i64(acc, m, s)
        } else {
            quant::multiply_by_quantized_multiplier(acc as i32, m, s)
        };
        scaled.max(self.output.min).min(self.output.max) as i16
    }
}

/// The end of every int8 convolution-like kernel: scale the 32-bit
/// accumulator, add the output zero point, clamp to the activation range.
#[inline]
pub fn requantize(acc: i32, multiplier: i32, shift: i32, output: &OutputQuant) -> i8 {
    let scaled =
        quant::multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(output.offset);
    // max then min, as TensorFlow Lite (no panic should min exceed max).
    scaled.max(output.min).min(output.max) as i8
}

/// [`requantize`] without branches (selects instead), for vectorizing.
#[inline(always)]
pub fn requantize_branchless(acc: i32, multiplier: i32, shift: i32, output: &OutputQuant) -> i8 {
    let left = shift.clamp(0, 31) as u32;
    let right = (-shift).clamp(0, 31) as u32;
    let x = acc.wrapping_shl(left);
    // SaturatingRoundingDoublingHighMul.
    let ab = i64::from(x) * i64::from(multiplier);
    let nudge = if ab >= 0 {
        1i64 << 30
    } else {
        1 - (1i64 << 30)
    };
    let sum = ab + nudge;
    // Division by 2^31 truncating toward zero: add 2^31 - 1 to negatives.
    let high = ((sum + ((sum >> 63) & 0x7fff_ffff)) >> 31) as i32;
    let high = if x == i32::MIN && multiplier == i32::MIN {
        i32::MAX
    } else {
        high
    };
    // RoundingDivideByPOT.
    let mask = ((1i64 << right) - 1) as i32;
    let remainder = high & mask;
    let threshold = (mask >> 1) + ((high >> 31) & 1);
    let scaled = (high >> right) + i32::from(remainder > threshold);
    scaled
        .wrapping_add(output.offset)
        .max(output.min)
        .min(output.max) as i8
}

/// An int8 output's zero point and fused-activation clamp range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct OutputQuant {
    /// The output zero point.
    pub offset: i32,
    /// Lowest value after the activation.
    pub min: i32,
    /// Highest value after the activation.
    pub max: i32,
}

impl OutputQuant {
    /// The zero point and the range of fused activation `code` for `output`,
    /// within `[qmin, qmax]` (TensorFlow Lite's `CalculateActivationRangeQuantized`).
    pub fn prepare(
        ctx: &PrepareContext<'_, '_>,
        output: &Tensor<'_>,
        activation: u8,
        qmin: i32,
        qmax: i32,
    ) -> Result<Self, Error> {
        let (scale, offset) = ctx.quantization(output)?;
        if activation > 3 {
            return Err(ctx.invalid("unsupported fused activation"));
        }
        let (min, max) =
            quant::calculate_activation_range_quantized(activation, scale, offset, qmin, qmax)
                .ok_or(ctx.invalid("activation range overflows"))?;
        Ok(OutputQuant { offset, min, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branchless_requantization_equals_the_reference() {
        let output = OutputQuant {
            offset: -7,
            min: -128,
            max: 100,
        };
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let specials = [0, 1, -1, i32::MAX, i32::MIN, 1 << 30, -(1 << 30)];
        for i in 0..200_000 {
            let acc = if i % 10 == 0 {
                specials[i % specials.len()]
            } else {
                next() as i32 >> (next() % 20)
            };
            let multiplier = match i % 7 {
                0 => i32::MIN,
                1 => -((next() as i32) & 0x7fff_ffff),
                _ => (1 << 30) + ((next() as i32) & 0x3fff_ffff),
            };
            let shift = (next() % 40) as i32 - 32;
            assert_eq!(
                requantize_branchless(acc, multiplier, shift, &output),
                requantize(acc, multiplier, shift, &output),
                "acc {acc} m {multiplier} s {shift}"
            );
        }
    }
}
