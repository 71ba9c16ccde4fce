//! DEPTHWISE_CONV_2D (int8, depth multiplier 1, channels a multiple of 4)
//! one group of four channels at a time over every output pixel. Per group,
//! the filter taps are widened once and the requantization worked out once.
//! Input rows are widened once each, offset added, into a ring of stack rows
//! (a strip) whose padding columns and rows are zero, so a tap in the
//! padding adds `0 * w`, as the reference's skipped taps add nothing. Every
//! output pixel then runs the same loop, without padding checks and without
//! widening: per tap one pair of input halves, one pair of weight halves,
//! four `smlabb`/`smlatt`; written out for 3x3 filters.

use super::dot::load;
use super::dsp_extra::{smmulr, ssat8};
use super::requant::{Channel, Scales};
use super::simd::{smlabb, smlatt, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
use crate::ops::conv_2d::Window;
use crate::ops::per_channel::{OutputQuant, Requant};

/// Most filter taps (`filter_height * filter_width`) this kernel takes.
const MAX_TAPS: usize = 25;

/// Most widened pixels the strip holds (its rows times its width), 2 KiB of
/// stack.
const STRIP: usize = 256;

/// Four channels' values, widened: channels 0 and 2, then 1 and 3.
type Quad = [u32; 2];

/// Adds one tap to the four accumulators.
#[inline(always)]
fn mac4([x02, x13]: Quad, [k02, k13]: Quad, [a0, a1, a2, a3]: [i32; 4]) -> [i32; 4] {
    [
        smlabb(x02, k02, a0),
        smlabb(x13, k13, a1),
        smlatt(x02, k02, a2),
        smlatt(x13, k13, a3),
    ]
}

/// Sums a 3x3 filter's taps, undilated across (written out: opt-level "s"
/// does not unroll loops); `rows` at the pixel's first tap in each strip row.
///
/// # Safety
/// `rows[r] + t` must be readable for every `r < 3`, `t < 3`.
#[inline(always)]
unsafe fn taps_3x3(rows: [*const Quad; 3], k: &[Quad; MAX_TAPS], acc: [i32; 4]) -> [i32; 4] {
    let [s0, s1, s2] = rows;
    // SAFETY: the caller's contract.
    unsafe {
        let mut acc = mac4(*s0, k[0], acc);
        acc = mac4(*s0.add(1), k[1], acc);
        acc = mac4(*s0.add(2), k[2], acc);
        acc = mac4(*s1, k[3], acc);
        acc = mac4(*s1.add(1), k[4], acc);
        acc = mac4(*s1.add(2), k[5], acc);
        acc = mac4(*s2, k[6], acc);
        acc = mac4(*s2.add(1), k[7], acc);
        mac4(*s2.add(2), k[8], acc)
    }
}

/// Two `i16` halves, low then high, in a word.
#[inline(always)]
fn halves(lo: i32, hi: i32) -> u32 {
    (lo as u16 as u32) | ((hi as u16 as u32) << 16)
}

/// One channel's requantization when `|acc + bias| < 2^30` and the shift is
/// a right shift `e` of 1 to 30: the doubling high multiply is
/// `(2x * m + 2^31) >> 32` (`smmulr`, exact as 2x fits 32 bits; the kernel
/// sums 2x directly, with doubled weights and bias), and the rounding divide
/// `(h + 2^(e-1) - (h < 0)) >> e` (exact as `|h| < 2^30`).
#[derive(Clone, Copy)]
struct Fast {
    multiplier: i32,
    half: i32,
    right: u32,
}

impl Fast {
    /// The scaled, rounded value of the doubled accumulator `acc2`, before
    /// the output offset.
    #[inline(always)]
    fn scale(&self, acc2: i32) -> i32 {
        let h = smmulr(acc2, self.multiplier);
        h.wrapping_add(self.half).wrapping_add(h >> 31) >> self.right
    }

    /// The int8 output of the doubled accumulator `acc2`.
    #[inline(always)]
    fn apply(&self, acc2: i32, o: &OutputQuant) -> i8 {
        self.scale(acc2)
            .wrapping_add(o.offset)
            .max(o.min)
            .min(o.max) as i8
    }

    /// As `apply`, for an output range of all of int8: the clamp is one `ssat`.
    #[inline(always)]
    fn apply_full(&self, acc2: i32, o: &OutputQuant) -> i8 {
        ssat8(self.scale(acc2).wrapping_add(o.offset)) as i8
    }
}

/// A group's four requantizations: the general one of `requant.rs`, or,
/// where the sums cannot leave 30 bits and the shifts are right shifts of
/// 1 to 30, the shorter `Fast`.
enum Group {
    General([Channel; 4]),
    /// `Fast` with an output range narrower than int8's.
    Fast([Fast; 4]),
    /// `Fast` with the whole int8 range.
    FastFull([Fast; 4]),
}

impl Group {
    /// The group of channels `c..c + 4` and the accumulators' start (twice
    /// the bias for `Fast`, 0 for `General`, which adds it); `bound` bounds
    /// `|sum of taps|`.
    ///
    /// # Safety
    /// `c + 3` must be below the channel count of `scales`, made of `quant`
    /// and `bias`.
    unsafe fn new(
        scales: &Scales<'_>,
        (quant, bias): (&Requant<'_>, &[i32]),
        c: usize,
        bound: i64,
    ) -> (Self, [i32; 4]) {
        // SAFETY: the caller's contract.
        let q = unsafe {
            [
                scales.channel(c),
                scales.channel(c + 1),
                scales.channel(c + 2),
                scales.channel(c + 3),
            ]
        };
        let per_channel = usize::from(quant.multipliers.len() != 1 || quant.shifts.len() != 1);
        let start: [i32; 4] = core::array::from_fn(|i| bias.get(c + i).copied().unwrap_or(0));
        let fast: [Option<Fast>; 4] = core::array::from_fn(|i| {
            let m = *quant.multipliers.get((c + i) * per_channel)?;
            let shift = *quant.shifts.get((c + i) * per_channel)?;
            let fits = i64::from(start[i]).abs() + bound < 1 << 30;
            ((-30..=-1).contains(&shift) && fits).then(|| Fast {
                multiplier: m,
                half: 1 << (-shift - 1),
                right: (-shift) as u32,
            })
        });
        let o = &scales.output;
        let doubled = start.map(|b| b.wrapping_mul(2));
        match fast {
            [Some(a), Some(b), Some(c), Some(d)] if (o.min, o.max) == (-128, 127) => {
                (Group::FastFull([a, b, c, d]), doubled)
            }
            [Some(a), Some(b), Some(c), Some(d)] => (Group::Fast([a, b, c, d]), doubled),
            _ => (Group::General(q), [0; 4]),
        }
    }

    /// Whether the accumulators are doubled (and so the weights must be).
    fn doubled(&self) -> bool {
        !matches!(self, Group::General(_))
    }

    /// Writes the four requantized accumulators (started as `new` says) to
    /// `out..out + 4`.
    ///
    /// # Safety
    /// `out..out + 4` must be writable.
    #[inline(always)]
    unsafe fn store(&self, [a0, a1, a2, a3]: [i32; 4], o: &OutputQuant, out: *mut i8) {
        let v = match self {
            Group::FastFull(q) => [
                q[0].apply_full(a0, o),
                q[1].apply_full(a1, o),
                q[2].apply_full(a2, o),
                q[3].apply_full(a3, o),
            ],
            Group::Fast(q) => [
                q[0].apply(a0, o),
                q[1].apply(a1, o),
                q[2].apply(a2, o),
                q[3].apply(a3, o),
            ],
            Group::General(q) => [
                q[0].apply(a0, o),
                q[1].apply(a1, o),
                q[2].apply(a2, o),
                q[3].apply(a3, o),
            ],
        };
        // SAFETY: the caller's contract.
        unsafe {
            *out = v[0];
            *out.add(1) = v[1];
            *out.add(2) = v[2];
            *out.add(3) = v[3];
        }
    }
}

/// Runs the op; the caller has checked that the depth multiplier is 1,
/// `depth = in_depth = out_depth`, that the input offset fits the 16-bit
/// sums, and that `scales` (made of `quant` and `bias`) covers `depth`
/// channels. Returns `false` (the caller then runs another kernel) if the
/// depth is not a multiple of 4, the filter has more than 25 taps, the strip
/// does not fit or a tensor is shorter than its shape.
pub fn depthwise_groups(
    w: &Window,
    (quant, bias): (&Requant<'_>, &[i32]),
    scales: &Scales<'_>,
    input: &[i8],
    filter: &[i8],
    output: &mut [i8],
) -> bool {
    let depth = w.out_depth;
    let (fh, fw) = (w.filter_height, w.filter_width);
    let taps = fh * fw;
    // The strip's columns: input columns -pad_width.. of every output's
    // taps; its rows: a ring of the `span` input rows one output row reads.
    let width = w.out_width.saturating_sub(1) * w.stride_width
        + fw.saturating_sub(1) * w.dilation_width
        + 1;
    let span = fh.saturating_sub(1) * w.dilation_height + 1;
    let sizes = (|| {
        let pixels = w
            .batches
            .checked_mul(w.in_height)?
            .checked_mul(w.in_width)?;
        let outs = w
            .batches
            .checked_mul(w.out_height)?
            .checked_mul(w.out_width)?;
        Some((
            pixels.checked_mul(depth)?,
            outs.checked_mul(depth)?,
            taps.checked_mul(depth)?,
            span.checked_mul(width)?,
        ))
    })();
    let Some((in_len, out_len, f_len, strip_len)) = sizes else {
        return false;
    };
    if !depth.is_multiple_of(4)
        || taps > MAX_TAPS
        || strip_len > STRIP
        || input.len() < in_len
        || output.len() < out_len
        || filter.len() < f_len
    {
        return false;
    }
    let offset = quant.input_offset;
    let offs = super::dot::packed(offset);
    // |x + offset| <= 128 + |offset| for int8 x, |w| <= 128.
    let bound = (128 + i64::from(offset).abs()) * 128 * taps as i64;
    let (xp, op) = (input.as_ptr(), output.as_mut_ptr());
    let (dh, dw) = (w.dilation_height as isize, w.dilation_width);
    let square3 = (fh, fw, dw) == (3, 3, 1);
    // The strip's columns that hold input columns 0..in_width.
    let inside = (
        w.pad_width.min(width),
        (w.pad_width + w.in_width).min(width),
    );
    let mut strip = [[0u32; 2]; STRIP];
    let sp = strip.as_mut_ptr();
    // The strip row of input row `y`.
    let slot = |y: isize| y.rem_euclid(span as isize) as usize * width;
    for c in (0..depth).step_by(4) {
        // SAFETY: c + 3 < depth, the channel count of `scales`.
        let (group, start) = unsafe { Group::new(scales, (quant, bias), c, bound) };
        let doubled = group.doubled();
        let mut k = [[0u32; 2]; MAX_TAPS];
        for (t, slot) in k.iter_mut().enumerate().take(taps) {
            // SAFETY: t * depth + c + 4 <= taps * depth <= filter.len().
            let word = unsafe { load(filter.as_ptr().add(t * depth + c)) };
            *slot = if doubled {
                let b = word.to_le_bytes().map(|b| i32::from(b as i8) * 2);
                [halves(b[0], b[2]), halves(b[1], b[3])]
            } else {
                [sxtb16(word), sxtb16_ror8(word)]
            };
        }
        let mut out = c;
        for b in 0..w.batches {
            // The next input row to widen into the strip.
            let mut next = -(w.pad_height as isize);
            for oy in 0..w.out_height {
                let y0 = (oy * w.stride_height) as isize - w.pad_height as isize;
                next = next.max(y0);
                while next < y0 + span as isize {
                    let y = next;
                    next += 1;
                    // SAFETY (of this and every write below): slot(y) + j <
                    // span * width <= STRIP.
                    let row = unsafe { sp.add(slot(y)) };
                    if y < 0 || y as usize >= w.in_height {
                        for j in 0..width {
                            // SAFETY: as above.
                            unsafe { row.add(j).write([0, 0]) };
                        }
                        continue;
                    }
                    for j in (0..inside.0).chain(inside.1..width) {
                        // SAFETY: as above.
                        unsafe { row.add(j).write([0, 0]) };
                    }
                    // Strip column j holds input column j - pad_width.
                    let base = (b * w.in_height + y as usize) * w.in_width;
                    let mut at = (base + inside.0 - w.pad_width) * depth + c;
                    for j in inside.0..inside.1 {
                        // SAFETY: the pixel is inside the image, so its
                        // channels c..c + 4 <= depth end at most at in_len
                        // <= input.len().
                        let v = unsafe { load(xp.add(at)) };
                        let v = [sxtab16(offs, v), sxtab16_ror8(offs, v)];
                        // SAFETY: as above.
                        unsafe { row.add(j).write(v) };
                        at += depth;
                    }
                }
                // SAFETY: channels c..c + 4 of each output pixel end at
                // most at out_len <= output.len().
                let row_out = unsafe { op.add(out) };
                out += w.out_width * depth;
                if square3 {
                    // SAFETY: slot(..) < span * width <= STRIP.
                    let mut rows = unsafe {
                        [slot(y0), slot(y0 + dh), slot(y0 + 2 * dh)].map(|r| sp.add(r).cast_const())
                    };
                    for ox in 0..w.out_width {
                        // SAFETY: tap (r, t) reads strip pixel slot(y0 + r)
                        // + ox * stride + t < span * width <= STRIP, as
                        // `width` covers the last output's last tap; the
                        // output as above.
                        unsafe {
                            let acc = taps_3x3(rows, &k, start);
                            group.store(acc, &scales.output, row_out.add(ox * depth));
                            rows = [
                                rows[0].add(w.stride_width),
                                rows[1].add(w.stride_width),
                                rows[2].add(w.stride_width),
                            ];
                        }
                    }
                    continue;
                }
                for ox in 0..w.out_width {
                    let first = ox * w.stride_width;
                    let mut acc = start;
                    for r in 0..fh {
                        // SAFETY: tap (r, t) reads strip pixel slot(y0 + r *
                        // dh) + first + t * dw < span * width <= STRIP, as
                        // `width` covers the last output's last tap.
                        let row = unsafe { sp.add(slot(y0 + r as isize * dh) + first) };
                        for t in 0..fw {
                            let k = k.get(r * fw + t).copied().unwrap_or([0, 0]);
                            // SAFETY: as above.
                            acc = mac4(unsafe { *row.add(t * dw) }, k, acc);
                        }
                    }
                    // SAFETY: as for the 3x3 loop.
                    unsafe { group.store(acc, &scales.output, row_out.add(ox * depth)) };
                }
            }
        }
    }
    true
}
