//! FULLY_CONNECTED (int8) with `vpdpbusd`: 32 products of an
//! unsigned and a signed byte per instruction, summed four at a time into
//! 32-bit lanes exactly (no 16-bit intermediate, no saturation).
//!
//! The instruction wants one operand unsigned, so the input row is shifted
//! once to `u = x + 128` (`x ^ 0x80`, 0..=255) and the weights stay as
//! they are. The reference sums `(x + input_offset) * w`; here
//! `sum(u * w) + (input_offset - 128) * sum(w)`, the same number modulo
//! 2^32 (both wrap in 32 bits, and the identity holds in that ring), with
//! `sum(w)` taken by a second `vpdpbusd` against ones only when the offset
//! is not 128 (an input with zero point -128, the output of a ReLU, needs
//! none). Eight filter rows (four with the correction) share each load of
//! the input; a row's last `k % 32` weights are read as the 32 bytes ending
//! the row, against an input vector whose overlapping lanes are zero, so no
//! read leaves the weights (rows under 32 bytes are first copied after 32
//! zero bytes).

use core::arch::x86_64::*;

use super::super::requant::Requantizer;
use crate::ops::fully_connected::FullyConnectedParams;
use crate::ops::per_channel::Requant;

/// The longest row the kernel takes (bytes of stack for the shifted input).
const MAX_K: usize = 4096;
/// The most weights (rows shorter than 32 bytes) copied to the stack.
const SHORT: usize = 4096;
/// Output units accumulated before one requantization pass.
const BLOCK: usize = 64;

/// The int8 FULLY_CONNECTED, bit-exact with
/// `ops::fully_connected::fully_connected_i8`; `false` (nothing written) for
/// rows longer than [`MAX_K`], more than [`SHORT`] weights in rows shorter
/// than 32, short tensors, or requantization the vector code does not take.
#[target_feature(enable = "avx2,avxvnni")]
pub fn fully_connected_i8(
    params: &FullyConnectedParams,
    quant: &Requant<'_>,
    input: &[i8],
    weights: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let (k, units) = (params.depth, params.units);
    if !(1..=MAX_K).contains(&k)
        || input.len() < params.batches * k
        || weights.len() < units * k
        || output.len() < params.batches * units
    {
        return false;
    }
    let Some(requant) = Requantizer::new(quant, bias, units) else {
        return false;
    };
    let run = Run {
        params,
        requant,
        correction: quant.input_offset.wrapping_sub(128),
    };
    if k < 32 {
        // Rows shorter than 32 bytes: the weights copied after 32 zero
        // bytes, so the 32 bytes ending each row are readable.
        let mut short = [0i8; SHORT + 32];
        match (short.get_mut(32..32 + units * k), weights.get(..units * k)) {
            (Some(dst), Some(src)) => dst.copy_from_slice(src),
            _ => return false,
        }
        run.rows::<32>(input, &short, 32, output);
    } else if k <= 256 {
        // The shifted row's buffer is zeroed every call: small rows, small buffer.
        run.rows::<256>(input, weights, 0, output);
    } else {
        run.rows::<MAX_K>(input, weights, 0, output);
    }
    true
}

/// One FULLY_CONNECTED's shape, requantization and offset correction.
struct Run<'a> {
    params: &'a FullyConnectedParams,
    requant: Requantizer<'a>,
    /// `input_offset - 128`, wrapping.
    correction: i32,
}

impl Run<'_> {
    /// Every input row (`N >= k` values) against the filter rows starting
    /// at `weights[start..]` (`start >= 32` if `k < 32`), into `output`.
    #[inline]
    #[target_feature(enable = "avx2,avxvnni")]
    fn rows<const N: usize>(&self, input: &[i8], weights: &[i8], start: usize, output: &mut [i8]) {
        let (k, units) = (self.params.depth, self.params.units);
        let mut shifted = [0u8; N];
        let mut acc = [0i32; BLOCK];
        let rows = input.chunks_exact(k).zip(output.chunks_exact_mut(units));
        for (x, out) in rows.take(self.params.batches) {
            let Some(u) = shifted.get_mut(..k) else {
                return;
            };
            for (u, &x) in u.iter_mut().zip(x) {
                *u = (x as u8) ^ 0x80;
            }
            let row = Row::new(u, k);
            for block in (0..units).step_by(BLOCK) {
                let end = (block + BLOCK).min(units);
                let sums = acc.get_mut(..end - block).unwrap_or(&mut []);
                if self.correction == 0 {
                    row.sums::<false>(weights, start, block, 0, sums);
                } else {
                    row.sums::<true>(weights, start, block, self.correction, sums);
                }
                if let Some(o) = out.get_mut(block..end) {
                    self.requant.row(sums, block, o);
                }
            }
        }
    }
}

/// One shifted input row and the vectors its last `k % 32` values need.
struct Row<'a> {
    /// `x + 128` per input value (`k` of them).
    u: &'a [u8],
    /// Values per row.
    k: usize,
    /// The shifted values `k - 32..k` with the lanes a full chunk already
    /// covers zeroed (unused when `k % 32 == 0`).
    tail: __m256i,
    /// Ones in the lanes of `tail` that count, for the weights' sum.
    tail_ones: __m256i,
}

