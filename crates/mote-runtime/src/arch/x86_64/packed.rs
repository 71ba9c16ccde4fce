//! The int8 matrix product with output channels in the lanes, for
//! convolutions with many output pixels: once per call, the filters are
//! widened and packed 16 channels at a time as `[tap pair][channel][2]`
//! 16-bit values (an 8x8 transpose of 32-bit pairs); then for each 4
//! output pixels, per pair of taps, the pixels' two patch values are
//! broadcast (`vpbroadcastd`) and `vpmaddwd` against 8 channels' filter
//! pairs at once. The sums come out in channel order: no horizontal adds,
//! no widening in the inner loop. Patches are those of `conv` with an even
//! stride (the odd window's last pair meets a patch zero).

use core::arch::x86_64::*;

use super::mac;
use core::mem::MaybeUninit;

use super::requant::Requantizer;
use crate::ops::conv_2d::Window;

/// Channels per packed block.
const NB: usize = 16;
/// The most 16-bit values of packed filters (80 KiB of stack, never zeroed).
const PACKED: usize = 40_960;
/// The longest patch (taps rounded up to even) the packed product takes.
pub const MAX_K2: usize = 2048;

/// `k` rounded up to even.
pub fn even(k: usize) -> usize {
    k.div_ceil(2) * 2
}

/// Whether [`run`] takes `channels` filters of `k` taps for `pixels`
/// outputs: the packed filters fit, and enough pixels share the packing.
pub fn fits(k: usize, channels: usize, pixels: usize) -> bool {
    let k2 = even(k);
    k > 0 && k2 <= MAX_K2 && k2 * channels.div_ceil(NB) * NB <= PACKED && pixels >= 8
}

/// 8 rows of 8 32-bit values, transposed: column `j` of the rows in `out[j]`.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn transpose(r: [__m256i; 8]) -> [__m256i; 8] {
    let [r0, r1, r2, r3, r4, r5, r6, r7] = r;
    let (t0, t1) = (_mm256_unpacklo_epi32(r0, r1), _mm256_unpackhi_epi32(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_epi32(r2, r3), _mm256_unpackhi_epi32(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_epi32(r4, r5), _mm256_unpackhi_epi32(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_epi32(r6, r7), _mm256_unpackhi_epi32(r6, r7));
    let (u0, u1) = (_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2));
    let (u2, u3) = (_mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3));
    let (u4, u5) = (_mm256_unpacklo_epi64(t4, t6), _mm256_unpackhi_epi64(t4, t6));
    let (u6, u7) = (_mm256_unpacklo_epi64(t5, t7), _mm256_unpackhi_epi64(t5, t7));
    [
        _mm256_permute2x128_si256(u0, u4, 0x20),
        _mm256_permute2x128_si256(u1, u5, 0x20),
        _mm256_permute2x128_si256(u2, u6, 0x20),
        _mm256_permute2x128_si256(u3, u7, 0x20),
        _mm256_permute2x128_si256(u0, u4, 0x31),
        _mm256_permute2x128_si256(u1, u5, 0x31),
        _mm256_permute2x128_si256(u2, u6, 0x31),
        _mm256_permute2x128_si256(u3, u7, 0x31),
    ]
}

/// Taps `from..from + 16` of channel `c`'s filter widened (zeros past the
/// end of `filter`, and for a channel `c >= channels`). Taps past `k` are the
/// next channel's: they meet patch zeros.
#[inline]
#[target_feature(enable = "avx2")]
fn row(filter: &[i8], k: usize, channels: usize, c: usize, from: usize) -> __m256i {
    if c >= channels {
        return _mm256_setzero_si256();
    }
    let at = c * k + from;
    if at + 16 <= filter.len() {
        // SAFETY: 16 bytes from `at` lie in `filter` (checked).
        return _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(filter.as_ptr().add(at).cast()) });
    }
    let mut taps = [0i8; 16];
    for (t, &s) in taps.iter_mut().zip(filter.get(at..).unwrap_or(&[])) {
        *t = s;
    }
    // SAFETY: `taps` holds 16 bytes.
    _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(taps.as_ptr().cast()) })
}

