//! SignalFilterBankSpectralSubtraction: noise reduction. Each channel keeps a
//! smoothed noise estimate (state that persists across invokes, zeroed by
//! `Interpreter::reset`) and subtracts it, keeping at least
//! `min_signal_remaining` of the signal. Input uint32 `[channels]`; outputs
//! uint32 `[channels]` (the signal) and uint32 `[channels]` (the estimate).

use super::{expect_rank, option_i32, option_shift, options, take_output};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, Persistent, PrepareContext};

/// The options (`SpectralSubtractionConfig`), as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SpectralSubtraction {
    /// Channels.
    pub channels: usize,
    /// Smoothing of even channels, with `spectral_subtraction_bits` fraction bits.
    pub smoothing: u32,
    /// `1 - smoothing`.
    pub one_minus_smoothing: u32,
    /// Smoothing of odd channels.
    pub alternate_smoothing: u32,
    /// `1 - alternate_smoothing`.
    pub alternate_one_minus_smoothing: u32,
    /// Extra bits the signal is scaled up by for the smoothing filter.
    pub smoothing_bits: u32,
    /// Least fraction of the signal kept.
    pub min_signal_remaining: u32,
    /// Fraction bits of the smoothing coefficients.
    pub spectral_subtraction_bits: u32,
    /// Whether the estimate is clamped to the signal.
    pub clamping: bool,
}

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalFilterBankSpectralSubtractionParams {
    /// The options.
    pub config: SpectralSubtraction,
    /// The noise estimate (uint32 per channel).
    pub noise: Persistent,
}

/// Checks the operator, reads its options and sets aside the noise estimate.
pub fn prepare(
    ctx: &mut PrepareContext<'_, '_>,
) -> Result<SignalFilterBankSpectralSubtractionParams, Error> {
    let map = options(ctx)?;
    let int = |key| option_i32(ctx, &map, key).map(|v| v as u32);
    let channels = usize::try_from(option_i32(ctx, &map, "num_channels")?)
        .map_err(|_| ctx.invalid("num_channels is negative"))?;
    let config = SpectralSubtraction {
        channels,
        smoothing: int("smoothing")?,
        one_minus_smoothing: int("one_minus_smoothing")?,
        alternate_smoothing: int("alternate_smoothing")?,
        alternate_one_minus_smoothing: int("alternate_one_minus_smoothing")?,
        smoothing_bits: option_shift(ctx, &map, "smoothing_bits", 32)?,
        min_signal_remaining: int("min_signal_remaining")?,
        spectral_subtraction_bits: option_shift(ctx, &map, "spectral_subtraction_bits", 64)?,
        clamping: map
            .get("clamping")
            .and_then(|v| v.as_bool())
            .map_err(|_| ctx.invalid("clamping option is missing"))?,
    };
    let (input, output, estimate) = (ctx.input(0)?, ctx.output(0)?, ctx.output(1)?);
    for t in [&input, &output, &estimate] {
        expect_rank(ctx, t, 1)?;
        ctx.expect_type(t, TensorType::UInt32)?;
        if t.shape().elements() != channels {
            return Err(ctx.invalid("a tensor's size is not num_channels"));
        }
    }
    let (noise, _) = ctx.persistent::<u32>(channels)?;
    Ok(SignalFilterBankSpectralSubtractionParams { config, noise })
}

/// Subtracts the noise and updates the estimate.
pub fn eval(
    params: &SignalFilterBankSpectralSubtractionParams,
    ctx: &mut EvalContext<'_>,
) -> Result<(), Error> {
    let input = ctx.input_as::<u32>(0);
    let output = take_output::<u32>(ctx, 0);
    let estimate_out = take_output::<u32>(ctx, 1);
    let noise = ctx.persistent_mut::<u32>(params.noise);
    spectral_subtraction(&params.config, input, output, noise);
    for (out, n) in estimate_out.iter_mut().zip(noise.iter()) {
        *out = *n;
    }
    Ok(())
}

/// Zeroes the noise estimate.
pub fn reset(
    params: &SignalFilterBankSpectralSubtractionParams,
    ctx: &mut EvalContext<'_>,
) -> Result<(), Error> {
    ctx.persistent_mut::<u32>(params.noise).fill(0);
    Ok(())
}

/// `FilterbankSpectralSubtraction`, in TFLM's unsigned 32/64-bit arithmetic.
pub fn spectral_subtraction(
    c: &SpectralSubtraction,
    input: &[u32],
    output: &mut [u32],
    noise: &mut [u32],
) {
    for (i, ((x, out), n)) in input.iter().zip(output).zip(noise).enumerate() {
        let (smoothing, one_minus) = if i % 2 == 0 {
            (c.smoothing, c.one_minus_smoothing)
        } else {
            (c.alternate_smoothing, c.alternate_one_minus_smoothing)
        };
        let scaled = x.wrapping_shl(c.smoothing_bits);
        *n = (u64::from(scaled)
            .wrapping_mul(u64::from(smoothing))
            .wrapping_add(u64::from(*n).wrapping_mul(u64::from(one_minus)))
            >> c.spectral_subtraction_bits) as u32;
        let mut estimate = *n;
        if estimate > scaled {
            estimate = scaled;
            if c.clamping {
                *n = estimate;
            }
        }
        let floor = (u64::from(*x).wrapping_mul(u64::from(c.min_signal_remaining))
            >> c.spectral_subtraction_bits) as u32;
        let subtracted = (scaled - estimate) >> c.smoothing_bits;
        *out = subtracted.max(floor);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    #[test]
    fn matches_tflm_test_vectors() {
        // Header: channels smoothing alternate_smoothing smoothing_bits
        // min_signal_remaining clamping; then (input, output, estimate) triplets.
        // The floats become integers as filter_bank_ops.py does, with 14 bits:
        // int(x * 2^14), and one_minus = 2^14 - that; an alternate smoothing
        // of 0 means "same as smoothing".
        let lines = lines("filter_bank_spectral_subtraction_test1.txt");
        let h = &lines[0];
        let bits = 14;
        let q = |s: &str| (s.parse::<f64>().unwrap() * f64::from(1 << bits)) as u32;
        let smoothing = q(&h[1]);
        let alternate = if q(&h[2]) == 0 { smoothing } else { q(&h[2]) };
        let config = SpectralSubtraction {
            channels: h[0].parse().unwrap(),
            smoothing,
            one_minus_smoothing: (1 << bits) - smoothing,
            alternate_smoothing: alternate,
            alternate_one_minus_smoothing: (1 << bits) - alternate,
            smoothing_bits: h[3].parse().unwrap(),
            min_signal_remaining: q(&h[4]),
            spectral_subtraction_bits: bits,
            clamping: h[5] != "0",
        };
        let mut noise = vec![0u32; config.channels];
        let mut frames = 0;
        for t in lines[1..].chunks_exact(3) {
            let input: Vec<u32> = ints(&t[0]);
            let mut out = vec![0u32; input.len()];
            spectral_subtraction(&config, &input, &mut out, &mut noise);
            assert_eq!(out, ints::<u32>(&t[1]), "frame {frames}");
            assert_eq!(noise, ints::<u32>(&t[2]), "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100);
    }
}
