//! MEAN over constant axes, int8 and float32, as TensorFlow Lite Micro's
//! reference kernels (`reduce_common.cc`, `QuantizedMeanOrSum`).
//!
//! Inputs: 0 the tensor, 1 the axes (int32, constant; negative counts from the
//! end, repeats allowed). Output: the kept dimensions (with ones for the
//! reduced ones under `keep_dims`). Each output sums its inputs in row-major
//! order: the order TensorFlow Lite adds them in.

use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::{TensorType, MAX_RANK};
use crate::quant;

/// Field ids of `ReducerOptions`.
mod field {
    pub const KEEP_DIMS: u16 = 0;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct MeanParams {
    /// Input dimensions.
    pub dims: [usize; MAX_RANK],
    /// Input rank.
    pub rank: usize,
    /// Which axes are reduced.
    pub reduced: [bool; MAX_RANK],
    /// Inputs per output.
    pub count: usize,
    /// The arithmetic.
    pub kind: MeanKind,
}

/// The arithmetic of a MEAN.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum MeanKind {
    /// float32: the sum divided by the count.
    Float32,
    /// int8: the sum minus the zero points, scaled by `in_scale / (out_scale *
    /// count)` folded into one multiplier as TensorFlow Lite does.
    Int8 {
        /// The input zero point.
        input_zero_point: i32,
        /// The output zero point.
        output_zero_point: i32,
        /// The multiplier, with `1 / count` folded in.
        multiplier: i32,
        /// Its shift.
        shift: i32,
    },
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<MeanParams, Error> {
    let input = ctx.input(0)?;
    let axes = ctx.input(1)?;
    let output = ctx.output(0)?;
    ctx.expect_type(&axes, TensorType::Int32)?;
    if !axes.is_constant() {
        return Err(ctx.invalid("MEAN needs constant axes"));
    }
    let shape = input.shape();
    let rank = shape.rank();
    let mut reduced = [false; MAX_RANK];
    for bytes in axes.data().chunks_exact(4) {
        let axis = i32::from_le_bytes(bytes.try_into().unwrap_or([0; 4]));
        let axis = if axis < 0 { axis + rank as i32 } else { axis };
        let slot = usize::try_from(axis)
            .ok()
            .and_then(|a| reduced.get_mut(a).filter(|_| a < rank))
            .ok_or(ctx.invalid("axis out of range"))?;
        *slot = true;
    }
    let mut dims = [1usize; MAX_RANK];
    let mut count = 1usize;
    let mut outputs = 1usize;
    for (axis, (d, r)) in dims.iter_mut().zip(reduced).enumerate().take(rank) {
        *d = shape.dim(axis);
        if r {
            count = count.saturating_mul(*d);
        } else {
            outputs = outputs.saturating_mul(*d);
        }
    }
    if output.shape().elements() != outputs {
        return Err(ctx.invalid("output size does not match the kept dimensions"));
    }
    let _keep_dims = ctx.options().bool(field::KEEP_DIMS);
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Float32 => MeanKind::Float32,
        TensorType::Int8 => {
            let (input_scale, input_zero_point) = ctx.quantization(&input)?;
            let (output_scale, output_zero_point) = ctx.quantization(&output)?;
            let (m, s) =
                quant::quantize_multiplier(f64::from(input_scale) / f64::from(output_scale));
            let (multiplier, shift) = fold_count(m, s, count);
            MeanKind::Int8 {
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(MeanParams {
        dims,
        rank,
        reduced,
        count,
        kind,
    })
}

/// Folds `1 / count` into a quantized multiplier as TensorFlow Lite's
/// `QuantizedMeanOrSum` does: `shift = floor(log2 count)`, capped at 32 and at
/// `31 + shift`; `multiplier * 2^shift / count` truncated.
pub fn fold_count(multiplier: i32, shift: i32, count: usize) -> (i32, i32) {
    if count == 0 {
        return (multiplier, shift);
    }
    let log2 = 63 - (count as u64).leading_zeros() as i32;
    let extra = log2.min(32).min(31 + shift).max(0);
    let folded = ((i64::from(multiplier) << extra) / count as i64) as i32;
    (folded, shift - extra)
}

/// Runs the operator.
pub fn eval(params: &MeanParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    match params.kind {
        MeanKind::Float32 => {
            let (input, output) = ctx.io_as::<f32, f32>(0, 0);
            let count = params.count as f32;
            reduce(params, input, output, 0f32, |s, x| s + x, |s| s / count);
        }
        MeanKind::Int8 {
            input_zero_point,
            output_zero_point,
            multiplier,
            shift,
        } => {
            let (input, output) = ctx.io_as::<i8, i8>(0, 0);
            let offset = i64::from(input_zero_point) * params.count as i64;
            reduce(
                params,
                input,
                output,
                0i32,
                |s, x| s.wrapping_add(i32::from(x)),
                |s| finish_i8(s, offset, multiplier, shift, output_zero_point),
            );
        }
    }
    Ok(())
}

/// The int8 output of a sum: minus `count * input_zero_point` (in 64 bits,
/// truncated to 32 as TensorFlow Lite's cast does), scaled, plus the output
/// zero point, saturated.
fn finish_i8(sum: i32, offset: i64, multiplier: i32, shift: i32, output_zero_point: i32) -> i8 {
    let shifted = (i64::from(sum) - offset) as i32;
    let y = quant::multiply_by_quantized_multiplier(shifted, multiplier, shift)
        .wrapping_add(output_zero_point);
    y.clamp(-128, 127) as i8
}

/// For each output (kept positions, row-major), folds its inputs (reduced
/// positions, row-major) with `add` from `zero`, then writes `finish(sum)`.
fn reduce<I: Copy, S: Copy, O>(
    params: &MeanParams,
    input: &[I],
    output: &mut [O],
    zero: S,
    add: impl Fn(S, I) -> S,
    finish: impl Fn(S) -> O,
) {
    let rank = params.rank.min(MAX_RANK);
    let dims = params.dims.get(..rank).unwrap_or(&[]);
    let reduced = params.reduced.get(..rank).unwrap_or(&[]);
    // Row-major strides of the input.
    let mut strides = [0usize; MAX_RANK];
    let mut stride = 1usize;
    for (s, d) in strides.iter_mut().zip(dims).rev() {
        *s = stride;
        stride = stride.saturating_mul(*d);
    }
    let mut kept = [0usize; MAX_RANK];
    for out in output.iter_mut() {
        let base: usize = kept.iter().zip(&strides).map(|(k, s)| k * s).sum();
        let mut inner = [0usize; MAX_RANK];
        let mut sum = zero;
        loop {
            let at = base
                + inner
                    .iter()
                    .zip(&strides)
                    .map(|(k, s)| k * s)
                    .sum::<usize>();
            if let Some(&x) = input.get(at) {
                sum = add(sum, x);
            }
            if !advance(&mut inner, dims, reduced, true) {
                break;
            }
        }
        *out = finish(sum);
        advance(&mut kept, dims, reduced, false);
    }
}

/// Steps a row-major odometer over the axes whose `reduced` flag equals
/// `over_reduced`; `false` when it wraps around.
fn advance(
    index: &mut [usize; MAX_RANK],
    dims: &[usize],
    reduced: &[bool],
    over_reduced: bool,
) -> bool {
    for axis in (0..dims.len()).rev() {
        if reduced.get(axis).copied() != Some(over_reduced) {
            continue;
        }
        let (Some(i), Some(&d)) = (index.get_mut(axis), dims.get(axis)) else {
            continue;
        };
        *i += 1;
        if *i < d {
            return true;
        }
        *i = 0;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(dims: &[usize], reduced_axes: &[usize], kind: MeanKind) -> MeanParams {
        let mut p = MeanParams {
            dims: [1; MAX_RANK],
            rank: dims.len(),
            reduced: [false; MAX_RANK],
            count: 1,
            kind,
        };
        p.dims[..dims.len()].copy_from_slice(dims);
        for &a in reduced_axes {
            p.reduced[a] = true;
            p.count *= dims[a];
        }
        p
    }

    #[test]
    fn fold_count_as_tensorflow_lite() {
        // count 4: shift 2, (2^30 << 2) / 4 = 2^30, shift - 2.
        assert_eq!(fold_count(1 << 30, 0, 4), (1 << 30, -2));
        // count 49: log2 = 5; 2^35 / 49 = 701,219,150.4 -> 701219150.
        assert_eq!(fold_count(1 << 30, 0, 49), (701_219_150, -5));
        // The cap at 31 + shift: shift -30 allows only 1 more bit.
        assert_eq!(fold_count(1 << 30, -30, 4), (1 << 29, -31));
    }

    #[test]
    fn float_mean_over_middle_axes() {
        // [1, 2, 2, 2] over axes 1, 2: channel 0 = (1 + 3 + 5 + 7) / 4 = 4,
        // channel 1 = (2 + 4 + 6 + 8) / 4 = 5.
        let p = params(&[1, 2, 2, 2], &[1, 2], MeanKind::Float32);
        let input: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let mut out = [0f32; 2];
        reduce(&p, &input, &mut out, 0f32, |s, x| s + x, |s| s / 4.0);
        assert_eq!(out, [4.0, 5.0]);
    }

    #[test]
    fn int8_mean_with_zero_points() {
        // Inputs 10, 11, 12, 14 with zero point 2: 47 - 4 * 2 = 39. Scale
        // ratio 1.0 is (2^30, 1); folding count 4 gives (2^30, -1), i.e. x/4:
        // high mul 39 * 0.5 = 19.5 -> 20, then 20 / 2 = 10; zero point -3: 7.
        let (m, s) = fold_count(1 << 30, 1, 4);
        assert_eq!((m, s), (1 << 30, -1));
        let p = params(&[4], &[0], MeanKind::Float32);
        let mut out = [0i8; 1];
        reduce(
            &p,
            &[10i8, 11, 12, 14],
            &mut out,
            0i32,
            |a, x| a + i32::from(x),
            |a| finish_i8(a, 8, m, s, -3),
        );
        assert_eq!(out, [7]);
    }
}
