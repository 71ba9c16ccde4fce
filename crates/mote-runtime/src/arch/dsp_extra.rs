//! The Armv7E-M instruction the CONV_2D and depthwise kernels' clamp of a
//! full int8 range adds to `simd`: `SSAT`, one instruction through `asm!`
//! on `thumbv7em`, plain Rust elsewhere (the twin the host tests run).

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
