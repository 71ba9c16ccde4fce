//! Fixed-point arithmetic, bit-exact with TensorFlow Lite (Micro).
//!
//! Requantization (`quantize_multiplier`, `multiply_by_quantized_multiplier`)
//! follows TensorFlow Lite's `quantization_util.cc` and `common.{h,cc}` in the
//! default build (two roundings, *not* `TFLITE_SINGLE_ROUNDING`), which is what
//! the `tflite-micro` package runs. The fixed-point math functions
//! (`exp_on_negative_values`, `logistic`, `tanh`, `one_over_one_plus_x_for_x_in_0_1`)
//! follow gemmlowp's `fixedpoint.h` on scalar `int32`, which the int8 SOFTMAX,
//! LOGISTIC and TANH kernels use.
//!
//! A fixed-point value here is an `i32` raw value with `integer_bits` bits left
//! of the binary point (gemmlowp's `FixedPoint<int32_t, integer_bits>`), i.e. it
//! stands for `raw / 2^(31 - integer_bits)`. Where C++ overflows a signed
//! integer (undefined, but wrapping on every target TFLM runs on), we wrap.

mod ratio;
pub use ratio::quantize_ratio;

/// `round(x)` with halves away from zero (C's `round`, TFLite's `TfLiteRound`),
/// without `std`.
pub fn round_f64(x: f64) -> f64 {
    // From 2^52 up every double is an integer (and NaN/inf pass through).
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let truncated = (x as i64) as f64;
    let fraction = x - truncated; // exact: both share the exponent range
    if fraction >= 0.5 {
        truncated + 1.0
    } else if fraction <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    }
}

/// `round(x)` with halves away from zero, in `f32` (C's `roundf`).
pub fn round_f32(x: f32) -> f32 {
    if x.is_nan() || x.abs() >= 8_388_608.0 {
        return x;
    }
    let truncated = (x as i32) as f32;
    let fraction = x - truncated;
    if fraction >= 0.5 {
        truncated + 1.0
    } else if fraction <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    }
}

/// C's `frexp`: `x = fraction * 2^exponent` with `0.5 <= |fraction| < 1`
/// (`(x, 0)` for zero, NaN and infinities).
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first (2^54).
        let (fraction, exponent) = frexp(x * 18_014_398_509_481_984.0);
        return (fraction, exponent - 54);
    }
    // Set the exponent so that the value lies in [0.5, 1).
    let fraction = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (fraction, biased - 1022)
}

