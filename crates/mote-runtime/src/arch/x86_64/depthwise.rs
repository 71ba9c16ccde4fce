//! DEPTHWISE_CONV_2D (int8, depth multiplier 1): per output pixel, 16
//! channels per pass (then 8, then one at a time), each tap's inputs and
//! filter values widened to 16 bits, `input + offset` multiplied exactly
//! into 32 bits (`vpmullw` low and `vpmulhw` high halves, interleaved), summed
//! over the taps inside the image, then requantized per block of channels.

use core::arch::x86_64::*;

use super::requant::Requantizer;
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::per_channel::Requant;

/// Channels accumulated before one requantization pass.
const BLOCK: usize = 64;

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
    let mut pixels = output.chunks_exact_mut(depth);
    let mut acc = [0i32; BLOCK];
    let (x_ptr, f_ptr) = (input.as_ptr(), filter.as_ptr());
    for b in 0..w.batches {
        for oy in 0..w.out_height {
            let (y_first, y_end, y0) = w.rows(oy);
            for ox in 0..w.out_width {
                let Some(out) = pixels.next() else {
                    return true;
                };
                let (x_first, x_end, x0) = w.columns(ox);
                // Tap (fy, fx) inside the image: its input and filter
                // offsets of channel 0 (`rows`/`columns` keep the
                // coordinates >= 0 and inside the image).
                let tap = |fy: usize, fx: usize| {
                    let in_y = (y0 + (fy * w.dilation_height) as isize) as usize;
                    let in_x = (x0 + (fx * w.dilation_width) as isize) as usize;
                    (
                        ((b * w.in_height + in_y) * w.in_width + in_x) * depth,
                        (fy * w.filter_width + fx) * depth,
                    )
                };
                for block in (0..depth).step_by(BLOCK) {
                    let end = (block + BLOCK).min(depth);
                    let mut c = block;
                    while c + 16 <= end {
                        let mut sums = Sums16::new();
                        for fy in y_first..y_end {
                            for fx in x_first..x_end {
                                let (x, f) = tap(fy, fx);
                                // SAFETY: `c + 16 <= depth`: 16 channels of
                                // one pixel inside the image and of one tap,
                                // inside the tensors (sizes checked above).
                                sums =
                                    unsafe { sums.add(x_ptr.add(x + c), f_ptr.add(f + c), offset) };
                            }
                        }
                        if let Some(dst) = acc.get_mut(c - block..c - block + 16) {
                            sums.store(dst);
                        }
                        c += 16;
                    }
                    if c + 8 <= end {
                        let mut sums = Sums8::new();
                        for fy in y_first..y_end {
                            for fx in x_first..x_end {
                                let (x, f) = tap(fy, fx);
                                // SAFETY: as above, `c + 8 <= depth`.
                                sums =
                                    unsafe { sums.add(x_ptr.add(x + c), f_ptr.add(f + c), offset) };
                            }
                        }
                        if let Some(dst) = acc.get_mut(c - block..c - block + 8) {
                            sums.store(dst);
                        }
                        c += 8;
                    }
                    for (j, a) in acc.iter_mut().enumerate().take(end - block).skip(c - block) {
                        let mut sum = 0i32;
                        for fy in y_first..y_end {
                            for fx in x_first..x_end {
                                let (x, f) = tap(fy, fx);
                                let x = i32::from(input.get(x + block + j).copied().unwrap_or(0));
                                let f = i32::from(filter.get(f + block + j).copied().unwrap_or(0));
                                sum = sum.wrapping_add(f * x.wrapping_add(offset));
                            }
                        }
                        *a = sum;
                    }
                    if let (Some(a), Some(o)) = (acc.get(..end - block), out.get_mut(block..end)) {
                        requant.row(a, block, o);
                    }
                }
            }
        }
    }
    true
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
