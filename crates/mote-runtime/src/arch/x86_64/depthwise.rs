//! DEPTHWISE_CONV_2D (int8, depth multiplier 1), per output pixel. Pixels
//! whose taps all lie inside the image ([`Interior`]): two taps per
//! `vpmaddwd`, the two taps' inputs interleaved byte by byte, widened and
//! offset, against the filter interleaved the same way once per call.
//! Pixels at the border: tap by tap, `input + offset` times the filter
//! exactly into 32 bits (`vpmullw` low and `vpmulhw` high halves,
//! interleaved). 16 channels per pass, then 8, then one at a time; then one
//! requantization pass over the pixel's channels.

use core::arch::x86_64::*;

use super::mac;
use core::mem::MaybeUninit;

use super::conv::span;
use super::requant::Requantizer;
use crate::ops::conv_2d::Window;
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::per_channel::Requant;

/// The int8 DEPTHWISE_CONV_2D, bit-exact with
/// `ops::depthwise_conv_2d::depthwise_conv_i8`; `false` (nothing promised
/// about `output`) for a depth multiplier other than 1, an offset whose
/// sums leave 16 bits, short tensors.
#[target_feature(enable = "avx2")]
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
    let offset = quant.input_offset;
    if params.depth_multiplier != 1
        || depth == 0
        || w.in_depth != depth
        || depth > MAX_DEPTH
        || !(-32_640..=32_640).contains(&offset)
        || input.len() < w.batches * w.in_height * w.in_width * depth
        || filter.len() < w.filter_height * w.filter_width * depth
        || output.len() < w.batches * w.out_height * w.out_width * depth
        || !(bias.is_empty() || bias.len() >= depth)
    {
        return false;
    }
    let Some(requant) = Requantizer::new(quant, bias, depth) else {
        return false;
    };
    let mut storage = MaybeUninit::<[i16; PACKED]>::uninit();
    let interior = Interior::new(&w, filter, offset, &mut storage);
    let mut wide = [0i32; MAX_DEPTH];
    let Some(acc) = wide.get_mut(..depth) else {
        return false;
    };
    let mut pixels = output.chunks_exact_mut(depth);
    for b in 0..w.batches {
        for oy in 0..w.out_height {
            let (y_first, y_end, y0) = span(
                oy,
                w.stride_height,
                w.pad_height,
                w.dilation_height,
                w.filter_height,
                w.in_height,
            );
            for ox in 0..w.out_width {
                let Some(out) = pixels.next() else {
                    return true;
                };
                let (x_first, x_end, x0) = span(
                    ox,
                    w.stride_width,
                    w.pad_width,
                    w.dilation_width,
                    w.filter_width,
                    w.in_width,
                );
                let inside = y_first == 0
                    && y_end == w.filter_height
                    && x_first == 0
                    && x_end == w.filter_width;
                match &interior {
                    Some(interior) if inside => {
                        // All taps inside the image: y0, x0 >= 0.
                        let at =
                            ((b * w.in_height + y0 as usize) * w.in_width + x0 as usize) * depth;
                        interior.pixel(input, at, acc);
                    }
                    _ => {
                        let taps = Taps {
                            w: &w,
                            b,
                            rows: (y_first, y_end, y0),
                            columns: (x_first, x_end, x0),
                        };
                        border(&taps, input, filter, offset, acc);
                    }
                }
                requant.row(acc, 0, out);
            }
        }
    }
    true
}

/// The taps of one output pixel inside the image.
struct Taps<'w> {
    w: &'w Window,
    b: usize,
    /// `Window::rows` of the pixel.
    rows: (usize, usize, isize),
    /// `Window::columns` of the pixel.
    columns: (usize, usize, isize),
}

impl Taps<'_> {
    /// Calls `f(input offset, filter offset)` of channel 0 for every tap
    /// inside the image (`rows`/`columns` keep the coordinates >= 0).
    #[inline]
    fn each(&self, mut f: impl FnMut(usize, usize)) {
        let w = self.w;
        let depth = w.out_depth;
        let ((y_first, y_end, y0), (x_first, x_end, x0)) = (self.rows, self.columns);
        for fy in y_first..y_end {
            let in_y = (y0 + (fy * w.dilation_height) as isize) as usize;
            let row = (self.b * w.in_height + in_y) * w.in_width;
            for fx in x_first..x_end {
                let in_x = (x0 + (fx * w.dilation_width) as isize) as usize;
                f((row + in_x) * depth, (fy * w.filter_width + fx) * depth);
            }
        }
    }
}

