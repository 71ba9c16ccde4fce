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
pub struct ChannelParams {
    /// `count` multipliers, then `count` shifts (TensorFlow Lite's
    /// convention: positive shifts go left).
    data: Persistent,
    /// Output channels, or 1 when one scale serves them all.
    count: usize,
}

impl ChannelParams {
    /// Computes, for each of `channels` output channels, the multiplier and
    /// shift of `input_scale * filter_scale[c] / output_scale` in `f64` (as
    /// TensorFlow Lite Micro does; a single filter scale serves every channel),
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
            let filter_scale = f64::from(q.scale(if count == 1 { 0 } else { c }));
            let real = f64::from(input_scale) * filter_scale / f64::from(output_scale);
            finite &= real.is_finite();
            (*m, *s) = quant::quantize_multiplier(real);
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

/// An int8 output's zero point and fused-activation clamp range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
