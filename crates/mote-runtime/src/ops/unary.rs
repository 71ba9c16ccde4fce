//! What the unary elementwise ops share: one input and one output of the same
//! type and element count.

use super::quantization::{per_tensor, PerTensor};
use super::PrepareContext;
use crate::error::Error;
use crate::model::TensorType;

/// Input 0 and output 0 as `prepare` found them.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Unary {
    /// The common type.
    pub dtype: TensorType,
    /// The input's quantization (scale 0 when not quantized).
    pub input: PerTensor,
    /// The output's.
    pub output: PerTensor,
}

/// Checks that input 0 and output 0 have the same type and element count.
pub fn unary(ctx: &PrepareContext<'_, '_>) -> Result<Unary, Error> {
    let (input, output) = (ctx.input(0)?, ctx.output(0)?);
    ctx.expect_type(&output, input.dtype())?;
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("output size differs from the input's"));
    }
    let q = |t| per_tensor(t).ok_or(ctx.invalid("zero point does not fit 32 bits"));
    Ok(Unary {
        dtype: input.dtype(),
        input: q(&input)?,
        output: q(&output)?,
    })
}
