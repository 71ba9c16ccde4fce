//! CONCATENATION: joins up to [`MAX_INPUTS`] tensors along `axis`; the bytes
//! are copied unchanged.
//!
//! As TensorFlow Lite Micro: float32, int8, int16, int32, int64 or bool; no
//! fused activation; int8 inputs must share the output's scale and zero point
//! (no requantization), int16 inputs and output must have zero point 0.

use super::quantization::per_tensor;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// The most inputs, as TensorFlow Lite Micro's `kMaxInputNum`.
pub const MAX_INPUTS: usize = 10;
/// The highest rank, as TensorFlow Lite Micro's `RuntimeShape::kMaxSmallSize`.
const MAX_RANK: usize = 6;

/// Field ids of `ConcatenationOptions`.
mod field {
    pub const AXIS: u16 = 0;
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 1;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct ConcatenationParams {
    /// Product of the dimensions before the axis.
    pub outer: usize,
    /// Number of inputs.
    pub inputs: usize,
    /// Per input, the bytes it contributes per outer index.
    pub chunk: [usize; MAX_INPUTS],
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<ConcatenationParams, Error> {
    let output = ctx.output(0)?;
    let dtype = output.dtype();
    use TensorType::*;
    if !matches!(dtype, Float32 | Int8 | Int16 | Int32 | Int64 | Bool) {
        return Err(ctx.unsupported_type(dtype));
    }
    let options = ctx.options();
    if options.u8(field::FUSED_ACTIVATION_FUNCTION, 0) != 0 {
        return Err(ctx.invalid("a fused activation is not supported"));
    }
    let count = ctx.input_count();
    if count == 0 || count > MAX_INPUTS {
        return Err(ctx.invalid("needs 1 to 10 inputs"));
    }
    let shape = output.shape();
    let rank = shape.rank();
    if rank > MAX_RANK {
        return Err(ctx.invalid("rank above 6"));
    }
    let mut axis = i64::from(options.i32(field::AXIS, 0));
    if axis < 0 {
        axis += rank as i64;
    }
    if axis < 0 || axis >= rank as i64 {
        return Err(ctx.invalid("axis is out of range"));
    }
    let axis = axis as usize;
    let out_q = per_tensor(&output).ok_or(ctx.invalid("bad zero point"))?;
    if dtype == Int16 && out_q.zero_point != 0 {
        return Err(ctx.invalid("int16 output needs zero point 0"));
    }
    let dims = shape.dims();
    let inner: usize = dims.get(axis + 1..).unwrap_or(&[]).iter().product();
    let element = dtype.bytes_for(1).unwrap_or(1);
    let mut chunk = [0usize; MAX_INPUTS];
    let mut total_axis = 0usize;
    for (i, slot) in chunk.iter_mut().enumerate().take(count) {
        let input = ctx.input(i)?;
        ctx.expect_type(&input, dtype)?;
        let q = per_tensor(&input).ok_or(ctx.invalid("bad zero point"))?;
        if dtype == Int8 && q != out_q {
            return Err(ctx.invalid("int8 inputs must share the output's scale and zero point"));
        }
        if dtype == Int16 && q.zero_point != 0 {
            return Err(ctx.invalid("int16 inputs need zero point 0"));
        }
        let s = input.shape();
        let same_rank = s.rank() == rank;
        let others_match = s
            .dims()
            .iter()
            .zip(dims)
            .enumerate()
            .all(|(d, (a, b))| d == axis || a == b);
        if !same_rank || !others_match {
            return Err(ctx.invalid("input shapes differ off the axis"));
        }
        total_axis += s.dim(axis);
        *slot = s.dim(axis) * inner * element;
    }
    if total_axis != shape.dim(axis) {
        return Err(ctx.invalid("output axis is not the sum of the inputs'"));
    }
    Ok(ConcatenationParams {
        outer: dims.get(..axis).unwrap_or(&[]).iter().product(),
        inputs: count,
        chunk,
    })
}

/// Runs the operator.
pub fn eval(params: &ConcatenationParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let mut inputs = [&[][..]; MAX_INPUTS];
    for (i, slot) in inputs.iter_mut().enumerate().take(params.inputs) {
        *slot = ctx.input(i);
    }
    concatenate(params, &inputs, ctx.output(0));
    Ok(())
}

/// The reference kernel: for each outer index, each input's chunk in turn.
pub fn concatenate(params: &ConcatenationParams, inputs: &[&[u8]], output: &mut [u8]) {
    let mut out = output.iter_mut();
    for k in 0..params.outer {
        for (input, &len) in inputs.iter().zip(&params.chunk).take(params.inputs) {
            let from = input.get(k * len..(k + 1) * len).unwrap_or(&[]);
            // `from` first: zip stops on it without taking another output byte.
            for (x, o) in from.iter().zip(out.by_ref()) {
                *o = *x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_chunks() {
        // [[1,2],[3,4]] ++ [[5],[6]] along axis 1 -> [[1,2,5],[3,4,6]] (int8)
        let mut chunk = [0; MAX_INPUTS];
        chunk[0] = 2;
        chunk[1] = 1;
        let params = ConcatenationParams {
            outer: 2,
            inputs: 2,
            chunk,
        };
        let mut out = [0u8; 6];
        concatenate(&params, &[&[1, 2, 3, 4], &[5, 6]], &mut out);
        assert_eq!(out, [1, 2, 5, 3, 4, 6]);
    }
}
