//! DEPTHWISE_CONV_2D (int8, depth multiplier 1, channels a multiple of 4)
//! one group of four channels at a time over every output pixel: the group's
//! requantization and its widened filter taps are worked out once and reused
//! by every pixel. Pixels whose taps all lie inside the image (the interior)
//! run a loop without padding checks, unrolled for 3x3 filters; the border
//! pixels sum only the taps inside.

use super::dot::load;
use super::requant::{Channel, Scales};
use super::simd::{smlabb, smlatt, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
use crate::ops::conv_2d::Window;
use crate::ops::per_channel::OutputQuant;

/// Most filter taps (`filter_height * filter_width`) this kernel takes.
pub const MAX_TAPS: usize = 25;

/// One tap's weights for four channels, widened: channels 0 and 2, then 1 and 3.
type Tap = [u32; 2];

/// A group's four requantizations.
struct Group {
    q: [Channel; 4],
    output: OutputQuant,
}

impl Group {
    /// Writes the four requantized accumulators to `out..out + 4`.
    ///
    /// # Safety
    /// `out..out + 4` must be writable.
    #[inline(always)]
    unsafe fn store(&self, [a0, a1, a2, a3]: [i32; 4], out: *mut i8) {
        let o = &self.output;
        // SAFETY: the caller's contract.
        unsafe {
            *out = self.q[0].apply(a0, o);
            *out.add(1) = self.q[1].apply(a1, o);
            *out.add(2) = self.q[2].apply(a2, o);
            *out.add(3) = self.q[3].apply(a3, o);
        }
    }
}

/// Adds one tap to the four accumulators: input word `v` (offset added in
/// the widening) times the tap's widened weights.
#[inline(always)]
fn mac4(v: u32, [k02, k13]: Tap, offs: u32, [a0, a1, a2, a3]: [i32; 4]) -> [i32; 4] {
    let (x02, x13) = (sxtab16(offs, v), sxtab16_ror8(offs, v));
    [
        smlabb(x02, k02, a0),
        smlabb(x13, k13, a1),
        smlatt(x02, k02, a2),
        smlatt(x13, k13, a3),
    ]
}

/// Sums an interior pixel's nine taps of a 3x3 filter, written out (opt-level
/// "s" does not unroll loops).
///
/// # Safety
/// `x + r * row_step + t * col_step .. + 4` must be readable for every
/// `r < 3`, `t < 3`.
#[inline(always)]
unsafe fn interior_3x3(
    x: *const i8,
    (row_step, col_step): (usize, usize),
    k: &[Tap; MAX_TAPS],
    offs: u32,
) -> [i32; 4] {
    // SAFETY: the caller's contract.
    unsafe {
        let (x1, x2) = (x.add(row_step), x.add(2 * row_step));
        let (c1, c2) = (col_step, 2 * col_step);
        let mut acc = mac4(load(x), k[0], offs, [0; 4]);
        acc = mac4(load(x.add(c1)), k[1], offs, acc);
        acc = mac4(load(x.add(c2)), k[2], offs, acc);
        acc = mac4(load(x1), k[3], offs, acc);
        acc = mac4(load(x1.add(c1)), k[4], offs, acc);
        acc = mac4(load(x1.add(c2)), k[5], offs, acc);
        acc = mac4(load(x2), k[6], offs, acc);
        acc = mac4(load(x2.add(c1)), k[7], offs, acc);
        mac4(load(x2.add(c2)), k[8], offs, acc)
    }
}

/// Sums taps `rows x cols` of a pixel, `x` at the first, `first` the index
/// of its weights, `fw` taps per filter row.
///
/// # Safety
/// As for [`interior`], with `rows` and `cols` for `FH` and `FW`; every tap
/// index `first + r * fw + t` is below `MAX_TAPS`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn some_taps(
    x: *const i8,
    (row_step, col_step): (usize, usize),
    taps: &[Tap; MAX_TAPS],
    (first, fw): (usize, usize),
    (rows, cols): (usize, usize),
    offs: u32,
) -> [i32; 4] {
    let mut acc = [0; 4];
    for r in 0..rows {
        for t in 0..cols {
            // SAFETY: the caller's contract.
            let v = unsafe { load(x.add(r * row_step + t * col_step)) };
            let k = taps.get(first + r * fw + t).copied().unwrap_or([0, 0]);
            acc = mac4(v, k, offs, acc);
        }
    }
    acc
}

/// The output columns `lo..hi` whose taps all lie inside the input's width
/// (an empty range if none).
fn interior_columns(w: &Window) -> (usize, usize) {
    let full = |ox: usize| {
        let (first, end, _) = w.columns(ox);
        first == 0 && end == w.filter_width
    };
    let lo = (0..w.out_width).find(|&ox| full(ox)).unwrap_or(w.out_width);
    let hi = (lo..w.out_width).find(|&ox| !full(ox)).unwrap_or(w.out_width);
    (lo, hi)
}

