//! The int8 FULLY_CONNECTED on the DSP primitives, bit-exact with
//! `ops::fully_connected::fully_connected_i8`. Each input row is widened
//! once to 16-bit halves with its offset added, into a stack buffer; the
//! units then go four at a time through `simd::dot_4_rows_wide` (one `asm!`
//! loop on Cortex-M4, 23 instructions per 16 MACs), the last `units % 4` one
//! at a time; a single scale takes `requant::Fixed`. Rows longer than
//! [`CHUNK`] (units in fours) run `long_rows`, in a frame of its own: per
//! group of 4 units the row is widened a chunk at a time. Returns `false`
//! (nothing written) for a depth that is not a multiple of 4, rows longer
//! than [`CHUNK`] over units not in fours, an input offset whose sums leave
//! 16 bits or tensors shorter than the shapes (a bias shorter than the units
//! included); the caller then runs the reference.

use core::mem::MaybeUninit;

use super::conv_2d::offset_fits;
use super::dot::{dot_1_row_wide, load, packed};
use super::requant::Fixed;
use super::simd::{dot_4_rows_wide, sxtab16, sxtab16_ror8};
use crate::ops::fully_connected::FullyConnectedParams;
use crate::ops::per_channel::Requant;

/// The longest input row widened once for all units (a multiple of 4),
/// into twice this in stack bytes; longer rows go in chunks of this.
pub const CHUNK: usize = 640;

/// Rows up to this long are widened into a `SMALL / 2`-word buffer.
const SMALL: usize = 64;

/// Widens the `4 * steps` bytes at `x` with `offset` into `2 * steps` words
/// at `to`: per 4 bytes `(x0, x2)` then `(x1, x3)`, offset added.
///
/// # Safety
/// `x` must be readable for `4 * steps` bytes, `to` writable for
/// `2 * steps` words.
#[inline(always)]
unsafe fn widen(x: *const i8, steps: usize, offset: i32, to: *mut u32) {
    let off = packed(offset);
    for s in 0..steps {
        // SAFETY: the caller's contract.
        unsafe {
            let v = load(x.add(4 * s));
            to.add(2 * s).write(sxtab16(off, v));
            to.add(2 * s + 1).write(sxtab16_ror8(off, v));
        }
    }
}

/// The int8 FULLY_CONNECTED: `false` if it does not apply (see the module).
pub fn fully_connected_i8(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let (depth, units) = (params.depth, params.units);
    let offset = quant.input_offset;
    if depth == 0
        || !depth.is_multiple_of(4)
        || (depth > CHUNK && !units.is_multiple_of(4))
        || !offset_fits(offset)
        || input.len() < params.batches.saturating_mul(depth)
        || weights.len() < units.saturating_mul(depth)
        || output.len() < params.batches.saturating_mul(units)
        || !(bias.is_empty() || bias.len() >= units)
    {
        return false;
    }
    // Small rows take a small buffer, in a frame of their own: a 1,280-byte
    // one would be most of a 4 KiB chip's stack (hello_world's rows are 16).
    let operands = (params, quant, input, weights, bias, output);
    if depth <= SMALL {
        with_buffer::<{ SMALL / 2 }>(operands);
    } else if depth <= CHUNK {
        with_buffer::<{ CHUNK / 2 }>(operands);
    } else {
        long_rows(operands);
    }
    true
}

