//! A faster int8 CONV_2D kernel with exactly the reference kernel's output.
//!
//! Output pixels are taken in tiles of up to [`MAX_TILE`]. For each pixel the
//! filter window's inputs are gathered once into a stack buffer ("patch") as
//! `input + input_offset` in 16 bits, with zeros for taps in the padding (the
//! reference skips those taps: they add 0). Then, per output channel, the
//! filter is widened to 16 bits once per tile and dotted with every patch of
//! the tile: 16-bit dot products, which compilers turn into multiply-add
//! instructions (`pmaddwd`, `smlad`). Integer sums do not depend on their
//! order, so the result is the reference's, bit for bit (the tests below
//! check it on random cases).

use super::conv_2d::Conv2dParams;
use super::per_channel::Requant;

/// 16-bit values of patches a tile may hold (twice that in stack bytes).
#[cfg(target_pointer_width = "64")]
const TILE_BUDGET: usize = 4096;
/// 16-bit values of patches a tile may hold (twice that in stack bytes).
#[cfg(not(target_pointer_width = "64"))]
const TILE_BUDGET: usize = 1024;

/// The most output pixels per tile.
pub const MAX_TILE: usize = 8;

/// Output channels accumulated before one requantization pass.
const BLOCK: usize = 32;

/// The largest filter window (height x width x depth) the fast kernel takes.
pub const MAX_PATCH: usize = 1024;

/// Whether [`conv_i8`] handles these params: one group, a window that fits
/// the patch, and an input offset that keeps `input + offset` in 16 bits.
pub fn supports(params: &Conv2dParams, input_offset: i32) -> bool {
    let w = &params.window;
    params.filter_depth == w.in_depth
        && w.filter_height * w.filter_width * w.in_depth <= MAX_PATCH
        && (-32_000..=32_000).contains(&input_offset)
}

/// The int8 convolution; call only when [`supports`] says so.
pub fn conv_i8(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    let w = &params.window;
    let k = w.filter_height * w.filter_width * w.in_depth;
    let out_depth = w.out_depth;
    if k == 0 || out_depth == 0 || k > MAX_PATCH {
        return;
    }
    let tile = (TILE_BUDGET / k).clamp(1, MAX_TILE);
    let mut patches = [0i16; TILE_BUDGET];
    let mut widened = [0i16; MAX_PATCH];
    let Some(widened) = widened.get_mut(..k) else {
        return;
    };
    let pixels = w.batches * w.out_height * w.out_width;
    let mut start = 0;
    while start < pixels {
        let count = tile.min(pixels - start);
        for (t, patch) in patches.chunks_exact_mut(k).take(count).enumerate() {
            gather(params, quant.input_offset, input, start + t, patch);
        }
        let Some(out) = output.get_mut(start * out_depth..(start + count) * out_depth) else {
            return;
        };
        let tile = Tile {
            patches: patches.get(..count * k).unwrap_or(&[]),
            k,
            filter,
            bias,
        };
        // Blocked requantization pays off only where it vectorizes (AVX2);
        // both orders give the same numbers (the tests run both).
        if cfg!(target_feature = "avx2") {
            tile.blocked(quant, widened, out);
        } else {
            tile.per_channel(quant, widened, out);
        }
        start += count;
    }
}

/// The gathered patches of a tile of output pixels and what they meet.
struct Tile<'t> {
    /// `count` patches of `k` values.
    patches: &'t [i16],
    /// Values per patch.
    k: usize,
    /// All filters, `k` values per output channel.
    filter: &'t [i8],
    /// Bias per output channel (or empty).
    bias: &'t [i32],
}

