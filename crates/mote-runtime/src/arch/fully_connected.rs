//! The int8 FULLY_CONNECTED on the DSP primitives, bit-exact with
//! `ops::fully_connected::fully_connected_i8`. Each input row is widened
//! once to 16-bit halves with its offset added ([`CHUNK`] bytes at a time,
//! into a stack buffer); the units then go four at a time through
//! `simd::dot_4_rows_wide` (one `asm!` loop on Cortex-M4, 23 instructions
//! per 16 MACs), the last `units % 4` one at a time, and every output is
//! requantized by `requant.rs`. Returns `false` (nothing written) for an
//! input offset whose sums leave 16 bits or tensors shorter than the shapes;
//! the caller then runs the reference.

use core::mem::MaybeUninit;

use super::conv_2d::offset_fits;
use super::dot::{load, packed};
use super::requant::Fixed;
use super::simd::{dot_4_rows_wide, smlad, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
use crate::ops::fully_connected::FullyConnectedParams;
use crate::ops::per_channel::Requant;

/// Input bytes widened at a time (a multiple of 4): rows up to this long
/// are widened once for all units, longer ones once per 4 units and chunk.
/// The buffer takes twice this in stack bytes.
pub const CHUNK: usize = 640;

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

/// `acc + sum w * x` over `steps` groups of 4 bytes of one weight row.
///
/// # Safety
/// As for `dot_4_rows_wide`, for the one row at `w`.
#[inline(always)]
unsafe fn dot_1_row_wide(x: *const u32, w: *const i8, steps: usize, mut acc: i32) -> i32 {
    for s in 0..steps {
        // SAFETY: the caller's contract.
        unsafe {
            let c = load(w.add(4 * s));
            acc = smlad(*x.add(2 * s), sxtb16(c), acc);
            acc = smlad(*x.add(2 * s + 1), sxtb16_ror8(c), acc);
        }
    }
    acc
}

/// The sums of units `c..c + n` (`n` = 4, or 1 for `acc[0]`) over the
/// `body` bytes of a row longer than [`CHUNK`], widened a chunk at a time.
///
/// # Safety
/// `x` must be readable for `body` bytes, `w` (unit `c`'s weights) for
/// `(n - 1) * depth + body` bytes, `wide` writable for `CHUNK / 2` words;
/// `body` a multiple of 4.
#[inline(never)]
unsafe fn sums_chunked(
    x: *const i8,
    w: *const i8,
    (depth, body, n): (usize, usize, usize),
    offset: i32,
    wide: *mut u32,
) -> [i32; 4] {
    let mut acc = [0i32; 4];
    for start in (0..body).step_by(CHUNK) {
        let steps = (body - start).min(CHUNK) / 4;
        // SAFETY: bytes `start..start + 4 * steps` lie inside `body`, and
        // `4 * steps <= CHUNK` bytes widen into `CHUNK / 2` words.
        unsafe {
            widen(x.add(start), steps, offset, wide);
            let (x, w) = (wide.cast_const(), w.add(start));
            if n == 4 {
                acc = dot_4_rows_wide(x, w, depth, steps, acc);
            } else {
                acc[0] = dot_1_row_wide(x, w, steps, acc[0]);
            }
        }
    }
    acc
}

/// Adds to `acc[k]` the products of the last `depth - body` (< 4) inputs of
/// `row`, offset added, with those weights of unit `c + k`, for `k < n`.
#[inline(never)]
fn tails(
    acc: &mut [i32; 4],
    (row, weights): (&[i8], &[i8]),
    (c, n, depth): (usize, usize, usize),
    offset: i32,
) {
    let body = depth & !3;
    for (k, a) in acc.iter_mut().enumerate().take(n) {
        let filter = weights.get((c + k) * depth + body..(c + k + 1) * depth);
        let (filter, tail) = (filter.unwrap_or(&[]), row.get(body..).unwrap_or(&[]));
        for (&w, &x) in filter.iter().zip(tail) {
            *a = a.wrapping_add(i32::from(w) * (i32::from(x) + offset));
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
        || units == 0
        || !offset_fits(offset)
        || input.len() < params.batches.saturating_mul(depth)
        || weights.len() < units.saturating_mul(depth)
        || output.len() < params.batches.saturating_mul(units)
    {
        return false;
    }
    // One scale for all units: its folded requantization, found once.
    let shared = match (quant.multipliers, quant.shifts) {
        ([m], [s]) => Fixed::new(*m, *s),
        _ => None,
    };
    let finish = |acc: i32, unit: usize| {
        let acc = acc.wrapping_add(bias.get(unit).copied().unwrap_or(0));
        match shared {
            Some(f) => f.apply(acc, &quant.output),
            None => quant.apply(acc, unit),
        }
    };
    // Whole groups of 4 input bytes; the last `depth % 4` go one by one.
    let (body, w) = (depth & !3, weights.as_ptr());
    let (once, steps) = (body <= CHUNK, body / 4);
    // Uninitialized: `widen` writes every word the dot products read.
    let mut buf = [MaybeUninit::<u32>::uninit(); CHUNK / 2];
    let wide = buf.as_mut_ptr().cast::<u32>();
    for (row, out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(units))
    {
        let x = row.as_ptr();
        if once {
            // SAFETY: `row` holds `depth >= body` bytes; `body <= CHUNK`
            // bytes widen into `body / 2 <= CHUNK / 2` words.
            unsafe { widen(x, steps, offset, wide) };
        }
        let mut quads = out.chunks_exact_mut(4);
        let mut c = 0;
        for o in &mut quads {
            // SAFETY: units `c..c + 4` are below `units`, so each has
            // `depth` weights from `u * depth` on; `widen` above wrote the
            // `2 * steps` words read when `once`, else `row` holds `body`
            // bytes.
            let mut acc = unsafe {
                let w = w.add(c * depth);
                match (once, steps) {
                    (true, 0) => [0; 4],
                    (true, _) => dot_4_rows_wide(wide, w, depth, steps, [0; 4]),
                    (false, _) => sums_chunked(x, w, (depth, body, 4), offset, wide),
                }
            };
            if body != depth {
                tails(&mut acc, (row, weights), (c, 4, depth), offset);
            }
            for ((o, a), k) in o.iter_mut().zip(acc).zip(c..) {
                *o = finish(a, k);
            }
            c += 4;
        }
        for o in quads.into_remainder() {
            // SAFETY: as above, for unit `c` < `units`.
            let mut acc = unsafe {
                let w = w.add(c * depth);
                match once {
                    true => [dot_1_row_wide(wide, w, steps, 0), 0, 0, 0],
                    false => sums_chunked(x, w, (depth, body, 1), offset, wide),
                }
            };
            if body != depth {
                tails(&mut acc, (row, weights), (c, 1, depth), offset);
            }
            *o = finish(acc[0], c);
            c += 1;
        }
    }
    true
}
