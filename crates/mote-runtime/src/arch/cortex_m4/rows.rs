//! The inner loops of FULLY_CONNECTED (four weight rows against one input)
//! and of CONV_2D's pixel pairs (two weight rows against two inputs) on
//! Armv7E-M over inputs widened once, each one `asm!` block so that nothing
//! spills: LLVM, left to allocate the same loops written with the primitives
//! of `super`, spilled 11 of 42 instructions per 16 MACs (FULLY_CONNECTED)
//! and 4 of 25 (CONV_2D) to the stack.

use core::arch::asm;

/// Adds to `acc[k]`, for the weight rows at `w + k * stride` (`k` in 0..4),
/// `sum w[4 s + j] * x_j` over `steps` groups `s` of 4 bytes, the inputs of
/// group `s` being the words `x[2 s]` = `(x0, x2)` and `x[2 s + 1]` =
/// `(x1, x3)` (16-bit halves, offset already added). 23 instructions per
/// group: 16 MACs.
///
/// # Safety
/// `steps` must be at least 1, `x` readable for `2 * steps` words and each
/// row readable for `4 * steps` bytes; `w + 3 * stride` must not wrap.
#[inline(always)]
pub unsafe fn dot_4_rows_wide(
    x: *const u32,
    w: *const i8,
    stride: usize,
    steps: usize,
    acc: [i32; 4],
) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    // SAFETY: the loop reads `2 * steps` words at `x` and `4 * steps` bytes
    // of each row (the caller's contract) and writes no memory but the stack
    // slot that keeps r7 (the frame pointer, which asm! cannot name as an
    // operand but may use if it restores it): pushed first, popped last.
    unsafe {
        asm!(
            "push {{r7}}",
            "add r7, {x}, {t}, lsl #3",
            "2:",
            "ldrd {x02}, {x13}, [{x}], #8",
            "ldr {v}, [{p0}, {d}]",
            "sxtb16 {t}, {v}",
            "smlad {a1}, {x02}, {t}, {a1}",
            "sxtb16 {v}, {v}, ror #8",
            "smlad {a1}, {x13}, {v}, {a1}",
            "ldr {v}, [{p0}], #4",
            "sxtb16 {t}, {v}",
            "smlad {a0}, {x02}, {t}, {a0}",
            "sxtb16 {v}, {v}, ror #8",
            "smlad {a0}, {x13}, {v}, {a0}",
            "ldr {v}, [{p2}, {d}]",
            "sxtb16 {t}, {v}",
            "smlad {a3}, {x02}, {t}, {a3}",
            "sxtb16 {v}, {v}, ror #8",
            "smlad {a3}, {x13}, {v}, {a3}",
            "ldr {v}, [{p2}], #4",
            "sxtb16 {t}, {v}",
            "smlad {a2}, {x02}, {t}, {a2}",
            "sxtb16 {v}, {v}, ror #8",
            "smlad {a2}, {x13}, {v}, {a2}",
            "cmp {x}, r7",
            "bne 2b",
            "pop {{r7}}",
            x = inout(reg) x => _,
            p0 = inout(reg) w => _,
            p2 = inout(reg) w.wrapping_add(2 * stride) => _,
            d = in(reg) stride,
            t = inout(reg) steps => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            x02 = out(reg) _,
            x13 = out(reg) _,
            v = out(reg) _,
            options(readonly),
        );
    }
    [a0, a1, a2, a3]
}

/// Adds to `acc` = `[ac, ad, bc, bd]` the sums over `len` weight bytes (a
/// multiple of 4, at least 4) at `wc` and `wd` times two pixels' inputs at
/// `x` (16-bit halves, offset added; per 4 bytes the words `a02, b02, a13,
/// b13`). 18 instructions per 4 bytes: 16 MACs.
///
/// # Safety
/// `len` must be a nonzero multiple of 4, `x` readable for `len` words (and
/// word-aligned, for `ldrd`), `wc` and `wd` for `len` bytes.
#[inline(always)]
pub unsafe fn dot_2x2_wide(
    x: *const u32,
    [wc, wd]: [*const i8; 2],
    len: usize,
    [mut ac, mut ad, mut bc, mut bd]: [i32; 4],
) -> [i32; 4] {
    // SAFETY: the loop reads `len` words at `x` and `len` bytes at `wc` and
    // `wd` (the caller's contract), and writes no memory but the stack slot
    // that keeps r7, as in `dot_4_rows_wide`.
    unsafe {
        asm!(
            "push {{r7}}",
            "add r7, {wc}, {t}",
            "2:",
            "ldrd {x0}, {x1}, [{x}], #16",
            "ldr {c}, [{wc}], #4",
            "ldr {d}, [{wd}], #4",
            "sxtb16 {t}, {c}",
            "smlad {ac}, {x0}, {t}, {ac}",
            "smlad {bc}, {x1}, {t}, {bc}",
            "sxtb16 {t}, {d}",
            "smlad {ad}, {x0}, {t}, {ad}",
            "smlad {bd}, {x1}, {t}, {bd}",
            "ldrd {x0}, {x1}, [{x}, #-8]",
            "sxtb16 {t}, {c}, ror #8",
            "smlad {ac}, {x0}, {t}, {ac}",
            "smlad {bc}, {x1}, {t}, {bc}",
            "sxtb16 {t}, {d}, ror #8",
            "smlad {ad}, {x0}, {t}, {ad}",
            "smlad {bd}, {x1}, {t}, {bd}",
            "cmp {wc}, r7",
            "bne 2b",
            "pop {{r7}}",
            x = inout(reg) x => _,
            wc = inout(reg) wc => _,
            wd = inout(reg) wd => _,
            t = inout(reg) len => _,
            ac = inout(reg) ac,
            ad = inout(reg) ad,
            bc = inout(reg) bc,
            bd = inout(reg) bd,
            x0 = out(reg) _,
            x1 = out(reg) _,
            c = out(reg) _,
            d = out(reg) _,
            options(readonly),
        );
    }
    [ac, ad, bc, bd]
}

/// Widens `len` bytes (a nonzero multiple of 4) of two pixels' inputs, at
/// `xa` and `xb`, offset added (`off`: the offset in both halves), into
/// `to`: per 4 bytes the words `a02, b02, a13, b13`, as `dot_2x2_wide`
/// reads them. 9 instructions per 4 bytes of both pixels (one `stm`).
///
/// # Safety
/// `len` must be a nonzero multiple of 4, `xa` and `xb` readable for `len`
/// bytes, `to` word-aligned and writable for `len` words.
#[inline(always)]
pub unsafe fn widen_pair(xa: *const i8, xb: *const i8, len: usize, off: u32, to: *mut u32) {
    // SAFETY: the loop reads `len` bytes at `xa` and at `xb` (word loads,
    // unaligned as Armv7E-M allows) and writes `len` words at `to` (the
    // caller's contract).
    unsafe {
        asm!(
            "2:",
            "ldr {a}, [{xa}], #4",
            "ldr {b}, [{xb}], #4",
            "sxtab16 r0, {off}, {a}",
            "sxtab16 r2, {off}, {a}, ror #8",
            "sxtab16 r1, {off}, {b}",
            "sxtab16 r3, {off}, {b}, ror #8",
            "stm {to}!, {{r0-r3}}",
            "cmp {xa}, {end}",
            "bne 2b",
            xa = inout(reg) xa => _,
            xb = inout(reg) xb => _,
            to = inout(reg) to => _,
            end = in(reg) xa.wrapping_add(len),
            off = in(reg) off,
            a = out(reg) _,
            b = out(reg) _,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            options(nostack),
        );
    }
}
