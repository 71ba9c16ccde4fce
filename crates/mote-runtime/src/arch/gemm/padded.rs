//! Pixel pairs whose filter rows are not whole words (VWW's and ResNet-8's
//! first layers: 3x3 over 3 channels, 9-byte rows): each row of the
//! pass's filters is copied once, zero-padded to a whole number of words,
//! into a stack table, and each pixel's rows are widened by word loads
//! that read up to 3 bytes past the row. Those bytes meet the padding's
//! zero weights, so they add nothing, and the pair runs `pair_pass_wide`
//! over the padded rows as one run (the padded filters widened once per
//! pass too).

use super::{Gemm, Pass, Pixel, Runs, WIDE};
use crate::arch::dot::{dot_2x1_wide, packed};
use crate::arch::pair_pass::{self, PairJob};
use crate::arch::simd::widen_pair;

#[cfg(test)]
std::thread_local! {
    /// Pixel pairs [`Gemm::two_padded`] ran on this thread (for the tests).
    pub static PADDED_PAIRS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// Bytes of padded filters a pass may hold (1 KiB of stack).
pub const PADDED: usize = 1024;

/// A pass's filters with every row zero-padded to a whole number of words.
#[derive(Clone, Copy)]
pub struct Padded<'p> {
    /// Channel `k`'s padded filter at `k * size`.
    filter: &'p [i8],
    /// Bytes of one channel's padded filter: `rows` rows of `row` bytes.
    size: usize,
    /// Bytes of one padded row (the filter row rounded up to 4).
    row: usize,
    /// Filter rows.
    rows: usize,
    /// The padded filters' channel pairs widened (`pair_pass::widen`), or
    /// empty.
    weights: &'p [u32],
}

impl Padded<'_> {
    /// No padded filters: the pass runs without them.
    pub const NONE: Padded<'static> = Padded {
        filter: &[],
        size: 0,
        row: 0,
        rows: 0,
        weights: &[],
    };
}

