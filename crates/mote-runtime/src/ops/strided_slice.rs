//! STRIDED_SLICE: `output = input[begin:end:strides]` per axis (inputs 1-3,
//! constant int32 vectors), with `begin_mask`/`end_mask` (take the whole axis
//! from that side), negative indices (from the end), negative strides (walk
//! backwards) and `shrink_axis_mask` (take one element and drop the axis).
//!
//! As TensorFlow Lite Micro: float32, int8, int16, int32 or bool, rank at most
//! 4. Like TensorFlow Lite Micro, mote ignores `ellipsis_mask`, `new_axis_mask`
//! and `offset` (its `BuildStridedSliceParams` sets them to 0); the output
//! shape must then be what the other fields give.

use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// The highest rank, as TensorFlow Lite Micro (`kMaxDim`).
pub const MAX_RANK: usize = 4;

/// Field ids of `StridedSliceOptions`.
mod field {
    pub const BEGIN_MASK: u16 = 0;
    pub const END_MASK: u16 = 1;
    pub const SHRINK_AXIS_MASK: u16 = 4;
}

/// What `eval` needs, computed once by `prepare`: per axis (unused leading
/// axes count 1), how many elements are taken and the step between them in
/// the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct StridedSliceParams {
    /// Elements taken per axis.
    pub counts: [usize; MAX_RANK],
    /// Input element step per axis (stride times the axis' row-major stride).
    pub steps: [isize; MAX_RANK],
    /// Input index of the first element taken.
    pub first: usize,
    /// Bytes per element.
    pub element: usize,
}

/// The first index and the exclusive end of one axis, as TensorFlow Lite's
/// `StridedSliceStartForAxis` and `StridedSliceEndForAxis` compute them.
fn axis_range(
    size: i64,
    begin: i64,
    end: i64,
    stride: i64,
    masks: (bool, bool, bool),
) -> (i64, i64) {
    let (begin_mask, end_mask, shrink) = masks;
    let clamp = |v: i64| {
        let v = if v < 0 { v + size } else { v };
        if stride > 0 {
            v.clamp(0, size)
        } else {
            v.clamp(-1, size - 1)
        }
    };
    let mut start = clamp(begin);
    if begin_mask {
        start = if stride > 0 { 0 } else { size - 1 };
    }
    if shrink {
        return (start, if start >= size { start } else { start + 1 });
    }
    let mut stop = clamp(end);
    if end_mask {
        stop = if stride > 0 { size } else { -1 };
    }
    (start, stop)
}

