//! CONV_2D's pixel pairs over every channel pair of a pass in one call:
//! the dot products, bias, requantization ([`Folded`]) and stores of both
//! pixels, so that a channel pair costs its inner loop and about 41
//! instructions on Cortex-M4 (`cortex_m4/pass.rs`: naked functions with
//! every register their own) where the same work through Rust's
//! `dot_2x2_wide` calls took about 120. The kernels read a [`PairJob`]:
//! `pair_pass` over the filters' bytes, `pair_pass_wide` over filters
//! [`widen`]ed once per pass, `single_pass_wide` one pixel over those, each
//! with an `_offset` twin for lanes that leave the output offset apart.

use core::mem::MaybeUninit;

use super::requant::{Channel, Folded};
use super::simd::widen_pair;
use super::simd::{pair_pass, pair_pass_offset, pair_pass_wide, pair_pass_wide_offset};
use super::simd::{single_pass_wide, single_pass_wide_offset};
use crate::ops::per_channel::OutputQuant;

/// One channel pair's bias and requantization, in the order the kernel
/// loads them: both biases, then each channel's [`Folded`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PairQuant {
    /// The biases of the pair's two channels.
    pub bias: [i32; 2],
    /// Their requantization.
    pub lanes: [Folded; 2],
}

impl PairQuant {
    /// What a table starts as (never run: [`pack`] fills what a pass uses).
    pub const ZERO: PairQuant = PairQuant {
        bias: [0; 2],
        lanes: [Folded::UNUSED; 2],
    };
}

/// The operands of one [`pair_pass`](super::simd::pair_pass) call, read by
/// the kernel at fixed offsets (`#[repr(C)]`, ten words).
#[repr(C)]
pub struct PairJob {
    /// Both pixels' widened inputs: per 4 filter bytes the words `a02, b02,
    /// a13, b13`.
    pub x: *const u32,
    /// Filter bytes per channel: a nonzero multiple of 4.
    pub len: usize,
    /// The first pair's filters (channel `c`, then `c + 1`); the kernels
    /// over widened filters read `w[0]` only, the pair's widened words.
    pub w: [*const i8; 2],
    /// Bytes from the end of a pair's runs to the next pair's: twice the
    /// distance between channels' filters less `len` (over widened
    /// filters: the rest of the pair's `4 * size` bytes).
    pub skip: usize,
    /// The first pair's requantization.
    pub quant: *const PairQuant,
    /// Past the last pair's (at least one pair).
    pub quant_end: *const PairQuant,
    /// Where pixel `a`'s outputs go, one byte per channel.
    pub out_a: *mut i8,
    /// Pixel `b`'s.
    pub out_b: *mut i8,
    /// Added to every scaled sum before the clamp: the output offset where
    /// the lanes do not hold it, else 0.
    pub offset: i32,
}

// The kernels read both at fixed offsets.
#[cfg(mote_dsp)]
const _: () = assert!(
    core::mem::size_of::<PairJob>() == 40
        && core::mem::offset_of!(PairJob, offset) == 36
        && core::mem::size_of::<PairQuant>() == 32
);

/// Fills `pairs` with the channel pairs of `channels` (two per entry; an odd
/// last channel is left out) for `output` (its full int8 range),
/// the offset folded into every lane where each takes it: the offset left
/// for [`PairJob::offset`] (0 when folded), or `None` if a channel is
/// outside [`Folded`]'s case, for products that add up to `sums`
/// (`requant::sum_bound`), or where that is too loose, to what its own
/// weights add up to (`filter`: channel `k`'s `size` bytes from `k *
/// size`, inputs of offset `input_offset`); then the pass runs without
/// `pair_pass`.
pub fn pack(
    channels: &[Channel],
    output: &OutputQuant,
    sums: Sums<'_>,
    pairs: &mut [PairQuant],
) -> Option<i32> {
    if fill(channels, (output.offset, output), &sums, pairs) {
        return Some(0);
    }
    fill(channels, (0, output), &sums, pairs).then_some(output.offset)
}

/// What bounds a pass's sums: [`requant::sum_bound`] for its filters, and
/// the filters (`size` bytes a channel) and input offset.
///
/// [`requant::sum_bound`]: super::requant::sum_bound
pub struct Sums<'f> {
    /// The bound for any filter of the size.
    pub any: u32,
    /// The pass's filters.
    pub filter: &'f [i8],
    /// Bytes per channel's filter.
    pub size: usize,
    /// The input offset.
    pub input_offset: i32,
}

