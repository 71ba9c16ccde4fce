//! SignalFilterBank: triangular (mel) filters over a power spectrum. Each
//! spectrum bin adds `weight * power` to its channel and `unweight * power` to
//! the next one. Inputs: 0 power uint32 `[bins]`, 1 weights and 2 unweights
//! int16, 3 channel frequency starts, 4 channel weight starts and 5 channel
//! widths (int16 `[channels + 1]`, all constant); output uint64 `[channels]`.

use super::{expect_rank, option_i32, options};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalFilterBankParams {
    /// Output channels.
    pub channels: usize,
}

/// Checks the operator, including that every filter lies inside the spectrum
/// and the weight tables (so `eval` cannot read out of bounds).
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalFilterBankParams, Error> {
    let map = options(ctx)?;
    let channels = usize::try_from(option_i32(ctx, &map, "num_channels")?)
        .map_err(|_| ctx.invalid("num_channels is negative"))?;
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    ctx.expect_type(&input, TensorType::UInt32)?;
    ctx.expect_type(&output, TensorType::UInt64)?;
    expect_rank(ctx, &input, 1)?;
    expect_rank(ctx, &output, 1)?;
    if output.shape().elements() != channels {
        return Err(ctx.invalid("output size is not num_channels"));
    }
    let mut tables = [&[] as &[u8]; 5];
    for (k, table) in tables.iter_mut().enumerate() {
        let t = ctx.input(k + 1)?;
        ctx.expect_type(&t, TensorType::Int16)?;
        expect_rank(ctx, &t, 1)?;
        if !t.is_constant() {
            return Err(ctx.invalid("filter bank tables must be constant"));
        }
        ctx.expect_readable::<i16>(&t)?;
        *table = t.data();
    }
    let value = |bytes: &[u8], i: usize| -> i64 {
        bytes
            .get(2 * i..2 * i + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map_or(-1, |b| i64::from(i16::from_le_bytes(b)))
    };
    let [weights, unweights, freq_starts, weight_starts, widths] = tables;
    let bins = input.shape().elements() as i64;
    let weight_len = (weights.len().min(unweights.len()) / 2) as i64;
    for ch in 0..=channels {
        let (freq, start, width) = (
            value(freq_starts, ch),
            value(weight_starts, ch),
            value(widths, ch),
        );
        if freq < 0 || start < 0 || width < 0 || freq + width > bins || start + width > weight_len {
            return Err(ctx.invalid("a filter reaches outside the spectrum or weights"));
        }
    }
    Ok(SignalFilterBankParams { channels })
}

/// Accumulates the channels.
pub fn eval(params: &SignalFilterBankParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let bank = Bank {
        weights: ctx.input_as::<i16>(1),
        unweights: ctx.input_as::<i16>(2),
        freq_starts: ctx.input_as::<i16>(3),
        weight_starts: ctx.input_as::<i16>(4),
        widths: ctx.input_as::<i16>(5),
    };
    let (input, output) = ctx.io_as::<u32, u64>(0, 0);
    accumulate(&bank, params.channels, input, output);
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalFilterBankParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// A filter bank's tables (`FilterbankConfig`).
#[derive(Clone, Copy, Debug)]
pub struct Bank<'a> {
    /// Filter weights.
    pub weights: &'a [i16],
    /// One minus each weight.
    pub unweights: &'a [i16],
    /// Per channel (plus one), its first spectrum bin.
    pub freq_starts: &'a [i16],
    /// Per channel (plus one), its first weight.
    pub weight_starts: &'a [i16],
    /// Per channel (plus one), its number of bins.
    pub widths: &'a [i16],
}

/// `FilterbankAccumulateChannels`, dropping scratch channel 0 as the kernel
/// does. Weights are sign-extended to uint64 before multiplying, as in C.
pub fn accumulate(bank: &Bank<'_>, channels: usize, input: &[u32], output: &mut [u64]) {
    let mut weighted = 0u64;
    let mut unweighted = 0u64;
    let at = |t: &[i16], i: usize| t.get(i).map_or(0, |v| *v as usize);
    for ch in 0..=channels {
        let (freq, start) = (at(bank.freq_starts, ch), at(bank.weight_starts, ch));
        for j in 0..at(bank.widths, ch) {
            let power = u64::from(input.get(freq + j).copied().unwrap_or(0));
            let w = bank
                .weights
                .get(start + j)
                .map_or(0, |w| i64::from(*w) as u64);
            let u = bank
                .unweights
                .get(start + j)
                .map_or(0, |u| i64::from(*u) as u64);
            weighted = weighted.wrapping_add(w.wrapping_mul(power));
            unweighted = unweighted.wrapping_add(u.wrapping_mul(power));
        }
        if let Some(out) = ch.checked_sub(1).and_then(|c| output.get_mut(c)) {
            *out = weighted;
        }
        weighted = unweighted;
        unweighted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_channels_by_hand() {
        // Bins 0..4 = [1, 2, 3, 4]. Scratch channel 0 covers bin 0 (weight 5,
        // unweight 6); channel 1 covers bins 1, 2 (weights 7, 8; unweights 9, 10);
        // channel 2 covers bin 3 (weight 11, unweight 12).
        // out[0] = 6*1 + 7*2 + 8*3 = 44; out[1] = 9*2 + 10*3 + 11*4 = 92.
        let bank = Bank {
            weights: &[5, 7, 8, 11],
            unweights: &[6, 9, 10, 12],
            freq_starts: &[0, 1, 3],
            weight_starts: &[0, 1, 3],
            widths: &[1, 2, 1],
        };
        let mut out = [0u64; 2];
        accumulate(&bank, 2, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [44, 92]);
    }
}
