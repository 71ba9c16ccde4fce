//! The two Armv7E-M instructions the depthwise kernel's short requantization
//! adds to `simd`: `SMMULR` and `SSAT`, each one instruction through `asm!`
//! on `thumbv7em`, plain Rust elsewhere (the twin the host tests run).

/// `(a * b + 2^31) >> 32`, the high word of the rounded 64-bit product.
#[cfg(mote_dsp)]
#[inline(always)]
pub fn smmulr(a: i32, b: i32) -> i32 {
    let r: i32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        core::arch::asm!("smmulr {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `(a * b + 2^31) >> 32`, the high word of the rounded 64-bit product.
#[cfg(not(mote_dsp))]
#[inline(always)]
pub fn smmulr(a: i32, b: i32) -> i32 {
    ((i64::from(a) * i64::from(b) + (1 << 31)) >> 32) as i32
}

/// `SSAT #8`: `a` clamped to `-128..=127` (the Q flag it may set is never read).
#[cfg(mote_dsp)]
#[inline(always)]
pub fn ssat8(a: i32) -> i32 {
    let r: i32;
    // SAFETY: one register-only instruction.
    unsafe {
        core::arch::asm!("ssat {r}, #8, {a}", r = lateout(reg) r, a = in(reg) a, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SSAT #8`: `a` clamped to `-128..=127`.
#[cfg(not(mote_dsp))]
#[inline(always)]
pub fn ssat8(a: i32) -> i32 {
    a.clamp(-128, 127)
}
