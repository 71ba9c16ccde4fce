//! SignalFftAutoScale: shifts a frame left as far as its largest magnitude
//! allows (so the int16 FFT keeps precision) and outputs the shift.
//! Input int16 `[n]`; outputs int16 `[n]` and the int32 scalar shift.

use super::{expect_rank, most_significant_bit32, take_output};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// What `eval` needs (nothing: the sizes are the tensors').
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalFftAutoScaleParams;

/// Checks the operator.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalFftAutoScaleParams, Error> {
    let (input, output, scale) = (ctx.input(0)?, ctx.output(0)?, ctx.output(1)?);
    expect_rank(ctx, &input, 1)?;
    expect_rank(ctx, &output, 1)?;
    expect_rank(ctx, &scale, 0)?;
    ctx.expect_type(&input, TensorType::Int16)?;
    ctx.expect_type(&output, TensorType::Int16)?;
    ctx.expect_type(&scale, TensorType::Int32)?;
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("input and output sizes differ"));
    }
    Ok(SignalFftAutoScaleParams)
}

/// Scales the frame and writes the shift.
pub fn eval(_: &SignalFftAutoScaleParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let input = ctx.input_as::<i16>(0);
    let output = take_output::<i16>(ctx, 0);
    let scale = take_output::<i32>(ctx, 1);
    let bits = fft_auto_scale(input, output);
    if let Some(s) = scale.first_mut() {
        *s = bits;
    }
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalFftAutoScaleParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// `MaxAbs16` as TFLM's portable C++ writes it: `-value` of -32768 wraps back
/// to -32768 when stored, after which any larger value replaces it.
fn max_abs16(input: &[i16]) -> i16 {
    let mut max: i16 = 0;
    for &value in input {
        if value > max {
            max = value;
        } else if -i32::from(value) > i32::from(max) {
            max = value.wrapping_neg();
        }
    }
    max
}

/// `FftAutoScale`: returns the shift and writes `input << shift` to `output`.
pub fn fft_auto_scale(input: &[i16], output: &mut [i16]) -> i32 {
    let max = max_abs16(input);
    // `MostSignificantBit32` of the int16 max, converted to uint32 as C does.
    let bits = 16 - most_significant_bit32(i32::from(max) as u32) as i32 - 1;
    let bits = bits.max(0);
    for (x, out) in input.iter().zip(output) {
        *out = (i32::from(*x).wrapping_mul(1 << bits)) as i16;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    #[test]
    fn matches_tflm_test_vectors() {
        // Triplets: input, expected output, expected shift.
        let lines = lines("fft_auto_scale_test1.txt");
        let mut frames = 0;
        for t in lines.chunks_exact(3) {
            let input: Vec<i16> = ints(&t[0]);
            let mut out = vec![0i16; input.len()];
            let bits = fft_auto_scale(&input, &mut out);
            assert_eq!(out, ints::<i16>(&t[1]), "frame {frames}");
            assert_eq!(bits, t[2][0].parse::<i32>().unwrap(), "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100);
    }

    #[test]
    fn zero_and_extremes() {
        let mut out = [0i16; 2];
        // All zero: MSB32(0) is 32 in TFLM's GCC build, so the shift is 0.
        assert_eq!(fft_auto_scale(&[0, 0], &mut out), 0);
        // 1 has its top bit at 1: shift 14 makes it 16384.
        assert_eq!(fft_auto_scale(&[1, -1], &mut out), 14);
        assert_eq!(out, [16384, -16384]);
        // -32768 stored as its wrapped magnitude -32768 gives shift 0 ...
        assert_eq!(fft_auto_scale(&[3, -32768], &mut out), 0);
        // ... but a later 3 replaces it (3 > -32768), as in TFLM: shift 13.
        assert_eq!(fft_auto_scale(&[-32768, 3], &mut out), 13);
    }
}