impl<'a> Row<'a> {
    /// The tail vectors of `u` (`k` values).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(u: &'a [u8], k: usize) -> Self {
        let rest = k % 32;
        let mut tail = [0u8; 32];
        let mut ones = [0u8; 32];
        if let (Some(last), Some(t), Some(o)) = (
            u.get(k - rest..k),
            tail.get_mut(32 - rest..),
            ones.get_mut(32 - rest..),
        ) {
            t.copy_from_slice(last);
            o.fill(1);
        }
        // SAFETY: both arrays hold 32 bytes.
        let (tail, tail_ones) = unsafe {
            (
                _mm256_loadu_si256(tail.as_ptr().cast()),
                _mm256_loadu_si256(ones.as_ptr().cast()),
            )
        };
        Row {
            u,
            k,
            tail,
            tail_ones,
        }
    }

    /// `sums[j]` = the dot product of this row with filter row `first + j`
    /// (plus `correction` times that row's sum, if `CORRECT`), the rows
    /// starting at `weights[start..]`, with `start >= 32` if `k < 32`.
    #[inline]
    #[target_feature(enable = "avx2,avxvnni")]
    fn sums<const CORRECT: bool>(
        &self,
        weights: &[i8],
        start: usize,
        first: usize,
        correction: i32,
        sums: &mut [i32],
    ) {
        let n = sums.len();
        if weights.len() < start + (first + n) * self.k || (self.k < 32 && start < 32) {
            return;
        }
        let at = |j: usize| weights.as_ptr().wrapping_add(start + (first + j) * self.k);
        let mut j = 0;
        // Without the correction 8 rows fit the registers, with it 4.
        let group = if CORRECT { 4 } else { 8 };
        while j + group <= n {
            let mut s = [0i32; 8];
            if CORRECT {
                let rows = [at(j), at(j + 1), at(j + 2), at(j + 3)];
                // SAFETY: rows `first + j ..` lie in `weights` (checked
                // above), with 32 readable bytes before each row's end.
                let v = unsafe { self.dot::<4, CORRECT>(rows, correction) };
                // SAFETY: `s` holds at least 4 values.
                unsafe { _mm_storeu_si128(s.as_mut_ptr().cast(), sum4(v)) };
            } else {
                let rows = core::array::from_fn(|r| at(j + r));
                // SAFETY: as above.
                let v = unsafe { self.dot::<8, CORRECT>(rows, correction) };
                // SAFETY: `s` holds 8 values.
                unsafe { _mm256_storeu_si256(s.as_mut_ptr().cast(), sum8(v)) };
            }
            if let (Some(dst), Some(src)) = (sums.get_mut(j..j + group), s.get(..group)) {
                dst.copy_from_slice(src);
            }
            j += group;
        }
        while j < n {
            // SAFETY: as above, for row `first + j`.
            let [v] = unsafe { self.dot::<1, CORRECT>([at(j)], correction) };
            if let Some(dst) = sums.get_mut(j) {
                *dst = hsum(v);
            }
            j += 1;
        }
    }

    /// The `R` rows' dot products with `u` (each plus `correction` times
    /// its sum if `CORRECT`), as eight partial sums per row.
    ///
    /// # Safety
    /// Every pointer must be readable for `k` bytes, and the 32 bytes
    /// before `k` bytes past it too.
    #[inline]
    #[target_feature(enable = "avx2,avxvnni")]
    unsafe fn dot<const R: usize, const CORRECT: bool>(
        &self,
        w: [*const i8; R],
        correction: i32,
    ) -> [__m256i; R] {
        let ones = _mm256_set1_epi8(1);
        let mut acc = [_mm256_setzero_si256(); R];
        let mut sum = [_mm256_setzero_si256(); R];
        let full = self.k & !31;
        let mut i = 0;
        while i < full {
            // SAFETY: `i + 32 <= full <= k`: inside `u` and every row.
            let x = unsafe { _mm256_loadu_si256(self.u.as_ptr().add(i).cast()) };
            for ((a, s), p) in acc.iter_mut().zip(sum.iter_mut()).zip(w) {
                // SAFETY: as above.
                let v = unsafe { _mm256_loadu_si256(p.add(i).cast()) };
                *a = _mm256_dpbusd_avx_epi32(*a, x, v);
                if CORRECT {
                    *s = _mm256_dpbusd_avx_epi32(*s, ones, v);
                }
            }
            i += 32;
        }
        if full < self.k {
            for ((a, s), p) in acc.iter_mut().zip(sum.iter_mut()).zip(w) {
                // SAFETY: the 32 bytes ending the row (caller's promise).
                let v = unsafe { _mm256_loadu_si256(p.add(self.k).sub(32).cast()) };
                *a = _mm256_dpbusd_avx_epi32(*a, self.tail, v);
                if CORRECT {
                    *s = _mm256_dpbusd_avx_epi32(*s, self.tail_ones, v);
                }
            }
        }
        if CORRECT {
            let c = _mm256_set1_epi32(correction);
            for (a, s) in acc.iter_mut().zip(sum) {
                *a = _mm256_add_epi32(*a, _mm256_mullo_epi32(s, c));
            }
        }
        acc
    }
}

/// Lane `r` = the sum of `v[r]`'s eight lanes, wrapping.
#[inline]
#[target_feature(enable = "avx2")]
fn sum8(v: [__m256i; 8]) -> __m256i {
    let [a, b, c, d, e, f, g, h] = v;
    let low = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    let high = _mm256_hadd_epi32(_mm256_hadd_epi32(e, f), _mm256_hadd_epi32(g, h));
    _mm256_add_epi32(
        _mm256_permute2x128_si256(low, high, 0x20),
        _mm256_permute2x128_si256(low, high, 0x31),
    )
}

/// Lane `r` = the sum of `v[r]`'s eight lanes, wrapping.
#[inline]
#[target_feature(enable = "avx2")]
fn sum4(v: [__m256i; 4]) -> __m128i {
    let [a, b, c, d] = v;
    let s = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1))
}

/// The sum of the eight lanes, wrapping.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b0100_1110));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b1011_0001));
    _mm_cvtsi128_si32(s)
}
