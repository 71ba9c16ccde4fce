//! SignalPCAN: per-channel amplitude normalization (automatic gain control).
//! Each channel's gain comes from its noise estimate through a piecewise
//! polynomial lookup table; the normalized signal then goes through PCAN's
//! "shrink" curve. Inputs: 0 uint32 `[channels]`, 1 noise estimate uint32
//! `[channels]`, 2 gain LUT int16 (constant); option `snr_shift`. Output
//! uint32 `[channels]`. Stateless: the state is the noise estimate input.

use super::{expect_rank, most_significant_bit32, option_shift, options};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// Fraction bits of the signal-to-noise ratio (`kPcanSnrBits`).
const SNR_BITS: u32 = 12;
/// Fraction bits of the output (`kPcanOutputBits`).
const OUTPUT_BITS: u32 = 6;
/// LUT entries needed for any uint32 noise estimate: `4 * 32 - 6 + 3`.
pub const LUT_LEN: usize = 125;

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalPcanParams {
    /// Right shift of `signal * gain` to the SNR's fraction bits.
    pub snr_shift: u32,
}

/// Checks the operator and reads its options.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalPcanParams, Error> {
    let map = options(ctx)?;
    let snr_shift = option_shift(ctx, &map, "snr_shift", 64)?;
    let (input, noise, lut, output) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?, ctx.output(0)?);
    for t in [&input, &noise, &lut, &output] {
        expect_rank(ctx, t, 1)?;
    }
    ctx.expect_type(&input, TensorType::UInt32)?;
    ctx.expect_type(&noise, TensorType::UInt32)?;
    ctx.expect_type(&lut, TensorType::Int16)?;
    ctx.expect_type(&output, TensorType::UInt32)?;
    ctx.expect_readable::<i16>(&lut)?;
    let channels = input.shape().elements();
    if noise.shape().elements() != channels || output.shape().elements() != channels {
        return Err(ctx.invalid("input, noise estimate and output sizes differ"));
    }
    if lut.shape().elements() < LUT_LEN {
        return Err(ctx.invalid("the gain LUT has fewer than 125 entries"));
    }
    Ok(SignalPcanParams { snr_shift })
}

/// Normalizes every channel.
pub fn eval(params: &SignalPcanParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let noise = ctx.input_as::<u32>(1);
    let lut = ctx.input_as::<i16>(2);
    let (input, output) = ctx.io_as::<u32, u32>(0, 0);
    pcan(lut, params.snr_shift, input, noise, output);
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalPcanParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// `WideDynamicFunction`: the gain for noise estimate `x`, a quadratic in the
/// 10 bits below `x`'s top bit, with coefficients per power of two.
pub fn wide_dynamic_function(x: u32, lut: &[i16]) -> i16 {
    let at = |i: usize| i32::from(lut.get(i).copied().unwrap_or(0));
    if x <= 2 {
        return at(x as usize) as i16;
    }
    let interval = most_significant_bit32(x);
    let base = (4 * interval - 6) as usize;
    let frac = if interval < 11 {
        x << (11 - interval)
    } else {
        x >> (interval - 11)
    } & 0x3FF;
    let frac = frac as i32;
    let mut result = at(base + 2).wrapping_mul(frac) >> 5;
    result = result.wrapping_add(((at(base + 1) as u32) << 5) as i32);
    result = result.wrapping_mul(frac);
    result = result.wrapping_add(1 << 14) >> 15;
    result = result.wrapping_add(at(base));
    result as i16
}

/// `PcanShrink`: `x^2 / 4` below 2, `x - 1` above, from 12 to 6 fraction bits.
pub fn shrink(x: u32) -> u32 {
    if x < (2 << SNR_BITS) {
        x.wrapping_mul(x) >> (2 + 2 * SNR_BITS - OUTPUT_BITS)
    } else {
        (x >> (SNR_BITS - OUTPUT_BITS)).wrapping_sub(1 << OUTPUT_BITS)
    }
}

/// `ApplyPcanAutoGainControlFixed`. The int16 gain is sign-extended to uint32, as in C.
pub fn pcan(lut: &[i16], snr_shift: u32, input: &[u32], noise: &[u32], output: &mut [u32]) {
    for ((x, n), out) in input.iter().zip(noise).zip(output) {
        let gain = i32::from(wide_dynamic_function(*n, lut)) as u32;
        let snr = (u64::from(*x).wrapping_mul(u64::from(gain)) >> snr_shift) as u32;
        *out = shrink(snr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_by_hand() {
        // x = 1.0 (4096): 1/4 in 6 bits = 16; x = 3.0 (12288): 2.0 = 128.
        assert_eq!(shrink(4096), 16);
        assert_eq!(shrink(12288), 128);
    }

    #[test]
    fn small_estimates_index_the_lut() {
        let lut: Vec<i16> = (0..LUT_LEN as i16).collect();
        assert_eq!(wide_dynamic_function(2, &lut), 2);
        // x = 4: interval 3, base 6, frac = (4 << 8) & 0x3FF = 0: result = lut[6].
        assert_eq!(wide_dynamic_function(4, &lut), 6);
    }
}
