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

/// The per-channel requantization of a kernel's `channels` outputs, checked
/// once to cover every channel so that [`Scales::channel`] reads without
/// bounds checks.
pub struct Scales<'a> {
    multipliers: *const i32,
    shifts: *const i32,
    bias: *const i32,
    /// 1 with a scale per channel, 0 with one for all.
    step: usize,
    /// 1 with a bias, 0 without (then `bias` points at a zero).
    bias_step: usize,
    /// Output offset and clamp.
    pub output: OutputQuant,
    _quant: core::marker::PhantomData<&'a [i32]>,
}

/// What a missing bias reads.
static NO_BIAS: i32 = 0;

impl<'a> Scales<'a> {
    /// The scales of `channels` outputs, or `None` if `quant` or `bias`
    /// (when not empty) holds fewer.
    pub fn new(quant: &Requant<'a>, bias: &'a [i32], channels: usize) -> Option<Self> {
        let per_tensor = quant.multipliers.len() == 1 && quant.shifts.len() == 1;
        let need = if per_tensor { 1 } else { channels.max(1) };
        if quant.multipliers.len() < need
            || quant.shifts.len() < need
            || !(bias.is_empty() || bias.len() >= channels)
        {
            return None;
        }
        Some(Scales {
            multipliers: quant.multipliers.as_ptr(),
            shifts: quant.shifts.as_ptr(),
            bias: if bias.is_empty() {
                &NO_BIAS
            } else {
                bias.as_ptr()
            },
            step: usize::from(!per_tensor),
            bias_step: usize::from(!bias.is_empty()),
            output: quant.output,
            _quant: core::marker::PhantomData,
        })
    }

    /// Channel `c`'s bias and requantization.
    ///
    /// # Safety
    /// `c` must be below the `channels` given to [`Scales::new`].
    #[inline(always)]
    pub unsafe fn channel(&self, c: usize) -> Channel {
        // SAFETY: `new` checked that every index below `channels` (times
        // the steps, which are 0 or 1) is inside its slice.
        let (multiplier, shift, bias) = unsafe {
            (
                *self.multipliers.add(c * self.step),
                *self.shifts.add(c * self.step),
                *self.bias.add(c * self.bias_step),
            )
        };
        let right = shift.wrapping_neg().clamp(0, 31) as u32;
        Channel {
            multiplier,
            shift,
            bias,
            left: shift.clamp(0, 31) as u32,
            right,
            mask: ((1u32 << right) - 1) as i32,
        }
    }
}

impl Channel {
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
        let scaled = (high >> self.right).wrapping_add(i32::from(high & self.mask > threshold));
        scaled
            .wrapping_add(output.offset)
            .max(output.min)
            .min(output.max) as i8
    }
}

/// The requantization of the common case in two roundings folded into one
/// multiply-accumulate: a multiplier in `(2^30, 2^31)` (scales that are not
/// powers of two, as TensorFlow Lite normalizes them) and a right shift `r`
/// of 1 to 31. Then, with `P = x * m` in 64 bits, TensorFlow Lite's
/// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m), r)` is
/// `floor((P + 2^30 + 2^(30 + r) - [x < 0] 2^31) / 2^(31 + r))`: the high
/// multiply is `h = floor((P + 2^30) / 2^31)` (no saturation below
/// `m = 2^31`), the rounding shift `floor((h + 2^(r - 1) - [h < 0]) / 2^r)`
/// (ties away from zero), nested floors of integers combine, and `h < 0`
/// exactly when `x < 0` because `m > 2^30`. The quotient is the high word of
/// the sum shifted right by `r - 1`.
#[derive(Clone, Copy, Debug)]
pub struct Fixed {
    multiplier: i32,
    /// `2^30 + 2^(30 + r)`.
    nudge: i64,
    /// `r - 1`.
    shift: u32,
}

impl Fixed {
    /// The folded requantization of `multiplier` and `shift` (TensorFlow
    /// Lite's: negative shifts right), or `None` outside its case.
    #[inline]
    pub fn new(multiplier: i32, shift: i32) -> Option<Fixed> {
        let r = shift.wrapping_neg();
        (multiplier > 1 << 30 && (1..=31).contains(&r)).then(|| Fixed {
            multiplier,
            nudge: (1i64 << 30) + (1i64 << (30 + r)),
            shift: (r - 1) as u32,
        })
    }

    /// `acc` scaled, as `quant::multiply_by_quantized_multiplier`.
    #[inline(always)]
    pub fn scale(&self, acc: i32) -> i32 {
        let sum =
            i64::from(acc) * i64::from(self.multiplier) + self.nudge + (i64::from(acc >> 31) << 31);
        ((sum >> 32) as i32) >> self.shift
    }

    /// The int8 output of accumulator `acc` (bias added), as `requantize`.
    #[inline(always)]
    pub fn apply(&self, acc: i32, output: &OutputQuant) -> i8 {
        self.scale(acc)
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
    match Scales::new(&quant, &[], 1) {
        // SAFETY: channel 0 of 1.
        Some(scales) => unsafe { scales.channel(0) }.apply(acc, output),
        None => 0,
    }
}