/// TensorFlow Lite's `QuantizeMultiplier`: `real ≈ multiplier * 2^(shift - 31)`
/// with `multiplier` in `[2^30, 2^31)` (negated for negative `real`).
///
/// As TensorFlow Lite: the fraction is rounded half away from zero; a fraction
/// that rounds up to `2^31` becomes `2^30` with `shift + 1`; a shift below -31
/// flushes to `(0, 0)`. Zero, NaN and infinities give `(0, 0)` (TensorFlow Lite
/// aborts on the latter two; `prepare` rejects them before getting here).
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 || !real.is_finite() {
        return (0, 0);
    }
    let (fraction, mut shift) = frexp(real);
    let mut fixed = round_f64(fraction * 2_147_483_648.0) as i64;
    if fixed == 1 << 31 {
        fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    (fixed as i32, shift)
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul` (ARM's `VQRDMULH`):
/// `round(a * b / 2^31)` with ties away from zero, saturating `MIN * MIN`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // C++ integer division truncates toward zero, as Rust's does.
    ((ab + nudge) / (1 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties
/// away from zero. `exponent` is clamped to `0..=31`.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let exponent = exponent.clamp(0, 31) as u32;
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TensorFlow Lite's `MultiplyByQuantizedMultiplier(int32_t, ...)` in the
/// default (double-rounding) build: `x * multiplier * 2^(shift - 31)`, first
/// a left shift (wrapping, as the C++ does in practice), then a rounding
/// doubling high multiply, then a rounding right shift.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.clamp(0, 31) as u32;
    let right = if shift > 0 { 0 } else { shift.wrapping_neg() };
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x.wrapping_mul(1i32.wrapping_shl(left)), multiplier),
        right,
    )
}

/// TensorFlow Lite's `MultiplyByQuantizedMultiplier(int64_t, ...)`, used by
/// the 16x8 kernels: the multiplier is first reduced to 16 bits (rounded, and
/// capped at `0x7FFF`), then one rounding shift by `15 - shift`. Expects
/// `multiplier >= 0` and `-31 <= shift < 8` as TensorFlow Lite does; the
/// result is truncated to 32 bits as its `int32_t` conversion does.
#[inline]
pub fn multiply_by_quantized_multiplier_i64(x: i64, multiplier: i32, shift: i32) -> i32 {
    let reduced = if multiplier < 0x7FFF_0000 {
        (multiplier + (1 << 15)) >> 16
    } else {
        0x7FFF
    };
    let total_shift = (15 - shift).clamp(1, 63) as u32;
    let rounded = x
        .wrapping_mul(i64::from(reduced))
        .wrapping_add(1i64 << (total_shift - 1));
    (rounded >> total_shift) as i32
}

/// TensorFlow Lite's `MultiplyByQuantizedMultiplierGreaterThanOne`:
/// `x * 2^left_shift` (wrapping), then a rounding doubling high multiply.
#[inline]
pub fn multiply_by_quantized_multiplier_greater_than_one(
    x: i32,
    multiplier: i32,
    left_shift: i32,
) -> i32 {
    let shifted = x.wrapping_mul(1i32.wrapping_shl(left_shift.clamp(0, 31) as u32));
    saturating_rounding_doubling_high_mul(shifted, multiplier)
}

/// TensorFlow Lite's `MultiplyByQuantizedMultiplierSmallerThanOneExp`
/// (`left_shift <= 0`).
#[inline]
pub fn multiply_by_quantized_multiplier_smaller_than_one_exp(
    x: i32,
    multiplier: i32,
    left_shift: i32,
) -> i32 {
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x, multiplier),
        left_shift.wrapping_neg(),
    )
}

/// TensorFlow Lite's `Quantize` helper of `CalculateActivationRangeQuantized`:
/// `zero_point + round(f / scale)` in `f32`; `None` if it leaves `i32`.
fn quantize_value(scale: f32, zero_point: i32, f: f32) -> Option<i32> {
    let q = round_f32(f / scale);
    if !(-2_147_483_648.0..=2_147_483_647.0).contains(&q) {
        return None;
    }
    Some(zero_point.wrapping_add(q as i32))
}

/// A fused activation, by its schema code (0 none, 1 RELU, 2 RELU_N1_TO_1,
/// 3 RELU6), as the quantized output range TensorFlow Lite's
/// `CalculateActivationRangeQuantized` computes for an output with `scale`
/// and `zero_point` whose type spans `[qmin, qmax]`. Other codes (tanh, sign
/// bit) clamp to the type's range, as TensorFlow Lite does. `None` if a bound
/// does not fit `i32`.
pub fn calculate_activation_range_quantized(
    activation: u8,
    scale: f32,
    zero_point: i32,
    qmin: i32,
    qmax: i32,
) -> Option<(i32, i32)> {
    let q = |f: f32| quantize_value(scale, zero_point, f);
    Some(match activation {
        1 => (qmin.max(q(0.0)?), qmax),
        2 => (qmin.max(q(-1.0)?), qmax.min(q(1.0)?)),
        3 => (qmin.max(q(0.0)?), qmax.min(q(6.0)?)),
        _ => (qmin, qmax),
    })
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT`: `x * 2^exponent`, a
/// saturating left shift for `exponent > 0`, a rounding right shift for
/// `exponent < 0`.
#[inline]
pub fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let exponent = exponent.min(31);
        let threshold = ((1i64 << (31 - exponent)) - 1) as i32;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x.wrapping_shl(exponent as u32)
        }
    } else {
        rounding_divide_by_pot(x, exponent.wrapping_neg())
    }
}