impl Tile<'_> {
    /// Channel by channel: widen the filter, dot it with every patch and
    /// requantize each result at once.
    fn per_channel(&self, quant: &Requant<'_>, widened: &mut [i16], out: &mut [i8]) {
        let k = self.k;
        let out_depth = out.len() / (self.patches.len() / k.max(1)).max(1);
        for (oc, f) in self.filter.chunks_exact(k).take(out_depth).enumerate() {
            for (v, &x) in widened.iter_mut().zip(f) {
                *v = i16::from(x);
            }
            let b = self.bias.get(oc).copied().unwrap_or(0);
            for (patch, pixel) in self
                .patches
                .chunks_exact(k)
                .zip(out.chunks_exact_mut(out_depth.max(1)))
            {
                let acc = dot(patch, widened).wrapping_add(b);
                if let Some(o) = pixel.get_mut(oc) {
                    *o = quant.apply(acc, oc);
                }
            }
        }
    }

    /// Blocks of [`BLOCK`] channels: accumulate the block for every patch,
    /// then requantize each pixel's block in one pass.
    fn blocked(&self, quant: &Requant<'_>, widened: &mut [i16], out: &mut [i8]) {
        let k = self.k;
        let count = self.patches.len() / k.max(1);
        let out_depth = out.len() / count.max(1);
        for block_start in (0..out_depth).step_by(BLOCK) {
            let block_end = (block_start + BLOCK).min(out_depth);
            let mut acc = [[0i32; BLOCK]; MAX_TILE];
            for (j, f) in self
                .filter
                .chunks_exact(k)
                .enumerate()
                .take(block_end)
                .skip(block_start)
            {
                for (v, &x) in widened.iter_mut().zip(f) {
                    *v = i16::from(x);
                }
                let column = j - block_start;
                for (patch, row) in self.patches.chunks_exact(k).zip(acc.iter_mut()) {
                    if let Some(a) = row.get_mut(column) {
                        *a = dot(patch, widened);
                    }
                }
            }
            for (row, pixel) in acc.iter().zip(out.chunks_exact_mut(out_depth.max(1))) {
                let accs = row.get(..block_end - block_start).unwrap_or(&[]);
                let outs = pixel.get_mut(block_start..block_end).unwrap_or(&mut []);
                quant.apply_slice(accs, self.bias, block_start, outs);
            }
        }
    }
}

/// Fills `patch` with output pixel `pixel`'s window: `input + offset`, or 0
/// for taps in the padding.
fn gather(params: &Conv2dParams, offset: i32, input: &[i8], pixel: usize, patch: &mut [i16]) {
    let w = &params.window;
    let depth = w.in_depth;
    let out_x = pixel % w.out_width.max(1);
    let out_y = (pixel / w.out_width.max(1)) % w.out_height.max(1);
    let b = pixel / (w.out_width * w.out_height).max(1);
    let in_y0 = (out_y * w.stride_height) as isize - w.pad_height as isize;
    let in_x0 = (out_x * w.stride_width) as isize - w.pad_width as isize;
    for (fy, rows) in patch.chunks_exact_mut(w.filter_width * depth).enumerate() {
        let in_y = in_y0 + (fy * w.dilation_height) as isize;
        for (fx, taps) in rows.chunks_exact_mut(depth).enumerate() {
            let in_x = in_x0 + (fx * w.dilation_width) as isize;
            let inside = in_y >= 0
                && (in_y as usize) < w.in_height
                && in_x >= 0
                && (in_x as usize) < w.in_width;
            let window = if inside {
                let at = ((b * w.in_height + in_y as usize) * w.in_width + in_x as usize) * depth;
                input.get(at..at + depth)
            } else {
                None
            };
            match window {
                Some(x) => {
                    for (t, &v) in taps.iter_mut().zip(x) {
                        *t = (i32::from(v) + offset) as i16;
                    }
                }
                None => taps.fill(0),
            }
        }
    }
}

