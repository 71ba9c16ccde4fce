//! [`depthwise_row`]: one output row of the 3x3 depthwise group kernel
//! (four channels per pixel) in one naked function: the nine taps as
//! `depthwise_groups::taps_3x3` sums them, then each channel's folded
//! requantization and store, 85 instructions per pixel where the Rust
//! around the taps' `asm!` block took 116.

use crate::arch::depthwise_groups::RowJob;

/// One tap of [`depthwise_row`]: the pixel's four widened channels at
/// strip byte `$x`, the tap's four weights at byte `$k` of the taps.
macro_rules! tap {
    ($x:literal, $k:literal) => {
        concat!(
            "ldrd r9, r10, [r1, #",
            $x,
            "]\n",
            "ldrd r11, r12, [r2, #",
            $k,
            "]\n",
            "smlabb r4, r9, r11, r4\n",
            "smlabb r5, r10, r12, r5\n",
            "smlatt r6, r9, r11, r6\n",
            "smlatt r8, r10, r12, r8\n",
        )
    };
}

/// Channel `$c`'s output from accumulator `$a` (already doubled: taps and
/// bias are), its lane (multiplier, high, shift) loaded into (r7, r11,
/// r12) from r2, which moves on: as `pair_pass`'s outputs without their
/// `lsl`, stored at byte `$c` of the pixel's outputs.
macro_rules! output {
    ($a:literal, $c:literal) => {
        concat!(
            "ldm r2!, {{r7, r11, r12}}\n",
            "add r10, r11, ",
            $a,
            ", asr #31\n",
            "smmlar r10, ",
            $a,
            ", r7, r10\n",
            "asr r10, r10, r12\n",
            "ssat r10, #8, r10\n",
            "strb r10, [r3, #",
            $c,
            "]\n",
        )
    };
}

/// Runs `n` (at least 1) output pixels of one row: pixel `i`'s taps in the
/// strip at `s + i * job.stride` bytes (rows 448 bytes apart, as
/// `depthwise_groups` lays them out), its four outputs at `out + i *
/// job.depth`, each channel's sum started from its bias, requantized by
/// its lane (the output offset folded in), clamped by `ssat`.
///
/// Registers: r0 the job, r1 the pixel's taps, r2 the weights (the job's
/// taps) then the lanes, which end where the taps start, r3 its outputs,
/// r4 r5 r6 r8 the four sums, r9-r12 tap words (then the
/// requantization's), r7 scratch, lr the pixels left.
///
/// # Safety
/// `job` must be readable (4-aligned), every pixel's taps readable as
/// `taps_3x3` says (4-aligned) and its four output bytes writable; `n` at
/// least 1.
#[unsafe(naked)]
pub unsafe extern "C" fn depthwise_row(job: *const RowJob, s: *const u32, n: usize, out: *mut i8) {
    core::arch::naked_asm!(
        "push {{r4-r11, lr}}",
        "mov lr, r2",
        // The taps, right after the lanes: where r2 is again after each
        // pixel's outputs.
        "add r2, r0, #64",
        "3:",
        "ldm r0, {{r4, r5, r6, r8}}",
        tap!(0, 0),
        tap!(8, 8),
        tap!(16, 16),
        tap!(448, 24),
        tap!(456, 32),
        tap!(464, 40),
        tap!(896, 48),
        tap!(904, 56),
        tap!(912, 64),
        "add r2, r0, #16",
        output!("r4", 0),
        output!("r5", 1),
        output!("r6", 2),
        output!("r8", 3),
        "ldrd r7, r9, [r0, #136]",
        "add r1, r1, r7",
        "add r3, r3, r9",
        "subs lr, lr, #1",
        "bne 3b",
        "pop {{r4-r11, pc}}",
    )
}
