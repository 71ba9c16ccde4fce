//! DEPTHWISE_CONV_2D (int8): one input channel with any depth multiplier
//! runs `depthwise_as_conv` (CONV_2D's blocked kernel); with depth multiplier
//! 1, undilated 3x3 filters over channels in fours run `depthwise_groups` (a
//! group of channels over all pixels, inputs widened once into a padded
//! strip); other shapes run here, one pixel at a time, four channels per
//! pass, each tap's four inputs widened with their offset by two `sxtab16`
//! and multiplied into four accumulators by `smlabb`/`smlatt`. Returns
//! `false` (the caller then runs the reference) for what it does not cover
//! (a depth multiplier other than 1 over more than one input channel, short
//! tensors, an offset whose sums leave 16 bits).

use super::conv_2d::offset_fits;
use super::depthwise_as_conv::depthwise_as_conv;
use super::depthwise_groups::depthwise_groups;
use super::dot::{load, packed};
use super::requant::Scales;
use super::simd::{smlabb, smlatt, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::per_channel::Requant;

/// The scales of a depth-multiplier-1 DEPTHWISE_CONV_2D, or `None` where
/// its kernels here do not apply: no channels, an input offset whose sums
/// leave 16 bits, tensors (or scales, or a bias) shorter than the shapes,
/// scales outside the folded requantization (`requant::Scales::new`).
/// Inlined: left to LLVM, KWS's interpreted firmware took 42 K more
/// instructions (6,533,602 against 6,491,706).
#[inline(always)]
pub fn checked_scales<'a>(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'a>,
    (input, filter, bias, output): (&[i8], &[i8], &'a [i32], &[i8]),
) -> Option<Scales<'a>> {
    let w = params.window;
    let depth = w.out_depth;
    let fits = params.depth_multiplier == 1
        && depth > 0
        && w.in_depth == depth
        && offset_fits(quant.input_offset)
        && input.len() >= w.batches * w.in_height * w.in_width * depth
        && filter.len() >= w.filter_height * w.filter_width * depth
        && output.len() >= w.batches * w.out_height * w.out_width * depth
        && (bias.is_empty() || bias.len() >= depth);
    fits.then(|| Scales::new(quant, bias, depth)).flatten()
}

/// The int8 DEPTHWISE_CONV_2D, bit-exact with
/// `ops::depthwise_conv_2d::depthwise_conv_i8`.
pub fn depthwise_conv_i8(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let w = params.window;
    let depth = w.out_depth;
    if params.depth_multiplier != 1 {
        return depthwise_as_conv(params, quant, input, filter, bias, output);
    }
    let Some(scales) = checked_scales(params, quant, (input, filter, bias, &*output)) else {
        return false;
    };
    let off = quant.input_offset;
    let offs = packed(off);
    if cfg!(feature = "depthwise-3x3")
        && depthwise_groups(&w, quant, &scales, input, filter, output)
    {
        return true;
    }
    // SAFETY (of every call): `c` < depth, the channel count of `scales`.
    let finish = |acc: i32, c: usize| unsafe { scales.channel(c) }.apply(acc, &scales.output);
    let row_step = w.dilation_height * w.in_width * depth;
    let col_step = w.dilation_width * depth;
    let mut pixels = output.chunks_exact_mut(depth);
    for b in 0..w.batches {
        for oy in 0..w.out_height {
            let (y_first, y_end, y0) = w.rows(oy);
            for ox in 0..w.out_width {
                let Some(out) = pixels.next() else {
                    return true;
                };
                let (x_first, x_end, x0) = w.columns(ox);
                if y_end == y_first || x_end == x_first {
                    for (c, o) in out.iter_mut().enumerate() {
                        *o = finish(0, c);
                    }
                    continue;
                }
                // The first tap inside the image (both coordinates >= 0 by
                // `rows`/`columns`).
                let y = (y0 + (y_first * w.dilation_height) as isize) as usize;
                let x = (x0 + (x_first * w.dilation_width) as isize) as usize;
                let in_base = ((b * w.in_height + y) * w.in_width + x) * depth;
                let f_base = (y_first * w.filter_width + x_first) * depth;
                let (rows, cols) = (y_end - y_first, x_end - x_first);
                let f_row = w.filter_width * depth;
                // The last tap's channels end inside both tensors, and every
                // other tap's come before them: the reads below are in bounds.
                let in_end = in_base + (rows - 1) * row_step + (cols - 1) * col_step + depth;
                let f_end = f_base + (rows - 1) * f_row + (cols - 1) * depth + depth;
                if in_end > input.len() || f_end > filter.len() {
                    return false;
                }
                let (xp, fp) = (input.as_ptr(), filter.as_ptr());
                let mut quads = out.chunks_exact_mut(4);
                let mut c = 0;
                for o in &mut quads {
                    let (mut a0, mut a1, mut a2, mut a3) = (0, 0, 0, 0);
                    for r in 0..rows {
                        let mut i = in_base + r * row_step + c;
                        let mut f = f_base + r * f_row + c;
                        for _ in 0..cols {
                            // SAFETY: c + 4 <= depth, so i + 4 <= in_end and
                            // f + 4 <= f_end, checked above.
                            let (v, k) = unsafe { (load(xp.add(i)), load(fp.add(f))) };
                            let (x02, x13) = (sxtab16(offs, v), sxtab16_ror8(offs, v));
                            let (k02, k13) = (sxtb16(k), sxtb16_ror8(k));
                            a0 = smlabb(x02, k02, a0);
                            a2 = smlatt(x02, k02, a2);
                            a1 = smlabb(x13, k13, a1);
                            a3 = smlatt(x13, k13, a3);
                            i += col_step;
                            f += depth;
                        }
                    }
                    if let [o0, o1, o2, o3] = o {
                        (*o0, *o1) = (finish(a0, c), finish(a1, c + 1));
                        (*o2, *o3) = (finish(a2, c + 2), finish(a3, c + 3));
                    }
                    c += 4;
                }
                for o in quads.into_remainder() {
                    let mut acc = 0i32;
                    for r in 0..rows {
                        for t in 0..cols {
                            let i = in_base + r * row_step + t * col_step + c;
                            let f = f_base + r * f_row + t * depth + c;
                            let x = i32::from(input.get(i).copied().unwrap_or(0));
                            let k = i32::from(filter.get(f).copied().unwrap_or(0));
                            acc = acc.wrapping_add(k * x.wrapping_add(off));
                        }
                    }
                    *o = finish(acc, c);
                    c += 1;
                }
            }
        }
    }
    true
}