/// The sums of a pixel with taps in the padding (or of any pixel when
/// [`Interior`] declined the filter) into `acc` (`depth` values), tap by
/// tap, 16, then 8, then 1 channel at a time.
#[target_feature(enable = "avx2")]
fn border(taps: &Taps<'_>, input: &[i8], filter: &[i8], offset: i32, acc: &mut [i32]) {
    let depth = taps.w.out_depth;
    let (x_ptr, f_ptr) = (input.as_ptr(), filter.as_ptr());
    let mut c = 0;
    while c + 16 <= depth {
        let mut sums = Sums16::new();
        taps.each(|x, f| {
            // SAFETY: `c + 16 <= depth`: 16 channels of one pixel inside
            // the image and of one tap, inside the tensors (sizes checked
            // by the caller).
            sums = unsafe { sums.add(x_ptr.add(x + c), f_ptr.add(f + c), offset) };
        });
        if let Some(dst) = acc.get_mut(c..c + 16) {
            sums.store(dst);
        }
        c += 16;
    }
    if c + 8 <= depth {
        let mut sums = Sums8::new();
        taps.each(|x, f| {
            // SAFETY: as above, `c + 8 <= depth`.
            sums = unsafe { sums.add(x_ptr.add(x + c), f_ptr.add(f + c), offset) };
        });
        if let Some(dst) = acc.get_mut(c..c + 8) {
            sums.store(dst);
        }
        c += 8;
    }
    if c == depth {
        return;
    }
    for (j, a) in acc.iter_mut().enumerate().take(depth).skip(c) {
        let mut sum = 0i32;
        taps.each(|x, f| {
            let x = i32::from(input.get(x + j).copied().unwrap_or(0));
            let f = i32::from(filter.get(f + j).copied().unwrap_or(0));
            sum = sum.wrapping_add(f * x.wrapping_add(offset));
        });
        *a = sum;
    }
}

/// The most channels the kernel takes.
const MAX_DEPTH: usize = 1024;
/// The most filter taps [`Interior`] takes.
const MAX_TAPS: usize = 32;
/// The 16-bit filter values [`Interior`] holds.
const PACKED: usize = 8192;

/// Pixels whose taps all lie inside the image, two taps per `vpmaddwd`:
/// the inputs of taps `2p` and `2p + 1` interleaved byte by byte
/// (`vpunpck{l,h}bw`), widened, offset, times the filter values of both
/// taps, interleaved the same way once per call (an odd last tap pairs
/// with itself and a zero filter).
struct Interior<'a> {
    /// Channels.
    depth: usize,
    /// Tap pairs.
    pairs: usize,
    /// Input offset of each tap from tap 0's, in bytes (pairs x 2).
    deltas: [usize; MAX_TAPS],
    /// The filter as `[pair][channel][2]` 16-bit values.
    packed: &'a [i16],
    /// The input offset.
    offset: i32,
}

impl<'a> Interior<'a> {
    /// `None` if the filter has more than [`MAX_TAPS`] taps, fewer than 8
    /// channels or does not fit [`PACKED`] values (of `storage`).
    #[target_feature(enable = "avx2")]
    fn new(
        w: &Window,
        filter: &[i8],
        offset: i32,
        storage: &'a mut MaybeUninit<[i16; PACKED]>,
    ) -> Option<Self> {
        let depth = w.out_depth;
        let taps = w.filter_height * w.filter_width;
        let pairs = taps.div_ceil(2);
        if taps > MAX_TAPS || depth < 8 || pairs * 2 * depth > PACKED {
            return None;
        }
        let mut deltas = [0usize; MAX_TAPS];
        for (t, d) in deltas.iter_mut().enumerate().take(pairs * 2) {
            let t = t.min(taps - 1);
            let (fy, fx) = (t / w.filter_width, t % w.filter_width);
            *d = (fy * w.dilation_height * w.in_width + fx * w.dilation_width) * depth;
        }
        let used = pairs * 2 * depth;
        // SAFETY: `used <= PACKED` (checked); the first `used` values are
        // zeroed before the slice over them is made.
        let packed = unsafe {
            let p = storage.as_mut_ptr().cast::<i16>();
            p.write_bytes(0, used);
            core::slice::from_raw_parts_mut(p, used)
        };
        for (t, taps_filter) in filter.chunks_exact(depth).take(taps).enumerate() {
            let (pair, member) = (t / 2, t % 2);
            let row = packed.iter_mut().skip(pair * 2 * depth + member).step_by(2);
            for (p, &f) in row.zip(taps_filter) {
                *p = i16::from(f);
            }
        }
        Some(Interior {
            depth,
            pairs,
            deltas,
            packed: &*packed,
            offset,
        })
    }

