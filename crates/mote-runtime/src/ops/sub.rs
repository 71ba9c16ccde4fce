//! SUB: `output = act(input1 - input2)`, broadcasting up to 5-D.
//!
//! As TensorFlow Lite Micro: float32, int32, int8 and int16, requantized as
//! ADD is, the scales in `double`. (TensorFlow Lite Micro's source of 2026-08
//! computed them in `float`; the `tflite-micro` package of 2026-10, mote's
//! reference, uses `double`, which the SEANet SUB models tell apart.)

use super::add::AddKernel;
use super::arithmetic::{binary, float_range, int32_range, AddSubQuantized};
use super::broadcast::Broadcast;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SubParams {
    /// The element mapping.
    pub broadcast: Broadcast,
    /// The kernel (ADD's kinds, subtracting).
    pub kernel: AddKernel,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<SubParams, Error> {
    let b = binary(ctx, 5, true)?;
    let kernel = match b.dtype {
        TensorType::Float32 => AddKernel::Float32(float_range(b.activation)),
        TensorType::Int32 => AddKernel::Int32(int32_range(b.activation)),
        TensorType::Int8 => AddKernel::Int8(AddSubQuantized::new(ctx, &b)?),
        TensorType::Int16 => AddKernel::Int16(AddSubQuantized::new(ctx, &b)?),
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(SubParams {
        broadcast: b.broadcast,
        kernel,
    })
}

/// Runs the operator.
pub fn eval(params: &SubParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let other = ctx.input(1);
    let (input, output) = ctx.io(0, 0);
    sub(params, input, other, output);
    Ok(())
}

/// The reference kernel.
pub fn sub(params: &SubParams, input1: &[u8], input2: &[u8], output: &mut [u8]) {
    let bc = &params.broadcast;
    match &params.kernel {
        AddKernel::Float32(range) => bc.map(input1, input2, output, |x: f32, y: f32| {
            super::activation::clamp(x - y, *range)
        }),
        AddKernel::Int32((lo, hi)) => bc.map(input1, input2, output, |x: i32, y: i32| {
            x.wrapping_sub(y).max(*lo).min(*hi)
        }),
        AddKernel::Int8(q) => bc.map(input1, input2, output, |x: i8, y: i8| {
            q.apply(x.into(), y.into(), i32::wrapping_sub) as i8
        }),
        AddKernel::Int16(q) => bc.map(input1, input2, output, |x: i16, y: i16| {
            q.apply(x.into(), y.into(), i32::wrapping_sub) as i16
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::values::{bytes_of, values_of};
    use super::*;
    use crate::model::Shape;

    #[test]
    fn float_minus_scalar_with_relu() {
        // [1, 5] - 2 = [-1, 3], relu -> [0, 3]
        let s = |d: &[usize]| Shape::new(d).unwrap();
        let params = SubParams {
            broadcast: Broadcast::new(&s(&[2]), &s(&[]), &s(&[2])).unwrap(),
            kernel: AddKernel::Float32((0.0, f32::MAX)),
        };
        let mut out = vec![0u8; 8];
        sub(
            &params,
            &bytes_of(&[1.0f32, 5.0]),
            &bytes_of(&[2.0f32]),
            &mut out,
        );
        assert_eq!(values_of::<f32>(&out), [0.0, 3.0]);
    }
}
