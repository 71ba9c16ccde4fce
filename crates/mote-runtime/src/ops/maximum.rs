//! MAXIMUM: `output = input1 > input2 ? input1 : input2`, broadcasting up to
//! 5-D. As TensorFlow Lite Micro: float32, int8, int16, int32, int64, compared
//! raw (quantized inputs are assumed to share the output's quantization; a
//! NaN in input 2 wins, in input 1 loses).

use super::broadcast::Broadcast;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs, computed once by `prepare` (shared with MINIMUM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct MaximumParams {
    /// The element mapping.
    pub broadcast: Broadcast,
    /// The element type.
    pub dtype: TensorType,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<MaximumParams, Error> {
    let b = super::arithmetic::binary(ctx, 5, false)?;
    use TensorType::*;
    if !matches!(b.dtype, Float32 | Int8 | Int16 | Int32 | Int64) {
        return Err(ctx.unsupported_type(b.dtype));
    }
    Ok(MaximumParams {
        broadcast: b.broadcast,
        dtype: b.dtype,
    })
}

/// Runs the operator.
pub fn eval(params: &MaximumParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let other = ctx.input(1);
    let (input, output) = ctx.io(0, 0);
    select(params, input, other, output, true);
    Ok(())
}

/// The reference kernel of MAXIMUM (`greater`) and MINIMUM: per element,
/// `x > y ? x : y` or `x < y ? x : y`.
pub fn select(
    params: &MaximumParams,
    input1: &[u8],
    input2: &[u8],
    output: &mut [u8],
    greater: bool,
) {
    fn pick<T: PartialOrd>(x: T, y: T, greater: bool) -> T {
        let first = if greater { x > y } else { x < y };
        if first {
            x
        } else {
            y
        }
    }
    let bc = &params.broadcast;
    match params.dtype {
        TensorType::Int8 => bc.map(input1, input2, output, |x: i8, y: i8| pick(x, y, greater)),
        TensorType::Int16 => bc.map(input1, input2, output, |x: i16, y: i16| pick(x, y, greater)),
        TensorType::Int32 => bc.map(input1, input2, output, |x: i32, y: i32| pick(x, y, greater)),
        TensorType::Int64 => bc.map(input1, input2, output, |x: i64, y: i64| pick(x, y, greater)),
        _ => bc.map(input1, input2, output, |x: f32, y: f32| pick(x, y, greater)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::values::{bytes_of, values_of};
    use super::*;
    use crate::model::Shape;

    #[test]
    fn against_a_scalar() {
        // max([1, 5, -2], 2) = [2, 5, 2]; min = [1, 2, -2]
        let s = |d: &[usize]| Shape::new(d).unwrap();
        let params = MaximumParams {
            broadcast: Broadcast::new(&s(&[3]), &s(&[1]), &s(&[3])).unwrap(),
            dtype: TensorType::Int16,
        };
        let (x, y) = (bytes_of(&[1i16, 5, -2]), bytes_of(&[2i16]));
        let mut out = vec![0u8; 6];
        select(&params, &x, &y, &mut out, true);
        assert_eq!(values_of::<i16>(&out), [2, 5, 2]);
        select(&params, &x, &y, &mut out, false);
        assert_eq!(values_of::<i16>(&out), [1, 2, -2]);
    }
}
