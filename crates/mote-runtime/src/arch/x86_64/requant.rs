//! TensorFlow Lite's int8 requantization (`MultiplyByQuantizedMultiplier` in
//! the default double-rounding build, then the output offset and the clamp),
//! eight lanes at a time, bit-exact with `ops::per_channel::requantize`.
//!
//! The rounding doubling high multiply `(x * m + nudge) / 2^31` (nudge
//! `2^30` for a non-negative product, `1 - 2^30` else; division truncating
//! toward zero) equals `floor((x * m + 2^30) / 2^31)` for every product: for
//! a negative one, truncation is `floor((n + 2^31 - 1) / 2^31)` with
//! `n = x * m + 1 - 2^30`. So one 64-bit add and shift per lane, the low 32
//! bits of a logical shift being those of the arithmetic one.

use core::arch::x86_64::*;

use crate::ops::per_channel::{requantize, OutputQuant, Requant};

/// `multiply_by_quantized_multiplier(acc, m, s)` per lane.
#[inline]
#[target_feature(enable = "avx2")]
pub fn scale(acc: __m256i, m: __m256i, s: __m256i) -> __m256i {
    let zero = _mm256_setzero_si256();
    let most = _mm256_set1_epi32(31);
    let left = _mm256_min_epi32(_mm256_max_epi32(s, zero), most);
    let right = _mm256_min_epi32(_mm256_max_epi32(_mm256_sub_epi32(zero, s), zero), most);
    let x = _mm256_sllv_epi32(acc, left);
    let high = high_mul(x, m);
    // i32::MIN * i32::MIN saturates to i32::MAX (the shift gave i32::MIN).
    let min = _mm256_set1_epi32(i32::MIN);
    let saturated = _mm256_and_si256(_mm256_cmpeq_epi32(x, min), _mm256_cmpeq_epi32(m, min));
    divide(_mm256_xor_si256(high, saturated), right)
}

/// [`scale`] for shifts in `-31..=0` and multipliers other than
/// `i32::MIN` (what `quantize_multiplier` gives a real multiplier below 1):
/// no left shift, no saturation, the right shift is `-s`.
#[inline]
#[target_feature(enable = "avx2")]
pub fn scale_plain(acc: __m256i, m: __m256i, s: __m256i) -> __m256i {
    let right = _mm256_sub_epi32(_mm256_setzero_si256(), s);
    divide(high_mul(acc, m), right)
}

/// `floor((x * m + 2^30) / 2^31)` per lane (the rounding doubling high
/// multiply but for its saturation): the signed 64-bit products of the even
/// lanes, then of the odd ones, bits 31..62 of each.
#[inline]
#[target_feature(enable = "avx2")]
fn high_mul(x: __m256i, m: __m256i) -> __m256i {
    let half = _mm256_set1_epi64x(1 << 30);
    let even = _mm256_add_epi64(_mm256_mul_epi32(x, m), half);
    let odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32));
    let odd = _mm256_add_epi64(odd, half);
    // Even: bits 31..62 to the low half; odd: to the high half.
    let even = _mm256_srli_epi64(even, 31);
    let odd = _mm256_slli_epi64(odd, 1);
    _mm256_blend_epi32(even, odd, 0b1010_1010)
}

/// RoundingDivideByPOT per lane, `right` in `0..=31`:
/// `(high >> right) + (remainder > threshold)`.
#[inline]
#[target_feature(enable = "avx2")]
fn divide(high: __m256i, right: __m256i) -> __m256i {
    let one = _mm256_set1_epi32(1);
    let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    let remainder = _mm256_and_si256(high, mask);
    let threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(high, 31));
    let up = _mm256_cmpgt_epi32(remainder, threshold);
    _mm256_sub_epi32(_mm256_srav_epi32(high, right), up)
}

/// Eight requantized lanes as bytes, in order.
#[inline]
#[target_feature(enable = "avx2")]
pub fn pack(v: __m256i) -> __m128i {
    // Lane 0: v0..v3 twice, lane 1: v4..v7 twice (i16); then v0..v7 low.
    let words = _mm256_packs_epi32(v, v);
    let words = _mm256_permute4x64_epi64(words, 0b1000);
    _mm_packs_epi16(_mm256_castsi256_si128(words), _mm_setzero_si128())
}

/// The bias and requantization of one op's output channels, with its
/// constants in registers: built once per call of a kernel.
pub struct Requantizer<'a> {
    /// Multiplier and shift per channel (`None`: one for all, in `m0`, `s0`).
    channels: Option<(&'a [i32], &'a [i32])>,
    /// Bias per channel, if any.
    bias: Option<&'a [i32]>,
    /// Output offset and clamp (for the scalar tail).
    output: OutputQuant,
    /// The per-tensor multiplier and shift.
    m0: i32,
    s0: i32,
    /// The output offset, clamp bounds, per-tensor multiplier and shift in
    /// every lane.
    lanes: [__m256i; 5],
    /// Whether every shift is in `-31..=0` and no multiplier `i32::MIN`
    /// (then [`scale_plain`] is [`scale`]).
    plain: bool,
}

