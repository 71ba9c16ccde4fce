//! CONV_2D and FULLY_CONNECTED (int8): output pixels 4 at a time; each
//! pixel's window gathered once as 16-bit `input + offset` ("patch", zero
//! for taps in the padding, which the reference skips: they add 0), padded
//! with zeros to a multiple of 16; then per pair of output channels, the 4
//! patches, 16 taps per `vpmaddwd` against the filter widened in a register.
//! The filter's last `k % 16` taps of each channel are read with the next
//! channel's first ones (times the patch's zero padding), and the last
//! channel's copied into a zero-padded register, so no read leaves `filter`. Sums wrap in 32 bits as the reference's, and
//! integer sums do not depend on their order: the outputs are the
//! reference's bit for bit (`arch::tests`).

use core::arch::x86_64::*;

use super::mac;

use super::packed;
use super::requant::Requantizer;
use crate::ops::conv_2d::{Conv2dParams, Window};
use crate::ops::fully_connected::FullyConnectedParams;
use crate::ops::per_channel::Requant;

/// The longest window (taps, rounded up to 16) the kernels take.
const MAX_K: usize = 2048;
/// Output channels accumulated before one requantization pass.
const BLOCK: usize = 64;

/// Whether `x + offset` fits an `i16` for every int8 `x`.
fn offset_fits(offset: i32) -> bool {
    (i32::from(i16::MIN) + 128..=i32::from(i16::MAX) - 127).contains(&offset)
}

/// `k` rounded up to a multiple of 16.
fn padded(k: usize) -> usize {
    k.div_ceil(16) * 16
}

/// The int8 CONV_2D, bit-exact with `ops::conv_2d::conv_i8`; `false` (nothing
/// promised about `output`) for grouped convolutions, windows over
/// [`MAX_K`] taps, offsets leaving 16 bits, short tensors.
#[target_feature(enable = "avx2")]
pub fn conv_i8(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let w = &params.window;
    let depth = w.in_depth;
    let k = w.filter_height * w.filter_width * depth;
    let pixels = w.batches * w.out_height * w.out_width;
    let channels = w.out_depth;
    if params.filter_depth != depth
        || k == 0
        || padded(k) > MAX_K
        || !offset_fits(quant.input_offset)
        || input.len() < w.batches * w.in_height * w.in_width * depth
        || filter.len() < channels * k
        || output.len() < pixels * channels
    {
        return false;
    }
    let Some(requant) = Requantizer::new(quant, bias, channels) else {
        return false;
    };
    let product = Product {
        filter,
        requant,
        k,
        k16: padded(k),
        channels,
    };
    let offset = quant.input_offset;
    let pointwise = w.filter_height == 1
        && w.filter_width == 1
        && w.stride_height == 1
        && w.stride_width == 1
        && w.pad_height == 0
        && w.pad_width == 0
        && (w.out_height, w.out_width) == (w.in_height, w.in_width);
    if packed::direct(w, filter, &product.requant, offset, input, output) {
        return true;
    }
    if pointwise {
        // 1x1, stride 1, no padding: output pixel p reads input pixel p.
        let gather = |pixel: usize, patch: &mut [i16]| {
            let (taps, rest) = patch.split_at_mut(k.min(patch.len()));
            if let Some(x) = input.get(pixel * k..pixel * k + k) {
                widen(x, offset, taps);
            }
            rest.fill(0);
        };
        product.dispatch(pixels, output, gather);
    } else {
        let mut g = Gather::new(w, offset, input);
        let gather = |pixel: usize, patch: &mut [i16]| g.patch(pixel, patch);
        product.dispatch(pixels, output, gather);
    }
    true
}

/// The int8 FULLY_CONNECTED, bit-exact with
/// `ops::fully_connected::fully_connected_i8`: each input row is a patch.
#[target_feature(enable = "avx2")]
pub fn fully_connected_i8(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let (k, units) = (params.depth, params.units);
    if k == 0
        || padded(k) > MAX_K
        || !offset_fits(quant.input_offset)
        || input.len() < params.batches * k
        || weights.len() < units * k
        || output.len() < params.batches * units
    {
        return false;
    }
    let Some(requant) = Requantizer::new(quant, bias, units) else {
        return false;
    };
    let product = Product {
        filter: weights,
        requant,
        k,
        k16: padded(k),
        channels: units,
    };
    let offset = quant.input_offset;
    let gather = |row: usize, patch: &mut [i16]| {
        let (taps, rest) = patch.split_at_mut(k.min(patch.len()));
        if let Some(x) = input.get(row * k..row * k + k) {
            widen(x, offset, taps);
        }
        rest.fill(0);
    };
    product.dispatch(params.batches, output, gather);
    true
}