impl Gemm<'_> {
    /// [`Gemm::pass`] with the first `channels` filters padded (where
    /// [`Gemm::pad`] pads them) into a stack table of its own, which passes
    /// over whole-word rows do without.
    #[inline(never)]
    pub(super) fn pass_padded<'o>(
        &self,
        s: &Pass<'_>,
        pixels: impl Iterator<Item = Pixel>,
        outs: impl Iterator<Item = &'o mut [i8]>,
    ) -> bool {
        let mut table = [0i8; PADDED];
        let mut padded = self.pad(s.q.len(), &mut table);
        // Uninitialized: `widen` writes every word it returns.
        let mut wide = [core::mem::MaybeUninit::<u32>::uninit(); PADDED / 2];
        let pairs = s.pairs.len();
        if let Some(w) = pair_pass::widen(padded.filter, padded.size, pairs, &mut wide) {
            padded.weights = w;
        }
        self.pass(&Pass { padded, ..*s }, pixels, outs)
    }

    /// The first `channels` filters (of this pass) padded into `buf`, or
    /// [`Padded::NONE`] if their rows are whole words already, or the
    /// padded filters would exceed `buf` or a widened pixel [`WIDE`].
    fn pad<'p>(&self, channels: usize, buf: &'p mut [i8; PADDED]) -> Padded<'p> {
        let (step, size) = (self.filter_step, self.filter_size);
        if step == 0 || step.is_multiple_of(4) || !size.is_multiple_of(step) {
            return Padded::NONE;
        }
        let (rows, row) = (size / step, step.next_multiple_of(4));
        let padded = rows * row;
        let fits = padded <= WIDE
            && channels.checked_mul(padded).is_some_and(|n| n <= PADDED)
            && channels
                .checked_mul(size)
                .is_some_and(|n| n <= self.filter.len());
        if !fits {
            return Padded::NONE;
        }
        let (from, to) = (self.filter.chunks_exact(step), buf.chunks_exact_mut(row));
        for (src, dst) in from.zip(to).take(channels * rows) {
            dst.fill(0);
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        Padded {
            filter: buf.get(..channels * padded).unwrap_or_default(),
            size: padded,
            row,
            rows,
            weights: &[],
        }
    }

    /// [`Gemm::two`] for two pixels over the whole filter (`s.padded`'s
    /// rows) through `pair_pass`: `false` (nothing written) without padded
    /// filters or channel pairs, for pixels whose runs are not the whole
    /// filter, or where a pixel's last row plus its padding leaves the
    /// input.
    #[inline(never)]
    pub(super) fn two_padded(
        &self,
        s: &Pass<'_>,
        a: &Pixel,
        b: &Pixel,
        out_a: &mut [i8],
        out_b: &mut [i8],
    ) -> bool {
        let p = s.padded;
        let whole = Runs {
            filter: 0,
            rows: p.rows,
            len: self.filter_step,
        };
        let pairs = out_a.len() / 2;
        let reads = |x: &Pixel| {
            (p.rows - 1)
                .checked_mul(self.input_step)
                .and_then(|v| v.checked_add(x.input))
                .and_then(|v| v.checked_add(p.row))
                .is_some_and(|end| end <= self.input.len())
        };
        if p.rows == 0
            || s.pairs.len() != pairs
            || pairs == 0
            || out_b.len() != out_a.len()
            || p.filter.len() < out_a.len() * p.size
            || a.runs != whole
            || !reads(a)
            || !reads(b)
        {
            return false;
        }
        let off = packed(self.quant.input_offset);
        // Uninitialized: `widen_pair` writes every word `pair_pass` reads.
        let mut buf = [core::mem::MaybeUninit::<u32>::uninit(); WIDE];
        let wide = buf.as_mut_ptr().cast::<u32>();
        for r in 0..p.rows {
            // SAFETY: `reads` proved both pixels' row `r` readable for
            // `p.row` bytes, and (r + 1) * p.row <= p.size <= WIDE bytes
            // widen into as many words.
            unsafe {
                widen_pair(self.x(a, r), self.x(b, r), p.row, off, wide.add(r * p.row));
            }
        }
        let wide = wide.cast_const();
        let (w, q) = (p.filter.as_ptr(), s.pairs.as_ptr_range());
        let job = PairJob {
            x: wide,
            len: p.size,
            w: [w, w.wrapping_add(p.size)],
            skip: p.size,
            quant: q.start,
            quant_end: q.end,
            out_a: out_a.as_mut_ptr(),
            out_b: out_b.as_mut_ptr(),
            offset: s.pair_offset,
        };
        if p.weights.len() >= pairs * p.size {
            // Pair `k`'s widened padded filters: `p.size` words from `k *
            // p.size`, one after the other.
            let w = p.weights.as_ptr().cast::<i8>();
            let job = PairJob {
                w: [w, w],
                skip: 0,
                ..job
            };
            // SAFETY: as below, the filters read from `p.weights`, whose
            // pairs' `p.size` words each lie inside it (checked).
            unsafe { pair_pass::run_wide(&job) };
        } else {
            // SAFETY: `p.size` is a nonzero multiple of 4 and `wide` holds
            // that many aligned words; pair `k`'s filters are padded
            // channels `2 k` and `2 k + 1`, inside `p.filter` for every
            // channel below out_a.len(); at least one pair, writing two
            // bytes of out_a and of out_b (as long) each.
            unsafe { pair_pass::run(&job) };
        }
        #[cfg(test)]
        PADDED_PAIRS.with(|n| n.set(n.get() + 1));
        let c = 2 * pairs;
        if let (Some(oa), Some(ob)) = (out_a.get_mut(c), out_b.get_mut(c)) {
            let mut acc = [0i32; 2];
            // SAFETY: channel c < out_a.len() is inside `p.filter` (above),
            // and `wide` holds its `p.size` words.
            unsafe { dot_2x1_wide(wide, w.wrapping_add(c * p.size), p.size, &mut acc) };
            // SAFETY: c < out_a.len(), the channel count of `s`.
            let q = unsafe { s.channel(c) };
            (*oa, *ob) = (s.apply(q, acc[0]), s.apply(q, acc[1]));
        }
        true
    }
}
