//! Requantization of one accumulator for the blocked kernels, bit-exact with
//! `ops::per_channel::requantize` (TensorFlow Lite's double-rounding
//! `MultiplyByQuantizedMultiplier`) in about a third of its instructions on
//! Cortex-M4: the rounding doubling high multiply is one `SMLAL` with the
//! nudge preloaded, and the rounding right shift a mask compare.

use crate::ops::per_channel::{requantize, OutputQuant, Requant};

/// One output channel's requantization, its shifts and masks worked out
/// once so that each accumulator costs only the multiply, shifts and clamp.
#[derive(Clone, Copy)]
pub struct Channel {
    multiplier: i32,
    shift: i32,
    bias: i32,
    left: u32,
    right: u32,
    mask: i32,
}

impl Channel {
    /// Channel `channel` of `quant` (its per-channel or per-tensor scale),
    /// with its bias (none when `bias` is empty).
    #[inline(always)]
    pub fn new(quant: &Requant<'_>, bias: &[i32], channel: usize) -> Self {
        let i = if quant.multipliers.len() == 1 {
            0
        } else {
            channel
        };
        let multiplier = quant.multipliers.get(i).copied().unwrap_or(0);
        let shift = quant.shifts.get(i).copied().unwrap_or(0);
        let right = shift.wrapping_neg().clamp(0, 31) as u32;
        Channel {
            multiplier,
            shift,
            bias: bias.get(channel).copied().unwrap_or(0),
            left: shift.clamp(0, 31) as u32,
            right,
            mask: ((1u32 << right) - 1) as i32,
        }
    }

    /// The int8 output of accumulator `acc` (bias not yet added).
    #[inline(always)]
    pub fn apply(&self, acc: i32, output: &OutputQuant) -> i8 {
        let acc = acc.wrapping_add(self.bias);
        if self.multiplier == i32::MIN {
            // The one case whose high multiply saturates (i32::MIN squared).
            return requantize(acc, self.multiplier, self.shift, output);
        }
        let x = acc.wrapping_shl(self.left);
        // SaturatingRoundingDoublingHighMul: gemmlowp adds 2^30 (or 1 - 2^30
        // for negative products) and divides by 2^31 toward zero; both cases
        // are the floor of (x * m + 2^30) / 2^31. No saturation: m is not
        // i32::MIN.
        let high = ((i64::from(x) * i64::from(self.multiplier) + (1 << 30)) >> 31) as i32;
        // RoundingDivideByPOT: up by one when the remainder passes half
        // (ties away from zero).
        let threshold = (self.mask >> 1) + (high >> 31 & 1);
        let scaled =
            (high >> self.right).wrapping_add(i32::from(high & self.mask > threshold));
        scaled
            .wrapping_add(output.offset)
            .max(output.min)
            .min(output.max) as i8
    }
}

/// `acc * multiplier * 2^(shift - 31)` rounded as TensorFlow Lite does, plus
/// the output offset, clamped to the output's range.
#[cfg(test)]
pub fn requantize_fast(acc: i32, multiplier: i32, shift: i32, output: &OutputQuant) -> i8 {
    let quant = Requant {
        input_offset: 0,
        output: *output,
        multipliers: &[multiplier],
        shifts: &[shift],
    };
    Channel::new(&quant, &[], 0).apply(acc, output)
}
