//! `exp` and `tanh` for `f32` without `std`: computed in `f64` and rounded
//! once, so they agree with the C library's `expf`/`tanhf` to within an
//! ulp or so (the float kernels promise 1e-5 relative).

/// `e^x`.
pub fn exp(x: f32) -> f32 {
    exp_f64(f64::from(x)) as f32
}

/// `tanh(x)`.
pub fn tanh(x: f32) -> f32 {
    let x = f64::from(x);
    if x.is_nan() {
        return f32::NAN;
    }
    if x.abs() < 1e-4 {
        // tanh x = x - x^3/3 + O(x^5)
        return (x - x * x * x / 3.0) as f32;
    }
    if x.abs() > 20.0 {
        return if x > 0.0 { 1.0 } else { -1.0 };
    }
    let e = exp_f64(2.0 * x);
    ((e - 1.0) / (e + 1.0)) as f32
}

/// `e^x` in `f64`: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, `e^r` by its
/// Taylor series (14 terms: error below 1e-16), then scaled by `2^n`.
fn exp_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    const LN_2: f64 = core::f64::consts::LN_2;
    let n = round_half_away(x / LN_2);
    let r = x - n * LN_2;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for k in 1..=14 {
        term *= r / f64::from(k);
        sum += term;
    }
    // 2^n as two factors, so that n down to -1074 stays representable.
    let n = n as i32;
    let half = n / 2;
    sum * pow2(half) * pow2(n - half)
}

/// `2^n` for `-1022 <= n <= 1023`.
fn pow2(n: i32) -> f64 {
    f64::from_bits(((n + 1023).clamp(1, 2046) as u64) << 52)
}

/// Rounds half away from zero without `std`.
fn round_half_away(x: f64) -> f64 {
    let t = x.abs() + 0.5;
    let floor = t as i64 as f64;
    if x < 0.0 {
        -floor
    } else {
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_std() {
        for i in -400..400 {
            let x = i as f32 * 0.05;
            let (e, t) = (exp(x), tanh(x));
            assert!(
                (e - x.exp()).abs() <= 2.0 * f32::EPSILON * x.exp(),
                "exp {x}"
            );
            assert!((t - x.tanh()).abs() <= 2.0 * f32::EPSILON, "tanh {x}");
        }
        assert_eq!(exp(-200.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }
}