/// `dst[i] = src[i] + offset` in 16 bits (the caller checked it fits).
#[inline]
#[target_feature(enable = "avx2")]
fn widen(src: &[i8], offset: i32, dst: &mut [i16]) {
    let offset = offset as i16;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = i16::from(s).wrapping_add(offset);
    }
}

/// The filter taps `first..end` of one axis inside the image for output
/// position `out`, and the input position of tap 0: `Window::rows` and
/// `Window::columns`, without their divisions when the dilation is 1.
#[inline]
pub fn span(
    out: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
    taps: usize,
    size: usize,
) -> (usize, usize, isize) {
    let origin = (out * stride) as isize - pad as isize;
    let size = size as isize;
    if dilation > 1 {
        let d = dilation as isize;
        let first = if origin >= 0 {
            0
        } else {
            ((d - 1 - origin) / d) as usize
        }
        .min(taps);
        let end = if size <= origin {
            0
        } else {
            ((size - origin + d - 1) / d) as usize
        };
        return (first, end.clamp(first, taps), origin);
    }
    let first = if origin >= 0 {
        0
    } else {
        origin.unsigned_abs()
    }
    .min(taps);
    let end = if size <= origin {
        0
    } else {
        (size - origin) as usize
    };
    (first, end.clamp(first, taps), origin)
}

/// Fills the patches of output pixels (`k16` values each): `input + offset`
/// for taps inside the image, 0 for the padding and for the values past the
/// window. Walks consecutive pixels without dividing.
struct Gather<'a> {
    w: &'a Window,
    offset: i32,
    input: &'a [i8],
    /// The pixel whose position `at` is.
    next: usize,
    /// Batch, output row and column of `next`.
    at: (usize, usize, usize),
    /// The filter rows inside the image for output row `at.1`.
    rows: (usize, usize, isize),
}

impl<'a> Gather<'a> {
    fn new(w: &'a Window, offset: i32, input: &'a [i8]) -> Self {
        Gather {
            w,
            offset,
            input,
            next: 0,
            at: (0, 0, 0),
            rows: Self::rows(w, 0),
        }
    }

    fn rows(w: &Window, out_y: usize) -> (usize, usize, isize) {
        span(
            out_y,
            w.stride_height,
            w.pad_height,
            w.dilation_height,
            w.filter_height,
            w.in_height,
        )
    }

    /// Output pixel `pixel`'s patch into `patch`.
    #[target_feature(enable = "avx2")]
    fn patch(&mut self, pixel: usize, patch: &mut [i16]) {
        let w = self.w;
        let (ow, oh) = (w.out_width.max(1), w.out_height.max(1));
        if pixel != self.next {
            self.at = (pixel / (ow * oh), (pixel / ow) % oh, pixel % ow);
            self.rows = Self::rows(w, self.at.1);
        }
        let (b, out_y, out_x) = self.at;
        let (y_first, y_end, y0) = self.rows;
        self.next = pixel + 1;
        self.at = if out_x + 1 < ow {
            (b, out_y, out_x + 1)
        } else if out_y + 1 < oh {
            self.rows = Self::rows(w, out_y + 1);
            (b, out_y + 1, 0)
        } else {
            self.rows = Self::rows(w, 0);
            (b + 1, 0, 0)
        };
        let (x_first, x_end, x0) = span(
            out_x,
            w.stride_width,
            w.pad_width,
            w.dilation_width,
            w.filter_width,
            w.in_width,
        );
        let depth = w.in_depth;
        let row_len = w.filter_width * depth;
        let k = w.filter_height * row_len;
        let inside =
            y_first == 0 && y_end == w.filter_height && x_first == 0 && x_end == w.filter_width;
        if inside {
            if let Some(rest) = patch.get_mut(k..) {
                rest.fill(0);
            }
        } else {
            patch.fill(0);
        }
        for fy in y_first..y_end {
            // Taps in range: row y0 + fy * dilation and columns from x0 +
            // x_first * dilation are inside the image (`span`).
            let in_y = (y0 + (fy * w.dilation_height) as isize) as usize;
            let row = (b * w.in_height + in_y) * w.in_width;
            if w.dilation_width == 1 {
                let in_x = (x0 + x_first as isize) as usize;
                let at = (row + in_x) * depth;
                let len = (x_end - x_first) * depth;
                let to = fy * row_len + x_first * depth;
                let src = self.input.get(at..at + len);
                if let (Some(src), Some(dst)) = (src, patch.get_mut(to..to + len)) {
                    widen(src, self.offset, dst);
                }
            } else {
                for fx in x_first..x_end {
                    let in_x = (x0 + (fx * w.dilation_width) as isize) as usize;
                    let at = (row + in_x) * depth;
                    let to = fy * row_len + fx * depth;
                    let src = self.input.get(at..at + depth);
                    if let (Some(src), Some(dst)) = (src, patch.get_mut(to..to + depth)) {
                        widen(src, self.offset, dst);
                    }
                }
            }
        }
    }
}

