//! The int8 ADD without broadcasting, 8 elements at a time: each input
//! offset, shifted left and scaled (`MultiplyByQuantizedMultiplierSmallerThanOneExp`,
//! the lanes of `requant::scale` with the shift capped at 0, which is that
//! function's exactly), summed, scaled to the output, offset and clamped,
//! as `AddSubQuantized::apply`.

use core::arch::x86_64::*;

use super::requant::{pack, scale, scale_plain};
use crate::ops::arithmetic::AddSubQuantized;

/// `output[i] = a[i] + b[i]` (int8 bytes) requantized as `q` says; `false`
/// (nothing written) for a clamp range outside int8 or a left shift
/// outside `0..31`.
#[target_feature(enable = "avx2")]
pub fn add_i8(q: &AddSubQuantized, a: &[u8], b: &[u8], output: &mut [u8]) -> bool {
    let (min, max) = q.range;
    if min < -128 || max > 127 || !(0..31).contains(&q.left_shift) {
        return false;
    }
    let n = a.len().min(b.len()).min(output.len());
    let lanes = |(m, s): (i32, i32)| (_mm256_set1_epi32(m), _mm256_set1_epi32(s.min(0)));
    let (m1, s1) = lanes(q.input1);
    let (m2, s2) = lanes(q.input2);
    let (mo, so) = lanes(q.output);
    let (off1, off2) = (
        _mm256_set1_epi32(q.input1_offset),
        _mm256_set1_epi32(q.input2_offset),
    );
    let shift = _mm_cvtsi32_si128(q.left_shift);
    // Real multipliers below 1 (what `prepare` makes): the shorter scaling.
    let plain = [q.input1, q.input2, q.output]
        .iter()
        .all(|&(m, s)| m != i32::MIN && (-31..=0).contains(&s.min(0)));
    let out_offset = _mm256_set1_epi32(q.output_offset);
    let (lo, hi) = (_mm256_set1_epi32(min), _mm256_set1_epi32(max));
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: `i + 8 <= n`, at most the length of `a`, `b` and `output`.
        unsafe {
            let x = _mm256_cvtepi8_epi32(_mm_loadl_epi64(a.as_ptr().add(i).cast()));
            let y = _mm256_cvtepi8_epi32(_mm_loadl_epi64(b.as_ptr().add(i).cast()));
            // (x + offset) * 2^left_shift, wrapping.
            let x = _mm256_sll_epi32(_mm256_add_epi32(x, off1), shift);
            let y = _mm256_sll_epi32(_mm256_add_epi32(y, off2), shift);
            let v = if plain {
                let raw = _mm256_add_epi32(scale_plain(x, m1, s1), scale_plain(y, m2, s2));
                scale_plain(raw, mo, so)
            } else {
                let raw = _mm256_add_epi32(scale(x, m1, s1), scale(y, m2, s2));
                scale(raw, mo, so)
            };
            let v = _mm256_add_epi32(v, out_offset);
            let v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
            _mm_storel_epi64(output.as_mut_ptr().add(i).cast(), pack(v));
        }
        i += 8;
    }
    let rest = output.iter_mut().zip(a.iter().zip(b)).skip(i);
    for (o, (&x, &y)) in rest {
        let v = q.apply(i32::from(x as i8), i32::from(y as i8), i32::wrapping_add);
        *o = v as i8 as u8;
    }
    true
}