/// `sum a[i] * b[i]` over 16-bit values (each product fits 32 bits; the sum
/// wraps as the reference's 32-bit accumulator does).
#[inline]
fn dot(a: &[i16], b: &[i16]) -> i32 {
    a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

#[cfg(test)]
mod tests {
    use super::super::conv_2d::{conv_i8_reference, ConvKind, Window};
    use super::super::per_channel::OutputQuant;
    use super::*;

    /// A small xorshift for repeatable random cases.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn equals_the_reference_on_random_convolutions() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for case in 0..300 {
            let fh = 1 + rng.next(4) as usize;
            let fw = 1 + rng.next(4) as usize;
            let depth = 1 + rng.next(9) as usize;
            let out_depth = 1 + rng.next(11) as usize;
            let stride = 1 + rng.next(3) as usize;
            let dilation = 1 + rng.next(2) as usize;
            let in_h = 1 + rng.next(9) as usize;
            let in_w = 1 + rng.next(9) as usize;
            let pad_h = rng.next(fh as u64) as usize;
            let pad_w = rng.next(fw as u64) as usize;
            let out_h = in_h.div_ceil(stride);
            let out_w = in_w.div_ceil(stride);
            let params = Conv2dParams {
                window: Window {
                    batches: 1 + rng.next(2) as usize,
                    in_height: in_h,
                    in_width: in_w,
                    in_depth: depth,
                    filter_height: fh,
                    filter_width: fw,
                    out_height: out_h,
                    out_width: out_w,
                    out_depth,
                    stride_height: stride,
                    stride_width: stride,
                    dilation_height: dilation,
                    dilation_width: dilation,
                    pad_height: pad_h,
                    pad_width: pad_w,
                },
                filter_depth: depth,
                has_bias: true,
                kind: ConvKind::Float32 { range: (0.0, 0.0) },
            };
            let w = &params.window;
            let bytes = |n: usize, rng: &mut Rng| -> Vec<i8> {
                (0..n).map(|_| rng.next(256) as u8 as i8).collect()
            };
            let input = bytes(w.batches * in_h * in_w * depth, &mut rng);
            let filter = bytes(out_depth * fh * fw * depth, &mut rng);
            let bias: Vec<i32> = (0..out_depth)
                .map(|_| rng.next(20000) as i32 - 10000)
                .collect();
            let multipliers: Vec<i32> = (0..out_depth)
                .map(|_| (1 << 30) + rng.next(1 << 30) as i32)
                .collect();
            let shifts: Vec<i32> = (0..out_depth).map(|_| -(rng.next(12) as i32)).collect();
            let quant = Requant {
                input_offset: rng.next(256) as i32 - 127,
                output: OutputQuant {
                    offset: rng.next(40) as i32 - 20,
                    min: -128 + rng.next(50) as i32,
                    max: 127,
                },
                multipliers: &multipliers,
                shifts: &shifts,
            };
            assert!(supports(&params, quant.input_offset));
            let n = w.batches * out_h * out_w * out_depth;
            let (mut fast, mut reference) = (vec![0i8; n], vec![0i8; n]);
            conv_i8(&params, &quant, &input, &filter, &bias, &mut fast);
            conv_i8_reference(&params, &quant, &input, &filter, &bias, &mut reference);
            assert_eq!(fast, reference, "case {case}: {params:?}");
            // Both channel orders, whichever this build selects.
            let k = fh * fw * depth;
            let mut patch = vec![0i16; k];
            let mut widened = vec![0i16; k];
            for pixel in 0..w.batches * out_h * out_w {
                gather(&params, quant.input_offset, &input, pixel, &mut patch);
                let tile = Tile {
                    patches: &patch,
                    k,
                    filter: &filter,
                    bias: &bias,
                };
                let want = &reference[pixel * out_depth..(pixel + 1) * out_depth];
                let mut got = vec![0i8; out_depth];
                tile.per_channel(&quant, &mut widened, &mut got);
                assert_eq!(got, want, "case {case} pixel {pixel}: per channel");
                tile.blocked(&quant, &mut widened, &mut got);
                assert_eq!(got, want, "case {case} pixel {pixel}: blocked");
            }
        }
    }
}
