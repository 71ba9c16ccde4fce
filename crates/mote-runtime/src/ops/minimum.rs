//! MINIMUM: `output = input1 < input2 ? input1 : input2`; MAXIMUM's checks and
//! kernel (see [`super::maximum`]).

use super::maximum::{select, MaximumParams};
use super::EvalContext;
use crate::error::Error;

pub use super::maximum::prepare;

/// MINIMUM's params are MAXIMUM's.
pub type MinimumParams = MaximumParams;

/// Runs the operator.
pub fn eval(params: &MinimumParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let other = ctx.input(1);
    let (input, output) = ctx.io(0, 0);
    select(params, input, other, output, false);
    Ok(())
}
