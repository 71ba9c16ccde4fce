//! PAD (and PADV2): surrounds the input with a constant, per dimension
//! `paddings[d] = [before, after]` (input 1, a constant int32 `[rank, 2]`).
//!
//! As TensorFlow Lite Micro: float32, int8, int16 or int32, rank at most 5.
//! The pad value is PADV2's input 2 when present, otherwise 0 — and for int8
//! the output's zero point, but for int16 a raw 0 whatever the zero point
//! (TensorFlow Lite Micro's `PadEval` does so; int16 zero points are 0 in
//! practice).

use super::quantization::per_tensor;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// The highest rank, as TensorFlow Lite's `PadKernelMaxDimensionCount`.
pub const MAX_RANK: usize = 5;

/// What `eval` needs, computed once by `prepare`. Shapes are left-padded to
/// [`MAX_RANK`] dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct PadParams {
    /// Output dimensions.
    pub output: [usize; MAX_RANK],
    /// Padding before each dimension.
    pub before: [usize; MAX_RANK],
    /// Input dimensions.
    pub input: [usize; MAX_RANK],
    /// Bytes per element.
    pub element: usize,
    /// The pad value's bytes, when it does not come from input 2.
    pub value: [u8; 4],
    /// Whether the pad value is input 2's first element.
    pub value_from_input: bool,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<PadParams, Error> {
    let input = ctx.input(0)?;
    let paddings = ctx.input(1)?;
    let constant = ctx.optional_input(2);
    let output = ctx.output(0)?;
    let dtype = input.dtype();
    use TensorType::*;
    if !matches!(dtype, Float32 | Int8 | Int16 | Int32) {
        return Err(ctx.unsupported_type(dtype));
    }
    ctx.expect_type(&output, dtype)?;
    let (ins, outs) = (input.shape(), output.shape());
    let rank = ins.rank();
    if rank > MAX_RANK || outs.rank() != rank {
        return Err(ctx.invalid("input and output need the same rank, at most 5"));
    }
    ctx.expect_type(&paddings, Int32)?;
    if !paddings.is_constant() {
        return Err(ctx.invalid("paddings must be constant"));
    }
    if paddings.shape().elements() != 2 * rank {
        return Err(ctx.invalid("paddings must hold a pair per dimension"));
    }
    let pad = MAX_RANK - rank;
    let mut params = PadParams {
        output: [1; MAX_RANK],
        before: [0; MAX_RANK],
        input: [1; MAX_RANK],
        element: dtype.bytes_for(1).unwrap_or(1),
        value: [0; 4],
        value_from_input: false,
    };
    for d in 0..rank {
        let before = super::values::get::<i32>(paddings.data(), 2 * d);
        let after = super::values::get::<i32>(paddings.data(), 2 * d + 1);
        let (Ok(before), Ok(after)) = (usize::try_from(before), usize::try_from(after)) else {
            return Err(ctx.invalid("paddings must not be negative"));
        };
        let padded = ins
            .dim(d)
            .checked_add(before)
            .and_then(|n| n.checked_add(after));
        if padded != Some(outs.dim(d)) {
            return Err(ctx.invalid("output shape is not the padded input's"));
        }
        if let (Some(o), Some(b), Some(i)) = (
            params.output.get_mut(pad + d),
            params.before.get_mut(pad + d),
            params.input.get_mut(pad + d),
        ) {
            (*o, *b, *i) = (outs.dim(d), before, ins.dim(d));
        }
    }
    let out_q = per_tensor(&output).ok_or(ctx.invalid("bad zero point"))?;
    match constant {
        Some(c) => {
            ctx.expect_type(&c, dtype)?;
            if c.shape().elements() != 1 {
                return Err(ctx.invalid("the pad value must be a scalar"));
            }
            if dtype == Int8 && per_tensor(&c) != Some(out_q) {
                return Err(ctx.invalid("the int8 pad value must share the output's quantization"));
            }
            params.value_from_input = true;
        }
        None if dtype == Int8 => {
            let zero = i8::try_from(out_q.zero_point)
                .map_err(|_| ctx.invalid("output zero point outside int8"))?;
            params.value = [zero as u8, 0, 0, 0];
        }
        None => {}
    }
    Ok(params)
}

/// Runs the operator.
pub fn eval(params: &PadParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let value = if params.value_from_input {
        ctx.input(2)
    } else {
        &params.value[..]
    };
    let value = value.get(..params.element).unwrap_or(&[]);
    let (input, output) = ctx.io(0, 0);
    pad(params, input, value, output);
    Ok(())
}

/// The reference kernel: walks the output in order, taking the next input
/// element inside the padded box and `value` outside it.
pub fn pad(params: &PadParams, input: &[u8], value: &[u8], output: &mut [u8]) {
    let mut from = input.chunks_exact(params.element);
    let mut index = [0usize; MAX_RANK];
    for out in output.chunks_exact_mut(params.element) {
        let inside = index
            .iter()
            .zip(&params.before)
            .zip(&params.input)
            .all(|((&i, &b), &n)| i >= b && i - b < n);
        let source = if inside { from.next() } else { Some(value) };
        if let Some(source) = source {
            if source.len() == out.len() {
                out.copy_from_slice(source);
            }
        }
        for (i, &d) in index.iter_mut().zip(&params.output).rev() {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_a_row() {
        // [1, 2] padded [[1, 2]] with 9 -> [9, 1, 2, 9, 9]
        let params = PadParams {
            output: [1, 1, 1, 1, 5],
            before: [0, 0, 0, 0, 1],
            input: [1, 1, 1, 1, 2],
            element: 1,
            value: [9, 0, 0, 0],
            value_from_input: false,
        };
        let mut out = [0u8; 5];
        pad(&params, &[1, 2], &[9], &mut out);
        assert_eq!(out, [9, 1, 2, 9, 9]);
    }

    #[test]
    fn pads_around_a_matrix() {
        // [[1,2],[3,4]] padded [[1,0],[0,1]] with 0 ->
        // [[0,0,0],[1,2,0],[3,4,0]]
        let params = PadParams {
            output: [1, 1, 1, 3, 3],
            before: [0, 0, 0, 1, 0],
            input: [1, 1, 1, 2, 2],
            element: 1,
            value: [0; 4],
            value_from_input: false,
        };
        let mut out = [7u8; 9];
        pad(&params, &[1, 2, 3, 4], &[0], &mut out);
        assert_eq!(out, [0, 0, 0, 1, 2, 0, 3, 4, 0]);
    }
}