    /// The sums of one pixel whose taps all lie inside the image, tap 0
    /// reading `input[at..]`, into `acc` (`depth` values).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn pixel(&self, input: &[i8], at: usize, acc: &mut [i32]) {
        let (depth, pairs) = (self.depth, self.pairs.min(MAX_TAPS / 2));
        let x = input.as_ptr().wrapping_add(at);
        let (d, f) = (self.deltas.as_ptr(), self.packed.as_ptr());
        let offset = _mm256_set1_epi16(self.offset as i16);
        let mut c = 0;
        while c + 16 <= depth && acc.len() >= c + 16 {
            let (mut lo, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for p in 0..pairs {
                // SAFETY: `2p + 1 < MAX_TAPS` deltas; `Interior::new` made
                // `pairs * 2 * depth <= PACKED` filter values, and pair `p`'s
                // channels `c..c + 16` are at `(p * depth + c) * 2`; every
                // tap of this pixel lies inside the image (the caller's
                // check), so its channels `c..c + 16` lie in `input`; `acc`
                // holds `c + 16` values.
                unsafe {
                    let (da, db) = (*d.add(2 * p), *d.add(2 * p + 1));
                    let xa = _mm_loadu_si128(x.add(da + c).cast());
                    let xb = _mm_loadu_si128(x.add(db + c).cast());
                    let l = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(xa, xb));
                    let h = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(xa, xb));
                    let fp = f.add((p * depth + c) * 2);
                    let fl = _mm256_loadu_si256(fp.cast());
                    let fh = _mm256_loadu_si256(fp.add(16).cast());
                    let l = _mm256_add_epi16(l, offset);
                    let h = _mm256_add_epi16(h, offset);
                    lo = mac(lo, l, fl);
                    hi = mac(hi, h, fh);
                }
            }
            // SAFETY: `acc` holds `c + 16` values (loop condition).
            unsafe {
                _mm256_storeu_si256(acc.as_mut_ptr().add(c).cast(), lo);
                _mm256_storeu_si256(acc.as_mut_ptr().add(c + 8).cast(), hi);
            }
            c += 16;
        }
        if c + 8 <= depth && acc.len() >= c + 8 {
            let mut lo = _mm256_setzero_si256();
            for p in 0..pairs {
                // SAFETY: as above, for channels `c..c + 8`.
                unsafe {
                    let (da, db) = (*d.add(2 * p), *d.add(2 * p + 1));
                    let xa = _mm_loadl_epi64(x.add(da + c).cast());
                    let xb = _mm_loadl_epi64(x.add(db + c).cast());
                    let l = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(xa, xb));
                    let fl = _mm256_loadu_si256(f.add((p * depth + c) * 2).cast());
                    let l = _mm256_add_epi16(l, offset);
                    lo = mac(lo, l, fl);
                }
            }
            // SAFETY: `acc` holds `c + 8` values.
            unsafe { _mm256_storeu_si256(acc.as_mut_ptr().add(c).cast(), lo) };
            c += 8;
        }
        if c == depth {
            return;
        }
        for (ch, a) in acc.iter_mut().enumerate().take(depth).skip(c) {
            let mut sum = 0i32;
            for p in 0..pairs {
                for m in 0..2 {
                    let delta = self.deltas.get(2 * p + m).copied().unwrap_or(0);
                    let x = i32::from(input.get(at + delta + ch).copied().unwrap_or(0));
                    let at_f = (p * depth + ch) * 2 + m;
                    let f = i32::from(self.packed.get(at_f).copied().unwrap_or(0));
                    sum = sum.wrapping_add(f * x.wrapping_add(self.offset));
                }
            }
            *a = sum;
        }
    }
}

