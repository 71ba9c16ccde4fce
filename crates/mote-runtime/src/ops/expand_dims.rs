//! EXPAND_DIMS: inserts a dimension of size 1 at `axis` (input 1, a constant
//! int32 scalar; negative counts from the end); the bytes are copied unchanged.
//! Types as TensorFlow Lite Micro: float32, int8, int16.

use super::squeeze::{copy, copy_params};
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs: the byte count, checked in `prepare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct ExpandDimsParams {
    /// Bytes copied.
    pub bytes: usize,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<ExpandDimsParams, Error> {
    let input = ctx.input(0)?;
    let axis = ctx.input(1)?;
    let output = ctx.output(0)?;
    match input.dtype() {
        TensorType::Float32 | TensorType::Int8 | TensorType::Int16 => {}
        other => return Err(ctx.unsupported_type(other)),
    }
    ctx.expect_type(&output, input.dtype())?;
    // TensorFlow Lite Micro reads an int32 axis only, from a constant.
    ctx.expect_type(&axis, TensorType::Int32)?;
    if !axis.is_constant() || axis.shape().rank() > 1 || axis.shape().elements() < 1 {
        return Err(ctx.invalid("axis must be a constant int32 scalar"));
    }
    let rank = input.shape().rank() as i64;
    let mut a = i64::from(super::values::get::<i32>(axis.data(), 0));
    if a < 0 {
        a += rank + 1;
    }
    if a < 0 || a > rank {
        return Err(ctx.invalid("axis is out of range"));
    }
    let (ins, outs) = (input.shape(), output.shape());
    let (ins, outs) = (ins.dims(), outs.dims());
    let a = a as usize;
    let expected = ins
        .get(..a)
        .into_iter()
        .flatten()
        .chain(&[1])
        .chain(ins.get(a..).into_iter().flatten());
    if outs.len() != ins.len() + 1 || !expected.eq(outs.iter()) {
        return Err(ctx.invalid("output shape is not the input's with a 1 at axis"));
    }
    copy_params(ctx, &input, &output).map(|bytes| ExpandDimsParams { bytes })
}

/// Runs the operator.
pub fn eval(params: &ExpandDimsParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    copy(params.bytes, input, output);
    Ok(())
}