impl<'a> Requantizer<'a> {
    /// For `channels` output channels of `quant` with `bias` (empty: none);
    /// `None` unless there is one multiplier and shift per channel (or one
    /// for all), a bias per channel (or none) and a clamp range inside int8,
    /// so that the saturating packs equal the reference's `as i8`.
    #[target_feature(enable = "avx2")]
    pub fn new(quant: &Requant<'a>, bias: &'a [i32], channels: usize) -> Option<Self> {
        let o = quant.output;
        if o.min < -128 || o.max > 127 {
            return None;
        }
        let per_channel = if quant.multipliers.len() == 1 && quant.shifts.len() == 1 {
            None
        } else {
            Some((
                quant.multipliers.get(..channels)?,
                quant.shifts.get(..channels)?,
            ))
        };
        let bias = if bias.is_empty() {
            None
        } else {
            Some(bias.get(..channels)?)
        };
        let plain = match per_channel {
            // Branch-free folds (they vectorize; `all` calls a closure per value).
            Some((m, s)) => {
                m.iter().fold(true, |ok, &m| ok & (m != i32::MIN))
                    & s.iter().fold(true, |ok, &s| ok & (-31..=0).contains(&s))
            }
            None => quant
                .multipliers
                .first()
                .zip(quant.shifts.first())
                .is_some_and(|(&m, s)| m != i32::MIN && (-31..=0).contains(s)),
        };
        let m0 = quant.multipliers.first().copied().unwrap_or(0);
        let s0 = quant.shifts.first().copied().unwrap_or(0);
        Some(Requantizer {
            channels: per_channel,
            bias,
            output: o,
            m0,
            s0,
            lanes: [o.offset, o.min, o.max, m0, s0].map(|v| _mm256_set1_epi32(v)),
            plain,
        })
    }

    /// Output channels `first..first + 8`: `acc` plus their bias,
    /// requantized, as 8 bytes in the low half; `None` past the channels.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn lanes8(&self, acc: __m256i, first: usize) -> Option<__m128i> {
        let [offset, lo, hi, m0, s0] = self.lanes;
        let a = match self.bias {
            Some(b) => {
                let b = b.get(first..first + 8)?;
                // SAFETY: `b` holds 8 values.
                _mm256_add_epi32(acc, unsafe { _mm256_loadu_si256(b.as_ptr().cast()) })
            }
            None => acc,
        };
        let (m, s) = match self.channels {
            Some((m, s)) => {
                let (m, s) = (m.get(first..first + 8)?, s.get(first..first + 8)?);
                // SAFETY: `m` and `s` hold 8 values each.
                unsafe {
                    (
                        _mm256_loadu_si256(m.as_ptr().cast()),
                        _mm256_loadu_si256(s.as_ptr().cast()),
                    )
                }
            }
            None => (m0, s0),
        };
        let scaled = if self.plain {
            scale_plain(a, m, s)
        } else {
            scale(a, m, s)
        };
        let v = _mm256_add_epi32(scaled, offset);
        Some(pack(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi)))
    }

    /// Requantizes `acc[j]` plus the bias of output channel `first + j` into
    /// `out[j]`, as `Requant::apply` does.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn row(&self, acc: &[i32], first: usize, out: &mut [i8]) {
        let n = acc.len().min(out.len());
        let end = first.saturating_add(n);
        let channels = match self.channels {
            Some((m, s)) => match m.get(first..end).zip(s.get(first..end)) {
                Some(ms) => Some(ms),
                None => return,
            },
            None => None,
        };
        let bias = match self.bias {
            Some(b) => match b.get(first..end) {
                Some(b) => Some(b),
                None => return,
            },
            None => None,
        };
        let [offset, lo, hi, m0, s0] = self.lanes;
        let mut j = 0;
        while j + 8 <= n {
            // SAFETY: `j + 8 <= n`, and `acc`, `out`, `bias` and both channel
            // slices hold at least `n` values (`get(first..end)` above).
            unsafe {
                let a = _mm256_loadu_si256(acc.as_ptr().add(j).cast());
                let a = match bias {
                    Some(b) => _mm256_add_epi32(a, _mm256_loadu_si256(b.as_ptr().add(j).cast())),
                    None => a,
                };
                let (m, s) = match channels {
                    Some((m, s)) => (
                        _mm256_loadu_si256(m.as_ptr().add(j).cast()),
                        _mm256_loadu_si256(s.as_ptr().add(j).cast()),
                    ),
                    None => (m0, s0),
                };
                let scaled = if self.plain {
                    scale_plain(a, m, s)
                } else {
                    scale(a, m, s)
                };
                let v = _mm256_add_epi32(scaled, offset);
                let v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
                _mm_storel_epi64(out.as_mut_ptr().add(j).cast(), pack(v));
            }
            j += 8;
        }
        if j == n {
            return;
        }
        let rest = out.iter_mut().zip(acc).enumerate().take(n).skip(j);
        for (i, (out, &a)) in rest {
            let b = bias.and_then(|b| b.get(i)).copied().unwrap_or(0);
            let (m, s) = match channels {
                Some((m, s)) => (
                    m.get(i).copied().unwrap_or(0),
                    s.get(i).copied().unwrap_or(0),
                ),
                None => (self.m0, self.s0),
            };
            *out = requantize(a.wrapping_add(b), m, s, &self.output);
        }
    }
}
