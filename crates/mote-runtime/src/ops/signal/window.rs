//! SignalWindow: multiplies each frame by int16 window weights,
//! `out = clamp((in * w) >> shift, i16)`. Inputs: 0 frames `[..., n]`,
//! 1 weights `[n]`; option `shift`.

use super::{option_shift, options};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalWindowParams {
    /// Right shift applied to each product.
    pub shift: u32,
    /// Window length (the weights' size).
    pub length: usize,
}

/// Checks the operator and reads its options.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalWindowParams, Error> {
    let map = options(ctx)?;
    let shift = option_shift(ctx, &map, "shift", 32)?;
    let (input, weights, output) = (ctx.input(0)?, ctx.input(1)?, ctx.output(0)?);
    for t in [&input, &weights, &output] {
        ctx.expect_type(t, TensorType::Int16)?;
    }
    ctx.expect_readable::<i16>(&weights)?;
    let length = weights.shape().elements();
    let elements = input.shape().elements();
    if weights.shape().rank() != 1
        || length == 0
        || elements % length != 0
        || output.shape().elements() != elements
    {
        return Err(ctx.invalid("frames are not a whole number of windows"));
    }
    Ok(SignalWindowParams { shift, length })
}

/// Windows every frame.
pub fn eval(params: &SignalWindowParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let weights = ctx.input_as::<i16>(1);
    let (input, output) = ctx.io_as::<i16, i16>(0, 0);
    for (frame, out) in input
        .chunks(params.length)
        .zip(output.chunks_mut(params.length))
    {
        apply_window(frame, weights, params.shift, out);
    }
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalWindowParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// `ApplyWindow`: `out[i] = clamp((in[i] * w[i]) >> shift)` in 32 bits.
pub fn apply_window(input: &[i16], weights: &[i16], shift: u32, output: &mut [i16]) {
    for ((x, w), out) in input.iter().zip(weights).zip(output) {
        let raw = (i32::from(*x) * i32::from(*w)) >> shift;
        *out = raw.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    /// `hann_window_weights` of TFLM's window_op.py:
    /// `round((0.5 - 0.5 cos(2 pi (i + 0.5) / n)) * 2^shift)`.
    fn hann(n: usize, shift: u32) -> Vec<i16> {
        let arg = std::f64::consts::PI * 2.0 / n as f64;
        (0..n)
            .map(|i| {
                let w = 0.5 - 0.5 * (arg * (i as f64 + 0.5)).cos();
                (w * f64::from(1u32 << shift)).round_ties_even() as i16
            })
            .collect()
    }

    #[test]
    fn matches_tflm_test_vectors() {
        let lines = lines("window_test1.txt");
        // Header: `hann int16 12`, then (input, expected output) line pairs.
        assert_eq!(lines[0][..2], ["hann", "int16"]);
        let shift: u32 = lines[0][2].parse().unwrap();
        let n = lines[1].len();
        let weights = hann(n, shift);
        let mut frames = 0;
        for pair in lines[1..].chunks_exact(2) {
            let input: Vec<i16> = ints(&pair[0]);
            let expected: Vec<i16> = ints(&pair[1]);
            let mut out = vec![0i16; n];
            apply_window(&input, &weights, shift, &mut out);
            assert_eq!(out, expected, "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100, "only {frames} frames read");
    }

    #[test]
    fn saturates() {
        // 32767 * 32767 >> 0 does not fit: clamps to 32767; -32768 * 32767 to -32768.
        let mut out = [0i16; 2];
        apply_window(&[32767, -32768], &[32767, 32767], 0, &mut out);
        assert_eq!(out, [32767, -32768]);
    }
}