/// Rows longer than [`CHUNK`] (micro_speech's 4,000), units in fours (the
/// caller checked every bound): per group of 4 units, the row widened
/// [`CHUNK`] bytes at a time into a stack buffer, each chunk dotted with
/// the group's weights. Its own frame, beside [`with_buffer`]'s: the short
/// rows' loop and stack stay as they are.
#[inline(never)]
fn long_rows(operands: Operands<'_, '_>) {
    let mut buf = [MaybeUninit::<u32>::uninit(); CHUNK / 2];
    let (params, quant, input, weights, bias, output) = operands;
    let (depth, units) = (params.depth, params.units);
    // Uninitialized: `widen` writes every word the dot products read.
    let wide = buf.as_mut_ptr().cast::<u32>();
    for b in 0..params.batches {
        let row = input.as_ptr().wrapping_add(b * depth);
        let mut c = 0;
        while c < units {
            let mut acc = [0; 4];
            let mut k = 0;
            while k < depth {
                let steps = (depth - k).min(CHUNK) / 4;
                let w = weights.as_ptr().wrapping_add(c * depth + k);
                // SAFETY: row `b` < batches holds `depth` input bytes (the
                // caller checked the input's length), of which bytes
                // k..k + 4 * steps <= depth (depth and k are multiples of 4,
                // so steps >= 1) widen into 2 * steps <= CHUNK / 2 words;
                // units c..c + 4 <= units (a multiple of 4) have `depth`
                // weights each from `u * depth` on, of which the same bytes
                // are read.
                unsafe {
                    widen(row.add(k), steps, quant.input_offset, wide);
                    acc = dot_4_rows_wide(wide, w, depth, steps, acc);
                }
                k += 4 * steps;
            }
            for (unit, &a) in (c..).zip(acc.iter()) {
                let a = a.wrapping_add(bias.get(unit).copied().unwrap_or(0));
                if let Some(o) = output.get_mut(b * units + unit) {
                    *o = quant.apply(a, unit);
                }
            }
            c += 4;
        }
    }
}

/// The operands of [`rows`].
type Operands<'a, 'q> = (
    &'a FullyConnectedParams,
    &'a Requant<'q>,
    &'a [i8],
    &'a [i8],
    &'a [i32],
    &'a mut [i8],
);

/// [`rows`] with a `WORDS`-word stack buffer, in a frame of its own (one
/// copy of the loop serves every buffer size).
#[inline(never)]
fn with_buffer<const WORDS: usize>(operands: Operands<'_, '_>) {
    let mut buf = [MaybeUninit::<u32>::uninit(); WORDS];
    let (params, quant, input, weights, bias, output) = operands;
    rows(params, quant, input, weights, bias, output, &mut buf);
}

/// [`fully_connected_i8`]'s loop with rows of up to `2 * buf.len()` bytes
/// widened into `buf` (the caller checked every other bound for rows of
/// `params.depth` bytes, a multiple of 4).
#[inline(never)]
fn rows(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
    buf: &mut [MaybeUninit<u32>],
) {
    let (depth, units) = (params.depth, params.units);
    let offset = quant.input_offset;
    if depth > 2 * buf.len() {
        return;
    }
    // One scale for all units: its folded requantization, found once.
    let shared = match (quant.multipliers, quant.shifts) {
        ([m], [s]) => Fixed::new(*m, *s),
        _ => None,
    };
    let finish = |acc: i32, unit: usize| match shared {
        Some(f) => f.apply(acc, &quant.output),
        None => quant.apply(acc, unit),
    };
    let steps = depth / 4;
    // Uninitialized: `widen` writes every word the dot products read.
    let wide = buf.as_mut_ptr().cast::<u32>();
    for (row, out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(units))
    {
        // SAFETY: `row` holds `depth = 4 * steps <= 2 * buf.len()` bytes,
        // which widen into `2 * steps <= buf.len()` words.
        unsafe { widen(row.as_ptr(), steps, offset, wide) };
        let x = wide.cast_const();
        let mut c = 0;
        while c < units {
            let w = weights.as_ptr().wrapping_add(c * depth);
            if let Some(o) = out.get_mut(c..c + 4) {
                let acc = match bias.get(c..c + 4) {
                    Some(&[a, b, c, d]) => [a, b, c, d],
                    _ => [0; 4],
                };
                // SAFETY: `widen` wrote the `2 * steps` words read at `x`;
                // units `c..c + 4` are below `units` (their outputs are),
                // so each has `depth` weights from `u * depth` on.
                let acc = unsafe { dot_4_rows_wide(x, w, depth, steps, acc) };
                for ((o, a), unit) in o.iter_mut().zip(acc).zip(c..) {
                    *o = finish(a, unit);
                }
                c += 4;
            } else {
                let acc = bias.get(c).copied().unwrap_or(0);
                // SAFETY: as above, for unit `c` < `units`.
                let acc = unsafe { dot_1_row_wide(x, w, steps, acc) };
                if let Some(o) = out.get_mut(c) {
                    *o = finish(acc, c);
                }
                c += 1;
            }
        }
    }
}
