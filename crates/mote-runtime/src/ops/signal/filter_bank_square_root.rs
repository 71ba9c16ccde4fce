//! SignalFilterBankSquareRoot: `sqrt(x) >> scale_bits` per channel, undoing
//! the FFT auto-scale. Inputs: 0 uint64 `[channels]`, 1 int32 scalar shift;
//! output uint32 `[channels]`.

use super::{expect_rank, most_significant_bit32, most_significant_bit64};
use crate::error::Error;
use crate::model::TensorType;
use crate::ops::{EvalContext, PrepareContext};

/// What `eval` needs (nothing beyond the tensors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct SignalFilterBankSquareRootParams;

/// Checks the operator.
pub fn prepare(
    ctx: &mut PrepareContext<'_, '_>,
) -> Result<SignalFilterBankSquareRootParams, Error> {
    let (input, scale, output) = (ctx.input(0)?, ctx.input(1)?, ctx.output(0)?);
    expect_rank(ctx, &input, 1)?;
    expect_rank(ctx, &output, 1)?;
    ctx.expect_type(&input, TensorType::UInt64)?;
    ctx.expect_type(&scale, TensorType::Int32)?;
    ctx.expect_type(&output, TensorType::UInt32)?;
    ctx.expect_readable::<i32>(&scale)?;
    if scale.shape().elements() != 1 || input.shape().elements() != output.shape().elements() {
        return Err(ctx.invalid("shift must be a scalar and sizes must match"));
    }
    Ok(SignalFilterBankSquareRootParams)
}

/// Takes the roots.
pub fn eval(_: &SignalFilterBankSquareRootParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let shift = ctx.input_as::<i32>(1).first().copied().unwrap_or(0);
    let (input, output) = ctx.io_as::<u64, u32>(0, 0);
    for (x, out) in input.iter().zip(output) {
        // A shift outside 0..32 is undefined in C; it gives 0 here.
        *out = u32::try_from(shift)
            .ok()
            .and_then(|s| sqrt64(*x).checked_shr(s))
            .unwrap_or(0);
    }
    Ok(())
}

/// The op keeps no state.
pub fn reset(_: &SignalFilterBankSquareRootParams, _: &mut EvalContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// `Sqrt32`: integer square root, rounded (bit-by-bit, as TFLM).
pub fn sqrt32(mut num: u32) -> u16 {
    if num == 0 {
        return 0;
    }
    let mut res: u32 = 0;
    let max_bit_number = (32 - most_significant_bit32(num)) | 1;
    let mut bit: u32 = 1 << (31 - max_bit_number);
    for _ in 0..(31 - max_bit_number) / 2 + 1 {
        if num >= res + bit {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != 0xFFFF {
        res += 1;
    }
    res as u16
}

/// `Sqrt64`: as [`sqrt32`] for 64 bits; values below 2^32 take the 32-bit path
/// (TFLM's shortcut, off by one near 2^32).
pub fn sqrt64(mut num: u64) -> u32 {
    if num >> 32 == 0 {
        return u32::from(sqrt32(num as u32));
    }
    let mut res: u64 = 0;
    let max_bit_number = (64 - most_significant_bit64(num)) | 1;
    let mut bit: u64 = 1 << (63 - max_bit_number);
    for _ in 0..(63 - max_bit_number) / 2 + 1 {
        if num >= res + bit {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != 0xFFFF_FFFF {
        res += 1;
    }
    res as u32
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{ints, lines};
    use super::*;

    #[test]
    fn matches_tflm_test_vectors() {
        // Triplets: input, shift, expected output.
        let lines = lines("filter_bank_square_root_test1.txt");
        let mut frames = 0;
        for t in lines.chunks_exact(3) {
            let shift: u32 = t[1][0].parse().unwrap();
            let out: Vec<u32> = ints::<u64>(&t[0])
                .iter()
                .map(|x| sqrt64(*x) >> shift)
                .collect();
            assert_eq!(out, ints::<u32>(&t[2]), "frame {frames}");
            frames += 1;
        }
        assert!(frames > 100);
    }

    #[test]
    fn rounds_to_nearest() {
        // sqrt(15) = 3.87 -> 4; sqrt(2^40) = 2^20; sqrt(2^40 + 2^20) = 2^20 + 0.5 - e -> 2^20.
        assert_eq!(sqrt32(15), 4);
        assert_eq!(sqrt64(1 << 40), 1 << 20);
        assert_eq!(sqrt64((1 << 40) + (1 << 20)), 1 << 20);
        assert_eq!(sqrt32(u32::MAX), 0xFFFF);
    }
}
