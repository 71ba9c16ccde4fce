//! TRANSPOSE: `output[i0, .., in] = input[..]` with axes reordered by `perm`
//! (input 1, a constant int32 vector: output axis `k` is input axis `perm[k]`).
//!
//! As TensorFlow Lite Micro: float32, int8 or int16, rank at most 5.
//! TensorFlow Lite Micro only checks that each `perm` entry is in range; mote
//! also requires a true permutation and the permuted output shape.

use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// The highest rank, as TensorFlow Lite Micro.
pub const MAX_RANK: usize = 5;

/// What `eval` needs, computed once by `prepare`. Unused leading axes have
/// size 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct TransposeParams {
    /// Output dimensions.
    pub dims: [usize; MAX_RANK],
    /// Per output axis, the input's element stride along it.
    pub strides: [usize; MAX_RANK],
    /// Bytes per element.
    pub element: usize,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<TransposeParams, Error> {
    let input = ctx.input(0)?;
    let perm = ctx.input(1)?;
    let output = ctx.output(0)?;
    let dtype = input.dtype();
    if !matches!(
        dtype,
        TensorType::Float32 | TensorType::Int8 | TensorType::Int16
    ) {
        return Err(ctx.unsupported_type(dtype));
    }
    ctx.expect_type(&output, dtype)?;
    ctx.expect_type(&perm, TensorType::Int32)?;
    let (ins, outs) = (input.shape(), output.shape());
    let rank = ins.rank();
    if rank > MAX_RANK || outs.rank() != rank {
        return Err(ctx.invalid("input and output need the same rank, at most 5"));
    }
    if !perm.is_constant() || perm.shape().rank() != 1 || perm.shape().dim(0) != rank {
        return Err(ctx.invalid("perm must be a constant vector with one entry per axis"));
    }
    // Row-major strides of the input.
    let mut input_strides = [0usize; MAX_RANK];
    let mut step = 1;
    for (s, &d) in input_strides.iter_mut().zip(ins.dims()).rev() {
        *s = step;
        step *= d;
    }
    let pad = MAX_RANK - rank;
    let mut params = TransposeParams {
        dims: [1; MAX_RANK],
        strides: [0; MAX_RANK],
        element: dtype.bytes_for(1).unwrap_or(1),
    };
    let mut seen = [false; MAX_RANK];
    for k in 0..rank {
        let p = super::values::get::<i32>(perm.data(), k);
        let p = usize::try_from(p)
            .ok()
            .filter(|&p| p < rank)
            .ok_or(ctx.invalid("perm entry out of range"))?;
        match seen.get_mut(p) {
            Some(s) if !*s => *s = true,
            _ => return Err(ctx.invalid("perm repeats an axis")),
        }
        if outs.dim(k) != ins.dim(p) {
            return Err(ctx.invalid("output shape is not the permuted input's"));
        }
        if let (Some(d), Some(s)) = (
            params.dims.get_mut(pad + k),
            params.strides.get_mut(pad + k),
        ) {
            *d = ins.dim(p);
            *s = input_strides.get(p).copied().unwrap_or(0);
        }
    }
    Ok(params)
}

/// Runs the operator.
pub fn eval(params: &TransposeParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    transpose(params, input, output);
    Ok(())
}

/// The reference kernel: walks the output in order, following the input strides.
pub fn transpose(params: &TransposeParams, input: &[u8], output: &mut [u8]) {
    let e = params.element;
    let mut index = [0usize; MAX_RANK];
    let mut at = 0usize;
    for out in output.chunks_exact_mut(e) {
        if let Some(x) = input.get(at * e..at * e + e) {
            out.copy_from_slice(x);
        }
        for ((i, &d), &s) in index
            .iter_mut()
            .zip(&params.dims)
            .zip(&params.strides)
            .rev()
        {
            *i += 1;
            at = at.wrapping_add(s);
            if *i < d {
                break;
            }
            *i = 0;
            at = at.wrapping_sub(s.wrapping_mul(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_a_matrix() {
        // [[1,2,3],[4,5,6]]^T = [[1,4],[2,5],[3,6]]: output axis 0 walks input
        // columns (stride 1), axis 1 walks rows (stride 3)
        let params = TransposeParams {
            dims: [1, 1, 1, 3, 2],
            strides: [0, 0, 0, 1, 3],
            element: 1,
        };
        let mut out = [0u8; 6];
        transpose(&params, &[1, 2, 3, 4, 5, 6], &mut out);
        assert_eq!(out, [1, 4, 2, 5, 3, 6]);
    }
}
