//! The packed 16-bit primitives of the Armv7E-M DSP extension in plain Rust:
//! the twin the host tests run. A word holds two `i16` halves, low then high.

/// Low half of `w` as `i32`.
#[inline(always)]
fn lo(w: u32) -> i32 {
    i32::from(w as u16 as i16)
}

/// High half of `w` as `i32`.
#[inline(always)]
fn hi(w: u32) -> i32 {
    i32::from((w >> 16) as u16 as i16)
}

/// Two halves into a word.
#[inline(always)]
fn pack(lo: i32, hi: i32) -> u32 {
    (lo as u16 as u32) | ((hi as u16 as u32) << 16)
}

/// `SXTAB16`: bytes 0 and 2 of `x`, sign-extended, added to the halves of `a`
/// (each half wraps).
#[inline(always)]
pub fn sxtab16(a: u32, x: u32) -> u32 {
    pack(
        lo(a).wrapping_add(i32::from(x as u8 as i8)),
        hi(a).wrapping_add(i32::from((x >> 16) as u8 as i8)),
    )
}

/// `SXTAB16 ..., ROR #8`: bytes 1 and 3 of `x` added to the halves of `a`.
#[inline(always)]
pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
    sxtab16(a, x.rotate_right(8))
}

/// `SXTB16`: bytes 0 and 2 of `x`, sign-extended to halves.
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    sxtab16(0, x)
}

/// `SXTB16 ..., ROR #8`: bytes 1 and 3 of `x`.
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    sxtab16(0, x.rotate_right(8))
}

/// `SMLAD`: `acc + lo(x) * lo(y) + hi(x) * hi(y)`, wrapping.
#[inline(always)]
pub fn smlad(x: u32, y: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(x) * lo(y)).wrapping_add(hi(x) * hi(y))
}

/// `SMLABB`: `acc + lo(x) * lo(y)`, wrapping.
#[inline(always)]
pub fn smlabb(x: u32, y: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(x) * lo(y))
}

/// `SMLATT`: `acc + hi(x) * hi(y)`, wrapping.
#[inline(always)]
pub fn smlatt(x: u32, y: u32, acc: i32) -> i32 {
    acc.wrapping_add(hi(x) * hi(y))
}
