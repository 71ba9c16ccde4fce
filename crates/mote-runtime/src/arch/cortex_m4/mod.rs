//! The same primitives as `arch::portable`, each one Armv7E-M DSP instruction
//! through `asm!` (LLVM emits `SMLAD` for `i16` dot products but not the
//! `SXTB16`/`SXTAB16` widening of `i8`). Each block reads and writes only
//! registers: no memory, no stack, no flags. `rows` holds the two whole loops
//! in `asm!`.

use core::arch::asm;

mod depthwise_row;
mod pass;
mod rows;
pub use depthwise_row::depthwise_row;
pub use pass::{pair_pass, pair_pass_offset, pair_pass_wide, pair_pass_wide_offset};
pub use pass::{single_pass_wide, single_pass_wide_offset};
pub use rows::{dot_2x2_wide, dot_4_rows_wide, widen_pair};

/// `SXTAB16`: bytes 0 and 2 of `x`, sign-extended, added to the halves of `a`.
#[inline(always)]
pub fn sxtab16(a: u32, x: u32) -> u32 {
    let r: u32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("sxtab16 {r}, {a}, {x}", r = lateout(reg) r, a = in(reg) a, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SXTAB16 ..., ROR #8`: bytes 1 and 3 of `x` added to the halves of `a`.
#[inline(always)]
pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
    let r: u32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("sxtab16 {r}, {a}, {x}, ror #8", r = lateout(reg) r, a = in(reg) a, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SXTB16`: bytes 0 and 2 of `x`, sign-extended to halves.
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SXTB16 ..., ROR #8`: bytes 1 and 3 of `x`.
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SMLAD`: `acc + lo(x) * lo(y) + hi(x) * hi(y)`, wrapping (the Q flag it
/// may set is never read).
#[inline(always)]
pub fn smlad(x: u32, y: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("smlad {r}, {x}, {y}, {acc}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, acc = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SMLABB`: `acc + lo(x) * lo(y)`, wrapping.
#[inline(always)]
pub fn smlabb(x: u32, y: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("smlabb {r}, {x}, {y}, {acc}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, acc = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SMLATT`: `acc + hi(x) * hi(y)`, wrapping.
#[inline(always)]
pub fn smlatt(x: u32, y: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: one register-only DSP instruction.
    unsafe {
        asm!("smlatt {r}, {x}, {y}, {acc}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, acc = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
    };
    r
}