/// Every output pixel `0..pixels` into consecutive `channels`-byte rows of
/// `output`: `gather(pixel, patch)` fills a pixel's patch (`even(k)`
/// values: `input + offset`, zeros in the padding and past `k`). The caller
/// checked [`fits`] and that `filter` holds `channels * k` bytes.
#[target_feature(enable = "avx2")]
pub fn run(
    filter: &[i8],
    requant: &Requantizer<'_>,
    k: usize,
    channels: usize,
    pixels: usize,
    output: &mut [i8],
    mut gather: impl FnMut(usize, &mut [i16]),
) {
    if !fits(k, channels, pixels) {
        return;
    }
    let k2 = even(k);
    let pairs = k2 / 2;
    let blocks = channels.div_ceil(NB);
    let mut buffer = MaybeUninit::<[i16; PACKED]>::uninit();
    let packed = buffer.as_mut_ptr().cast::<i16>();
    // Pack: block b, pair p, channel j, member m at ((b * pairs + p) * NB + j) * 2 + m.
    for b in 0..blocks {
        for from in (0..k2).step_by(16) {
            for half in 0..2 {
                let c0 = b * NB + half * 8;
                let rows = [0, 1, 2, 3, 4, 5, 6, 7].map(|j| row(filter, k, channels, c0 + j, from));
                for (j, column) in transpose(rows).into_iter().enumerate() {
                    let p = from / 2 + j;
                    if p < pairs {
                        // SAFETY: `(b * pairs + p) * NB * 2 + half * 16 + 16
                        // <= blocks * pairs * NB * 2 <= PACKED` (`fits`).
                        unsafe {
                            let at = ((b * pairs + p) * NB + half * 8) * 2;
                            _mm256_storeu_si256(packed.add(at).cast(), column);
                        }
                    }
                }
            }
        }
    }
    let mut patches = [0i16; 4 * MAX_K2];
    let mut sums = [0i32; NB];
    let rows = output.chunks_mut(4 * channels.max(1));
    for (quad, out) in rows.enumerate().take(pixels.div_ceil(4)) {
        let first = quad * 4;
        let count = (pixels - first).min(4);
        for (t, patch) in patches.chunks_exact_mut(k2).take(count).enumerate() {
            gather(first + t, patch);
        }
        let x = [0, 1, 2, 3].map(|t| patches.as_ptr().wrapping_add(t.min(count - 1) * k2));
        for b in 0..blocks {
            // SAFETY: block `b`'s `pairs * NB * 2` values were all written
            // above; patches `0..count` hold `k2 = 2 * pairs` values each
            // (a short quad repeats its last patch).
            let acc = unsafe { dot(x, packed.add(b * pairs * NB * 2), pairs) };
            let (c0, c1) = (b * NB, ((b + 1) * NB).min(channels));
            for (t, [lo, hi]) in acc.into_iter().enumerate().take(count) {
                let at = t * channels + c0;
                if c1 - c0 == NB {
                    if let (Some(a), Some(b), Some(o)) = (
                        requant.lanes8(lo, c0),
                        requant.lanes8(hi, c0 + 8),
                        out.get_mut(at..at + NB),
                    ) {
                        // SAFETY: `o` holds 16 bytes.
                        unsafe {
                            _mm_storel_epi64(o.as_mut_ptr().cast(), a);
                            _mm_storel_epi64(o.as_mut_ptr().add(8).cast(), b);
                        }
                        continue;
                    }
                }
                // SAFETY: `sums` holds 16 i32.
                unsafe {
                    _mm256_storeu_si256(sums.as_mut_ptr().cast(), lo);
                    _mm256_storeu_si256(sums.as_mut_ptr().add(8).cast(), hi);
                }
                if let (Some(s), Some(o)) = (sums.get(..c1 - c0), out.get_mut(at..at + c1 - c0)) {
                    requant.row(s, c0, o);
                }
            }
        }
    }
}

