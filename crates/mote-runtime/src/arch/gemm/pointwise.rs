//! Passes of 1x1 CONV_2D at stride 1 without padding (the pointwise layers
//! of MobileNet and DS-CNN): pixel `p`'s one run is input bytes `p * size`
//! on, over the whole filter, and its outputs row `p` of the output. A pass
//! then runs its pixel pairs straight off the tensors, one `widen_pair` and
//! one `pair_pass_wide` call each, without `Gemm::pass`'s per-pixel runs,
//! checks and pairing (about 170 instructions per pixel and pass on
//! Cortex-M4).

use core::mem::MaybeUninit;

use super::{Gemm, Pass, Pixel, Runs, WIDE, WIDE_FILTERS};
use crate::arch::dot::packed;
use crate::arch::pair_pass::{self, PairJob};
use crate::arch::simd::{pair_pass_wide, pair_pass_wide_offset, widen_pair};

#[cfg(test)]
std::thread_local! {
    /// Passes [`Gemm::pass_pointwise`] ran on this thread (for the tests).
    pub static POINTWISE_PASSES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

impl Gemm<'_> {
    /// The pass `s` (channels `first..` of every `channels`-byte output
    /// row) over the `pixels` of [`Gemm::pointwise`], its channel pairs'
    /// filters widened into a stack table of its own (`pair_pass::widen`):
    /// `false`, nothing written, where it does not apply (not pointwise, a
    /// filter that is not whole words or exceeds [`WIDE`] bytes, a pass
    /// without `pair_pass` lanes for all its channels in pairs, or whose
    /// widened filters exceed [`WIDE_FILTERS`] words, tensors shorter than
    /// the pixels); then [`Gemm::pass`] runs.
    #[inline(never)]
    pub(super) fn pass_pointwise(
        &self,
        s: &Pass<'_>,
        output: &mut [i8],
        channels: usize,
        first: usize,
    ) -> bool {
        let Some(pixels) = self.pointwise else {
            return false;
        };
        let (size, n, pairs) = (self.filter_size, s.q.len(), s.pairs.len());
        let fits = size > 0
            && size.is_multiple_of(4)
            && size <= WIDE
            && pairs > 0
            && n == 2 * pairs
            && first.checked_add(n).is_some_and(|end| end <= channels)
            && pixels
                .checked_mul(size)
                .is_some_and(|len| len <= self.input.len())
            && pixels
                .checked_mul(channels)
                .is_some_and(|len| len <= output.len());
        // An odd last pixel runs `Gemm::one`: its run inside the input as
        // every pixel's, the `n` filters inside the filter tensor as
        // `widen` checks below (`n = 2 * pairs` filters of `size` bytes),
        // which is what `Gemm::inside` would approve.
        let last = Pixel {
            input: pixels.saturating_sub(1) * size,
            runs: Runs {
                filter: 0,
                rows: 1,
                len: size,
            },
        };
        if !fits {
            return false;
        }
        // Uninitialized: `widen` writes every word it returns.
        let mut table = [MaybeUninit::<u32>::uninit(); WIDE_FILTERS];
        let Some(weights) = pair_pass::widen(self.filter, size, pairs, &mut table) else {
            return false;
        };
        let s = &Pass { weights, ..*s };
        #[cfg(test)]
        POINTWISE_PASSES.with(|n| n.set(n.get() + 1));
        let off = packed(self.quant.input_offset);
        // Uninitialized: `widen_pair` writes the `size` words the kernel reads.
        let mut buf = [MaybeUninit::<u32>::uninit(); WIDE];
        let wide = buf.as_mut_ptr().cast::<u32>();
        let (x, out) = (self.input.as_ptr(), output.as_mut_ptr());
        let q = s.pairs.as_ptr_range();
        let w = weights.as_ptr().cast::<i8>();
        let mut job = PairJob {
            x: wide,
            len: size,
            w: [w, w],
            skip: 0,
            quant: q.start,
            quant_end: q.end,
            out_a: out,
            out_b: out,
            offset: s.pair_offset,
        };
        // `pair_pass::run_wide`'s choice, made once for the pass.
        let kernel = if job.offset == 0 {
            pair_pass_wide
        } else {
            pair_pass_wide_offset
        };
        let mut p = 0;
        while p + 1 < pixels {
            // SAFETY: pixels p and p + 1 < pixels: their `size` bytes end
            // within pixels * size <= input.len(), and `size` <= WIDE bytes
            // widen into as many of `buf`'s WIDE words; their outputs
            // `first..first + n` end within row p + 1 <= pixels rows of
            // `channels` <= output.len() bytes (all checked above).
            unsafe {
                widen_pair(x.add(p * size), x.add((p + 1) * size), size, off, wide);
                job.out_a = out.add(p * channels + first);
                job.out_b = job.out_a.add(channels);
                // Pair `k`'s widened filters are words `k * size..(k + 1)
                // * size` of `weights`, which holds all `pairs`; `size` is
                // a nonzero multiple of 4, `buf` holds both pixels' `size`
                // words; each pair writes two bytes of both output slices.
                kernel(&job);
            }
            p += 2;
        }
        let at = p * channels + first;
        if let Some(o) = output.get_mut(at..at + n).filter(|_| p < pixels) {
            self.one(s, &last, o);
        }
        true
    }
}