/// The filters and requantization of one product.
struct Product<'a> {
    /// `channels` filters of `k` taps.
    filter: &'a [i8],
    /// Bias and scaling.
    requant: Requantizer<'a>,
    /// Taps per filter.
    k: usize,
    /// Values per patch (`k` rounded up to 16).
    k16: usize,
    /// Output channels (the caller checked `filter` holds them all).
    channels: usize,
}

impl Product<'_> {
    /// Every output pixel `0..pixels` (see [`Product::quads`]): the packed
    /// product where it fits, else 4 pixels x 2 channels at a time.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn dispatch(&self, pixels: usize, output: &mut [i8], gather: impl FnMut(usize, &mut [i16])) {
        if packed::fits(self.k, self.channels, pixels) {
            let (k, channels) = (self.k, self.channels);
            packed::run(
                self.filter,
                &self.requant,
                k,
                channels,
                pixels,
                output,
                gather,
            );
        } else if self.k16 <= 256 {
            // Small windows take a small buffer: zeroing it is part of
            // every call.
            self.quads::<{ 4 * 256 }>(pixels, output, gather);
        } else {
            self.quads::<{ 4 * MAX_K }>(pixels, output, gather);
        }
    }

    /// Every output pixel `0..pixels`, 4 at a time: `gather(pixel, patch)`
    /// fills a pixel's patch (`k16` values) into a buffer of `N` values
    /// (at least `4 * k16`), then [`Product::run`] writes its channels.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn quads<const N: usize>(
        &self,
        pixels: usize,
        output: &mut [i8],
        mut gather: impl FnMut(usize, &mut [i16]),
    ) {
        let k16 = self.k16.max(16);
        let mut patches = [0i16; N];
        let mut acc = [[0i32; BLOCK]; 4];
        let rows = output.chunks_mut(4 * self.channels.max(1));
        for (quad, out) in rows.enumerate().take(pixels.div_ceil(4)) {
            let first = quad * 4;
            let count = (pixels - first).min(4);
            for (t, patch) in patches.chunks_exact_mut(k16).take(count).enumerate() {
                gather(first + t, patch);
            }
            if let Some(p) = patches.get(..count * k16) {
                self.run(p, &mut acc, out);
            }
        }
    }

    /// Every channel of up to 4 patches (`k16` values each) into
    /// consecutive `channels`-byte rows of `out`.
    #[target_feature(enable = "avx2")]
    fn run(&self, patches: &[i16], acc: &mut [[i32; BLOCK]; 4], out: &mut [i8]) {
        let k16 = self.k16.max(16);
        let count = (patches.len() / k16).min(4);
        let channels = self.channels;
        let full = self.k & !15;
        let patch = |t: usize| patches.as_ptr().wrapping_add(t * k16);
        for block in (0..channels).step_by(BLOCK) {
            let end = (block + BLOCK).min(channels);
            let mut c = block;
            while c + 2 <= end {
                let f = [self.weights(c), self.weights(c + 1)];
                let tails = [self.tail(c), self.tail(c + 1)];
                let j = c - block;
                if count == 4 {
                    let x = [patch(0), patch(1), patch(2), patch(3)];
                    // SAFETY: the 4 patches lie in `patches` (`k16` values
                    // each); `full` <= `k` taps of channels `c`, `c + 1`
                    // (< channels) lie in `filter`.
                    let sums = unsafe { dot::<4, 2>(x, f, tails, full, k16) };
                    let [a, b, c2, d, e, g, h, i] = hsum8(sums);
                    for (row, v) in acc.iter_mut().zip([[a, b], [c2, d], [e, g], [h, i]]) {
                        if let Some(dst) = row.get_mut(j..j + 2) {
                            dst.copy_from_slice(&v);
                        }
                    }
                } else {
                    for (t, row) in acc.iter_mut().enumerate().take(count) {
                        // SAFETY: as above, for patch `t` < count.
                        let [[a, b]] = unsafe { dot::<1, 2>([patch(t)], f, tails, full, k16) };
                        if let Some(dst) = row.get_mut(j..j + 2) {
                            dst.copy_from_slice(&[hsum(a), hsum(b)]);
                        }
                    }
                }
                c += 2;
            }
            if c < end {
                let (f, tails) = ([self.weights(c)], [self.tail(c)]);
                for (t, row) in acc.iter_mut().enumerate().take(count) {
                    // SAFETY: as above, for channel `c` < channels.
                    let [[a]] = unsafe { dot::<1, 1>([patch(t)], f, tails, full, k16) };
                    if let Some(dst) = row.get_mut(c - block) {
                        *dst = hsum(a);
                    }
                }
            }
            for (t, row) in acc.iter().enumerate().take(count) {
                let at = t * channels;
                if let (Some(a), Some(o)) =
                    (row.get(..end - block), out.get_mut(at + block..at + end))
                {
                    self.requant.row(a, block, o);
                }
            }
        }
    }

    /// Channel `c`'s filter.
    fn weights(&self, c: usize) -> *const i8 {
        self.filter.as_ptr().wrapping_add(c * self.k)
    }

    /// Channel `c`'s last `k % 16` taps, widened, padded to 16 with what
    /// follows in `filter` (the patch values there are 0), or with zeros
    /// at the end of `filter`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn tail(&self, c: usize) -> __m256i {
        if self.k.is_multiple_of(16) {
            return _mm256_setzero_si256();
        }
        let at = c * self.k + (self.k & !15);
        if at + 16 <= self.filter.len() {
            // SAFETY: 16 bytes from `at` lie in `filter` (checked).
            return _mm256_cvtepi8_epi16(unsafe {
                _mm_loadu_si128(self.filter.as_ptr().add(at).cast())
            });
        }
        let mut taps = [0i8; 16];
        if let Some(src) = self.filter.get(at..c * self.k + self.k) {
            for (t, &s) in taps.iter_mut().zip(src) {
                *t = s;
            }
        }
        // SAFETY: `taps` holds 16 bytes.
        _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(taps.as_ptr().cast()) })
    }
}

