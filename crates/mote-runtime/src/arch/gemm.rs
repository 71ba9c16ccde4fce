//! The int8 matrix product behind CONV_2D: each output
//! pixel is a dot product of its input taps with every output channel's
//! filter, the taps lying in `rows` contiguous runs of `len` bytes (one per
//! filter row inside the image). Pixels go in pairs when their runs match
//! (2 pixels x 2 channels per inner loop), else alone (over the whole
//! filter window widened with zeros for the padding). Channels run in
//! passes of at most 64 over the pixels; where a pass's scales allow, a
//! pair (or a single pixel) goes through all of the pass's channel pairs in
//! one `pair_pass` kernel call, over filters widened once per pass where
//! they fit [`WIDE_FILTERS`].

mod padded;
mod pointwise;

use padded::Padded;
#[cfg(test)]
pub use padded::PADDED_PAIRS;
#[cfg(test)]
pub use pointwise::POINTWISE_PASSES;

use super::dot::{dot_1_row_wide, dot_1x1, dot_1x4, dot_2x1_wide, dot_2x2, packed};
use super::dsp_extra::ssat8;
use super::pair_pass::{self, PairJob, PairQuant};
use super::requant::{sum_bound, Channel, Scales};
use super::simd::{dot_2x2_wide, dot_4_rows_wide, widen_pair};
use crate::ops::per_channel::OutputQuant;
use crate::ops::per_channel::Requant;

/// Which filter taps an output pixel uses: `rows` runs of `len` bytes, run
/// `r` at `filter + r * filter_step` inside each channel's filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Runs {
    /// Offset of the first run in a channel's filter.
    pub filter: usize,
    /// Number of runs.
    pub rows: usize,
    /// Bytes per run.
    pub len: usize,
}

/// One output pixel: where its input runs start, and which taps it uses.
#[derive(Clone, Copy, Debug)]
pub struct Pixel {
    /// Offset of the first input run; run `r` is at `input + r * input_step`.
    pub input: usize,
    /// The taps.
    pub runs: Runs,
}

/// The operands of one product. Callers check that every run of every pixel
/// and channel lies inside `input` and `filter`; a run that does not is
/// skipped (never read out of bounds).
pub struct Gemm<'a> {
    /// The input tensor.
    pub input: &'a [i8],
    /// Output channels' filters, `filter_size` bytes each.
    pub filter: &'a [i8],
    /// Bias per channel, or empty.
    pub bias: &'a [i32],
    /// Offsets and per-channel scaling.
    pub quant: &'a Requant<'a>,
    /// Bytes of one channel's filter.
    pub filter_size: usize,
    /// Distance between input runs.
    pub input_step: usize,
    /// Distance between filter runs.
    pub filter_step: usize,
    /// `Some(pixels)` where pixel `p`'s one run is input bytes `p *
    /// filter_size` on over the whole filter and its outputs row `p` (1x1
    /// filters at stride 1 without padding): passes over widened filters
    /// then run `pointwise.rs` (feature `conv-1x1`).
    pub pointwise: Option<usize>,
}

/// Input bytes (all runs of one pixel) that [`Gemm::two_wide`] widens once
/// for every channel, two pixels into two words per byte: enough for a 3x3
/// filter over 64 channels.
pub const WIDE: usize = 640;

/// Filter bytes (one channel's) that [`Gemm::one_wide`] widens once per
/// pixel for every channel, into half as many words.
pub const ONE_WIDE: usize = 640;

/// Words of widened filters a pass of `pair_pass_wide` may hold (8 KiB of
/// stack: 64 channels of a 1x1 filter over 64 channels, keyword spotting's
/// pointwise layers, in one pass).
const WIDE_FILTERS: usize = 2048;

/// Fewest channels per pass over widened filters where that takes more
/// passes than [`PASS`] would, for filters of one row (1x1) only: each
/// pass widens every pixel pair's inputs again, and over a filter with
/// rows, its border pixels' slower loops run once per pass too.
const WIDE_PASS: usize = 16;

