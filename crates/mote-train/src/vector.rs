//! Element-wise loops of the hot layers, compiled twice: for the baseline
//! target and, chosen at run time, with AVX2 (8 floats per instruction
//! instead of SSE's 4). Both do the same multiplications and additions in the
//! same order (no fused multiply-add), so results are identical bit for bit.

/// Defines `fn NAME(args)` whose body is compiled twice, for the baseline
/// target and with AVX2, the second chosen at run time when the CPU has it.
/// The body must not call closures (they would not be compiled for AVX2);
/// it may call `#[inline(always)]` functions such as [`mul_add`].
macro_rules! avx2_multiversion {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) {
                body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { avx2($($arg),*) };
            }
            body($($arg),*)
        }
    };
}
pub(crate) use avx2_multiversion;

/// `out[i] += a[i] * b[i]` over the shortest of the three.
#[inline(always)]
pub(crate) fn mul_add(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o += x * y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    avx2_multiversion! {
        fn dispatched(out: &mut [f32], a: &[f32], b: &[f32]) {
            mul_add(out, a, b);
        }
    }

    #[test]
    fn both_paths_agree_bit_for_bit() {
        // out = 1 + a * b, with lengths that leave a remainder after 8-wide steps
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 3.0).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 / (i as f32 + 1.5)).collect();
        let mut fast = vec![1.0; 37];
        let mut plain = vec![1.0; 37];
        dispatched(&mut fast, &a, &b);
        mul_add(&mut plain, &a, &b);
        assert_eq!(fast, plain);
        assert_eq!(plain[2], 1.0 + (2.0 * 0.37 - 3.0) * (1.0 / 3.5));
    }
}