/// [`pack`] with `fold` (the output offset or 0) folded into every lane:
/// `false` if one does not take it.
fn fill(
    channels: &[Channel],
    fold: (i32, &OutputQuant),
    sums: &Sums<'_>,
    pairs: &mut [PairQuant],
) -> bool {
    let mut k = 0;
    for (p, c) in pairs.iter_mut().zip(channels.chunks_exact(2)) {
        let [c0, c1] = c else { return false };
        let lane = |c: &Channel, k: usize| {
            let weights = sums.filter.get(k * sums.size..(k + 1) * sums.size);
            c.folded(fold, sums.any, weights.map(|w| (w, sums.input_offset)))
        };
        let (Some(l0), Some(l1)) = (lane(c0, k), lane(c1, k + 1)) else {
            return false;
        };
        *p = PairQuant {
            bias: [c0.bias(), c1.bias()],
            lanes: [l0, l1],
        };
        k += 2;
    }
    true
}

/// Widens the filters of the first `2 * pairs` channels (`size` bytes
/// each, a multiple of 4, consecutive in `filter`) into `to` as
/// `pair_pass_wide` reads them: per pair and 4 bytes the words `c02, d02,
/// c13, d13` (channels `c = 2 k` and `d = 2 k + 1`, split as `sxtb16`
/// splits words), `4 * size` bytes per pair. `None` if `to` or `filter`
/// is too short, else the widened words (the start of `to`).
pub fn widen<'t>(
    filter: &[i8],
    size: usize,
    pairs: usize,
    to: &'t mut [MaybeUninit<u32>],
) -> Option<&'t [u32]> {
    let words = pairs.checked_mul(size)?;
    if !size.is_multiple_of(4) || words > to.len() || words.checked_mul(2)? > filter.len() {
        return None;
    }
    let (f, t) = (filter.as_ptr(), to.as_mut_ptr().cast::<u32>());
    for k in (0..pairs).filter(|_| size > 0) {
        // Channels c = 2 k and d = 2 k + 1 as a pixel pair's inputs with
        // offset 0: `widen_pair`'s words a02, b02, a13, b13 are c02, d02,
        // c13, d13 (9 instructions per 4 bytes of both on Armv7E-M).
        // SAFETY: channel d ends at 2 (k + 1) size <= filter.len(), and
        // the pair's `size` words from k * size end within words <=
        // to.len() (checked above); size is a nonzero multiple of 4.
        unsafe {
            let c = f.add(2 * k * size);
            widen_pair(c, c.add(size), size, 0, t.add(k * size));
        }
    }
    // SAFETY: the loops wrote every word below pairs * size = words.
    Some(unsafe { core::slice::from_raw_parts(t, words) })
}

/// Runs `job` through `pair_pass_wide` (its `w[0]` at filters from
/// [`widen`]), or `pair_pass_wide_offset` where its lanes leave the output
/// offset to it.
///
/// # Safety
/// As for `pair_pass_wide`.
#[inline(always)]
pub unsafe fn run_wide(job: &PairJob) {
    // SAFETY: the caller's contract.
    unsafe {
        if job.offset == 0 {
            pair_pass_wide(job)
        } else {
            pair_pass_wide_offset(job)
        }
    }
}

/// Runs `job` through `pair_pass`, or `pair_pass_offset` where its lanes
/// leave the output offset to it.
///
/// # Safety
/// As for `pair_pass`.
#[inline(always)]
pub unsafe fn run(job: &PairJob) {
    // SAFETY: the caller's contract.
    unsafe {
        if job.offset == 0 {
            pair_pass(job)
        } else {
            pair_pass_offset(job)
        }
    }
}

/// Runs the one-pixel `job` through `single_pass_wide`, or
/// `single_pass_wide_offset` where its lanes leave the output offset to it.
///
/// # Safety
/// As for `single_pass_wide`.
#[inline(always)]
pub unsafe fn run_single(job: &PairJob) {
    // SAFETY: the caller's contract.
    unsafe {
        if job.offset == 0 {
            single_pass_wide(job)
        } else {
            single_pass_wide_offset(job)
        }
    }
}