/// Sums of 16 channels: channels 0-3 and 8-11 in `lo`, 4-7 and 12-15 in `hi`
/// (the lane order of `vpunpck{l,h}wd`).
#[derive(Clone, Copy)]
struct Sums16 {
    lo: __m256i,
    hi: __m256i,
}

impl Sums16 {
    #[target_feature(enable = "avx2")]
    fn new() -> Self {
        Sums16 {
            lo: _mm256_setzero_si256(),
            hi: _mm256_setzero_si256(),
        }
    }

    /// Adds `f * (x + offset)` of 16 channels.
    ///
    /// # Safety
    /// `x` and `f` must be readable for 16 bytes.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn add(self, x: *const i8, f: *const i8, offset: i32) -> Self {
        // SAFETY: the caller's contract.
        let (x, f) = unsafe { (_mm_loadu_si128(x.cast()), _mm_loadu_si128(f.cast())) };
        let x = _mm256_add_epi16(_mm256_cvtepi8_epi16(x), _mm256_set1_epi16(offset as i16));
        let f = _mm256_cvtepi8_epi16(f);
        let (low, high) = (_mm256_mullo_epi16(x, f), _mm256_mulhi_epi16(x, f));
        Sums16 {
            lo: _mm256_add_epi32(self.lo, _mm256_unpacklo_epi16(low, high)),
            hi: _mm256_add_epi32(self.hi, _mm256_unpackhi_epi16(low, high)),
        }
    }

    /// The 16 sums in channel order into `dst` (16 values).
    #[target_feature(enable = "avx2")]
    fn store(self, dst: &mut [i32]) {
        let first = _mm256_permute2x128_si256(self.lo, self.hi, 0x20);
        let second = _mm256_permute2x128_si256(self.lo, self.hi, 0x31);
        if dst.len() >= 16 {
            // SAFETY: `dst` holds 16 i32.
            unsafe {
                _mm256_storeu_si256(dst.as_mut_ptr().cast(), first);
                _mm256_storeu_si256(dst.as_mut_ptr().add(8).cast(), second);
            }
        }
    }
}

/// Sums of 8 channels: 0-3 in `lo`, 4-7 in `hi`.
#[derive(Clone, Copy)]
struct Sums8 {
    lo: __m128i,
    hi: __m128i,
}

impl Sums8 {
    #[target_feature(enable = "avx2")]
    fn new() -> Self {
        Sums8 {
            lo: _mm_setzero_si128(),
            hi: _mm_setzero_si128(),
        }
    }

    /// Adds `f * (x + offset)` of 8 channels.
    ///
    /// # Safety
    /// `x` and `f` must be readable for 8 bytes.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn add(self, x: *const i8, f: *const i8, offset: i32) -> Self {
        // SAFETY: the caller's contract.
        let (x, f) = unsafe { (_mm_loadl_epi64(x.cast()), _mm_loadl_epi64(f.cast())) };
        let x = _mm_add_epi16(_mm_cvtepi8_epi16(x), _mm_set1_epi16(offset as i16));
        let f = _mm_cvtepi8_epi16(f);
        let (low, high) = (_mm_mullo_epi16(x, f), _mm_mulhi_epi16(x, f));
        Sums8 {
            lo: _mm_add_epi32(self.lo, _mm_unpacklo_epi16(low, high)),
            hi: _mm_add_epi32(self.hi, _mm_unpackhi_epi16(low, high)),
        }
    }

    /// The 8 sums in channel order into `dst` (8 values).
    #[target_feature(enable = "avx2")]
    fn store(self, dst: &mut [i32]) {
        if dst.len() >= 8 {
            // SAFETY: `dst` holds 8 i32.
            unsafe {
                _mm_storeu_si128(dst.as_mut_ptr().cast(), self.lo);
                _mm_storeu_si128(dst.as_mut_ptr().add(4).cast(), self.hi);
            }
        }
    }
}
