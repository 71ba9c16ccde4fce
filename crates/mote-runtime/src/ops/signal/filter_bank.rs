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
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
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

/// Host-side generator of filter bank tables, ported from TFLM's
/// `filter_bank_ops.py` (`_init_filter_bank_weights`), for tests.
#[cfg(test)]
pub(crate) mod generate {
    /// `FreqToMel` in 32-bit float, as TFLM's C wrapper: `1127 ln(1 + f / 700)`.
    pub fn freq_to_mel(freq: f32) -> f32 {
        1127.0f32 * (freq / 700.0f32).ln_1p()
    }

    /// The tables: (start_index, end_index, weights, unweights, freq_starts,
    /// weight_starts, widths).
    #[allow(clippy::type_complexity)]
    pub fn tables(
        spectrum_size: usize,
        sample_rate: f64,
        alignment: usize,
        block: usize,
        channels: usize,
        lower: f64,
        upper: f64,
    ) -> (
        usize,
        usize,
        Vec<i16>,
        Vec<i16>,
        Vec<i16>,
        Vec<i16>,
        Vec<i16>,
    ) {
        let index_alignment = if alignment < 2 { 1 } else { alignment / 2 };
        let n = channels + 1;
        let (mut freq_starts, mut weight_starts, mut widths) =
            (vec![0i16; n], vec![0i16; n], vec![0i16; n]);
        let (mut actual_starts, mut actual_widths) = (vec![0usize; n], vec![0usize; n]);
        // _calc_center_freq, in float32.
        let mel_lower = freq_to_mel(lower as f32);
        let mel_spacing = (freq_to_mel(upper as f32) - mel_lower) / n as f32;
        let centers: Vec<f32> = (1..=n)
            .map(|c| mel_lower + mel_spacing * c as f32)
            .collect();
        let hz_per_bin = (sample_rate / 2.0) / (spectrum_size as f64 - 1.0);
        let start_index = (1.0 + lower / hz_per_bin).round_ties_even() as usize;
        let mut chan_start = start_index;
        let mut weight_index = 0usize;
        let mut needs_zeros = false;
        for chan in 0..n {
            let mut freq = chan_start;
            while freq_to_mel((freq as f64 * hz_per_bin) as f32) <= centers[chan] {
                freq += 1;
            }
            let width = freq - chan_start;
            actual_starts[chan] = chan_start;
            actual_widths[chan] = width;
            if width == 0 {
                freq_starts[chan] = 0;
                weight_starts[chan] = 0;
                widths[chan] = block as i16;
                if !needs_zeros {
                    needs_zeros = true;
                    for w in weight_starts.iter_mut().take(chan) {
                        *w += block as i16;
                    }
                    weight_index += block;
                }
            } else {
                let aligned_start = chan_start / index_alignment * index_alignment;
                let aligned_width = chan_start - aligned_start + width;
                let padded = ((aligned_width - 1) / block + 1) * block;
                freq_starts[chan] = aligned_start as i16;
                weight_starts[chan] = weight_index as i16;
                widths[chan] = padded as i16;
                weight_index += padded;
            }
            chan_start = freq;
        }
        let mut weights = vec![0i16; weight_index];
        let mut unweights = vec![0i16; weight_index];
        let mut end_index = 0;
        let mel_low = freq_to_mel(lower as f32);
        for chan in 0..n {
            let mut frequency = actual_starts[chan];
            let offset = frequency - freq_starts[chan] as usize;
            let start = weight_starts[chan] as usize;
            let denom = if chan == 0 {
                mel_low
            } else {
                centers[chan - 1]
            };
            for j in 0..actual_widths[chan] {
                let num = centers[chan] - freq_to_mel((frequency as f64 * hz_per_bin) as f32);
                let weight = num / (centers[chan] - denom);
                // int(w * 2^12) and int((1 - w) * 2^12), truncating.
                weights[start + offset + j] = (weight * 4096.0) as i16;
                unweights[start + offset + j] = ((1.0f32 - weight) * 4096.0) as i16;
                frequency += 1;
            }
            end_index = end_index.max(frequency);
        }
        (
            start_index,
            end_index,
            weights,
            unweights,
            freq_starts,
            weight_starts,
            widths,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    #[test]
    fn matches_tflm_test_vectors() {
        // Header: sample_rate channels lower upper; then (input, expected) pairs.
        // Tables as filter_bank_ops.py makes them (alignment 1, block size 1).
        let lines = lines("filter_bank_test1.txt");
        let h = &lines[0];
        let channels: usize = h[1].parse().unwrap();
        let (_, _, w, u, fs, ws, wd) = generate::tables(
            lines[1].len(),
            h[0].parse().unwrap(),
            1,
            1,
            channels,
            h[2].parse().unwrap(),
            h[3].parse().unwrap(),
        );
        let bank = Bank {
            weights: &w,
            unweights: &u,
            freq_starts: &fs,
            weight_starts: &ws,
            widths: &wd,
        };
        let mut frames = 0;
        for pair in lines[1..].chunks_exact(2) {
            let mut out = vec![0u64; channels];
            accumulate(&bank, channels, &ints::<u32>(&pair[0]), &mut out);
            assert_eq!(out, ints::<u64>(&pair[1]), "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100);
    }

    #[test]
    fn generator_rebuilds_the_micro_speech_tables() {
        // audio_preprocessor_int8.tflite: 40 channels, 125-7500 Hz, 257 bins,
        // alignment 4, channel block size 4; the energy op's bins are [5, 241).
        let path = super::super::testdata::assets()
            .join("tflm/micro_speech/audio_preprocessor_int8.tflite");
        let bytes = std::fs::read(&path).unwrap();
        let model = crate::Model::parse(&bytes).unwrap();
        let graph = model.main();
        let op = (0..graph.operator_count())
            .map(|i| graph.operator(i).unwrap())
            .find(|o| o.code().and_then(|c| c.custom_name()) == Some("SignalFilterBank"))
            .unwrap();
        let table = |k: usize| -> Vec<i16> {
            let t = graph.tensor(op.inputs().get(k).unwrap()).unwrap();
            t.data()
                .chunks(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect()
        };
        let (start, end, w, u, fs, ws, wd) =
            generate::tables(257, 16000.0, 4, 4, 40, 125.0, 7500.0);
        assert_eq!((start, end), (5, 241));
        assert_eq!(
            [w, u, fs, ws, wd],
            [table(1), table(2), table(3), table(4), table(5)]
        );
    }

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