/// Output channels requantized per pass of [`Gemm::run`] over the pixels,
/// their [`Channel`]s worked out once into a stack table (1.5 KiB), and
/// their pairs' [`PairQuant`]s into another (1 KiB).
const PASS: usize = 64;

/// The requantization of one pass's channels, as many as each output slice
/// of the pass holds.
#[derive(Clone, Copy)]
pub struct Pass<'q> {
    q: &'q [Channel],
    /// The channel pairs of `q` for `pair_pass`, or empty where a
    /// channel's scale or the output range is outside its case.
    pairs: &'q [PairQuant],
    /// The output offset `pairs` leave to `pair_pass` (0 when folded).
    pair_offset: i32,
    /// The filters of `pairs` widened (`pair_pass::widen`), or empty.
    weights: &'q [u32],
    /// The pass's filters padded to whole-word rows, for pixels over the
    /// whole filter (`padded.rs`), or [`Padded::NONE`].
    padded: Padded<'q>,
    output: OutputQuant,
    /// Whether the output range is all of int8 (then the clamp is one
    /// `ssat`).
    full: bool,
}

impl Pass<'_> {
    /// Channel `c` of the pass.
    ///
    /// # Safety
    /// `c` must be below the pass's channel count.
    #[inline(always)]
    unsafe fn channel(&self, c: usize) -> &Channel {
        // SAFETY: the caller's contract.
        unsafe { self.q.get_unchecked(c) }
    }

    /// The int8 output of `q`'s accumulator `acc` (bias not yet added).
    #[inline(always)]
    fn apply(&self, q: &Channel, acc: i32) -> i8 {
        if self.full {
            ssat8(q.offset_scaled(acc.wrapping_add(q.bias()), &self.output)) as i8
        } else {
            q.apply(acc, &self.output)
        }
    }
}

