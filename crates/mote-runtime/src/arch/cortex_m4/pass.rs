//! [`pair_pass`]: CONV_2D's pixel pairs over a pass's channel pairs, the
//! whole loop (dot products, requantization, stores) in one naked function
//! so that all fourteen general registers serve it; `asm!` inside a Rust
//! function leaves it eleven, and the Rust around `dot_2x2_wide` spilled
//! the accumulators and reloaded the requantization for every pair.
//! [`pair_pass_offset`] is the same loop with the output offset added
//! after the shift, for passes whose lanes cannot hold it.

use crate::arch::pair_pass::PairJob;

/// One output: accumulator `$a` requantized by the lane in (r2, r3, r7) =
/// (multiplier, high, shift) as `requant::Folded` says: t = high + (a >>
/// 31), t = SMMLAR(2 a, multiplier, t), then t >> shift, `$add` (the
/// output offset in r11, or nothing), saturated to 8 bits and stored at
/// `$out`, which moves on a byte.
macro_rules! output {
    ($a:literal, $out:literal, $add:literal) => {
        concat!(
            "add r10, r3, ",
            $a,
            ", asr #31\n",
            "lsl r9, ",
            $a,
            ", #1\n",
            "smmlar r10, r9, r2, r10\n",
            "asr r10, r10, r7\n",
            $add,
            "ssat r10, #8, r10\n",
            "strb r10, [",
            $out,
            "], #1\n",
        )
    };
}

/// Each pair's outputs, its bias-started sums in r4 (ac), r5 (ad), r6
/// (bc), r8 (bd), lr at its two lanes: the output pointers loaded into r0
/// and `$b` from the job's copy, `$load` (the offset into r11, or
/// nothing), four outputs (`$add` after each shift), the pointers stored.
macro_rules! outputs {
    ($b:literal, $load:literal, $add:literal) => {
        concat!(
            "ldrd r0, ",
            $b,
            ", [sp, #28]\n",
            $load,
            "\n",
            // Channel c: ac to out_a, bc to out_b.
            "ldm lr!, {{r2, r3, r7}}\n",
            output!("r4", "r0", $add),
            output!("r6", $b, $add),
            // Channel c + 1: ad to out_a, bd to out_b.
            "ldm lr!, {{r2, r3, r7}}\n",
            output!("r5", "r0", $add),
            output!("r8", $b, $add),
            "strd r0, ",
            $b,
            ", [sp, #28]\n",
        )
    };
}

/// Every kernel's start: the callee-saved registers pushed, the job's ten
/// words copied to the stack (`[sp]` x, len, w0, w1, skip, quant,
/// quant_end, out_a, out_b, offset), lr at the first pair's `PairQuant`.
macro_rules! enter {
    () => {
        concat!(
            "push {{r4-r11, lr}}\n",
            "ldm r0, {{r1-r10}}\n",
            "push {{r1-r10}}\n",
            "mov lr, r6\n",
        )
    };
}

/// Every kernel's end of a pair: back to label 3 while lr has not reached
/// `quant_end`, then the stack and registers restored.
macro_rules! next_pair {
    () => {
        concat!(
            "ldr r7, [sp, #24]\n",
            "cmp lr, r7\n",
            "bne 3b\n",
            "add sp, sp, #40\n",
            "pop {{r4-r11, pc}}\n",
        )
    };
}

/// The whole of [`pair_pass`] (filters as bytes), `$load` and `$add` as in
/// [`outputs!`].
///
/// Registers: r0 x, r1 wc, r2 wd, r3 the end of wc's run, r4 ac, r5 ad,
/// r6 bc, r8 bd, r9/r10 two input words, r11/r12 two filter words, r7
/// scratch, lr the pair's `PairQuant` (the job on the stack, [`enter!`]).
macro_rules! pair_pass_asm {
    ($load:literal, $add:literal) => {
        core::arch::naked_asm!(
            enter!(),
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
            outputs!("r1", $load, $add),
            next_pair!(),
        )
    };
}

/// One 4-byte group of [`pair_pass_wide`]'s inner loop: the input words
/// a02, b02, a13, b13 by one `ldm`, the filter words c02, d02 then c13,
/// d13 by `ldrd`, eight `smlad`.
macro_rules! wide_group {
    () => {
        concat!(
            "ldm r0!, {{r9-r12}}\n",
            "ldrd r3, r7, [r1], #16\n",
            "smlad r4, r9, r3, r4\n",
            "smlad r6, r10, r3, r6\n",
            "smlad r5, r9, r7, r5\n",
            "smlad r8, r10, r7, r8\n",
            "ldrd r3, r7, [r1, #-8]\n",
            "smlad r4, r11, r3, r4\n",
            "smlad r6, r12, r3, r6\n",
            "smlad r5, r11, r7, r5\n",
            "smlad r8, r12, r7, r8\n",
        )
    };
}

/// The run of one pair over widened filters: r0 at the inputs, r2 the
/// end of the filters' run (r1 plus 4 bytes per filter byte), then
/// `$group` over every 4-byte group, an odd one first and then two a turn.
macro_rules! widened_run {
    ($group:expr) => {
        concat!(
            "ldrd r0, r2, [sp]\n",
            "tst r2, #4\n",
            "add r2, r1, r2, lsl #2\n",
            "beq 4f\n",
            $group,
            "cmp r1, r2\n",
            "beq 5f\n",
            "4:\n",
            $group,
            $group,
            "cmp r1, r2\n",
            "bne 4b\n",
            "5:\n",
        )
    };
}

