//! The int8 ADD of two inputs of the output's size on Cortex-M4, bit-exact
//! with `ops::add`'s reference: each input's and the output's
//! `MultiplyByQuantizedMultiplierSmallerThanOneExp` through
//! `requant::Fixed` (one 64-bit multiply-accumulate and one shift where the
//! reference's two roundings took about 40 instructions each), or, for the
//! input whose multiplier needs no right shift, the doubling high multiply
//! alone. ResNet-8's residual adds took 119 instructions per element.

use super::dsp_extra::ssat8;
use super::requant::Fixed;
use crate::ops::arithmetic::AddSubQuantized;

/// One of ADD's three scalings: TensorFlow Lite's
/// `MultiplyByQuantizedMultiplierSmallerThanOneExp(x, multiplier, shift)`.
#[derive(Clone, Copy)]
enum Scale {
    /// A right shift of 1 to 31 after the high multiply: both folded.
    Fixed(Fixed),
    /// No right shift (a shift of 0 or more, which the rounding division
    /// clamps to 0): the high multiply `floor((x * m + 2^30) / 2^31)`,
    /// gemmlowp's `SaturatingRoundingDoublingHighMul` for `m >= 0`.
    High(i32),
}

impl Scale {
    /// `(multiplier, shift)` as a scaling, or `None` for a negative
    /// multiplier (which `AddSubQuantized::new` never makes).
    fn new((multiplier, shift): (i32, i32)) -> Option<Scale> {
        if multiplier < 0 {
            return None;
        }
        if shift >= 0 {
            return Some(Scale::High(multiplier));
        }
        Fixed::new(multiplier, shift.max(-31)).map(Scale::Fixed)
    }

    /// `x` scaled.
    #[inline(always)]
    fn apply(self, x: i32) -> i32 {
        match self {
            Scale::Fixed(f) => f.scale(x),
            Scale::High(m) => ((i64::from(x) * i64::from(m) + (1 << 30)) >> 31) as i32,
        }
    }
}

/// `output[i] = a[i] + b[i]` (int8 bytes) requantized as `q` says, as
/// `AddSubQuantized::apply` with a wrapping sum: `false` (nothing written)
/// where a multiplier is negative.
pub fn add_i8(q: &AddSubQuantized, a: &[u8], b: &[u8], output: &mut [u8]) -> bool {
    let (Some(s1), Some(s2), Some(so)) = (
        Scale::new(q.input1),
        Scale::new(q.input2),
        Scale::new(q.output),
    ) else {
        return false;
    };
    let left = 1i32.wrapping_shl(q.left_shift.clamp(0, 31) as u32);
    let (off1, off2, out_off) = (q.input1_offset, q.input2_offset, q.output_offset);
    let (min, max) = q.range;
    let full = (min, max) == (-128, 127);
    let shifted = |x: u8, off: i32| off.wrapping_add(i32::from(x as i8)).wrapping_mul(left);
    for ((o, &x), &y) in output.iter_mut().zip(a).zip(b) {
        let raw = s1
            .apply(shifted(x, off1))
            .wrapping_add(s2.apply(shifted(y, off2)));
        let out = so.apply(raw).wrapping_add(out_off);
        *o = if full {
            ssat8(out)
        } else {
            out.max(min).min(max)
        } as i8 as u8;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::tests::Rng;

    /// Uniform in `lo..=hi`, as an `i32`.
    fn range(rng: &mut Rng, lo: i64, hi: i64) -> i32 {
        rng.range(lo, hi) as i32
    }

    #[test]
    fn add_matches_reference() {
        let mut rng = Rng(7);
        let mut checked = 0;
        for case in 0..3000 {
            // Converter-like scales (right shifts, one input's often 0),
            // and now and then any shift, zero points and clamps.
            let scale = |rng: &mut Rng| {
                let m = range(rng, 1 << 30, i64::from(i32::MAX));
                let s = match rng.next() % 6 {
                    0 => 0,
                    1 => range(rng, -40, 3),
                    _ => range(rng, -20, -1),
                };
                (m, s)
            };
            let min = if case % 3 == 0 {
                -128
            } else {
                range(&mut rng, -128, 127)
            };
            let q = AddSubQuantized {
                input1_offset: range(&mut rng, -127, 128),
                input2_offset: range(&mut rng, -127, 128),
                output_offset: range(&mut rng, -128, 127),
                left_shift: 20,
                input1: scale(&mut rng),
                input2: scale(&mut rng),
                output: scale(&mut rng),
                range: (
                    min,
                    if case % 3 == 0 {
                        127
                    } else {
                        range(&mut rng, i64::from(min), 127)
                    },
                ),
            };
            let n = 64;
            let a: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let mut got = vec![0u8; n];
            assert!(add_i8(&q, &a, &b, &mut got));
            for i in 0..n {
                let want = q.apply(
                    i32::from(a[i] as i8),
                    i32::from(b[i] as i8),
                    i32::wrapping_add,
                ) as i8 as u8;
                assert_eq!(got[i], want, "case {case} element {i}");
                checked += 1;
            }
        }
        assert_eq!(checked, 3000 * 64);
        // A negative multiplier is declined.
        let q = AddSubQuantized {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            left_shift: 20,
            input1: (-5, -1),
            input2: (1 << 30, -1),
            output: (1 << 30, -1),
            range: (-128, 127),
        };
        assert!(!add_i8(&q, &[0], &[0], &mut [0]));
    }
}
