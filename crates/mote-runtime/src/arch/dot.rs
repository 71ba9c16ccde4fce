//! Blocked int8 dot products, two MACs per `smlad`: the inner loops of the
//! convolution kernels (the pixel pairs' widened loop is `simd::dot_2x2_wide`)
//! and the loads FULLY_CONNECTED shares. Inputs are widened with their
//! offset in one `sxtab16` (`x + offset` fits 16 bits, checked by the caller),
//! weights with `sxtb16`; the byte order of both halves agrees, so each
//! `smlad` adds two whole products. Sums wrap in 32 bits, as the reference's.
//!
//! These take raw pointers so the hot loops carry no bounds checks: callers
//! prove once per output pixel that every run they pass lies in its slice.

use super::simd::{smlad, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};

/// The four bytes at `p` as a little-endian word.
///
/// # Safety
/// `p..p + 4` must be readable.
#[inline(always)]
pub unsafe fn load(p: *const i8) -> u32 {
    // SAFETY: the caller's contract; unaligned reads are allowed.
    unsafe { p.cast::<u32>().read_unaligned() }
}

/// `acc + w * (x + offset)` for the bytes at `x` and `w`.
///
/// # Safety
/// `x` and `w` must be readable.
#[inline(always)]
unsafe fn mac(x: *const i8, w: *const i8, offset: i32, acc: i32) -> i32 {
    // SAFETY: the caller's contract.
    let (x, w) = unsafe { (i32::from(*x), i32::from(*w)) };
    acc.wrapping_add(w * x.wrapping_add(offset))
}

/// `offset` in both halves of a word.
#[inline(always)]
pub fn packed(offset: i32) -> u32 {
    (offset as u16 as u32) * 0x0001_0001
}

/// Adds `sum w * (x + offset)` over `len` bytes for two inputs (`xa`, `xb`)
/// times two weight rows (`wc`, `wd`) to `acc` = `[ac, ad, bc, bd]`.
///
/// # Safety
/// All four pointers must be readable for `len` bytes.
#[inline(always)]
pub unsafe fn dot_2x2(
    [mut xa, mut xb]: [*const i8; 2],
    [mut wc, mut wd]: [*const i8; 2],
    len: usize,
    offset: i32,
    acc: &mut [i32; 4],
) {
    let off = packed(offset);
    let [mut ac, mut ad, mut bc, mut bd] = *acc;
    // SAFETY: every read is below `len` bytes past its pointer.
    unsafe {
        let end = xa.add(len & !3);
        while xa != end {
            let (a, b) = (load(xa), load(xb));
            let (a02, a13) = (sxtab16(off, a), sxtab16_ror8(off, a));
            let (b02, b13) = (sxtab16(off, b), sxtab16_ror8(off, b));
            let c = load(wc);
            let (c02, c13) = (sxtb16(c), sxtb16_ror8(c));
            ac = smlad(a02, c02, ac);
            ac = smlad(a13, c13, ac);
            bc = smlad(b02, c02, bc);
            bc = smlad(b13, c13, bc);
            let d = load(wd);
            let (d02, d13) = (sxtb16(d), sxtb16_ror8(d));
            ad = smlad(a02, d02, ad);
            ad = smlad(a13, d13, ad);
            bd = smlad(b02, d02, bd);
            bd = smlad(b13, d13, bd);
            (xa, xb, wc, wd) = (xa.add(4), xb.add(4), wc.add(4), wd.add(4));
        }
        for k in 0..len & 3 {
            let (a, b, c, d) = (xa.add(k), xb.add(k), wc.add(k), wd.add(k));
            ac = mac(a, c, offset, ac);
            ad = mac(a, d, offset, ad);
            bc = mac(b, c, offset, bc);
            bd = mac(b, d, offset, bd);
        }
    }
    *acc = [ac, ad, bc, bd];
}