/// The whole of [`pair_pass_wide`] (filters widened), `$load` and `$add`
/// as in [`outputs!`].
///
/// Registers: r0 x, r1 the pairs' widened filters (kept across pairs), r2
/// the end of the pair's run, r4 ac, r5 ad, r6 bc, r8 bd, r9-r12 the input
/// words a02, b02, a13, b13, r3/r7 two filter words (c then d), lr the
/// pair's `PairQuant`; the job copied to the stack as for [`pair_pass`].
macro_rules! pair_pass_wide_asm {
    ($load:literal, $add:literal) => {
        core::arch::naked_asm!(
            enter!(),
            "ldr r1, [sp, #8]",
            "3:",
            "ldrd r4, r5, [lr], #8",
            "mov r6, r4",
            "mov r8, r5",
            widened_run!(wide_group!()),
            // The next pair's filters.
            "ldr r7, [sp, #16]",
            "add r1, r1, r7",
            outputs!("r12", $load, $add),
            next_pair!(),
        )
    };
}

/// One 4-byte group of [`single_pass_wide`]'s inner loop: the input words
/// x02, x13 by `ldrd`, the filter words c02, d02 then c13, d13, four
/// `smlad`.
macro_rules! single_group {
    () => {
        concat!(
            "ldrd r9, r10, [r0], #8\n",
            "ldrd r3, r7, [r1], #16\n",
            "smlad r4, r9, r3, r4\n",
            "smlad r5, r9, r7, r5\n",
            "ldrd r3, r7, [r1, #-8]\n",
            "smlad r4, r10, r3, r4\n",
            "smlad r5, r10, r7, r5\n",
        )
    };
}

/// The whole of [`single_pass_wide`], `$load` and `$add` as in
/// [`outputs!`]: registers as in [`pair_pass_wide_asm!`], with r4 and r5
/// the pixel's two sums and r9/r10 its input words.
macro_rules! single_pass_wide_asm {
    ($load:literal, $add:literal) => {
        core::arch::naked_asm!(
            enter!(),
            "ldr r1, [sp, #8]",
            "3:",
            "ldrd r4, r5, [lr], #8",
            widened_run!(single_group!()),
            "ldr r7, [sp, #16]",
            "add r1, r1, r7",
            "ldr r0, [sp, #28]",
            $load,
            "ldm lr!, {{r2, r3, r7}}",
            output!("r4", "r0", $add),
            "ldm lr!, {{r2, r3, r7}}",
            output!("r5", "r0", $add),
            "str r0, [sp, #28]",
            next_pair!(),
        )
    };
}

/// Runs every channel pair from `job.quant` to `job.quant_end`: the sums of
/// `job.len` filter bytes at `job.w` times both pixels' widened inputs,
/// each channel's bias first, requantized by its [`Folded`] (the output
/// offset folded in: `job.offset` must be 0), clamped by `ssat` to
/// -128..=127 and stored to `out_a[c]`, `out_b[c]`. Per pair, 18
/// instructions per 4 filter bytes and 41 more.
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
    pair_pass_asm!("", "")
}

/// [`pair_pass`] adding `job.offset` to each scaled sum before the clamp
/// (5 instructions more per pair), for lanes that do not hold the offset.
///
/// # Safety
/// As for [`pair_pass`].
#[unsafe(naked)]
pub unsafe extern "C" fn pair_pass_offset(job: *const PairJob) {
    pair_pass_asm!("ldr r11, [sp, #36]", "add r10, r10, r11\n")
}

/// [`pair_pass`] over filters widened once per pass (`pair_pass::widen`:
/// per 4 filter bytes of a pair the words `c02, d02, c13, d13` at
/// `job.w[0]`, pairs `4 * job.len + job.skip` bytes apart; `job.w[1]` is
/// not read), so the inner loop is 12 instructions per 16 MACs (two
/// groups a turn) where [`pair_pass`]'s widens the filters in 18.
///
/// # Safety
/// As for [`pair_pass`], with pair `k`'s filters `job.w[0] + k * (4 *
/// job.len + job.skip)` word-aligned and readable for `4 * job.len`
/// bytes.
#[unsafe(naked)]
pub unsafe extern "C" fn pair_pass_wide(job: *const PairJob) {
    pair_pass_wide_asm!("", "")
}

/// [`pair_pass_wide`] adding `job.offset`, as [`pair_pass_offset`].
///
/// # Safety
/// As for [`pair_pass_wide`].
#[unsafe(naked)]
pub unsafe extern "C" fn pair_pass_wide_offset(job: *const PairJob) {
    pair_pass_wide_asm!("ldr r11, [sp, #36]", "add r10, r10, r11\n")
}

/// One pixel's outputs over every channel pair of `job`, as
/// [`pair_pass_wide`] with one pixel: its widened input at `job.x` as the
/// words `x02, x13` per 4 bytes, its outputs to `job.out_a` (`job.out_b`
/// is not written). 7 instructions per 8 MACs (two groups a turn: 14 per
/// 16) where `dot_4_rows_wide` took 23 per 16.
///
/// # Safety
/// As for [`pair_pass_wide`], with `job.x` readable for `job.len / 2`
/// words and `job.out_a` writable for two bytes per pair.
#[unsafe(naked)]
pub unsafe extern "C" fn single_pass_wide(job: *const PairJob) {
    single_pass_wide_asm!("", "")
}

/// [`single_pass_wide`] adding `job.offset`, as [`pair_pass_offset`].
///
/// # Safety
/// As for [`single_pass_wide`].
#[unsafe(naked)]
pub unsafe extern "C" fn single_pass_wide_offset(job: *const PairJob) {
    single_pass_wide_asm!("ldr r11, [sp, #36]", "add r10, r10, r11\n")
}