/// Iterations of `for (i = start; stride > 0 ? i < stop : i > stop; i += stride)`.
fn iterations(start: i64, stop: i64, stride: i64) -> i64 {
    let (span, step) = if stride > 0 {
        (stop - start, stride)
    } else {
        (start - stop, -stride)
    };
    if span <= 0 {
        0
    } else {
        (span + step - 1) / step
    }
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<StridedSliceParams, Error> {
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    let dtype = input.dtype();
    use TensorType::*;
    if !matches!(dtype, Float32 | Int8 | Int16 | Int32 | Bool) {
        return Err(ctx.unsupported_type(dtype));
    }
    ctx.expect_type(&output, dtype)?;
    let ins = input.shape();
    let rank = ins.rank();
    if rank > MAX_RANK {
        return Err(ctx.invalid("input rank above 4"));
    }
    let mut vectors = [&[][..]; 3];
    for (i, slot) in vectors.iter_mut().enumerate() {
        let t = ctx.input(i + 1)?;
        ctx.expect_type(&t, Int32)?;
        if !t.is_constant() || t.shape().elements() != rank {
            return Err(
                ctx.invalid("begin, end and strides must be constant with one entry per axis")
            );
        }
        *slot = t.data();
    }
    let [begin, end, strides] = vectors;
    let options = ctx.options();
    let mask = |id| options.i32(id, 0);
    let (begin_mask, end_mask, shrink_mask) = (
        mask(field::BEGIN_MASK),
        mask(field::END_MASK),
        mask(field::SHRINK_AXIS_MASK),
    );
    let mut params = StridedSliceParams {
        counts: [1; MAX_RANK],
        steps: [0; MAX_RANK],
        first: 0,
        element: dtype.bytes_for(1).unwrap_or(1),
    };
    let outs = output.shape();
    let mut out_axis = 0;
    let mut row = 1i64;
    let mut first = 0i64;
    let pad = MAX_RANK - rank;
    for axis in (0..rank).rev() {
        let get = |v: &[u8]| i64::from(super::values::get::<i32>(v, axis));
        let stride = get(strides);
        if stride == 0 {
            return Err(ctx.invalid("a stride is 0"));
        }
        let bit = |m: i32| m & (1 << axis) != 0;
        let size = ins.dim(axis) as i64;
        let masks = (bit(begin_mask), bit(end_mask), bit(shrink_mask));
        let (start, stop) = axis_range(size, get(begin), get(end), stride, masks);
        let count = iterations(start, stop, stride);
        // The step only matters when the axis takes two or more elements;
        // then it stays inside the input (checked below) and fits `isize`.
        let step = if count > 1 {
            stride
                .checked_mul(row)
                .and_then(|v| isize::try_from(v).ok())
                .ok_or(ctx.invalid("slice step too large"))?
        } else {
            0
        };
        if let (Some(c), Some(s)) = (
            params.counts.get_mut(pad + axis),
            params.steps.get_mut(pad + axis),
        ) {
            *c = count as usize;
            *s = step;
        }
        first = start
            .checked_mul(row)
            .and_then(|v| v.checked_add(first))
            .ok_or(ctx.invalid("slice too large"))?;
        row = row.saturating_mul(size);
    }
    // The output shape as TensorFlow Lite Micro's `CheckOutputSize` checks it:
    // one dimension per axis not shrunk, in order.
    for axis in 0..rank {
        if shrink_mask & (1 << axis) == 0 {
            if outs.dims().get(out_axis) != params.counts.get(pad + axis) {
                return Err(ctx.invalid("output shape differs from the slice's"));
            }
            out_axis += 1;
        }
    }
    let taken: usize = params.counts.iter().product();
    if out_axis != outs.rank() || taken != outs.elements() {
        return Err(ctx.invalid("output shape differs from the slice's"));
    }
    if taken > 0 {
        // Every index taken lies in the input: check the first and the last.
        let last = params
            .counts
            .iter()
            .zip(&params.steps)
            .try_fold(first, |at, (&c, &s)| {
                (c as i64 - 1)
                    .checked_mul(s as i64)
                    .and_then(|v| v.checked_add(at))
            })
            .ok_or(ctx.invalid("slice too large"))?;
        if first < 0 || last < 0 || first >= row || last >= row {
            return Err(ctx.invalid("slice reaches outside the input"));
        }
        params.first = first as usize;
    }
    Ok(params)
}

/// Runs the operator.
pub fn eval(params: &StridedSliceParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    strided_slice(params, input, output);
    Ok(())
}

/// The reference kernel: walks the output in order.
pub fn strided_slice(params: &StridedSliceParams, input: &[u8], output: &mut [u8]) {
    let e = params.element;
    let mut index = [0usize; MAX_RANK];
    let mut at = params.first;
    for out in output.chunks_exact_mut(e) {
        if let Some(x) = input.get(at * e..at * e + e) {
            out.copy_from_slice(x);
        }
        for ((i, &c), &s) in index
            .iter_mut()
            .zip(&params.counts)
            .zip(&params.steps)
            .rev()
        {
            *i += 1;
            at = at.wrapping_add_signed(s);
            if *i < c {
                break;
            }
            *i = 0;
            at = at.wrapping_add_signed(s.wrapping_mul(c as isize).wrapping_neg());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ranges() {
        // x[1:-1] of 5 -> indices 1..4
        assert_eq!(axis_range(5, 1, -1, 1, (false, false, false)), (1, 4));
        // x[::-2] of 5 -> from 4 down past -1: 4, 2, 0
        let (s, e) = axis_range(5, 0, 0, -2, (true, true, false));
        assert_eq!((s, e, iterations(s, e, -2)), (4, -1, 3));
        // x[-1] shrunk -> [4, 5)
        assert_eq!(axis_range(5, -1, 0, 1, (false, false, true)), (4, 5));
        // begin past the end clamps to the size: nothing taken
        let (s, e) = axis_range(3, 7, 9, 1, (false, false, false));
        assert_eq!(iterations(s, e, 1), 0);
    }

    #[test]
    fn reverses_rows() {
        // [[1,2,3],[4,5,6]][::-1, 1:] = [[5,6],[2,3]]
        let params = StridedSliceParams {
            counts: [1, 1, 2, 2],
            steps: [0, 0, -3, 1],
            first: 4,
            element: 1,
        };
        let mut out = [0u8; 4];
        strided_slice(&params, &[1, 2, 3, 4, 5, 6], &mut out);
        assert_eq!(out, [5, 6, 2, 3]);
    }
}
