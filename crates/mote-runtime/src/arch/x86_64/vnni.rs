//! FULLY_CONNECTED (int8) with AVX-VNNI's `vpdpbusd`: 32 products of an
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
//! none). Four filter rows share each load of the input; a row's last
//! `k % 32` weights are read as the 32 bytes ending the row, against an
//! input vector whose overlapping lanes are zero, so no read leaves the row.

use core::arch::x86_64::*;

use super::requant::Requantizer;
use crate::ops::fully_connected::FullyConnectedParams;
use crate::ops::per_channel::Requant;

/// The longest row the kernel takes (bytes of stack for the shifted input).
const MAX_K: usize = 4096;
/// Output units accumulated before one requantization pass.
const BLOCK: usize = 64;

/// The int8 FULLY_CONNECTED, bit-exact with
/// `ops::fully_connected::fully_connected_i8`; `false` (nothing written) for
/// rows shorter than 32 or longer than [`MAX_K`], short tensors, or
/// requantization the vector code does not take.
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
    if !(32..=MAX_K).contains(&k)
        || input.len() < params.batches * k
        || weights.len() < units * k
        || output.len() < params.batches * units
    {
        return false;
    }
    let Some(requant) = Requantizer::new(quant, bias, units) else {
        return false;
    };
    let correction = quant.input_offset.wrapping_sub(128);
    let mut shifted = [0u8; MAX_K];
    let mut acc = [0i32; BLOCK];
    let rows = input.chunks_exact(k).zip(output.chunks_exact_mut(units));
    for (x, out) in rows.take(params.batches) {
        let Some(u) = shifted.get_mut(..k) else {
            return false;
        };
        for (u, &x) in u.iter_mut().zip(x) {
            *u = (x as u8) ^ 0x80;
        }
        let row = Row::new(u, k);
        for block in (0..units).step_by(BLOCK) {
            let end = (block + BLOCK).min(units);
            let sums = acc.get_mut(..end - block).unwrap_or(&mut []);
            if correction == 0 {
                row.sums::<false>(weights, block, 0, sums);
            } else {
                row.sums::<true>(weights, block, correction, sums);
            }
            if let Some(o) = out.get_mut(block..end) {
                requant.row(sums, block, o);
            }
        }
    }
    true
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
    /// The tail vectors of `u` (`k >= 32` values).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(u: &'a [u8], k: usize) -> Self {
        let rest = k % 32;
        let mut tail = [0u8; 32];
        let mut ones = [0u8; 32];
        if let Some(last) = u.get(k - rest..k) {
            tail[32 - rest..].copy_from_slice(last);
            ones[32 - rest..].fill(1);
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
    /// (plus `correction` times that row's sum, if `CORRECT`). The caller
    /// checked `weights` holds every row it asks for.
    #[inline]
    #[target_feature(enable = "avx2,avxvnni")]
    fn sums<const CORRECT: bool>(
        &self,
        weights: &[i8],
        first: usize,
        correction: i32,
        sums: &mut [i32],
    ) {
        let n = sums.len();
        if weights.len() < (first + n) * self.k {
            return;
        }
        let at = |j: usize| weights.as_ptr().wrapping_add((first + j) * self.k);
        let mut j = 0;
        while j + 4 <= n {
            // SAFETY: rows `first + j .. first + j + 4` lie in `weights`
            // (checked above), each `k >= 32` bytes.
            let s = unsafe {
                self.dot::<4, CORRECT>([at(j), at(j + 1), at(j + 2), at(j + 3)], correction)
            };
            if let Some(dst) = sums.get_mut(j..j + 4) {
                dst.copy_from_slice(&s);
            }
            j += 4;
        }
        while j < n {
            // SAFETY: as above, for row `first + j`.
            let [s] = unsafe { self.dot::<1, CORRECT>([at(j)], correction) };
            if let Some(dst) = sums.get_mut(j) {
                *dst = s;
            }
            j += 1;
        }
    }

    /// The `R` rows' dot products with `u`, each plus `correction` times
    /// its sum if `CORRECT`.
    ///
    /// # Safety
    /// Every pointer must be readable for `k` bytes.
    #[inline]
    #[target_feature(enable = "avx2,avxvnni")]
    unsafe fn dot<const R: usize, const CORRECT: bool>(
        &self,
        w: [*const i8; R],
        correction: i32,
    ) -> [i32; R] {
        let ones = _mm256_set1_epi8(1);
        let mut acc = [_mm256_setzero_si256(); R];
        let mut sum = [_mm256_setzero_si256(); R];
        let full = self.k & !31;
        let mut i = 0;
        while i < full {
            // SAFETY: `i + 32 <= full <= k`: inside `u` and every row.
            let x = unsafe { _mm256_loadu_si256(self.u.as_ptr().add(i).cast()) };
            for r in 0..R {
                // SAFETY: as above.
                let v = unsafe { _mm256_loadu_si256(w[r].add(i).cast()) };
                acc[r] = _mm256_dpbusd_avx_epi32(acc[r], x, v);
                if CORRECT {
                    sum[r] = _mm256_dpbusd_avx_epi32(sum[r], ones, v);
                }
            }
            i += 32;
        }
        if full < self.k {
            for r in 0..R {
                // SAFETY: `k >= 32`: the row's last 32 bytes.
                let v = unsafe { _mm256_loadu_si256(w[r].add(self.k - 32).cast()) };
                acc[r] = _mm256_dpbusd_avx_epi32(acc[r], self.tail, v);
                if CORRECT {
                    sum[r] = _mm256_dpbusd_avx_epi32(sum[r], self.tail_ones, v);
                }
            }
        }
        if CORRECT {
            let c = _mm256_set1_epi32(correction);
            for r in 0..R {
                acc[r] = _mm256_add_epi32(acc[r], _mm256_mullo_epi32(sum[r], c));
            }
        }
        acc.map(|v| hsum(v))
    }
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
