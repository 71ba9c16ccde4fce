//! `quantize_multiplier(f64::from(a) * f64::from(b) / f64::from(c))` for
//! `f32` scales without floating point: TensorFlow Lite computes the
//! requantization multipliers of the convolution-like ops in `double`, which
//! on a Cortex-M4 (single-precision FPU) links about 3 KB of soft-float code.
//! Here the same number comes from the scales' mantissas in integers: the
//! product of two `f32` mantissas is exact in `f64` (48 of 53 bits), the
//! division is rounded to 53 bits to nearest even as IEEE 754 does (from a
//! long division with its remainder), then `frexp` and the rounding of the
//! fraction to 31 bits are those of `quantize_multiplier`. The results are
//! never subnormal or infinite in `f64` for finite nonzero `f32` inputs
//! (`2^-426 < |a b / c| < 2^405`), so those cases never arise.

/// `x = ±m * 2^e`: `(negative, m, e)` with `m` in `[2^23, 2^24)` for a
/// finite nonzero `x` (subnormals normalized).
fn unpack(x: f32) -> (bool, u32, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 23) & 0xff) as i32;
    let fraction = bits & 0x7f_ffff;
    let (m, e) = if biased == 0 {
        (fraction, -149)
    } else {
        (fraction | 1 << 23, biased - 150)
    };
    let s = m.leading_zeros().saturating_sub(8);
    (bits >> 31 != 0, m << s, e - s as i32)
}

/// `p / mc` (`p` in `[2^46, 2^48)`, `mc` in `[2^23, 2^24)`) rounded to 53
/// bits to nearest even, as `(m, s)` with `m` in `[2^52, 2^53)` and the
/// quotient `m * 2^s`.
fn divide(p: u64, mc: u32) -> (u64, i32) {
    // q = floor(p 2^32 / mc) in (2^54, 2^57), a byte at a time: the
    // remainder stays below mc < 2^24, so each step is a 32-bit division.
    let (mut q, mut r) = (0u64, 0u32);
    for byte in (0..10).rev() {
        let next = if byte >= 4 {
            (p >> (8 * (byte - 4))) as u32 & 0xff
        } else {
            0
        };
        let t = (r << 8) | next;
        (q, r) = ((q << 8) | u64::from(t / mc), t % mc);
    }
    // Round q, with the remainder as sticky bit, to 53 bits.
    let drop = 64 - q.leading_zeros() - 53;
    let (mut m, rest, half) = (q >> drop, q & ((1 << drop) - 1), 1u64 << (drop - 1));
    m += u64::from(rest > half || (rest == half && (r != 0 || m & 1 == 1)));
    let mut scale = drop as i32 - 32;
    if m == 1 << 53 {
        m >>= 1;
        scale += 1;
    }
    (m, scale)
}

/// `quantize_multiplier(f64::from(a) * f64::from(b) / f64::from(c))`, or
/// `None` where that `f64` is not finite (a NaN or an infinity among the
/// inputs other than an infinite `c`, or a zero `c`).
pub fn quantize_ratio(a: f32, b: f32, c: f32) -> Option<(i32, i32)> {
    if !(a.is_finite() && b.is_finite()) || c.is_nan() || c == 0.0 {
        return None;
    }
    if a == 0.0 || b == 0.0 || c.is_infinite() {
        return Some((0, 0));
    }
    let ((na, ma, ea), (nb, mb, eb), (nc, mc, ec)) = (unpack(a), unpack(b), unpack(c));
    // q = floor(ma mb 2^32 / mc) in (2^54, 2^57), a byte at a time: the
    // remainder stays below mc < 2^24, so each step is a 32-bit division.
    let (m, scale) = divide(u64::from(ma) * u64::from(mb), mc);
    let mut exponent = ea + eb - ec + scale + 53;
    // frexp: the fraction is m / 2^53; round(fraction * 2^31) halves up.
    let mut fixed = ((m + (1 << 21)) >> 22) as i64;
    if na ^ nb ^ nc {
        fixed = -fixed;
    } else if fixed == 1 << 31 {
        fixed /= 2;
        exponent += 1;
    }
    if exponent < -31 {
        return Some((0, 0));
    }
    Some((fixed as i32, exponent))
}

#[cfg(test)]
mod tests {
    use super::quantize_ratio;
    use crate::quant::quantize_multiplier;

    fn double(a: f32, b: f32, c: f32) -> Option<(i32, i32)> {
        let real = f64::from(a) * f64::from(b) / f64::from(c);
        real.is_finite().then(|| quantize_multiplier(real))
    }

    fn check(a: f32, b: f32, c: f32) {
        assert_eq!(
            quantize_ratio(a, b, c),
            double(a, b, c),
            "{a:e} * {b:e} / {c:e}"
        );
    }

    #[test]
    fn division_rounds_as_f64() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..1_000_000 {
            let state = next();
            let p = (1 << 46) | (state & ((1 << 48) - 1));
            let mc = (1 << 23) | ((state >> 40) as u32 & 0x7f_ffff);
            let (m, s) = super::divide(p, mc);
            let want = p as f64 / f64::from(mc);
            assert_eq!(m as f64 * 2f64.powi(s), want, "{p} / {mc}");
        }
    }

    #[test]
    fn special_values_match_f64() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.75,
            3.0,
            f32::MIN_POSITIVE,
            f32::MIN_POSITIVE / 3.0,
            f32::from_bits(1),
            f32::MAX,
            -f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-30,
            1e30,
        ];
        for &a in &specials {
            for &b in &specials {
                for &c in &specials {
                    check(a, b, c);
                }
            }
        }
    }

    #[test]
    fn random_scales_match_f64() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        for case in 0..2_000_000u32 {
            let r = next();
            let (a, b, c) = match case % 5 {
                // Odd 16-bit mantissas: products of 31 or 32 bits, whose
                // rounding to 31 bits ties half the time.
                4 => {
                    let odd = |v: u64| ((v as u32 & 0xffff) | 0x8001) as f32;
                    let c = 2f32.powi((r >> 40) as i32 % 60 - 30);
                    (
                        odd(r),
                        odd(r >> 16) * 2f32.powi((r >> 32) as i32 % 20 - 10),
                        c,
                    )
                }
                // Any bits (NaNs, infinities, subnormals included).
                0 => (
                    f32::from_bits(r as u32),
                    f32::from_bits((r >> 32) as u32),
                    f32::from_bits(next() as u32),
                ),
                // Scales as models have them.
                1 => {
                    let s = |v: u64| f32::from_bits(0x3000_0000 + (v as u32 & 0x0fff_ffff));
                    (s(r), s(r >> 32), s(next()))
                }
                // Short mantissas: products and quotients near ties.
                2 => {
                    let s = |v: u64| (v % 4096) as f32 * 2f32.powi((v >> 12) as i32 % 40 - 20);
                    (s(r & 0xffff), s((r >> 16) & 0xffff), s((r >> 32) & 0xffff))
                }
                // A quotient of 1 or near it, and exact powers of two.
                _ => {
                    let a = f32::from_bits(0x3c00_0000 + (r as u32 & 0x00ff_ffff));
                    let c = f32::from_bits(
                        a.to_bits()
                            .wrapping_add((r >> 40) as u32 % 5)
                            .wrapping_sub(2),
                    );
                    (a, 2f32.powi((r >> 32) as i32 % 30 - 15), c)
                }
            };
            check(a, b, c);
        }
    }
}
