//! SignalFilterBankLog: `output_scale * ln(x << input_correction_bits)` per
//! channel in fixed point (0 for inputs of 0 or 1), saturated to int16.
//! Input uint32 `[channels]`; output int16 `[channels]`.

use super::{expect_rank, most_significant_bit32, option_i32, option_shift, options};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalFilterBankLogParams {
    /// Left shift applied to each input.
    pub input_correction_bits: u32,
    /// Scale of the output (`1 << 6` in micro_speech).
    pub output_scale: u32,
}

/// Checks the operator and reads its options.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalFilterBankLogParams, Error> {
    let map = options(ctx)?;
    let input_correction_bits = option_shift(ctx, &map, "input_correction_bits", 32)?;
    // An int32 option used as uint32, as in TFLM.
    let output_scale = option_i32(ctx, &map, "output_scale")? as u32;
    let (input, output) = (ctx.input(0)?, ctx.output(0)?);
    expect_rank(ctx, &input, 1)?;
    expect_rank(ctx, &output, 1)?;
    ctx.expect_type(&input, TensorType::UInt32)?;
    ctx.expect_type(&output, TensorType::Int16)?;
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("input and output sizes differ"));
    }
    Ok(SignalFilterBankLogParams {
        input_correction_bits,
        output_scale,
    })
}

/// Takes the logarithms.
pub fn eval(params: &SignalFilterBankLogParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io_as::<u32, i16>(0, 0);
    filter_bank_log(
        input,
        params.output_scale,
        params.input_correction_bits,
        output,
    );
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalFilterBankLogParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// `FilterbankLog`.
pub fn filter_bank_log(input: &[u32], output_scale: u32, correction_bits: u32, output: &mut [i16]) {
    for (x, out) in input.iter().zip(output) {
        let scaled = x.wrapping_shl(correction_bits);
        *out = if scaled > 1 {
            log32(scaled, output_scale).min(i16::MAX as u32) as i16
        } else {
            0
        };
    }
}

/// Interpolation table of `log2(1 + x) - x` over 128 segments, scaled by 2^16
/// (`kLogLut` of TFLM's `signal/src/log.cc`).
const LOG_LUT: [u16; 130] = [
    0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944,
    3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714,
    4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533,
    5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568,
    5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944,
    4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759,
    3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090,
    1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963, 830, 695, 559, 421, 282, 142, 0, 0,
];

/// The fraction part of `log2(x)` with 16 bits, `x` having its top bit at `log2x`.
fn log2_fraction(x: u32, log2x: u32) -> u32 {
    // int32 in C; x - 2^log2x < 2^31.
    let mut frac = (i64::from(x) - (1i64 << log2x)) as i32;
    if log2x < 16 {
        frac <<= 16 - log2x;
    } else {
        frac >>= log2x - 16;
    }
    let base_seg = (frac >> 9) as u32;
    let lut = |i: u32| i32::from(LOG_LUT.get(i as usize).copied().unwrap_or(0));
    let (c0, c1) = (lut(base_seg), lut(base_seg + 1));
    let seg_base = (512 * base_seg) as i32;
    let rel_pos = (c1 - c0).wrapping_mul(frac - seg_base) >> 16;
    (frac + c0 + rel_pos) as u32
}

/// `Log32`: `out_scale * ln(x)`, rounded, for `x > 1`.
pub fn log32(x: u32, out_scale: u32) -> u32 {
    let integer = most_significant_bit32(x) - 1;
    let fraction = log2_fraction(x, integer);
    let log2 = (integer << 16).wrapping_add(fraction);
    let round: u32 = 1 << 15;
    // ln(x) = log2(x) * ln(2); ln(2) = 45426 / 2^16.
    let loge = ((45426u64 * u64::from(log2) + u64::from(round)) >> 16) as u32;
    out_scale.wrapping_mul(loge).wrapping_add(round) >> 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_tflm_python_test() {
        // testFilterBankLog of TFLM's filter_bank_ops_test.py.
        let input = [
            29, 21, 29, 40, 19, 11, 13, 23, 13, 11, 25, 17, 5, 4, 46, 14, 17, 14, 20, 14, 10, 10,
            15, 11, 17, 12, 15, 16, 19, 18, 6, 2,
        ];
        let expected = [
            8715, 8198, 8715, 9229, 8038, 7164, 7431, 8344, 7431, 7164, 8477, 7860, 5902, 5545,
            9453, 7550, 7860, 7550, 8120, 7550, 7011, 7011, 7660, 7164, 7860, 7303, 7660, 7763,
            8038, 7952, 6194, 4436,
        ];
        let mut out = [0i16; 32];
        filter_bank_log(&input, 1600, 3, &mut out);
        assert_eq!(out, expected);
    }

    #[test]
    fn small_inputs_are_zero_and_large_saturate() {
        let mut out = [0i16; 3];
        // 0 and 1 give 0; 2^31 * 64000 scale overflows int16 and saturates.
        filter_bank_log(&[0, 1, 1 << 31], 64000, 0, &mut out);
        assert_eq!(out[..2], [0, 0]);
        assert_eq!(out[2], i16::MAX);
    }
}
