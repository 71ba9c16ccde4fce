//! CONV_2D (int8) with `vpdpbusd`, output channels in the lanes: the
//! structure of `packed::direct` with bytes instead of 16-bit values. The
//! input is shifted once (`x + 128`) into a padded image whose padding holds
//! `128 - input_offset`, the value whose corrected product is 0 (the
//! reference skips padded taps); each filter row of `filter_width * depth`
//! taps is packed, once per call, as `[tap quad][channel][4]` bytes (an 8x8
//! transpose of 32-bit quads), zero past the row's end. Then per 4 output
//! pixels and 16 channels, per quad of taps, each pixel's 4 image bytes are
//! broadcast and `vpdpbusd`-ed against 8 channels' 4 weights at once. The
//! offset's correction `(input_offset - 128) * sum(filter)` is one vector
//! add per 8 channels before the requantization.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::super::packed::{image_shape, transpose};
use super::super::requant::Requantizer;
use crate::ops::conv_2d::{Conv2dParams, Window};
use crate::ops::per_channel::Requant;

/// Channels per packed block.
const NB: usize = 16;
/// The most bytes of packed filters (64 KiB of stack, never zeroed).
const PACKED: usize = 65_536;
/// The most bytes of the padded image (64 KiB of stack).
const IMAGE: usize = 65_536;
/// The most output channels (their corrections live on the stack).
const MAX_CHANNELS: usize = 2048;

/// The int8 CONV_2D, bit-exact with `ops::conv_2d::conv_i8`; `false`
/// (nothing promised about `output`) for grouped convolutions, horizontal
/// dilation, fewer than 8 output pixels, an image or packed filters over
/// the stack buffers, an input offset outside int8's `-127..=128`, short
/// tensors, or requantization the vector code does not take.
#[target_feature(enable = "avx2,avxvnni")]
pub fn conv_i8(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let w = &params.window;
    let k = w.filter_height * w.filter_width * w.in_depth;
    let pixels = w.batches * w.out_height * w.out_width;
    if params.filter_depth != w.in_depth
        || k == 0
        || w.out_depth > MAX_CHANNELS
        || !(-127..=128).contains(&quant.input_offset)
        || input.len() < w.batches * w.in_height * w.in_width * w.in_depth
        || filter.len() < w.out_depth * k
        || output.len() < pixels * w.out_depth
    {
        return false;
    }
    let Some(requant) = Requantizer::new(quant, bias, w.out_depth) else {
        return false;
    };
    direct(w, filter, &requant, quant.input_offset, input, output)
}

/// 32 filter bytes of channel `c` from tap `from` of `k`, the lanes at or
/// past `keep` zeroed (zeros for a channel `c >= channels`, and past the end
/// of `filter`).
#[inline]
#[target_feature(enable = "avx2")]
fn row(filter: &[i8], k: usize, channels: usize, c: usize, from: usize, keep: __m256i) -> __m256i {
    if c >= channels {
        return _mm256_setzero_si256();
    }
    let at = c * k + from;
    let v = if at + 32 <= filter.len() {
        // SAFETY: 32 bytes from `at` lie in `filter` (checked).
        unsafe { _mm256_loadu_si256(filter.as_ptr().add(at).cast()) }
    } else {
        let mut taps = [0i8; 32];
        for (t, &s) in taps.iter_mut().zip(filter.get(at..).unwrap_or(&[])) {
            *t = s;
        }
        // SAFETY: `taps` holds 32 bytes.
        unsafe { _mm256_loadu_si256(taps.as_ptr().cast()) }
    };
    _mm256_and_si256(v, keep)
}