/// 4 patches times one packed block of 16 channels: per tap pair, each
/// patch's pair broadcast and multiplied into two accumulators of 8
/// channels.
///
/// # Safety
/// Each patch must be readable for `2 * pairs` values, `w` for
/// `pairs * 32` (initialized) values.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn dot(x: [*const i16; 4], w: *const i16, pairs: usize) -> [[__m256i; 2]; 4] {
    let mut acc = [[_mm256_setzero_si256(); 2]; 4];
    for p in 0..pairs {
        // SAFETY: `p < pairs`: inside `w` and every patch.
        unsafe {
            let w0 = _mm256_loadu_si256(w.add(p * 32).cast());
            let w1 = _mm256_loadu_si256(w.add(p * 32 + 16).cast());
            for (a, x) in acc.iter_mut().zip(x) {
                let v = _mm256_set1_epi32(x.add(2 * p).cast::<i32>().read_unaligned());
                a[0] = mac(a[0], v, w0);
                a[1] = mac(a[1], v, w1);
            }
        }
    }
    acc
}

/// The padded image's shape (of [`direct`] and the AVX-VNNI CONV_2D): rows
/// and columns from `-pad` to the last tap any output pixel reads.
pub(super) fn image_shape(w: &Window) -> (usize, usize) {
    let last = |out: usize, stride: usize, taps: usize, dilation: usize| {
        out.saturating_sub(1) * stride + taps.saturating_sub(1) * dilation + 1
    };
    let rows = last(
        w.out_height,
        w.stride_height,
        w.filter_height,
        w.dilation_height,
    )
    .max(w.pad_height + w.in_height);
    let cols = last(w.out_width, w.stride_width, w.filter_width, 1).max(w.pad_width + w.in_width);
    (rows, cols)
}

/// The most 16-bit values of the widened, zero-padded input [`direct`]
/// holds (64 KiB of stack).
const IMAGE: usize = 32_768;

