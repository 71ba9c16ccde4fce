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
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
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

/// Host-side generator of the gain LUT, ported from TFLM's
/// `wide_dynamic_func_lut_wrapper.cc`, for tests.
#[cfg(test)]
pub(crate) mod generate {
    use super::LUT_LEN;

    /// `PcanGainLookupFunction`: `2^gain_bits * (x / 2^input_bits + offset)^-strength`
    /// in 32-bit float, rounded, saturated to int16.
    fn gain(strength: f32, offset: f32, gain_bits: u32, input_bits: u32, x: u32) -> i16 {
        let x = x as f32 / (1u32 << input_bits) as f32;
        let g = (1u32 << gain_bits) as f32 * (x + offset).powf(-strength);
        if g > 32767.0 {
            32767
        } else {
            (g + 0.5) as i16
        }
    }

    /// The LUT for the given PCAN parameters.
    pub fn lut(strength: f32, offset: f32, input_bits: u32, gain_bits: u32) -> Vec<i16> {
        let mut lut = vec![0i16; LUT_LEN + 1 + 6];
        // Entries are written at 4 * interval - 6 + k; shift everything by 6.
        lut[6] = gain(strength, offset, gain_bits, input_bits, 0);
        lut[7] = gain(strength, offset, gain_bits, input_bits, 1);
        for interval in 2..=32u32 {
            let x0 = 1u32 << (interval - 1);
            let x1 = x0 + (x0 >> 1);
            let x2 = if interval == 32 {
                x0 + (x0 - 1)
            } else {
                2 * x0
            };
            let y0 = gain(strength, offset, gain_bits, input_bits, x0);
            let y1 = gain(strength, offset, gain_bits, input_bits, x1);
            let y2 = gain(strength, offset, gain_bits, input_bits, x2);
            let (d1, d2) = (i32::from(y1) - i32::from(y0), i32::from(y2) - i32::from(y0));
            let a1 = 4 * d1 - d2;
            let a2 = d2 - a1;
            let at = 4 * interval as usize;
            lut[at] = y0;
            lut[at + 1] = a1 as i16;
            lut[at + 2] = a2 as i16;
            lut[at + 3] = 0;
        }
        lut[6..6 + LUT_LEN].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    #[test]
    fn matches_tflm_test_vectors() {
        // Header: strength offset gain_bits smoothing_bits input_correction_bits;
        // then (input, noise estimate, expected) triplets. As pcan_op.py: the
        // LUT's input bits are smoothing - correction bits; snr_shift is 6.
        let lines = lines("pcan_op_test1.txt");
        let h = &lines[0];
        let bits = |i: usize| h[i].parse::<u32>().unwrap();
        let lut = generate::lut(
            h[0].parse().unwrap(),
            h[1].parse().unwrap(),
            bits(3) - bits(4),
            bits(2),
        );
        let mut frames = 0;
        for t in lines[1..].chunks_exact(3) {
            let input: Vec<u32> = ints(&t[0]);
            let mut out = vec![0u32; input.len()];
            pcan(&lut, 6, &input, &ints::<u32>(&t[1]), &mut out);
            assert_eq!(out, ints::<u32>(&t[2]), "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100);
    }

    #[test]
    fn generator_rebuilds_the_micro_speech_lut() {
        // strength 0.95, offset 80, gain_bits 21, smoothing 10 - correction 3 = 7.
        let path = super::super::testdata::assets()
            .join("tflm/micro_speech/audio_preprocessor_int8.tflite");
        let bytes = std::fs::read(&path).unwrap();
        let model = crate::Model::parse(&bytes).unwrap();
        let graph = model.main();
        let op = (0..graph.operator_count())
            .map(|i| graph.operator(i).unwrap())
            .find(|o| o.code().and_then(|c| c.custom_name()) == Some("SignalPCAN"))
            .unwrap();
        let t = graph.tensor(op.inputs().get(2).unwrap()).unwrap();
        let stored: Vec<i16> = t
            .data()
            .chunks(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(generate::lut(0.95, 80.0, 7, 21), stored);
    }

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