/// The convolution through the shifted image (see the module's comment);
/// the caller checked the tensor sizes and the offset.
#[target_feature(enable = "avx2,avxvnni")]
fn direct(
    w: &Window,
    filter: &[i8],
    requant: &Requantizer<'_>,
    offset: i32,
    input: &[i8],
    output: &mut [i8],
) -> bool {
    let depth = w.in_depth;
    let channels = w.out_depth;
    let run = w.filter_width * depth;
    let per_row = run.div_ceil(4);
    let quads = w.filter_height * per_row;
    let k = w.filter_height * run;
    let blocks = channels.div_ceil(NB);
    let (rows, cols) = image_shape(w);
    let row_len = cols * depth;
    let size = rows * row_len;
    if w.dilation_width != 1
        || depth == 0
        || run == 0
        || w.out_height * w.out_width < 8
        || size + 4 > IMAGE
        || blocks * quads * NB * 4 > PACKED
    {
        return false;
    }
    // Pack: block b, quad p, channel j, byte m at ((b * quads + p) * NB + j) * 4 + m.
    let mut buffer = MaybeUninit::<[u8; PACKED]>::uninit();
    let packed = buffer.as_mut_ptr().cast::<u8>();
    let lane = _mm256_setr_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31,
    );
    for b in 0..blocks {
        for r in 0..w.filter_height {
            for from in (0..4 * per_row).step_by(32) {
                // Bytes at or past the run's end get a zero filter value.
                let left = run.saturating_sub(from).min(32) as i8;
                let keep = _mm256_cmpgt_epi8(_mm256_set1_epi8(left), lane);
                for half in 0..2 {
                    let c0 = b * NB + half * 8;
                    let mut rows = [_mm256_setzero_si256(); 8];
                    for (j, v) in rows.iter_mut().enumerate() {
                        *v = row(filter, k, channels, c0 + j, r * run + from, keep);
                    }
                    for (j, column) in transpose(rows).into_iter().enumerate() {
                        let q = from / 4 + j;
                        if q < per_row {
                            let p = r * per_row + q;
                            // SAFETY: `((b * quads + p) * NB + half * 8) * 4 +
                            // 32 <= blocks * quads * NB * 4 <= PACKED` (checked).
                            unsafe {
                                let at = ((b * quads + p) * NB + half * 8) * 4;
                                _mm256_storeu_si256(packed.add(at).cast(), column);
                            }
                        }
                    }
                }
            }
        }
    }
    // The correction per channel: (offset - 128) times the filter's sum.
    let correction = offset.wrapping_sub(128);
    let mut corrections = [0i32; MAX_CHANNELS + NB];
    for (c, dst) in corrections.iter_mut().enumerate().take(channels) {
        let taps = filter.get(c * k..c * k + k).unwrap_or(&[]);
        let sum = taps.iter().fold(0i32, |s, &v| s.wrapping_add(i32::from(v)));
        *dst = sum.wrapping_mul(correction);
    }
    let mut storage = MaybeUninit::<[u8; IMAGE]>::uninit();
    // SAFETY: `size + 4 <= IMAGE` (checked); the first `size + 4` bytes are
    // written before the slice over them is made.
    let image = unsafe {
        let p = storage.as_mut_ptr().cast::<u8>();
        // The padding: 128 - offset (in 0..=255: the offset is in -127..=128).
        p.write_bytes(128i32.wrapping_sub(offset) as u8, size + 4);
        core::slice::from_raw_parts_mut(p, size + 4)
    };
    let mut sums = [0i32; NB];
    let pixels = w.out_height * w.out_width;
    let mut outs_iter = output.chunks_exact_mut(channels.max(1));
    for batch in 0..w.batches {
        let plane = w.in_height * w.in_width * depth;
        let Some(x) = input.get(batch * plane..(batch + 1) * plane) else {
            return true;
        };
        for (y, src) in x.chunks_exact(w.in_width * depth).enumerate() {
            let at = (w.pad_height + y) * row_len + w.pad_width * depth;
            if let Some(dst) = image.get_mut(at..at + src.len()) {
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = (s as u8) ^ 0x80;
                }
            }
        }
        let row_step = w.dilation_height * row_len;
        // The next output pixel's position, walked without dividing.
        let (mut oy, mut ox) = (0usize, 0usize);
        for first in (0..pixels).step_by(4) {
            let count = (pixels - first).min(4);
            let mut x = [image.as_ptr(); 4];
            let mut outs: [Option<&mut [i8]>; 4] = [None, None, None, None];
            for (x, out) in x.iter_mut().zip(outs.iter_mut()).take(count) {
                let base = (oy * w.stride_height * cols + ox * w.stride_width) * depth;
                *x = image.as_ptr().wrapping_add(base);
                *out = outs_iter.next();
                ox += 1;
                if ox == w.out_width {
                    (oy, ox) = (oy + 1, 0);
                }
            }
            // A short quad repeats its last pixel (its sums are not stored).
            let last = x.get(count - 1).copied().unwrap_or(image.as_ptr());
            for x in x.iter_mut().skip(count) {
                *x = last;
            }
            for b in 0..blocks {
                let (c0, c1) = (b * NB, ((b + 1) * NB).min(channels));
                // SAFETY: block `b`'s `quads * NB * 4` bytes were written
                // above; every pixel's rows `base + r * row_step + 0..4 *
                // per_row` lie in the image's `size + 4` bytes (its taps lie
                // in the padded image; a run not a multiple of 4 reads up to
                // 3 bytes on).
                let acc = unsafe {
                    dot_rows(
                        x,
                        packed.add(b * quads * NB * 4),
                        w.filter_height,
                        per_row,
                        row_step,
                    )
                };
                // SAFETY: `corrections` holds `MAX_CHANNELS + NB` values and
                // `c0 < channels <= MAX_CHANNELS`.
                let (fix_lo, fix_hi) = unsafe {
                    let at = corrections.as_ptr().add(c0);
                    (
                        _mm256_loadu_si256(at.cast()),
                        _mm256_loadu_si256(at.add(8).cast()),
                    )
                };
                for ([lo, hi], out) in acc.into_iter().zip(outs.iter_mut()) {
                    let Some(out) = out.as_deref_mut() else {
                        continue;
                    };
                    let (lo, hi) = (_mm256_add_epi32(lo, fix_lo), _mm256_add_epi32(hi, fix_hi));
                    if let (Some(a), Some(b), Some(o)) = (
                        requant.lanes8(lo, c0),
                        requant.lanes8(hi, c0 + 8),
                        out.get_mut(c0..c0 + NB).filter(|_| c1 - c0 == NB),
                    ) {
                        // SAFETY: `o` holds 16 bytes.
                        unsafe {
                            _mm_storel_epi64(o.as_mut_ptr().cast(), a);
                            _mm_storel_epi64(o.as_mut_ptr().add(8).cast(), b);
                        }
                        continue;
                    }
                    // SAFETY: `sums` holds 16 i32.
                    unsafe {
                        _mm256_storeu_si256(sums.as_mut_ptr().cast(), lo);
                        _mm256_storeu_si256(sums.as_mut_ptr().add(8).cast(), hi);
                    }
                    if let (Some(s), Some(o)) = (sums.get(..c1 - c0), out.get_mut(c0..c1)) {
                        requant.row(s, c0, o);
                    }
                }
            }
        }
    }
    true
}