/// A CONV_2D straight from the input widened once (`input + offset`, 16
/// bits) into a zero-padded image, so every tap of every output pixel lies
/// inside it (a tap in the padding meets a 0, as the reference skips it):
/// no patches; each filter row is one run of `filter_width * depth` values.
/// The filters are packed row by row, each row padded to an even length
/// with a zero filter value. `false` (nothing written) where it does not
/// apply: horizontal dilation, fewer than 8 output pixels, an image or
/// packed filters too large; the caller checked the tensor sizes.
#[target_feature(enable = "avx2")]
pub fn direct(
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
    let per_row = even(run) / 2;
    let pairs = w.filter_height * per_row;
    let k = w.filter_height * run;
    let blocks = channels.div_ceil(NB);
    let (rows, cols) = image_shape(w);
    let row_len = cols * depth;
    let size = rows * row_len;
    if w.dilation_width != 1
        || depth == 0
        || run == 0
        || w.out_height * w.out_width < 8
        || size + 2 > IMAGE
        || blocks * pairs * NB * 2 > PACKED
    {
        return false;
    }
    let mut buffer = MaybeUninit::<[i16; PACKED]>::uninit();
    let packed = buffer.as_mut_ptr().cast::<i16>();
    for b in 0..blocks {
        for r in 0..w.filter_height {
            for from in (0..2 * per_row).step_by(16) {
                // Lanes at or past the run's end get a zero filter value.
                let keep = _mm256_cmpgt_epi16(
                    _mm256_set1_epi16(run.saturating_sub(from).min(16) as i16),
                    _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                );
                for half in 0..2 {
                    let c0 = b * NB + half * 8;
                    let rows = [0, 1, 2, 3, 4, 5, 6, 7].map(|j| {
                        let v = row(filter, k, channels, c0 + j, r * run + from);
                        _mm256_and_si256(v, keep)
                    });
                    for (j, column) in transpose(rows).into_iter().enumerate() {
                        let q = from / 2 + j;
                        if q < per_row {
                            let p = r * per_row + q;
                            // SAFETY: `(b * pairs + p) * NB * 2 + half * 16 +
                            // 16 <= blocks * pairs * NB * 2 <= PACKED` (checked).
                            unsafe {
                                let at = ((b * pairs + p) * NB + half * 8) * 2;
                                _mm256_storeu_si256(packed.add(at).cast(), column);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut storage = MaybeUninit::<[i16; IMAGE]>::uninit();
    // SAFETY: `size + 2 <= IMAGE` (checked); the first `size + 2` values are
    // zeroed before the slice over them is made.
    let image = unsafe {
        let p = storage.as_mut_ptr().cast::<i16>();
        p.write_bytes(0, size + 2);
        core::slice::from_raw_parts_mut(p, size + 2)
    };
    let mut sums = [0i32; NB];
    let pixels = w.out_height * w.out_width;
    let mut outs = output.chunks_exact_mut(channels.max(1));
    for batch in 0..w.batches {
        let plane = w.in_height * w.in_width * depth;
        let Some(x) = input.get(batch * plane..(batch + 1) * plane) else {
            return true;
        };
        for (y, src) in x.chunks_exact(w.in_width * depth).enumerate() {
            let at = (w.pad_height + y) * row_len + w.pad_width * depth;
            if let Some(dst) = image.get_mut(at..at + src.len()) {
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = i16::from(s).wrapping_add(offset as i16);
                }
            }
        }
        let base = |pixel: usize| {
            let (oy, ox) = (pixel / w.out_width, pixel % w.out_width);
            (oy * w.stride_height * cols + ox * w.stride_width) * depth
        };
        let row_step = w.dilation_height * row_len;
        for first in (0..pixels).step_by(4) {
            let count = (pixels - first).min(4);
            let x =
                [0, 1, 2, 3].map(|t| image.as_ptr().wrapping_add(base(first + t.min(count - 1))));
            let mut outs: [Option<&mut [i8]>; 4] =
                [0, 1, 2, 3].map(|t| if t < count { outs.next() } else { None });
            for b in 0..blocks {
                let (c0, c1) = (b * NB, ((b + 1) * NB).min(channels));
                // SAFETY: block `b`'s `pairs * NB * 2` values were written
                // above; every pixel's rows `base + r * row_step + 0..2 *
                // per_row` lie in the image's `size + 2` values (its taps
                // lie in the padded image; an odd run reads one value on).
                let acc = unsafe {
                    dot_rows(
                        x,
                        packed.add(b * pairs * NB * 2),
                        w.filter_height,
                        per_row,
                        row_step,
                    )
                };
                for ([lo, hi], out) in acc.into_iter().zip(outs.iter_mut()) {
                    let Some(out) = out.as_deref_mut() else {
                        continue;
                    };
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

/// [`dot`] over `rows` runs of `per_row` pairs, `row_step` values apart.
///
/// # Safety
/// Each pixel's runs must be readable, `w` for `rows * per_row * 32`
/// (initialized) values.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn dot_rows(
    x: [*const i16; 4],
    w: *const i16,
    rows: usize,
    per_row: usize,
    row_step: usize,
) -> [[__m256i; 2]; 4] {
    let mut acc = [[_mm256_setzero_si256(); 2]; 4];
    for r in 0..rows {
        for q in 0..per_row {
            let p = r * per_row + q;
            let at = r * row_step + 2 * q;
            // SAFETY: the caller's contract.
            unsafe {
                let w0 = _mm256_loadu_si256(w.add(p * 32).cast());
                let w1 = _mm256_loadu_si256(w.add(p * 32 + 16).cast());
                for (a, x) in acc.iter_mut().zip(x) {
                    let v = _mm256_set1_epi32(x.add(at).cast::<i32>().read_unaligned());
                    a[0] = mac(a[0], v, w0);
                    a[1] = mac(a[1], v, w1);
                }
            }
        }
    }
    acc
}
