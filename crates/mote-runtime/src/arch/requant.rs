//! Requantization of one accumulator for the blocked kernels, bit-exact with
//! `ops::per_channel::requantize` (TensorFlow Lite's double-rounding
//! `MultiplyByQuantizedMultiplier`): both roundings folded into one 64-bit
//! multiply-accumulate ([`Fixed`]), about 8 instructions on Cortex-M4
//! where the general code took about 45.

use crate::ops::per_channel::{OutputQuant, Requant};

/// One output channel's bias and requantization.
#[derive(Clone, Copy)]
pub struct Channel {
    fixed: Fixed,
    bias: i32,
}

/// The per-channel requantization of a kernel's `channels` outputs, checked
/// once to cover every channel so that [`Scales::channel`] reads without
/// bounds checks, and to fit [`Fixed`].
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
    /// (when not empty) holds fewer, or if a channel's scale is outside
    /// [`Fixed`]'s case (a negative multiplier, or a shift that is not a
    /// right shift of 1 to 31 with a multiplier other than 0). Then the
    /// kernels decline and the reference runs; TensorFlow Lite's scales
    /// are such only for layers whose effective scale (input times filter
    /// over output) is at least 0.5.
    pub fn new(quant: &Requant<'a>, bias: &'a [i32], channels: usize) -> Option<Self> {
        let per_tensor = quant.multipliers.len() == 1 && quant.shifts.len() == 1;
        let need = if per_tensor { 1 } else { channels.max(1) };
        let (multipliers, shifts) = (quant.multipliers.get(..need)?, quant.shifts.get(..need)?);
        if !(bias.is_empty() || bias.len() >= channels) {
            return None;
        }
        let folds = multipliers
            .iter()
            .zip(shifts)
            .all(|(&m, &s)| m == 0 || Fixed::new(m, s).is_some());
        if !folds {
            return None;
        }
        Some(Scales {
            multipliers: multipliers.as_ptr(),
            shifts: shifts.as_ptr(),
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
        Channel {
            // `new` proved the shift a right shift of 1 to 31 unless the
            // multiplier is 0 (TensorFlow Lite's for an effective scale
            // below 2^-32, as in visual wake words' deeper layers), which
            // scales every accumulator to 0 with any of those.
            fixed: Fixed::folded(multiplier, shift.wrapping_neg().clamp(1, 31)),
            bias,
        }
    }
}

impl Channel {
    /// A channel whose outputs are the output offset: what tables start as.
    pub const ZERO: Channel = Channel {
        fixed: Fixed {
            multiplier: 0,
            nudge: 1 << 31,
            shift: 0,
        },
        bias: 0,
    };

    /// The int8 output of accumulator `acc` (bias not yet added).
    #[inline(always)]
    pub fn apply(&self, acc: i32, output: &OutputQuant) -> i8 {
        self.fixed.apply(acc.wrapping_add(self.bias), output)
    }

    /// The bias, for kernels that start their sums from it.
    #[inline(always)]
    pub fn bias(&self) -> i32 {
        self.bias
    }

    /// The scaled accumulator `acc` (bias included) plus the output offset,
    /// not clamped.
    #[inline(always)]
    pub fn offset_scaled(&self, acc: i32, output: &OutputQuant) -> i32 {
        self.fixed.scale(acc).wrapping_add(output.offset)
    }

    /// The int8 output of accumulator `acc` (bias included).
    #[inline(always)]
    pub fn finish(&self, acc: i32, output: &OutputQuant) -> i8 {
        self.fixed.apply(acc, output)
    }
}

/// Both roundings of the requantization folded into one multiply-accumulate,
/// for a multiplier `m` in `[0, 2^31)` and a right shift `r` of 1 to 31 (a
/// left shift or a negative multiplier is not its case). With `P = x * m`
/// in 64 bits, TensorFlow Lite's `RoundingDivideByPOT(
/// SaturatingRoundingDoublingHighMul(x, m), r)` is `floor((P + 2^30 +
/// 2^(30 + r) - [x < 0] 2^31) / 2^(31 + r))`:
/// - the high multiply is `h = floor((P + 2^30) / 2^31)` (gemmlowp's nudge
///   of `1 - 2^30` for negative products and its division toward zero are
///   this floor; no saturation below `m = 2^31`);
/// - the rounding shift is `floor((h + 2^(r - 1) - [h < 0]) / 2^r)` (ties
///   away from zero), and nested floors of integers combine;
/// - `[x < 0]` may stand for `[h < 0]`: with `m >= 0` they differ only
///   where `h = 0`, which rounds to 0 with either (`2^(r-1) - 1` and
///   `2^(r-1)` are both below `2^r`).
///
/// The quotient is the high word of the sum shifted right by `r - 1`.
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
        (multiplier >= 0 && (1..=31).contains(&r)).then(|| Fixed::folded(multiplier, r))
    }

    /// [`Fixed::new`] for a right shift `r` the caller knows is 1 to 31.
    #[inline(always)]
    fn folded(multiplier: i32, r: i32) -> Fixed {
        Fixed {
            multiplier,
            nudge: (1i64 << 30) + (1i64 << (30 + r)),
            shift: (r - 1) as u32,
        }
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

impl Channel {
    /// This channel as [`Folded`] with `fold` of the output offset (all
    /// of `output.offset`, or 0) folded in, or `None` outside its case:
    /// its scale's, or sums that may leave [`SUM_LIMIT`] (the bias plus up
    /// to `sums` from the products) with a multiplier other than 0 and
    /// outputs that are not one value for every such sum. A multiplier of 0
    /// takes any sum (its output is the offset whatever the doubled sum's
    /// sign), and so does a channel whose outputs are one value: visual
    /// wake words' channels of tiny filter scales have biases of 2^30 and
    /// outputs at their clamp. `weights` (the channel's, for inputs of
    /// offset `input_offset`), where given, bound its sums more tightly
    /// than `sums` there.
    #[inline(always)]
    pub fn folded(
        &self,
        (fold, output): (i32, &OutputQuant),
        sums: u32,
        weights: Option<(&[i8], i32)>,
    ) -> Option<Folded> {
        let small = self.bias.unsigned_abs() < SUM_LIMIT - sums.min(SUM_LIMIT);
        if small || self.fixed.multiplier == 0 {
            return Folded::new(&self.fixed, fold);
        }
        self.constant((fold, output), sums, weights)
    }

    /// [`Channel::folded`] for sums that may leave [`SUM_LIMIT`]: the lane
    /// of the one output value, if it is one.
    #[inline(never)]
    fn constant(
        &self,
        (fold, output): (i32, &OutputQuant),
        sums: u32,
        weights: Option<(&[i8], i32)>,
    ) -> Option<Folded> {
        // The output is monotonic in the sum (the multiplier is not
        // negative): one value at both ends, one value throughout, unless
        // the sums wrap.
        let one = |sums: u32| {
            let end = |sign: i64| i32::try_from(i64::from(self.bias) + sign * i64::from(sums)).ok();
            let (low, high) = (end(-1)?, end(1)?);
            let (a, b) = (
                self.fixed.apply(low, output),
                self.fixed.apply(high, output),
            );
            (a == b).then_some(a)
        };
        // The weights' own bound only where `sums` is too loose: it reads
        // them all.
        let value = one(sums).or_else(|| {
            let (w, offset) = weights?;
            one(filter_sum_bound(w, offset))
        })?;
        Folded::constant(i32::from(value) - (output.offset - fold))
    }
}

/// What an accumulator's magnitude stays below for [`Folded`], which
/// doubles it: `2^29`.
pub const SUM_LIMIT: u32 = 1 << 29;

/// A bound on the magnitude of `taps` products `(x + offset) * w` of int8
/// `x` and `w` (saturating): what [`Channel::folded`] adds to the bias.
pub fn sum_bound(taps: usize, offset: i32) -> u32 {
    let product = 128 * (128 + offset.unsigned_abs());
    u32::try_from(taps).map_or(u32::MAX, |t| t.saturating_mul(product))
}

/// [`sum_bound`] for the weights `filter` themselves: the sum of their
/// magnitudes times the largest `|x + offset|` of an int8 `x`
/// (saturating). For the few channels whose [`sum_bound`] is too loose to
/// fold.
pub fn filter_sum_bound(filter: &[i8], offset: i32) -> u32 {
    let offset = i64::from(offset);
    let x = (offset - 128)
        .unsigned_abs()
        .max((offset + 127).unsigned_abs());
    let w = filter
        .iter()
        .fold(0u32, |s, &v| s.saturating_add(u32::from(v.unsigned_abs())));
    u32::try_from(u64::from(w).saturating_mul(x)).unwrap_or(u32::MAX)
}

/// [`Fixed`] as the whole-pass kernels compute it from the doubled
/// accumulator `y = 2 x` (`|x| < 2^29`, [`SUM_LIMIT`]) with `SMMLAR`, for
/// right shifts `r` of 1 to 31. `Fixed`'s quotient times two over two is
/// `floor((y m + 2^31 + 2^32 (2^(r - 1) - [x < 0])) / 2^(32 + r))`, and
/// `2^31` is `SMMLAR`'s rounding: with `t = high + (y >> 31)`,
/// `SMMLAR(y, m, t) = t + floor((y m + 2^31) / 2^32)`, shifted right by
/// `r`, is `Fixed::scale(x)` (nested floors of integers combine; `y >>
/// 31` is `-[x < 0]`). An output offset of -128 to 128 may join `high` as
/// `offset * 2^r` where `r` is at most 23: the shift turns it back into
/// exactly `offset` (`|high|` stays below `2^30 + 2^22` and the product's
/// part below `2^29`: no wrap).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Folded {
    /// The multiplier, `0..2^31`.
    pub multiplier: i32,
    /// `2^(r - 1) + offset * 2^r`: the rounding and the output offset (or 0).
    pub high: i32,
    /// `r`, 1 to 31.
    pub shift: u32,
}