/// 4 pixels times one packed block of 16 channels over `rows` runs of
/// `per_row` tap quads, `row_step` bytes apart: per quad, each pixel's 4
/// bytes broadcast and `vpdpbusd`-ed into two accumulators of 8 channels.
///
/// # Safety
/// Each pixel's runs must be readable (`4 * per_row` bytes each), `w` for
/// `rows * per_row * 64` (initialized) bytes.
#[inline]
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn dot_rows(
    x: [*const u8; 4],
    w: *const u8,
    rows: usize,
    per_row: usize,
    row_step: usize,
) -> [[__m256i; 2]; 4] {
    let mut acc = [[_mm256_setzero_si256(); 2]; 4];
    for r in 0..rows {
        for q in 0..per_row {
            let p = r * per_row + q;
            let at = r * row_step + 4 * q;
            // SAFETY: the caller's contract.
            unsafe {
                let w0 = _mm256_loadu_si256(w.add(p * 64).cast());
                let w1 = _mm256_loadu_si256(w.add(p * 64 + 32).cast());
                for (a, x) in acc.iter_mut().zip(x) {
                    let v = _mm256_set1_epi32(x.add(at).cast::<i32>().read_unaligned());
                    a[0] = _mm256_dpbusd_avx_epi32(a[0], v, w0);
                    a[1] = _mm256_dpbusd_avx_epi32(a[1], v, w1);
                }
            }
        }
    }
    acc
}