/// Runs the op; the caller has checked that the depth multiplier is 1,
/// `depth = in_depth = out_depth` is a multiple of 4, the filter has at most
/// [`MAX_TAPS`] taps, `offs` is the input offset packed in both halves (and
/// its sums fit 16 bits) and `scales` covers `depth` channels. Returns
/// `false` if a tensor is shorter than its shape.
pub fn depthwise_groups(
    w: &Window,
    scales: &Scales<'_>,
    offs: u32,
    input: &[i8],
    filter: &[i8],
    output: &mut [i8],
) -> bool {
    let depth = w.out_depth;
    let (fh, fw) = (w.filter_height, w.filter_width);
    let taps = fh * fw;
    let sizes = (|| {
        let pixels = w.batches.checked_mul(w.in_height)?.checked_mul(w.in_width)?;
        let outs = w.batches.checked_mul(w.out_height)?.checked_mul(w.out_width)?;
        Some((
            pixels.checked_mul(depth)?,
            outs.checked_mul(depth)?,
            taps.checked_mul(depth)?,
        ))
    })();
    let Some((in_len, out_len, f_len)) = sizes else {
        return false;
    };
    if depth % 4 != 0
        || taps > MAX_TAPS
        || input.len() < in_len
        || output.len() < out_len
        || filter.len() < f_len
    {
        return false;
    }
    let (xp, op) = (input.as_ptr(), output.as_mut_ptr());
    let row_step = w.dilation_height * w.in_width * depth;
    let col_step = w.dilation_width * depth;
    let steps = (row_step, col_step);
    let (lo, hi) = interior_columns(w);
    let square3 = (fh, fw) == (3, 3);
    for c in (0..depth).step_by(4) {
        // SAFETY: c + 3 < depth, the channel count of `scales`.
        let group = unsafe {
            Group {
                q: [
                    scales.channel(c),
                    scales.channel(c + 1),
                    scales.channel(c + 2),
                    scales.channel(c + 3),
                ],
                output: scales.output,
            }
        };
        let mut k = [[0u32; 2]; MAX_TAPS];
        for (t, slot) in k.iter_mut().enumerate().take(taps) {
            // t * depth + c + 4 <= taps * depth <= filter.len().
            let word = filter
                .get(t * depth + c..t * depth + c + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8]));
            *slot = [sxtb16(word), sxtb16_ror8(word)];
        }
        for b in 0..w.batches {
            for oy in 0..w.out_height {
                let (y_first, y_end, y0) = w.rows(oy);
                let row_out = ((b * w.out_height + oy) * w.out_width) * depth + c;
                // One output pixel by the general path.
                let border = |ox: usize| {
                    let (x_first, x_end, x0) = w.columns(ox);
                    let acc = if y_end == y_first || x_end == x_first {
                        [0; 4]
                    } else {
                        // The first tap inside the image: rows/columns keep
                        // both coordinates in 0..in_height and 0..in_width.
                        let y = (y0 + (y_first * w.dilation_height) as isize) as usize;
                        let x = (x0 + (x_first * w.dilation_width) as isize) as usize;
                        let base = ((b * w.in_height + y) * w.in_width + x) * depth + c;
                        let first = y_first * fw + x_first;
                        let shape = (y_end - y_first, x_end - x_first);
                        // SAFETY: every tap read is of a pixel inside the
                        // image (`rows` and `columns` keep only those), so
                        // its channels c..c + 4 <= depth end at most at
                        // in_len <= input.len().
                        unsafe { some_taps(xp.add(base), steps, &k, (first, fw), shape, offs) }
                    };
                    // SAFETY: the pixel's channels c..c + 4 end at most at
                    // out_len <= output.len().
                    unsafe { group.store(acc, op.add(row_out + ox * depth)) };
                };
                if !(y_first == 0 && y_end == fh) || lo == hi {
                    (0..w.out_width).for_each(border);
                    continue;
                }
                (0..lo).for_each(border);
                // The interior: every tap inside, so the first is tap 0.
                let x0 = (lo * w.stride_width) as isize - w.pad_width as isize;
                let base = ((b * w.in_height) as isize + y0) as usize * w.in_width;
                let mut at = (base + x0 as usize) * depth + c;
                let x_step = w.stride_width * depth;
                let mut out = row_out + lo * depth;
                for _ in lo..hi {
                    // SAFETY: as for the border, all taps being inside.
                    let acc = unsafe {
                        if square3 {
                            interior_3x3(xp.add(at), steps, &k, offs)
                        } else {
                            some_taps(xp.add(at), steps, &k, (0, fw), (fh, fw), offs)
                        }
                    };
                    // SAFETY: as for the border.
                    unsafe { group.store(acc, op.add(out)) };
                    at += x_step;
                    out += depth;
                }
                (hi..w.out_width).for_each(border);
            }
        }
    }
    true
}
