//! RESHAPE: the same bytes under a new shape, for any element type.
//!
//! The planner places the output on the input's bytes whenever it can (the
//! input is an activation), so the op usually does nothing; otherwise (a
//! constant input) it copies.

use super::{EvalContext, PrepareContext};
use crate::error::Error;

/// What `eval` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct ReshapeParams {
    /// Bytes of the tensor.
    pub bytes: usize,
}

/// Checks that input and output have the same type and element count (the
/// output shape is the model's; an optional shape input is not read).
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<ReshapeParams, Error> {
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    ctx.expect_type(&output, input.dtype())?;
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("input and output sizes differ"));
    }
    Ok(ReshapeParams {
        bytes: output.byte_len(),
    })
}

/// Copies the input to the output unless the planner made them one buffer
/// (the interpreter then hands the input over as empty).
pub fn eval(params: &ReshapeParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    if input.is_empty() {
        return Ok(());
    }
    match (input.get(..params.bytes), output.get_mut(..params.bytes)) {
        (Some(from), Some(to)) => {
            to.copy_from_slice(from);
            Ok(())
        }
        _ => Err(ctx.invalid_data("reshape sizes changed")),
    }
}