/// gemmlowp's `Rescale`: the same fixed-point value with `to_bits` instead of
/// `from_bits` integer bits (saturating, rounding).
#[inline]
pub fn rescale(raw: i32, from_bits: i32, to_bits: i32) -> i32 {
    saturating_rounding_multiply_by_pot(raw, from_bits - to_bits)
}

/// gemmlowp's `RoundingHalfSum` on `i32`: `(a + b) / 2`, ties away from zero.
#[inline]
pub fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// The raw value of 1.0 with `integer_bits` integer bits (gemmlowp's `One()`:
/// the largest value for 0 integer bits, where 1.0 is not representable).
#[inline]
pub fn one(integer_bits: i32) -> i32 {
    if integer_bits == 0 {
        i32::MAX
    } else {
        1i32.wrapping_shl((31 - integer_bits).clamp(0, 31) as u32)
    }
}

/// `exp(a)` for `a` in `[-1/4, 0)`, 0 integer bits in and out (gemmlowp's
/// `exp_on_interval_between_negative_one_quarter_and_0_excl`).
pub fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668; // exp(-1/8) in Q0.31
    const ONE_THIRD: i32 = 715_827_883; // 1/3 in Q0.31
    let mul = saturating_rounding_doubling_high_mul;
    // A Taylor expansion around -1/8: x = a + 1/8.
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly = rounding_divide_by_pot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul(EXP_MINUS_ONE_EIGHTH, x.wrapping_add(poly)))
}

/// `exp(a)` for `a <= 0` with `integer_bits` integer bits (0..=30), as a Q0.31
/// raw value (gemmlowp's `exp_on_negative_values`).
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let integer_bits = integer_bits.clamp(0, 30);
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(
        a_mod_quarter_minus_one_quarter,
        integer_bits,
        0,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^e) in Q0.31 for e = -2..=4: a barrel shifter over the remainder's bits.
    const MULTIPLIERS: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in MULTIPLIERS {
        if integer_bits > exponent {
            let bit = 1i32.wrapping_shl((fractional_bits + exponent) as u32);
            if remainder & bit != 0 {
                result = saturating_rounding_doubling_high_mul(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        // Below -32, exp is zero.
        let clamp = -(1i32 << (36 - integer_bits));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 {
        result = i32::MAX;
    }
    result
}

/// Newton-Raphson's three steps from gemmlowp's division helpers: `x ≈
/// 1 / (2 * half_denominator)` with 2 integer bits.
fn newton_raphson_reciprocal(half_denominator: i32) -> i32 {
    const FORTY_EIGHT_SEVENTEENTHS: i32 = 1_515_870_810; // 48/17 in Q2.29
    const MINUS_THIRTY_TWO_SEVENTEENTHS: i32 = -1_010_580_540; // -32/17 in Q2.29
    let mul = saturating_rounding_doubling_high_mul;
    let mut x =
        FORTY_EIGHT_SEVENTEENTHS.wrapping_add(mul(half_denominator, MINUS_THIRTY_TWO_SEVENTEENTHS));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus = one(2).wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(rescale(mul(x, one_minus), 4, 2));
    }
    x
}

/// `1 / (1 + a)` for `a` in `[0, 1)`, Q0.31 in and out (gemmlowp's
/// `one_over_one_plus_x_for_x_in_0_1`).
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let x = newton_raphson_reciprocal(rounding_half_sum(a, i32::MAX));
    // ExactMulByPot<-1> makes Q2.29 into Q1.30 with the same raw value.
    rescale(x, 1, 0)
}

/// `(1 - a) / (1 + a)` for `a` in `[0, 1)`, Q0.31 in and out (gemmlowp's
/// `one_minus_x_over_one_plus_x_for_x_in_0_1`).
pub fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let x = newton_raphson_reciprocal(rounding_half_sum(a, i32::MAX));
    rescale(x.wrapping_sub(one(2)), 2, 0)
}

/// `1 / (1 + exp(-a))` with `integer_bits` integer bits in, Q0.31 out
/// (gemmlowp's `logistic`).
pub fn logistic(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let positive =
        one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(abs.wrapping_neg(), integer_bits));
    if a > 0 {
        positive
    } else {
        i32::MAX.wrapping_sub(positive)
    }
}

