//! [`pair_pass`]: CONV_2D's pixel pairs over a pass's channel pairs, the
//! whole loop (dot products, requantization, stores) in one naked function
//! so that all fourteen general registers serve it; `asm!` inside a Rust
//! function leaves it eleven, and the Rust around `dot_2x2_wide` spilled
//! the accumulators and reloaded the requantization for every pair.

use crate::arch::pair_pass::PairJob;

/// Runs every channel pair from `job.quant` to `job.quant_end`: the sums of
/// `job.len` filter bytes at `job.w` times both pixels' widened inputs,
/// each channel's bias first, requantized by its [`Folded`], clamped by
/// `ssat` to -128..=127 and stored to `out_a[c]`, `out_b[c]`. Per pair, 18
/// instructions per 4 filter bytes and 45 more.
///
/// [`Folded`]: crate::arch::requant::Folded
///
/// # Safety
/// `job.len` must be a nonzero multiple of 4 and `job.x` word-aligned and
/// readable for `job.len` words; with `n` pairs (at least 1) from
/// `job.quant`, readable, to `job.quant_end`, pair `k`'s filters
/// `job.w[i] + k * (job.len + job.skip)` readable for `job.len` bytes, and
/// `job.out_a`, `job.out_b` writable for `2 * n` bytes.
#[unsafe(naked)]
pub unsafe extern "C" fn pair_pass(job: *const PairJob) {
    // Registers: r0 x, r1 wc, r2 wd, r3 the end of wc's run, r4 ac, r5 ad,
    // r6 bc, r8 bd, r9/r10 two input words, r11/r12 two filter words, r7
    // scratch, lr the pair's PairQuant. The job is copied to the stack:
    // [sp] x, len, wc, wd, skip, quant, quant_end, out_a, out_b. One
    // output from accumulator A with lane (m, high, shift) in (r2, r3, r7):
    // low = 2^30 | A & 2^31, high += A >> 31, (high:low) += A * m, then
    // high >> shift, saturated to 8 bits.
    core::arch::naked_asm!(
        "push {{r4-r11, lr}}",
        "ldm r0, {{r1-r9}}",
        "push {{r1-r9}}",
        "mov lr, r6",
        "3:",
        "ldrd r4, r5, [lr], #8",
        "mov r6, r4",
        "mov r8, r5",
        "ldrd r0, r7, [sp]",
        "ldrd r1, r2, [sp, #8]",
        "add r3, r1, r7",
        "4:",
        "ldrd r9, r10, [r0], #16",
        "ldr r11, [r1], #4",
        "ldr r12, [r2], #4",
        "sxtb16 r7, r11",
        "smlad r4, r9, r7, r4",
        "smlad r6, r10, r7, r6",
        "sxtb16 r7, r12",
        "smlad r5, r9, r7, r5",
        "smlad r8, r10, r7, r8",
        "ldrd r9, r10, [r0, #-8]",
        "sxtb16 r7, r11, ror #8",
        "smlad r4, r9, r7, r4",
        "smlad r6, r10, r7, r6",
        "sxtb16 r7, r12, ror #8",
        "smlad r5, r9, r7, r5",
        "smlad r8, r10, r7, r8",
        "cmp r1, r3",
        "bne 4b",
        // The next pair's filters.
        "ldr r7, [sp, #16]",
        "add r1, r1, r7",
        "add r2, r2, r7",
        "strd r1, r2, [sp, #8]",
        "ldrd r0, r1, [sp, #28]",
        // Channel c: ac to out_a, bc to out_b.
        "ldm lr!, {{r2, r3, r7}}",
        "and r9, r4, #0x80000000",
        "orr r9, r9, #0x40000000",
        "add r10, r3, r4, asr #31",
        "smlal r9, r10, r4, r2",
        "asr r10, r10, r7",
        "ssat r10, #8, r10",
        "strb r10, [r0], #1",
        "and r9, r6, #0x80000000",
        "orr r9, r9, #0x40000000",
        "add r10, r3, r6, asr #31",
        "smlal r9, r10, r6, r2",
        "asr r10, r10, r7",
        "ssat r10, #8, r10",
        "strb r10, [r1], #1",
        // Channel c + 1: ad to out_a, bd to out_b.
        "ldm lr!, {{r2, r3, r7}}",
        "and r9, r5, #0x80000000",
        "orr r9, r9, #0x40000000",
        "add r10, r3, r5, asr #31",
        "smlal r9, r10, r5, r2",
        "asr r10, r10, r7",
        "ssat r10, #8, r10",
        "strb r10, [r0], #1",
        "and r9, r8, #0x80000000",
        "orr r9, r9, #0x40000000",
        "add r10, r3, r8, asr #31",
        "smlal r9, r10, r8, r2",
        "asr r10, r10, r7",
        "ssat r10, #8, r10",
        "strb r10, [r1], #1",
        "strd r0, r1, [sp, #28]",
        "ldr r7, [sp, #24]",
        "cmp lr, r7",
        "bne 3b",
        "add sp, sp, #36",
        "pop {{r4-r11, pc}}",
    )
}
