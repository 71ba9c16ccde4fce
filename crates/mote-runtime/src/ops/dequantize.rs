//! DEQUANTIZE: `output = float(s * (x - zp))`, the product in `double` as
//! TensorFlow Lite Micro's reference `Dequantize`. Inputs int8, int16, uint8.

use super::values::map;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct DequantizeParams {
    /// The input's type.
    pub from: TensorType,
    /// The input's scale.
    pub scale: f64,
    /// The input's zero point.
    pub zero_point: i32,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<DequantizeParams, Error> {
    let (input, output) = (ctx.input(0)?, ctx.output(0)?);
    let from = input.dtype();
    if !matches!(
        from,
        TensorType::Int8 | TensorType::Int16 | TensorType::UInt8
    ) {
        return Err(ctx.unsupported_type(from));
    }
    ctx.expect_type(&output, TensorType::Float32)?;
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("output size differs from the input's"));
    }
    let q = super::quantization::per_tensor(&input)
        .ok_or(ctx.invalid("zero point does not fit 32 bits"))?;
    Ok(DequantizeParams {
        from,
        scale: f64::from(q.scale),
        zero_point: q.zero_point,
    })
}

/// Runs the operator.
pub fn eval(params: &DequantizeParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let (input, output) = ctx.io(0, 0);
    dequantize(params, input, output);
    Ok(())
}

/// The reference kernel.
pub fn dequantize(params: &DequantizeParams, input: &[u8], output: &mut [u8]) {
    let f = |x: i32| (params.scale * f64::from(x.wrapping_sub(params.zero_point))) as f32;
    match params.from {
        TensorType::Int8 => map(input, output, |x: i8| f(x.into())),
        TensorType::Int16 => map(input, output, |x: i16| f(x.into())),
        _ => map(input, output, |x: u8| f(x.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::values::{bytes_of, values_of};
    use super::*;

    #[test]
    fn scales_around_the_zero_point() {
        // 0.25 * (7 - 3) = 1; 0.25 * (-1 - 3) = -1
        let p = DequantizeParams {
            from: TensorType::Int8,
            scale: 0.25,
            zero_point: 3,
        };
        let mut out = vec![0u8; 8];
        dequantize(&p, &bytes_of(&[7i8, -1]), &mut out);
        assert_eq!(values_of::<f32>(&out), [1.0, -1.0]);
    }
}
