//! CAST: converts every element to the output's type as C++'s `static_cast`
//! does: integers wrap, floats truncate toward zero, bools become 0 or 1.
//!
//! Types as TensorFlow Lite Micro: from int8, int16, int32, uint32, float32 or
//! bool to int8, int16, int32, uint32 or float32. A float outside the target
//! integer range is undefined behaviour in C++; here it saturates.

use super::values::{map, Value};
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct CastParams {
    /// The input's type.
    pub from: TensorType,
    /// The output's type.
    pub to: TensorType,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<CastParams, Error> {
    use TensorType::*;
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    let (from, to) = (input.dtype(), output.dtype());
    if !matches!(from, Int8 | Int16 | Int32 | UInt32 | Float32 | Bool) {
        return Err(ctx.unsupported_type(from));
    }
    if !matches!(to, Int8 | Int16 | Int32 | UInt32 | Float32) {
        return Err(ctx.unsupported_type(to));
    }
    if input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("output size differs from the input's"));
    }
    Ok(CastParams { from, to })
}

/// A number on its way from one type to another.
#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f32),
}

/// Converts one number as `static_cast<T>` does (see the module docs).
trait FromNumber: Value {
    fn from_number(n: Number) -> Self;
}

macro_rules! from_number {
    ($($t:ty),*) => {$(
        impl FromNumber for $t {
            #[inline]
            fn from_number(n: Number) -> Self {
                match n {
                    Number::Int(v) => v as $t,
                    Number::Float(v) => v as $t,
                }
            }
        }
    )*};
}
from_number!(i8, i16, i32, u32, f32);

fn cast_to<U: FromNumber>(from: TensorType, input: &[u8], output: &mut [u8]) {
    use TensorType::*;
    match from {
        Int8 => map(input, output, |x: i8| U::from_number(Number::Int(x.into()))),
        Int16 => map(input, output, |x: i16| {
            U::from_number(Number::Int(x.into()))
        }),
        Int32 => map(input, output, |x: i32| {
            U::from_number(Number::Int(x.into()))
        }),
        UInt32 => map(input, output, |x: u32| {
            U::from_number(Number::Int(x.into()))
        }),
        Bool => map(input, output, |x: bool| {
            U::from_number(Number::Int(x.into()))
        }),
        _ => map(input, output, |x: f32| U::from_number(Number::Float(x))),
    }
}

/// Runs the operator.
pub fn eval(params: &CastParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    use TensorType::*;
    let (input, output) = ctx.io(0, 0);
    match params.to {
        Int8 => cast_to::<i8>(params.from, input, output),
        Int16 => cast_to::<i16>(params.from, input, output),
        Int32 => cast_to::<i32>(params.from, input, output),
        UInt32 => cast_to::<u32>(params.from, input, output),
        _ => cast_to::<f32>(params.from, input, output),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::values::{bytes_of, values_of};
    use super::*;

    #[test]
    fn floats_truncate_and_integers_wrap() {
        // -1.7 -> -1, 2.9 -> 2 (toward zero)
        let mut out = vec![0u8; 8];
        cast_to::<i32>(TensorType::Float32, &bytes_of(&[-1.7f32, 2.9]), &mut out);
        assert_eq!(values_of::<i32>(&out), [-1, 2]);
        // 300 = 0x12c -> 0x2c = 44 as int8; -1 as uint32 = 4294967295
        let mut out = vec![0u8; 2];
        cast_to::<i8>(TensorType::Int32, &bytes_of(&[300i32, -1]), &mut out);
        assert_eq!(values_of::<i8>(&out), [44, -1]);
        let mut out = vec![0u8; 4];
        cast_to::<u32>(TensorType::Int8, &bytes_of(&[-1i8]), &mut out);
        assert_eq!(values_of::<u32>(&out), [u32::MAX]);
        // true -> 1.0
        let mut out = vec![0u8; 8];
        cast_to::<f32>(TensorType::Bool, &[1, 0], &mut out);
        assert_eq!(values_of::<f32>(&out), [1.0, 0.0]);
    }
}