/// `P` patches times `C` filters: per pair, eight partial sums of
/// `patch * filter` over the first `full` taps (16 at a time), then the
/// padded tail against `tails` if `full < k16`.
///
/// # Safety
/// Each patch pointer must be readable for `k16` values and each filter
/// pointer for `full` bytes; `full` is a multiple of 16, at most `k16`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn dot<const P: usize, const C: usize>(
    x: [*const i16; P],
    f: [*const i8; C],
    tails: [__m256i; C],
    full: usize,
    k16: usize,
) -> [[__m256i; C]; P] {
    let mut acc = [[_mm256_setzero_si256(); C]; P];
    let mut k = 0;
    while k < full {
        // SAFETY: `k + 16 <= full`: inside every filter and patch.
        let w = f.map(|p| _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(p.add(k).cast()) }));
        for (row, p) in acc.iter_mut().zip(x) {
            // SAFETY: as above.
            let v = unsafe { _mm256_loadu_si256(p.add(k).cast()) };
            for (a, w) in row.iter_mut().zip(w) {
                *a = mac(*a, v, w);
            }
        }
        k += 16;
    }
    if full < k16 {
        for (row, p) in acc.iter_mut().zip(x) {
            // SAFETY: `full + 16 <= k16`: inside every patch.
            let v = unsafe { _mm256_loadu_si256(p.add(full).cast()) };
            for (a, w) in row.iter_mut().zip(tails) {
                *a = mac(*a, v, w);
            }
        }
    }
    acc
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b0100_1110));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b1011_0001));
    _mm_cvtsi128_si32(s)
}

/// The lane sums of eight vectors (4 pixels x 2 channels, row-major).
#[inline]
#[target_feature(enable = "avx2")]
fn hsum8(v: [[__m256i; 2]; 4]) -> [i32; 8] {
    let [[a0, a1], [a2, a3], [a4, a5], [a6, a7]] = v;
    let t0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    let t1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a4, a5), _mm256_hadd_epi32(a6, a7));
    let sums = _mm256_add_epi32(
        _mm256_permute2x128_si256(t0, t1, 0x20),
        _mm256_permute2x128_si256(t0, t1, 0x31),
    );
    let mut out = [0i32; 8];
    // SAFETY: `out` holds eight i32.
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), sums) };
    out
}
