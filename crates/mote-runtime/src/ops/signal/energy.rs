//! SignalEnergy: the power `re^2 + im^2` of spectrum bins
//! `[start_index, end_index)`. Input int16 `[2k]` (interleaved complex);
//! output uint32 `[k]`.

use super::{expect_rank, option_i32, options};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalEnergyParams {
    /// First bin computed.
    pub start: usize,
    /// One past the last bin computed.
    pub end: usize,
}

/// Checks the operator and reads its options.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SignalEnergyParams, Error> {
    let map = options(ctx)?;
    let start = option_i32(ctx, &map, "start_index")?;
    let end = option_i32(ctx, &map, "end_index")?;
    let (input, output) = (ctx.input(0)?, ctx.output(0)?);
    expect_rank(ctx, &input, 1)?;
    expect_rank(ctx, &output, 1)?;
    ctx.expect_type(&input, TensorType::Int16)?;
    ctx.expect_type(&output, TensorType::UInt32)?;
    let bins = output.shape().elements().min(input.shape().elements() / 2);
    let (start, end) = match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) if s <= e && e <= bins => (s, e),
        _ => return Err(ctx.invalid("start_index..end_index is not within the spectrum")),
    };
    Ok(SignalEnergyParams { start, end })
}

/// Computes the energies.
pub fn eval(params: &SignalEnergyParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io_as::<i16, u32>(0, 0);
    energy(input, params.start, params.end, output);
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalEnergyParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// `SpectrumToEnergy`. TFLM leaves bins outside `[start, end)` untouched (they
/// hold whatever the arena held); here they are set to zero, so the output
/// is deterministic. The int32 sum wraps for a (-32768, -32768) bin, as in C.
pub fn energy(input: &[i16], start: usize, end: usize, output: &mut [u32]) {
    for (i, out) in output.iter_mut().enumerate() {
        *out = if (start..end).contains(&i) {
            let re = i32::from(input.get(2 * i).copied().unwrap_or(0));
            let im = i32::from(input.get(2 * i + 1).copied().unwrap_or(0));
            (re * re).wrapping_add(im * im) as u32
        } else {
            0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    #[test]
    fn matches_tflm_test_vectors() {
        // Header: start end; then (input, expected) pairs, compared on [start, end).
        let lines = lines("energy_test1.txt");
        let start: usize = lines[0][0].parse().unwrap();
        let end: usize = lines[0][1].parse().unwrap();
        let mut frames = 0;
        for pair in lines[1..].chunks_exact(2) {
            let input: Vec<i16> = ints(&pair[0]);
            let expected: Vec<u32> = ints(&pair[1]);
            let mut out = vec![0u32; input.len() / 2];
            energy(&input, start, end, &mut out);
            assert_eq!(out[start..end], expected[start..end], "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100);
    }

    #[test]
    fn extreme_bin_wraps_like_c() {
        // (-32768)^2 * 2 = 2^31: int32 overflow, read back as uint32 2^31.
        let mut out = [0u32; 2];
        energy(&[-32768, -32768, 3, 4], 0, 2, &mut out);
        assert_eq!(out, [1 << 31, 25]);
    }
}