/// `tanh(a)` with `integer_bits` integer bits in, Q0.31 out (gemmlowp's `tanh`).
pub fn tanh(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let negative = if a < 0 { a } else { a.wrapping_neg() };
    // -tanh(n) for n < 0 = (1 - exp(2n)) / (1 + exp(2n)); 2n is n's raw value
    // with one more integer bit.
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(
        negative,
        integer_bits + 1,
    ));
    if a < 0 {
        t.wrapping_neg()
    } else {
        t
    }
}

/// TensorFlow Lite's `GetReciprocal`: `1 / x` for a positive fixed-point `x`
/// with `x_integer_digits` integer bits, as a Q0.31 value and the number of
/// bits `x` has above 1.0 (the result is `raw / 2^(31 + bits_over_unit)`).
pub fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let bits_over_unit = x_integer_digits - headroom_plus_one;
    let shifted_minus_one = (x as u32)
        .wrapping_shl(headroom_plus_one as u32)
        .wrapping_sub(1 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_minus_one),
        bits_over_unit,
    )
}

/// TensorFlow Lite's `PreprocessSoftmaxScaling` (default build): the
/// multiplier and left shift that take an int8 input difference to a
/// fixed-point value with `input_integer_bits` integer bits, scaled by `beta`.
///
/// TensorFlow Lite computes `min(beta * input_scale * 2^(31 - bits), 2^31 -
/// 1)` in `double`; here the same number comes from `quantize_ratio` (the
/// product of two `f32` is exact in `f64`, and dividing by a power of two
/// is too), so no soft-float `double` code is linked. The clamp: a positive
/// value of at least `2^31 - 1` quantizes to `2^31 - 1` with shift 31, and
/// exactly those values come out of `quantize_ratio` with a shift of 32 or
/// more (below `2^31 - 1/2` they round to `2^31 - 1`, shift 31, as clamped).
pub fn preprocess_softmax_scaling(
    beta: f32,
    input_scale: f32,
    input_integer_bits: i32,
) -> (i32, i32) {
    const CLAMPED: (i32, i32) = (i32::MAX, 31);
    let power = (31 - input_integer_bits.clamp(0, 31)).min(31);
    // 2^-power as an f32 (normal for 0..=31).
    let divisor = f32::from_bits(((127 - power) as u32) << 23);
    match ratio::quantize_ratio(beta, input_scale, divisor) {
        Some((m, shift)) if m > 0 && shift >= 32 => CLAMPED,
        Some(quantized) => quantized,
        // A NaN or an infinity: `double`'s product is NaN (which `min`
        // takes to the clamp), +inf (the clamp) or -inf (`(0, 0)`).
        None => {
            let nan = beta.is_nan() || input_scale.is_nan() || beta == 0.0 || input_scale == 0.0;
            if !nan && (beta < 0.0) != (input_scale < 0.0) {
                (0, 0)
            } else {
                CLAMPED
            }
        }
    }
}

/// TensorFlow Lite's `CalculateInputRadius` (with 31 signed bits): the largest
/// input difference that does not overflow after scaling, rounded down. The
/// `double` arithmetic of TensorFlow Lite is exact here (an integer times and
/// over powers of two), so integer shifts give the same number.
pub fn calculate_input_radius(input_integer_bits: i32, input_left_shift: i32) -> i32 {
    let integer_bits = input_integer_bits.clamp(0, 30);
    let max_input_rescaled = ((1i64 << integer_bits) - 1) << (31 - integer_bits);
    (max_input_rescaled >> input_left_shift.clamp(0, 62)) as i32
}

