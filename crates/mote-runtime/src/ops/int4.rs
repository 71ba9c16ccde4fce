//! int4 filters: TensorFlow Lite's `TensorType INT4`, two signed 4-bit values
//! a byte over the whole flattened tensor, element `2k` in the low nibble of
//! byte `k` and element `2k + 1` in its high nibble; an odd count leaves the
//! last high nibble unused (TensorFlow Lite's `UnpackDenseInt4IntoInt8`).
//!
//! TensorFlow Lite Micro unpacks the whole filter into an int8 scratch buffer
//! before each run; here the kernels unpack [`BLOCK`] values at a time into a
//! stack buffer, so the RAM cost does not grow with the filter.

/// Whether this build runs int4 filters (feature `int4`, on by default; a
/// firmware for int8 models leaves it out and links none of its code).
pub const INT4: bool = cfg!(feature = "int4");

use super::PrepareContext;
use crate::error::Error;
use crate::model::{Tensor, TensorType};

/// Values unpacked at a time (bytes of stack).
pub const BLOCK: usize = 64;

/// Checks that `filter` is a constant int4 tensor whose bytes are exactly its
/// elements packed two a byte.
pub fn expect_filter(ctx: &PrepareContext<'_, '_>, filter: &Tensor<'_>) -> Result<(), Error> {
    ctx.expect_type(filter, TensorType::Int4)?;
    if !filter.is_constant() {
        return Err(ctx.invalid("an int4 filter must be constant"));
    }
    if filter.data().len() != filter.shape().elements().div_ceil(2) {
        return Err(ctx.invalid("int4 filter data is not its elements packed two a byte"));
    }
    Ok(())
}

/// Element `i` of a packed int4 tensor, sign-extended (0 past the end).
#[inline]
pub fn value(packed: &[i8], i: usize) -> i8 {
    let byte = packed.get(i / 2).copied().unwrap_or(0);
    if i.is_multiple_of(2) {
        // Shift the low nibble up first so the right shift extends its sign.
        byte.wrapping_shl(4) >> 4
    } else {
        byte >> 4
    }
}

/// Elements `start..start + out.len()` of a packed int4 tensor, as int8.
#[inline]
pub fn unpack(packed: &[i8], start: usize, out: &mut [i8]) {
    // From a high nibble, one value alone; whole bytes from there.
    let lead = (start % 2).min(out.len());
    let (head, rest) = out.split_at_mut(lead);
    if let Some(first) = head.first_mut() {
        *first = value(packed, start);
    }
    let i = start + lead;
    let bytes = packed.get(i / 2..).unwrap_or(&[]);
    let done = rest.len() / 2 * 2;
    let mut pairs = rest.chunks_exact_mut(2);
    for (pair, &byte) in (&mut pairs).zip(bytes) {
        if let [low, high] = pair {
            *low = byte.wrapping_shl(4) >> 4;
            *high = byte >> 4;
        }
    }
    if let Some(last) = pairs.into_remainder().first_mut() {
        *last = value(packed, i + done);
    }
}

/// `(sum w*x, sum w)` in wrapping 32-bit arithmetic, where `w` is the
/// `x.len()` int4 values from element `start` of `packed`, unpacked
/// [`BLOCK`] at a time.
#[inline]
pub fn dot(packed: &[i8], start: usize, x: &[i8]) -> (i32, i32) {
    let mut block = [0i8; BLOCK];
    let (mut dot, mut sum) = (0i32, 0i32);
    for (k, xs) in x.chunks(BLOCK).enumerate() {
        let w = block.get_mut(..xs.len()).unwrap_or(&mut []);
        unpack(packed, start + k * BLOCK, w);
        for (&w, &x) in w.iter().zip(xs) {
            dot = dot.wrapping_add(i32::from(w) * i32::from(x));
            sum = sum.wrapping_add(i32::from(w));
        }
    }
    (dot, sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs values low nibble first (the layout TensorFlow Lite Micro reads).
    fn pack(values: &[i8]) -> Vec<i8> {
        values
            .chunks(2)
            .map(|p| ((p[0] as u8 & 0x0f) | (p.get(1).map_or(0, |&h| h as u8) << 4)) as i8)
            .collect()
    }

    #[test]
    fn low_nibble_first_sign_extended() {
        // 0x12 -> [2, 1]; 0x8f -> [-1, -8]; 0x7e -> [-2, 7].
        let packed = [0x12u8 as i8, 0x8fu8 as i8, 0x7eu8 as i8];
        let mut out = [0i8; 6];
        unpack(&packed, 0, &mut out);
        assert_eq!(out, [2, 1, -1, -8, -2, 7]);
        assert_eq!(value(&packed, 3), -8);
        assert_eq!(value(&packed, 6), 0, "past the end");
    }

    #[test]
    fn every_start_and_length_unpacks_its_values() {
        // All 16 values twice, in an odd count (33: the last high nibble unused).
        let values: Vec<i8> = (0..33).map(|i| (i % 16) as i8 - 8).collect();
        let packed = pack(&values);
        assert_eq!(packed.len(), 17);
        for start in 0..values.len() {
            for len in 0..=values.len() - start {
                let mut out = vec![99i8; len];
                unpack(&packed, start, &mut out);
                assert_eq!(out, values[start..start + len], "start {start} len {len}");
            }
        }
    }

    #[test]
    fn dot_spans_blocks_and_odd_starts() {
        // 200 values from element 3: four blocks, the first from a high nibble.
        let values: Vec<i8> = (0..203).map(|i| ((i * 7) % 16) as i8 - 8).collect();
        let x: Vec<i8> = (0..200).map(|i| (i * 37 % 256) as u8 as i8).collect();
        let packed = pack(&values);
        let want_dot: i32 = (0..200)
            .map(|i| i32::from(values[3 + i]) * i32::from(x[i]))
            .sum();
        let want_sum: i32 = values[3..].iter().map(|&v| i32::from(v)).sum();
        assert_eq!(dot(&packed, 3, &x), (want_dot, want_sum));
    }
}