impl Folded {
    /// A lane no kernel runs: what tables start as.
    pub const UNUSED: Folded = Folded {
        multiplier: 0,
        high: 0,
        shift: 1,
    };

    /// `fixed` with `offset` folded in, or `None` if `offset` is not 0
    /// and either it is not -128 to 128 or the right shift is past 23.
    #[inline(always)]
    pub fn new(fixed: &Fixed, offset: i32) -> Option<Folded> {
        let r = fixed.shift + 1;
        let offset_fits = offset == 0 || (r <= 23 && (-128..=128).contains(&offset));
        offset_fits.then(|| Folded {
            multiplier: fixed.multiplier,
            high: (1i32 << (r - 1)) + (offset << r),
            shift: r,
        })
    }

    /// The lane whose every output is `value` (before the kernel adds
    /// what offset the lanes leave to it): multiplier 0, shift 1, `high =
    /// 1 + 2 value`, whatever the sum. `None` if `high` does not fit.
    fn constant(value: i32) -> Option<Folded> {
        let high = value.checked_mul(2)?.checked_add(1)?;
        Some(Folded {
            multiplier: 0,
            high,
            shift: 1,
        })
    }

    /// The scaled accumulator `acc` (bias included, `|acc| < 2^29`) plus
    /// the output offset, not clamped: what the kernels' `SMMLAR` and
    /// shift compute on `2 acc` (the portable twin's and the tests' Rust).
    #[cfg(test)]
    pub fn scale(&self, acc: i32) -> i32 {
        self.scale_doubled(acc.wrapping_shl(1))
    }

    /// [`Folded::scale`] of the doubled accumulator `y = 2 acc`.
    #[cfg(test)]
    pub fn scale_doubled(&self, y: i32) -> i32 {
        let t = self.high.wrapping_add(y >> 31);
        let product = (i64::from(y) * i64::from(self.multiplier) + (1 << 31)) >> 32;
        t.wrapping_add(product as i32) >> self.shift
    }
}

/// `acc * multiplier * 2^(shift - 31)` rounded as TensorFlow Lite does, plus
/// the output offset, clamped to the output's range, by [`Channel`]; `None`
/// where [`Scales::new`] declines.
#[cfg(test)]
pub fn requantize_fast(acc: i32, multiplier: i32, shift: i32, output: &OutputQuant) -> Option<i8> {
    let quant = Requant {
        input_offset: 0,
        output: *output,
        multipliers: &[multiplier],
        shifts: &[shift],
    };
    let scales = Scales::new(&quant, &[], 1)?;
    // SAFETY: channel 0 of 1.
    Some(unsafe { scales.channel(0) }.apply(acc, output))
}