/// Adds `sum w * (x + offset)` over `len` bytes for one input times four
/// weight rows to `acc`.
///
/// # Safety
/// All five pointers must be readable for `len` bytes.
#[inline(always)]
pub unsafe fn dot_1x4(
    mut x: *const i8,
    w: [*const i8; 4],
    len: usize,
    offset: i32,
    acc: &mut [i32; 4],
) {
    let off = packed(offset);
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    let [mut w0, mut w1, mut w2, mut w3] = w;
    // SAFETY: every read is below `len` bytes past its pointer.
    unsafe {
        let end = x.add(len & !3);
        while x != end {
            let v = load(x);
            let (x02, x13) = (sxtab16(off, v), sxtab16_ror8(off, v));
            let c = load(w0);
            a0 = smlad(x02, sxtb16(c), a0);
            a0 = smlad(x13, sxtb16_ror8(c), a0);
            let c = load(w1);
            a1 = smlad(x02, sxtb16(c), a1);
            a1 = smlad(x13, sxtb16_ror8(c), a1);
            let c = load(w2);
            a2 = smlad(x02, sxtb16(c), a2);
            a2 = smlad(x13, sxtb16_ror8(c), a2);
            let c = load(w3);
            a3 = smlad(x02, sxtb16(c), a3);
            a3 = smlad(x13, sxtb16_ror8(c), a3);
            (x, w0, w1, w2, w3) = (x.add(4), w0.add(4), w1.add(4), w2.add(4), w3.add(4));
        }
        for k in 0..len & 3 {
            let v = x.add(k);
            a0 = mac(v, w0.add(k), offset, a0);
            a1 = mac(v, w1.add(k), offset, a1);
            a2 = mac(v, w2.add(k), offset, a2);
            a3 = mac(v, w3.add(k), offset, a3);
        }
    }
    *acc = [a0, a1, a2, a3];
}

/// `acc + sum w * (x + offset)` over `len` bytes.
///
/// # Safety
/// `x` and `w` must be readable for `len` bytes.
#[inline(always)]
pub unsafe fn dot_1x1(
    mut x: *const i8,
    mut w: *const i8,
    len: usize,
    offset: i32,
    mut acc: i32,
) -> i32 {
    let off = packed(offset);
    // SAFETY: every read is below `len` bytes past its pointer.
    unsafe {
        let end = x.add(len & !3);
        while x != end {
            let (v, c) = (load(x), load(w));
            acc = smlad(sxtab16(off, v), sxtb16(c), acc);
            acc = smlad(sxtab16_ror8(off, v), sxtb16_ror8(c), acc);
            (x, w) = (x.add(4), w.add(4));
        }
        for k in 0..len & 3 {
            acc = mac(x.add(k), w.add(k), offset, acc);
        }
    }
    acc
}

/// `simd::dot_2x2_wide` for one weight row: `acc` = `[a, b]`.
///
/// # Safety
/// As for `simd::dot_2x2_wide`.
#[inline(always)]
pub unsafe fn dot_2x1_wide(mut x: *const u32, mut w: *const i8, len: usize, acc: &mut [i32; 2]) {
    let [mut a, mut b] = *acc;
    // SAFETY: every read is below `len` bytes (words at `x`) past its pointer.
    unsafe {
        let end = w.add(len & !3);
        while w != end {
            let c = load(w);
            let (c02, c13) = (sxtb16(c), sxtb16_ror8(c));
            a = smlad(*x, c02, a);
            b = smlad(*x.add(1), c02, b);
            a = smlad(*x.add(2), c13, a);
            b = smlad(*x.add(3), c13, b);
            (x, w) = (x.add(4), w.add(4));
        }
    }
    *acc = [a, b];
}

/// `acc + sum w * x` over `steps` groups of 4 bytes of one weight row, the
/// input widened as `simd::dot_4_rows_wide` reads it.
///
/// # Safety
/// As for `simd::dot_4_rows_wide`, for the one row at `w`.
#[inline(always)]
pub unsafe fn dot_1_row_wide(x: *const u32, w: *const i8, steps: usize, mut acc: i32) -> i32 {
    for s in 0..steps {
        // SAFETY: the caller's contract.
        unsafe {
            let c = load(w.add(4 * s));
            acc = smlad(*x.add(2 * s), sxtb16(c), acc);
            acc = smlad(*x.add(2 * s + 1), sxtb16_ror8(c), acc);
        }
    }
    acc
}
