//! SQUEEZE: drops dimensions of size 1; the bytes are copied unchanged.
//!
//! Options: `squeeze_dims` (empty = every dimension of size 1; negative
//! counts from the end). As TensorFlow Lite Micro, any fixed-size type.

use super::{EvalContext, PrepareContext};
use crate::error::Error;

/// Field ids of `SqueezeOptions`.
mod field {
    pub const SQUEEZE_DIMS: u16 = 0;
}

/// What `eval` needs: nothing but the byte count, checked in `prepare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SqueezeParams {
    /// Bytes copied.
    pub bytes: usize,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SqueezeParams, Error> {
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    ctx.expect_type(&output, input.dtype())?;
    let dims = input.shape();
    let rank = dims.rank() as i64;
    let squeeze = ctx
        .options()
        .i32s(field::SQUEEZE_DIMS)
        .map_err(|_| ctx.invalid("squeeze_dims is malformed"))?;
    for d in squeeze.iter() {
        let axis = if d < 0 {
            i64::from(d) + rank
        } else {
            i64::from(d)
        };
        if axis < 0 || axis >= rank || dims.dim(axis as usize) != 1 {
            return Err(ctx.invalid("a squeeze dimension is out of range or not of size 1"));
        }
    }
    copy_params(ctx, &input, &output).map(|bytes| SqueezeParams { bytes })
}

/// The byte count of a copy from `input` to `output`, which must match.
pub(crate) fn copy_params(
    ctx: &PrepareContext<'_, '_>,
    input: &crate::model::Tensor<'_>,
    output: &crate::model::Tensor<'_>,
) -> Result<usize, Error> {
    let bytes = input
        .dtype()
        .bytes_for(input.shape().elements())
        .ok_or(ctx.unsupported_type(input.dtype()))?;
    if output.byte_len() != bytes || input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("output size differs from the input's"));
    }
    Ok(bytes)
}

/// Runs the operator.
pub fn eval(params: &SqueezeParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    copy(params.bytes, input, output);
    Ok(())
}

/// Copies `bytes` bytes of `input` to `output` (nothing if either is shorter).
pub(crate) fn copy(bytes: usize, input: &[u8], output: &mut [u8]) {
    if let (Some(from), Some(to)) = (input.get(..bytes), output.get_mut(..bytes)) {
        to.copy_from_slice(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_bytes() {
        // [1, 2, 1] -> [2]: the same two floats
        let mut out = [0u8; 8];
        copy(8, &[1, 2, 3, 4, 5, 6, 7, 8], &mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