/// Pixel pairs widen their inputs once into a stack buffer of [`WIDE`]
/// words; outputs use the fast requantization of `requant.rs`.
impl Gemm<'_> {
    /// Bias, requantization and clamp of channel `c`'s accumulator.
    ///
    /// # Safety
    /// `c` must be below the channel count of `s`.
    #[inline(always)]
    unsafe fn finish(&self, s: &Pass<'_>, acc: i32, c: usize) -> i8 {
        // SAFETY: the caller's contract.
        s.apply(unsafe { s.channel(c) }, acc)
    }

    /// Whether every run of `p`, for every one of `channels` filters, lies
    /// inside `input` and `filter`: what the pointer loops below rely on.
    fn inside(&self, p: &Pixel, channels: usize) -> bool {
        let Some(last_row) = p.runs.rows.checked_sub(1) else {
            return true;
        };
        let end = |start: usize, step: usize| {
            last_row
                .checked_mul(step)
                .and_then(|v| v.checked_add(start))
                .and_then(|v| v.checked_add(p.runs.len))
        };
        let last_filter = channels
            .saturating_sub(1)
            .checked_mul(self.filter_size)
            .and_then(|v| v.checked_add(p.runs.filter));
        end(p.input, self.input_step).is_some_and(|e| e <= self.input.len())
            && last_filter
                .and_then(|f| end(f, self.filter_step))
                .is_some_and(|e| e <= self.filter.len())
    }

    /// How far past a pixel's first input byte the last of `runs` ends
    /// (`None` without runs, or on overflow).
    fn span(&self, runs: &Runs) -> Option<usize> {
        runs.rows
            .checked_sub(1)?
            .checked_mul(self.input_step)?
            .checked_add(runs.len)
    }

    /// Input run `r` of a pixel (a pointer to `runs.len` bytes).
    #[inline(always)]
    fn x(&self, p: &Pixel, r: usize) -> *const i8 {
        self.input
            .as_ptr()
            .wrapping_add(p.input + r * self.input_step)
    }

    /// Filter run `r` of channel `c`.
    #[inline(always)]
    fn w(&self, runs: &Runs, c: usize, r: usize) -> *const i8 {
        let at = c * self.filter_size + runs.filter + r * self.filter_step;
        self.filter.as_ptr().wrapping_add(at)
    }

    /// Every channel of one pixel into `out`, whose length is the channel
    /// count `inside` approved.
    fn one(&self, s: &Pass<'_>, p: &Pixel, out: &mut [i8]) {
        if self.one_wide(s, p, out) {
            return;
        }
        let off = self.quant.input_offset;
        let Runs { rows, len, .. } = p.runs;
        let mut quads = out.chunks_exact_mut(4);
        let mut c = 0;
        for o in &mut quads {
            let mut acc = [0i32; 4];
            for r in 0..rows {
                let w = [0, 1, 2, 3].map(|k| self.w(&p.runs, c + k, r));
                // SAFETY: `inside` proved run `r` of channels up to `c + 3`
                // (< out.len()) in bounds.
                unsafe { dot_1x4(self.x(p, r), w, len, off, &mut acc) };
            }
            for ((o, a), k) in o.iter_mut().zip(acc).zip(c..) {
                // SAFETY: k < out.len(), the channel count of `s`.
                *o = unsafe { self.finish(s, a, k) };
            }
            c += 4;
        }
        for o in quads.into_remainder() {
            let mut acc = 0;
            for r in 0..rows {
                // SAFETY: as above, channel `c` < out.len().
                acc = unsafe { dot_1x1(self.x(p, r), self.w(&p.runs, c, r), len, off, acc) };
            }
            // SAFETY: c < out.len(), the channel count of `s`.
            *o = unsafe { self.finish(s, acc, c) };
            c += 1;
        }
    }

    /// [`Gemm::one`] over the pixel's whole filter window widened once
    /// (offset added; zeros for the taps in the padding) into a stack
    /// buffer, 4 channels per `dot_4_rows_wide` pass: `false` (nothing
    /// written) for filters that are not whole words or exceed [`ONE_WIDE`]
    /// bytes, a filter tensor shorter than the channels' filters, or runs
    /// that leave the filter.
    #[inline(never)]
    fn one_wide(&self, s: &Pass<'_>, p: &Pixel, out: &mut [i8]) -> bool {
        let size = self.filter_size;
        let Runs { filter, rows, len } = p.runs;
        // The end of the last run inside a channel's filter (None: no runs;
        // an overflow counts as past the filter).
        let last = rows.checked_sub(1).map(|r| {
            r.checked_mul(self.filter_step)
                .and_then(|v| v.checked_add(filter))
                .and_then(|v| v.checked_add(len))
                .unwrap_or(usize::MAX)
        });
        let whole = out
            .len()
            .checked_mul(size)
            .is_some_and(|n| n <= self.filter.len());
        if size == 0
            || !size.is_multiple_of(4)
            || size > ONE_WIDE
            || !whole
            || last.is_some_and(|e| e > size)
        {
            return false;
        }
        let off = self.quant.input_offset;
        let mut buf = [0u32; ONE_WIDE / 2];
        let halves = buf.as_mut_ptr().cast::<i16>();
        for r in 0..rows {
            let x = self.x(p, r);
            let at = filter + r * self.filter_step;
            for j in 0..len {
                // Filter byte `q`'s half: word `2 (q / 4) + q % 2`, high
                // half when `q % 4 >= 2` (the order `sxtb16` splits words).
                let q = at + j;
                let h = (q & !3) + 2 * (q & 1) + ((q >> 1) & 1);
                // SAFETY: `inside` proved run `r` of the input in bounds,
                // and q < size <= ONE_WIDE bytes (checked above), whose
                // halves fill the ONE_WIDE / 2 words.
                unsafe { *halves.add(h) = (i32::from(*x.add(j)) + off) as i16 };
            }
        }
        let (x, steps) = (buf.as_ptr(), size / 4);
        let mut c = 0;
        // The channel pairs in one `single_pass_wide` call where the pass
        // has them and their filters widened.
        let pairs = out.len() / 2;
        if pairs > 0 && s.pairs.len() == pairs && s.weights.len() >= pairs * size {
            let (q, w) = (s.pairs.as_ptr_range(), s.weights.as_ptr().cast::<i8>());
            let job = PairJob {
                x,
                len: size,
                w: [w, w],
                skip: 0,
                quant: q.start,
                quant_end: q.end,
                out_a: out.as_mut_ptr(),
                out_b: out.as_mut_ptr(),
                offset: s.pair_offset,
            };
            // SAFETY: `buf` holds the pixel's `size / 2` widened words
            // (size a nonzero multiple of 4, checked above); pair `k`'s
            // widened filters are words `k * size..(k + 1) * size` of
            // `s.weights` (checked); at least one pair, each writing two
            // of out.len() bytes.
            unsafe { pair_pass::run_single(&job) };
            c = 2 * pairs;
        }
        while c < out.len() {
            let w = self.filter.as_ptr().wrapping_add(c * size);
            if let Some(o) = out.get_mut(c..c + 4) {
                // SAFETY: the whole filters of all out.len() channels,
                // `size` bytes each, lie inside `filter` (`whole`), and
                // `c + 3 < out.len()`.
                let acc = unsafe { dot_4_rows_wide(x, w, size, steps, [0; 4]) };
                for ((o, a), k) in o.iter_mut().zip(acc).zip(c..) {
                    // SAFETY: k < out.len(), the channel count of `s`.
                    *o = unsafe { self.finish(s, a, k) };
                }
                c += 4;
            } else {
                // SAFETY: as above, for channel `c`.
                let acc = unsafe { dot_1_row_wide(x, w, steps, 0) };
                if let Some(o) = out.get_mut(c) {
                    // SAFETY: c < out.len(), the channel count of `s`.
                    *o = unsafe { self.finish(s, acc, c) };
                }
                c += 1;
            }
        }
        true
    }

    /// Every channel of two pixels with equal runs into `out_a` and `out_b`
    /// (of the length `inside` approved).
    fn two(&self, s: &Pass<'_>, a: &Pixel, b: &Pixel, out_a: &mut [i8], out_b: &mut [i8]) {
        let padded = cfg!(feature = "conv-padded");
        if self.two_wide(s, a, b, out_a, out_b)
            || (padded && self.two_padded(s, a, b, out_a, out_b))
        {
            return;
        }
        let off = self.quant.input_offset;
        let runs = &a.runs;
        let Runs { rows, len, .. } = *runs;
        let mut pairs_a = out_a.chunks_exact_mut(2);
        let mut pairs_b = out_b.chunks_exact_mut(2);
        let mut c = 0;
        for (oa, ob) in (&mut pairs_a).zip(&mut pairs_b) {
            let mut acc = [0i32; 4];
            for r in 0..rows {
                let x = [self.x(a, r), self.x(b, r)];
                let w = [self.w(runs, c, r), self.w(runs, c + 1, r)];
                // SAFETY: `inside` proved run `r` of both pixels and of
                // channels `c`, `c + 1` (< out_a.len()) in bounds.
                unsafe { dot_2x2(x, w, len, off, &mut acc) };
            }
            let [ac, ad, bc, bd] = acc;
            if let ([oa0, oa1], [ob0, ob1]) = (oa, ob) {
                // SAFETY: c + 1 < out_a.len(), the channel count of `s`.
                unsafe {
                    (*oa0, *oa1) = (self.finish(s, ac, c), self.finish(s, ad, c + 1));
                    (*ob0, *ob1) = (self.finish(s, bc, c), self.finish(s, bd, c + 1));
                }
            }
            c += 2;
        }
        let last = pairs_a
            .into_remainder()
            .iter_mut()
            .zip(pairs_b.into_remainder());
        for (oa, ob) in last {
            let (mut ac, mut bc) = (0, 0);
            for r in 0..rows {
                let w = self.w(runs, c, r);
                // SAFETY: as above, channel `c` < out_a.len().
                unsafe {
                    ac = dot_1x1(self.x(a, r), w, len, off, ac);
                    bc = dot_1x1(self.x(b, r), w, len, off, bc);
                }
            }
            // SAFETY: c < out_a.len(), the channel count of `s`.
            unsafe { (*oa, *ob) = (self.finish(s, ac, c), self.finish(s, bc, c)) };
        }
    }

    /// [`Gemm::two`] with both pixels' inputs widened once (offset added)
    /// into a stack buffer, so the inner loop only widens weights: `false`
    /// (nothing written) if the runs are empty, not whole words or exceed
    /// [`WIDE`].
    #[inline(never)]
    fn two_wide(
        &self,
        s: &Pass<'_>,
        a: &Pixel,
        b: &Pixel,
        out_a: &mut [i8],
        out_b: &mut [i8],
    ) -> bool {
        let runs = &a.runs;
        let Runs { rows, len, .. } = *runs;
        if len == 0 || len % 4 != 0 || rows.saturating_mul(len) > WIDE {
            return false;
        }
        let off = packed(self.quant.input_offset);
        // Uninitialized: `widen_pair` writes every word the loops below read.
        let mut buf = [core::mem::MaybeUninit::<u32>::uninit(); WIDE];
        let wide = buf.as_mut_ptr().cast::<u32>();
        for r in 0..rows {
            // SAFETY: `inside` proved run `r` of both pixels in bounds, and
            // (r + 1) * len <= WIDE bytes widen into (r + 1) * len words.
            unsafe {
                widen_pair(self.x(a, r), self.x(b, r), len, off, wide.add(r * len));
            }
        }
        let wide = wide.cast_const();
        // Whole filter rows are consecutive in the filter as in `wide`: one
        // run of all of them.
        let one_run = rows == 1 || len == self.filter_step;
        let (rows, len) = if one_run {
            (1, rows * len)
        } else {
            (rows, len)
        };
        // The channel pairs in one `pair_pass` call where the pass has
        // their `PairQuant`s, else one `dot_2x2_wide` call each.
        let mut c = 0;
        let packed = !s.pairs.is_empty() && s.pairs.len() == out_a.len() / 2;
        let size = self.filter_size;
        // The pass's widened filters hold the run: whole words from its
        // start, inside each channel's filter.
        let widened = !s.weights.is_empty()
            && runs.filter.is_multiple_of(4)
            && runs.filter.checked_add(len).is_some_and(|end| end <= size)
            && s.weights.len() >= s.pairs.len() * size;
        if one_run && packed && out_b.len() == out_a.len() {
            let q = s.pairs.as_ptr_range();
            let mut job = PairJob {
                x: wide,
                len,
                w: [self.w(runs, 0, 0), self.w(runs, 1, 0)],
                skip: size.wrapping_mul(2).wrapping_sub(len),
                quant: q.start,
                quant_end: q.end,
                out_a: out_a.as_mut_ptr(),
                out_b: out_b.as_mut_ptr(),
                offset: s.pair_offset,
            };
            if widened {
                // Pair `k`'s widened filters: `size` words from `k * size`,
                // the run's from word `runs.filter` (4 per 4 bytes).
                let w = s.weights.as_ptr().wrapping_add(runs.filter).cast::<i8>();
                (job.w, job.skip) = ([w, w], 4 * (size - len));
                // SAFETY: as below, the filters read from `s.weights`: pair
                // `k`'s run is words `k * size + runs.filter` to `k * size
                // + runs.filter + len <= (k + 1) * size`, and the pass's
                // pairs' `size` words each lie inside `s.weights`
                // (`widened`).
                unsafe { pair_pass::run_wide(&job) };
            } else {
                // SAFETY: `len` is a nonzero multiple of 4 and `wide` holds
                // `len` aligned words (as for `dot_2x2_wide` below); pair
                // `k`'s runs are those of channels `2 k` and `2 k + 1` (a
                // run of `len <= filter_size` bytes, `2 * filter_size`
                // bytes apart), which `inside` proved in bounds for every
                // channel below out_a.len(); at least one pair, each
                // writing two bytes of out_a and out_b (as long as out_a:
                // `inside` and `pass`).
                unsafe { pair_pass::run(&job) };
            }
            c = 2 * s.pairs.len();
        }
        let mut pairs_a = out_a.get_mut(c..).unwrap_or_default().chunks_exact_mut(2);
        let mut pairs_b = out_b.get_mut(c..).unwrap_or_default().chunks_exact_mut(2);
        for (oa, ob) in (&mut pairs_a).zip(&mut pairs_b) {
            let mut acc = [0i32; 4];
            if one_run {
                let w = [self.w(runs, c, 0), self.w(runs, c + 1, 0)];
                // SAFETY: as below, for the one merged run (runs 0 to
                // rows - 1, consecutive, each proved by `inside`).
                unsafe { acc = dot_2x2_wide(wide, w, len, acc) };
            } else {
                for r in 0..rows {
                    let x = wide.wrapping_add(r * len);
                    let w = [self.w(runs, c, r), self.w(runs, c + 1, r)];
                    // SAFETY: as for `widen` above (`len` a nonzero multiple
                    // of 4, the words aligned); `inside` proved run `r` of
                    // channels `c`, `c + 1` (< out_a.len()) in bounds.
                    unsafe { acc = dot_2x2_wide(x, w, len, acc) };
                }
            }
            let [ac, ad, bc, bd] = acc;
            if let ([oa0, oa1], [ob0, ob1]) = (oa, ob) {
                // SAFETY: c + 1 < out_a.len(), the channel count of `s`.
                let q = unsafe { [s.channel(c), s.channel(c + 1)] };
                (*oa0, *oa1) = (s.apply(q[0], ac), s.apply(q[1], ad));
                (*ob0, *ob1) = (s.apply(q[0], bc), s.apply(q[1], bd));
            }
            c += 2;
        }
        let last = pairs_a
            .into_remainder()
            .iter_mut()
            .zip(pairs_b.into_remainder());
        for (oa, ob) in last {
            let mut acc = [0i32; 2];
            for r in 0..rows {
                let x = wide.wrapping_add(r * len);
                // SAFETY: as above, channel `c` < out_a.len().
                unsafe { dot_2x1_wide(x, self.w(runs, c, r), len, &mut acc) };
            }
            // SAFETY: c < out_a.len(), the channel count of `s`.
            let q = unsafe { s.channel(c) };
            (*oa, *ob) = (s.apply(q, acc[0]), s.apply(q, acc[1]));
        }
        true
    }

    /// Runs every pixel of `pixels` (in output order) into consecutive
    /// `channels`-byte rows of `output`, pairing neighbours with equal runs.
    /// `false` if a pixel's runs leave the tensors (then the output is
    /// incomplete and the caller runs the reference kernel). Out of line,
    /// so that the interpreter and generated code run the same machine code.
    #[inline(never)]
    pub fn run(
        &self,
        pixels: impl Iterator<Item = Pixel> + Clone,
        output: &mut [i8],
        channels: usize,
    ) -> bool {
        let Some(s) = Scales::new(self.quant, self.bias, channels) else {
            return false;
        };
        let mut table = [Channel::ZERO; PASS];
        let mut pair_table = [PairQuant::ZERO; PASS / 2];
        let wide = self.wide_pass(channels);
        let mut first = 0;
        while first < channels {
            let n = (channels - first).min(wide.unwrap_or(PASS));
            let Some(slots) = table.get_mut(..n) else {
                return false;
            };
            for (k, slot) in slots.iter_mut().enumerate() {
                // SAFETY: first + k < channels, the channel count of `s`.
                *slot = unsafe { s.channel(first + k) };
            }
            let o = s.output;
            let full = (o.min, o.max) == (-128, 127);
            let pairs = pair_table.get_mut(..n / 2).unwrap_or_default();
            let left = if full {
                let (size, input_offset) = (self.filter_size, self.quant.input_offset);
                let sums = pair_pass::Sums {
                    any: sum_bound(size, input_offset),
                    filter: self.filter.get(first * size..).unwrap_or_default(),
                    size,
                    input_offset,
                };
                pair_pass::pack(slots, &o, sums, pairs)
            } else {
                None
            };
            let packed = left.is_some();
            // This pass's channels' filters, from channel `first` on.
            let Some(filter) = self.filter.get(first * self.filter_size..) else {
                return false;
            };
            let gemm = Gemm { filter, ..*self };
            let pass = Pass {
                q: slots,
                pairs: if packed { pairs } else { &[] },
                pair_offset: left.unwrap_or(0),
                padded: Padded::NONE,
                weights: &[],
                output: o,
                full,
            };
            // Without the feature, LLVM leaves `pass_pointwise` out.
            let pointwise = cfg!(feature = "conv-1x1")
                && packed
                && wide.is_some()
                && gemm.pass_pointwise(&pass, output, channels, first);
            let rows = output.chunks_exact_mut(channels);
            let outs = rows.filter_map(|row| row.get_mut(first..first + n));
            let done = if pointwise {
                true
            } else if packed && wide.is_some() {
                gemm.pass_widened(&pass, pixels.clone(), outs)
            } else if cfg!(feature = "conv-padded") && packed && !self.filter_step.is_multiple_of(4)
            {
                gemm.pass_padded(&pass, pixels.clone(), outs)
            } else {
                gemm.pass(&pass, pixels.clone(), outs)
            };
            if !done {
                return false;
            }
            first += n;
        }
        true
    }

    /// Channels per pass over widened filters, or `None` where passes do
    /// without: filter rows not whole words, filters past [`WIDE`] bytes,
    /// or too few channels' widened filters fitting [`WIDE_FILTERS`] (as
    /// many as a pass of [`PASS`] would run, or [`WIDE_PASS`] of a
    /// one-row filter).
    fn wide_pass(&self, channels: usize) -> Option<usize> {
        let size = self.filter_size;
        if size == 0 || !self.filter_step.is_multiple_of(4) || size > WIDE {
            return None;
        }
        let n = (2 * (WIDE_FILTERS / size)).min(PASS);
        let one_row = size == self.filter_step;
        (n >= 2 && (n >= channels.min(PASS) || (one_row && n >= WIDE_PASS))).then_some(n)
    }

    /// [`Gemm::pass`] with the pass's channel pairs' filters widened into a
    /// stack table of its own (`pair_pass::widen`), for `pair_pass_wide`.
    #[inline(never)]
    fn pass_widened<'o>(
        &self,
        s: &Pass<'_>,
        pixels: impl Iterator<Item = Pixel>,
        outs: impl Iterator<Item = &'o mut [i8]>,
    ) -> bool {
        // Uninitialized: `widen` writes every word it returns.
        let mut table = [core::mem::MaybeUninit::<u32>::uninit(); WIDE_FILTERS];
        let pairs = s.pairs.len();
        let Some(weights) = pair_pass::widen(self.filter, self.filter_size, pairs, &mut table)
        else {
            return self.pass(s, pixels, outs);
        };
        self.pass(&Pass { weights, ..*s }, pixels, outs)
    }

    /// One pass of [`Gemm::run`]: every pixel of `pixels` into its slice of
    /// `outs` (the pass's channels), pairing neighbours with equal runs.
    fn pass<'o>(
        &self,
        s: &Pass<'_>,
        pixels: impl Iterator<Item = Pixel>,
        outs: impl Iterator<Item = &'o mut [i8]>,
    ) -> bool {
        let mut pending: Option<(Pixel, &mut [i8])> = None;
        // The runs `inside` last approved for an output of `len` channels,
        // and how far past a pixel's input its last run ends: pixels with
        // those runs need only their own input checked.
        let mut approved: Option<(Runs, usize, usize)> = None;
        for (p, out) in pixels.zip(outs) {
            let known = match approved {
                Some((runs, len, span)) if runs == p.runs && len == out.len() => p
                    .input
                    .checked_add(span)
                    .is_some_and(|e| e <= self.input.len()),
                _ => false,
            };
            if !known {
                if !self.inside(&p, out.len()) {
                    return false;
                }
                approved = self.span(&p.runs).map(|span| (p.runs, out.len(), span));
            }
            match pending.take() {
                Some((a, out_a)) if a.runs == p.runs => self.two(s, &a, &p, out_a, out),
                Some((a, out_a)) => {
                    self.one(s, &a, out_a);
                    pending = Some((p, out));
                }
                None => pending = Some((p, out)),
            }
        }
        if let Some((a, out_a)) = pending {
            self.one(s, &a, out_a);
        }
        true
    }
}
