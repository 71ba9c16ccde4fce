//! ADD: `output = act(input1 + input2)`, broadcasting up to 6-D.
//!
//! As TensorFlow Lite Micro: float32, int32, int8 and int16. int8 and int16
//! rescale both inputs to twice the larger input scale, add, and rescale to
//! the output (`left_shift` 20 for int8, 15 for int16). TensorFlow Lite
//! Micro always takes this general int16 path, whatever the options'
//! `pot_scale_int16` says; so does mote. Its int32 ADD ignores the fused
//! activation (it sets the full int32 range); so does mote.

use super::arithmetic::{binary, float_range, int32_range, AddSubQuantized};
use super::broadcast::Broadcast;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// The kernel and its params, by type.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum AddKernel {
    /// float32 with the activation's clamp range.
    Float32((f32, f32)),
    /// int32 with the activation's clamp range.
    Int32((i32, i32)),
    /// int8, requantized.
    Int8(AddSubQuantized),
    /// int16, requantized.
    Int16(AddSubQuantized),
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct AddParams {
    /// The element mapping.
    pub broadcast: Broadcast,
    /// The kernel.
    pub kernel: AddKernel,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<AddParams, Error> {
    let b = binary(ctx, 6, true)?;
    let kernel = match b.dtype {
        TensorType::Float32 => AddKernel::Float32(float_range(b.activation)),
        // TensorFlow Lite Micro's int32 ADD ignores the fused activation.
        TensorType::Int32 => AddKernel::Int32(int32_range(0)),
        TensorType::Int8 => AddKernel::Int8(AddSubQuantized::new(ctx, &b)?),
        TensorType::Int16 => AddKernel::Int16(AddSubQuantized::new(ctx, &b)?),
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(AddParams {
        broadcast: b.broadcast,
        kernel,
    })
}

/// Runs the operator.
pub fn eval(params: &AddParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let other = ctx.input(1);
    let (input, output) = ctx.io(0, 0);
    add(params, input, other, output);
    Ok(())
}

/// The reference kernel.
pub fn add(params: &AddParams, input1: &[u8], input2: &[u8], output: &mut [u8]) {
    let bc = &params.broadcast;
    match &params.kernel {
        AddKernel::Float32(range) => bc.map(input1, input2, output, |x: f32, y: f32| {
            super::activation::clamp(x + y, *range)
        }),
        AddKernel::Int32((lo, hi)) => bc.map(input1, input2, output, |x: i32, y: i32| {
            // TensorFlow Lite's `Add<int32_t>` overflows in C++; mote wraps.
            x.wrapping_add(y).max(*lo).min(*hi)
        }),
        AddKernel::Int8(q) => {
            if bc.same() && crate::arch::add_i8(q, input1, input2, output) {
                return;
            }
            bc.map(input1, input2, output, |x: i8, y: i8| {
                q.apply(x.into(), y.into(), i32::wrapping_add) as i8
            })
        }
        AddKernel::Int16(q) => bc.map(input1, input2, output, |x: i16, y: i16| {
            q.apply(x.into(), y.into(), i32::wrapping_add) as i16
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::values::{bytes_of, values_of};
    use super::*;
    use crate::model::Shape;

    fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    #[test]
    fn float_broadcast_with_relu6() {
        // [[1], [5]] + [0.5, -3, 4] -> [[1.5, -2, 5], [5.5, 2, 9]], relu6 ->
        // [[1.5, 0, 5], [5.5, 2, 6]]
        let params = AddParams {
            broadcast: Broadcast::new(&shape(&[2, 1]), &shape(&[3]), &shape(&[2, 3])).unwrap(),
            kernel: AddKernel::Float32((0.0, 6.0)),
        };
        let mut out = vec![0u8; 24];
        add(
            &params,
            &bytes_of(&[1.0f32, 5.0]),
            &bytes_of(&[0.5f32, -3.0, 4.0]),
            &mut out,
        );
        assert_eq!(values_of::<f32>(&out), [1.5, 0.0, 5.0, 5.5, 2.0, 6.0]);
    }

    #[test]
    fn int8_same_scales() {
        // All scales 1, zero points 0: real multipliers 1/2, 1/2 and
        // 2 / 2^20 = 0.5 * 2^-18, i.e. (2^30, 0), (2^30, 0), (2^30, -18).
        // 3 + 4: (3 << 20) / 2 + (4 << 20) / 2 = 7 << 19; (7 << 19) / 2 / 2^18 = 7.
        let q = AddSubQuantized {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            left_shift: 20,
            input1: (1 << 30, 0),
            input2: (1 << 30, 0),
            output: (1 << 30, -18),
            range: (-128, 127),
        };
        let params = AddParams {
            broadcast: Broadcast::new(&shape(&[2]), &shape(&[2]), &shape(&[2])).unwrap(),
            kernel: AddKernel::Int8(q),
        };
        let mut out = vec![0u8; 2];
        // 100 + 100 = 200 saturates at 127
        add(
            &params,
            &bytes_of(&[3i8, 100]),
            &bytes_of(&[4i8, 100]),
            &mut out,
        );
        assert_eq!(values_of::<i8>(&out), [7, 127]);
    }
}