/// TensorFlow Lite's table of `sigmoid(i / 24)` in unsigned 0.16 fixed point
/// (`sigmoid_table_uint16` in `common.h`), which its int16 LOGISTIC and TANH
/// interpolate. Its entries are TensorFlow Lite's data, not a rounding of the
/// real function (44 entries differ by one from the nearest value), so a
/// bit-exact kernel must use these very numbers.
pub const SIGMOID_TABLE: [u16; 256] = [
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_f64(2.5), 3.0);
        assert_eq!(round_f64(-2.5), -3.0);
        assert_eq!(round_f64(2.4999), 2.0);
        assert_eq!(round_f32(-0.5), -1.0);
        assert_eq!(round_f32(0.49999997), 0.0);
    }

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(-6.0), (-0.75, 3));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
        assert_eq!(frexp(0.0), (0.0, 0));
    }

    #[test]
    fn quantize_multiplier_cases() {
        // 0.5 = 0.5 * 2^0 -> 2^30, shift 0.
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        // 1.0 = 0.5 * 2^1.
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        // 0.75 * 2^31 = 1610612736 exactly.
        assert_eq!(quantize_multiplier(0.75), (1_610_612_736, 0));
        // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918.
        assert_eq!(quantize_multiplier(0.1), (1_717_986_918, -3));
        // A fraction just under 1 rounds to 2^31: halve it, shift + 1.
        // (1 - 2^-40) * 2^31 = 2^31 - 2^-9 -> 2^31 -> (2^30, 1).
        assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-40)), (1 << 30, 1));
        // Negative: -0.75 -> -1610612736.
        assert_eq!(quantize_multiplier(-0.75), (-1_610_612_736, 0));
        // 2^-32 = 0.5 * 2^-31 is kept; 2^-33 has shift -32 and flushes to zero.
        assert_eq!(quantize_multiplier(2f64.powi(-32)), (1 << 30, -31));
        assert_eq!(quantize_multiplier(2f64.powi(-33)), (0, 0));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(f64::NAN), (0, 0));
    }

    #[test]
    fn high_mul_rounds_and_saturates() {
        // 2^30 * 2^30 / 2^31 = 2^29.
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
        // Ties round up (toward +inf), as VQRDMULH does:
        // 3 * 2^30 / 2^31 = 1.5 -> 2, but -1.5 -> (-2^32 + 1) / 2^31 truncated = -1.
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        // 0.5 -> 1; -0.5 -> 0.
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
    }

    #[test]
    fn divide_by_pot_rounds_half_away_from_zero() {
        // 5/2 = 2.5 -> 3; -5/2 -> -3; 7/4 = 1.75 -> 2; -6/4 = -1.5 -> -2; 9/4 -> 2.
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(7, 2), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(9, 2), 2);
        assert_eq!(rounding_divide_by_pot(123, 0), 123);
        // By 2^31: 2^30 / 2^31 = 0.5 -> 1; -(2^30) -> -1; MIN -> -1 exactly.
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        assert_eq!(rounding_divide_by_pot(1 << 30, 31), 1);
        assert_eq!(rounding_divide_by_pot(-(1 << 30), 31), -1);
        assert_eq!(rounding_divide_by_pot((1 << 30) - 1, 31), 0);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    }

    #[test]
    fn multiply_by_quantized_multiplier_cases() {
        // 100 * 0.75: (2^30 * 3/2) with shift 0 -> 75.
        assert_eq!(multiply_by_quantized_multiplier(100, 1_610_612_736, 0), 75);
        // 1000 * 0.1 with (1717986918, -3): high mul gives 800 (799.99999995),
        // then 800 / 8 = 100.
        assert_eq!(
            multiply_by_quantized_multiplier(1000, 1_717_986_918, -3),
            100
        );
        // Positive shift: 3 * 2^2 * 0.5 = 6.
        assert_eq!(multiply_by_quantized_multiplier(3, 1 << 30, 2), 6);
        // The double rounding TFLM's default build does: 5 * 0.25 = 1.25.
        // high_mul(5, 2^30) = 2.5 -> 3, then 3 / 2 = 1.5 -> 2 (single rounding
        // would give 1). For -5: high_mul = -2.5 -> -2 (ties up), -2 / 2 = -1.
        assert_eq!(multiply_by_quantized_multiplier(5, 1 << 30, -1), 2);
        assert_eq!(multiply_by_quantized_multiplier(-5, 1 << 30, -1), -1);
    }

    #[test]
    fn multiply_by_quantized_multiplier_i64_cases() {
        // Multiplier 2^30 reduces to (2^30 + 2^15) >> 16 = 16384 = 2^14.
        // 1000 * 2^14 >> 15 (+ 2^14 rounding) = 500.
        assert_eq!(multiply_by_quantized_multiplier_i64(1000, 1 << 30, 0), 500);
        // 3 * 2^14 = 49152; + 2^14 = 65536; >> 15 = 2 (1.5 rounds up).
        assert_eq!(multiply_by_quantized_multiplier_i64(3, 1 << 30, 0), 2);
        // -3: -49152 + 16384 = -32768 >> 15 = -1 (-1.5 rounds up, not away).
        assert_eq!(multiply_by_quantized_multiplier_i64(-3, 1 << 30, 0), -1);
        // A multiplier at or above 0x7FFF0000 caps at 0x7FFF.
        assert_eq!(
            multiply_by_quantized_multiplier_i64(1 << 20, i32::MAX, 0),
            ((((1i64 << 20) * 0x7FFF) + (1 << 14)) >> 15) as i32
        );
        // A 40-bit accumulator: 2^40 * 2^14 >> (15 + 10) = 2^29.
        assert_eq!(
            multiply_by_quantized_multiplier_i64(1 << 40, 1 << 30, -10),
            1 << 29
        );
    }

    #[test]
    fn activation_ranges() {
        // scale 0.5, zero point -10: relu -> [-10, 127]; relu6 -> [-10, 2];
        // relu_n1_to_1 -> [-12, -8]; none -> [-128, 127].
        assert_eq!(
            calculate_activation_range_quantized(1, 0.5, -10, -128, 127),
            Some((-10, 127))
        );
        assert_eq!(
            calculate_activation_range_quantized(3, 0.5, -10, -128, 127),
            Some((-10, 2))
        );
        assert_eq!(
            calculate_activation_range_quantized(2, 0.5, -10, -128, 127),
            Some((-12, -8))
        );
        assert_eq!(
            calculate_activation_range_quantized(0, 0.5, -10, -128, 127),
            Some((-128, 127))
        );
        // relu6 with scale 0.01: 600 + 0 clamps to 127.
        assert_eq!(
            calculate_activation_range_quantized(3, 0.01, 0, -128, 127),
            Some((0, 127))
        );
        assert_eq!(
            calculate_activation_range_quantized(3, 1e-12, 0, -128, 127),
            None
        );
    }

    fn q(x: f64, integer_bits: i32) -> i32 {
        (x * 2f64.powi(31 - integer_bits)).round() as i32
    }

    fn real(raw: i32) -> f64 {
        f64::from(raw) / 2f64.powi(31)
    }

    #[test]
    fn fixed_point_functions_are_close_to_the_real_ones() {
        for &x in &[-0.001, -0.2, -0.25, -1.0, -2.5, -7.9, -16.0, -31.0] {
            let e = real(exp_on_negative_values(q(x, 5), 5));
            assert!((e - f64::exp(x)).abs() < 1e-6, "exp({x}) = {e}");
        }
        assert_eq!(exp_on_negative_values(0, 5), i32::MAX, "exp(0) = 1");
        for &x in &[0.0, 0.1, 0.5, 0.999] {
            let r = real(one_over_one_plus_x_for_x_in_0_1(q(x, 0)));
            assert!((r - 1.0 / (1.0 + x)).abs() < 1e-8, "1/(1+{x}) = {r}");
        }
        for &x in &[-7.0, -1.0, -0.01, 0.01, 0.5, 3.0] {
            let l = real(logistic(q(x, 4), 4));
            assert!(
                (l - 1.0 / (1.0 + f64::exp(-x))).abs() < 1e-6,
                "σ({x}) = {l}"
            );
            let t = real(tanh(q(x, 4), 4));
            assert!((t - x.tanh()).abs() < 1e-6, "tanh({x}) = {t}");
        }
        assert_eq!(logistic(0, 4), 1 << 30);
        assert_eq!(tanh(0, 4), 0);
    }

    #[test]
    fn exp_hand_checked_values() {
        // exp(-1/4) in Q5.26: the argument is exactly -1/4, whose "mod 1/4" is
        // -1/4 itself (-2^24 raw): the polynomial at -1/4, no barrel shift.
        // exp(-0.25) * 2^31 = 1672461947.2 (the barrel shifter's constant);
        // the 4th-order polynomial lands 472 above it (2.2e-7 relative).
        let e = exp_on_negative_values(-(1 << 24), 5);
        assert!((e - 1_672_461_947).abs() < 500, "{e}");
        // exp(-1/4 - 1/4): the polynomial's value times the -1/4 constant.
        let e2 = exp_on_negative_values(-(1 << 25), 5);
        assert_eq!(e2, saturating_rounding_doubling_high_mul(e, 1_672_461_947));
    }

    #[test]
    fn reciprocal() {
        // 2.0 with 12 integer bits: raw 2^20, 11 leading zeros, so 1 bit over
        // unit; shifted to 1.0 + 0: 1/(1 + 0) = 1 (saturated Q0.31) / 2^1 = 1/2.
        let (raw, bits) = get_reciprocal(2 << 19, 12);
        assert_eq!(bits, 1);
        assert!((raw - i32::MAX).abs() <= 1, "{raw}");
        // 3.0: 3 = 1.5 * 2^1: 1/(1 + 0.5) = 2/3 in Q0.31, over 2^1 -> 1/3.
        let (raw, bits) = get_reciprocal(3 << 19, 12);
        assert_eq!(bits, 1);
        assert!((real(raw) - 2.0 / 3.0).abs() < 1e-8);
    }

    #[test]
    fn softmax_scaling() {
        // beta 1, input scale 1/16, 5 integer bits: 1/16 * 2^26 = 2^22 ->
        // (2^30, 23); radius = 31 * 2^26 / 2^23 = 248.
        let (m, shift) = preprocess_softmax_scaling(1.0, 1.0 / 16.0, 5);
        assert_eq!((m, shift), (1 << 30, 23));
        assert_eq!(calculate_input_radius(5, shift), 248);
    }

    /// TensorFlow Lite's `double` computations the integer ones replaced.
    fn softmax_scaling_in_f64(beta: f32, scale: f32, bits: i32) -> (i32, i32) {
        let power = f64::from(1u32 << (31 - bits.clamp(0, 31)).min(31));
        let real = (f64::from(beta) * f64::from(scale) * power).min(2_147_483_647.0);
        quantize_multiplier(real)
    }

    fn input_radius_in_f64(bits: i32, shift: i32) -> i32 {
        let bits = bits.clamp(0, 30);
        (f64::from((1i32 << bits) - 1) * (1i64 << (31 - bits)) as f64
            / (1i64 << shift.clamp(0, 62)) as f64) as i32
    }

    #[test]
    fn softmax_scaling_equals_the_f64_computation() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let special = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            32.0,
            2.0,
        ];
        for i in 0..400_000 {
            let v = next();
            let pick = |w: u64| {
                if w.is_multiple_of(8) {
                    special[(w >> 3) as usize % special.len()]
                } else {
                    // Any finite f32, most often near the usual scales.
                    let any = f32::from_bits(w as u32 >> 1 | (w as u32 & 1) << 31);
                    if any.is_finite() {
                        any
                    } else {
                        0.5
                    }
                }
            };
            let (beta, scale) = (pick(v), pick(v.rotate_left(32)));
            let bits = i % 34 - 1;
            assert_eq!(
                preprocess_softmax_scaling(beta, scale, bits),
                softmax_scaling_in_f64(beta, scale, bits),
                "beta {beta:e} scale {scale:e} bits {bits}"
            );
        }
        for bits in -1..33 {
            for shift in -1..64 {
                assert_eq!(
                    calculate_input_radius(bits, shift),
                    input_radius_in_f64(bits, shift)
                );
            }
        }
    }
}
