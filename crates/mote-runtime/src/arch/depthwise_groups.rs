//! DEPTHWISE_CONV_2D (int8, depth multiplier 1, channels a multiple of 4,
//! 3x3 filters without dilation, rows of at most 56 padded input pixels: the
//! depthwise layers of the MLPerf Tiny models) one group of four channels at
//! a time over every output pixel. Per group,
//! the filter taps are widened once and the requantization worked out once.
//! Input rows are widened once each, offset added, into a ring of stack rows
//! (a strip) whose padding columns and rows are zero, so a tap in the
//! padding adds `0 * w`, as the reference's skipped taps add nothing. Every
//! output pixel then runs the same loop, without padding checks and without
//! widening: per tap one pair of input halves, one pair of weight halves,
//! four `smlabb`/`smlatt`. Other shapes run `depthwise_conv_2d.rs`'s
//! per-pixel loop (a general loop here cost 1.5 KB of flash).

use super::dot::load;
use super::dsp_extra::ssat8;
use super::requant::{sum_bound, Channel, Folded, Scales};
use super::simd::{depthwise_row, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
#[cfg(not(mote_dsp))]
use super::simd::{smlabb, smlatt};
use crate::ops::conv_2d::Window;
use crate::ops::per_channel::{OutputQuant, Requant};

/// Filter taps (3x3).
const TAPS: usize = 9;

/// The strip's row length for 3x3 filters: rows a constant apart, so that
/// every tap is a constant offset from the pixel's first (and within reach
/// of `ldrd`'s immediate, 1020 bytes).
const ROW: usize = 56;

/// Most widened pixels the strip holds (its rows times its row length),
/// 2,240 bytes of stack: for 3x3 filters five rows of `ROW`, each input row
/// `y` at row `y % 3` and, when that is 0 or 1, again at row `y % 3 + 3`, so
/// that the three rows an output row reads are always three consecutive
/// ones.
const STRIP: usize = 5 * ROW;

/// Four channels' values, widened: channels 0 and 2, then 1 and 3.
pub type Quad = [u32; 2];

/// Both signed 16-bit halves of `h` (each an int8 value) doubled: the low
/// half's carry out of bit 15 masked off bit 16.
#[inline(always)]
fn doubled(h: u32) -> u32 {
    (h << 1) & 0xfffe_fffe
}

/// Adds one tap to the four accumulators.
#[cfg(not(mote_dsp))]
#[inline(always)]
fn mac4([x02, x13]: Quad, [k02, k13]: Quad, [a0, a1, a2, a3]: [i32; 4]) -> [i32; 4] {
    [
        smlabb(x02, k02, a0),
        smlabb(x13, k13, a1),
        smlatt(x02, k02, a2),
        smlatt(x13, k13, a3),
    ]
}

/// Sums a 3x3 filter's taps from the strip (written out: opt-level "s"
/// does not unroll loops), `s` at the pixel's first tap, rows `ROW` apart.
///
/// # Safety
/// `s + r * ROW + t` must be readable for every `r < 3`, `t < 3`.
#[cfg(not(mote_dsp))]
#[inline(always)]
unsafe fn taps_3x3(s: *const Quad, k: &[Quad; TAPS], acc: [i32; 4]) -> [i32; 4] {
    // SAFETY: the caller's contract.
    unsafe {
        let mut acc = mac4(*s, k[0], acc);
        acc = mac4(*s.add(1), k[1], acc);
        acc = mac4(*s.add(2), k[2], acc);
        acc = mac4(*s.add(ROW), k[3], acc);
        acc = mac4(*s.add(ROW + 1), k[4], acc);
        acc = mac4(*s.add(ROW + 2), k[5], acc);
        acc = mac4(*s.add(2 * ROW), k[6], acc);
        acc = mac4(*s.add(2 * ROW + 1), k[7], acc);
        mac4(*s.add(2 * ROW + 2), k[8], acc)
    }
}

/// Tap `t` of [`taps_3x3`]: input halves at byte offset `x`, weights at `k`.
#[cfg(mote_dsp)]
macro_rules! tap {
    ($x:literal, $k:literal) => {
        concat!(
            "ldrd {x0}, {x1}, [{s}, #",
            $x,
            "]\n",
            "ldrd {k0}, {k1}, [{k}, #",
            $k,
            "]\n",
            "smlabb {a0}, {x0}, {k0}, {a0}\n",
            "smlabb {a1}, {x1}, {k1}, {a1}\n",
            "smlatt {a2}, {x0}, {k0}, {a2}\n",
            "smlatt {a3}, {x1}, {k1}, {a3}\n",
        )
    };
}

/// The offsets below are for rows of 56 pixels (448 bytes).
#[cfg(mote_dsp)]
const _: () = assert!(ROW == 56 && core::mem::size_of::<Quad>() == 8);

/// [`taps_3x3`] on Armv7E-M: the same 36 `smlabb`/`smlatt` (the portable
/// version's arithmetic, instruction for instruction), each tap's input and
/// weight halves loaded by one `ldrd` each at a constant offset (LLVM at
/// opt-level "s" reloads and recomputes addresses between them).
///
/// # Safety
/// `s + r * ROW + t` must be readable for every `r < 3`, `t < 3`; both
/// pointers are 4-aligned (`Quad` is), as `ldrd` needs.
#[cfg(mote_dsp)]
#[inline(always)]
unsafe fn taps_3x3(s: *const Quad, k: &[Quad; TAPS], acc: [i32; 4]) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    // SAFETY: reads s + 0..3 pixels of each of three rows (the caller's
    // contract) and k's nine taps; registers only
    // otherwise, no stack, no flags.
    unsafe {
        core::arch::asm!(
            tap!(0, 0),
            tap!(8, 8),
            tap!(16, 16),
            tap!(448, 24),
            tap!(456, 32),
            tap!(464, 40),
            tap!(896, 48),
            tap!(904, 56),
            tap!(912, 64),
            s = in(reg) s,
            k = in(reg) k.as_ptr(),
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            x0 = out(reg) _,
            x1 = out(reg) _,
            k0 = out(reg) _,
            k1 = out(reg) _,
            options(pure, readonly, nostack, preserves_flags),
        )
    };
    [a0, a1, a2, a3]
}

/// One output row of a 3x3 filter: `n` pixels, the first's taps at `s`,
/// each next `stride` strip pixels on and `depth` output bytes on; `store`
/// requantizes and writes one pixel's four channels.
///
/// # Safety
/// Every pixel's taps must be readable as [`taps_3x3`] says, and `store`'s
/// four bytes at `out + i * depth` writable for every `i < n`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row_3x3(
    mut s: *const Quad,
    (stride, n): (usize, usize),
    k: &[Quad; TAPS],
    start: [i32; 4],
    (mut out, depth): (*mut i8, usize),
    store: impl Fn([i32; 4], *mut i8),
) {
    for _ in 0..n {
        // SAFETY: the caller's contract.
        unsafe {
            store(taps_3x3(s, k, start), out);
            s = s.add(stride);
            out = out.add(depth);
        }
    }
}

/// What `depthwise_row` reads at fixed offsets (`#[repr(C)]`): a group's
/// biases and lanes, its widened taps, and the steps between pixels. Taps
/// and biases are doubled, so that the sums are the `2 x` that [`Folded`]
/// takes.
#[repr(C)]
pub struct RowJob {
    /// The four channels' biases, doubled: the sums' start.
    pub bias: [i32; 4],
    /// Their requantization, the output offset folded in.
    pub lanes: [Folded; 4],
    /// The group's nine widened taps, doubled: right after the lanes, so
    /// that the kernel's pointer past the lanes is at them.
    pub taps: [Quad; TAPS],
    /// Strip bytes from one output pixel's first tap to the next's.
    pub stride: usize,
    /// Output bytes from one pixel's four channels to the next's.
    pub depth: usize,
}

// `depthwise_row` reads the job at fixed offsets.
#[cfg(mote_dsp)]
const _: () = assert!(
    core::mem::offset_of!(RowJob, lanes) == 16
        && core::mem::offset_of!(RowJob, taps) == 64
        && core::mem::offset_of!(RowJob, stride) == 136
        && core::mem::offset_of!(RowJob, depth) == 140
);

/// A group's four requantizations, whether the output range is all of
/// int8 (then the clamp is one `ssat`), and with it the lanes of
/// `depthwise_row` where every channel's scale folds the output offset.
struct Group {
    q: [Channel; 4],
    full: bool,
    lanes: Option<[Folded; 4]>,
}

impl Group {
    /// The group of channels `c..c + 4` and the accumulators' start (the
    /// bias), for inputs with offset `input_offset`.
    ///
    /// # Safety
    /// `c + 3` must be below the channel count of `scales`.
    #[inline(always)]
    unsafe fn new(scales: &Scales<'_>, c: usize, input_offset: i32) -> (Self, [i32; 4]) {
        // SAFETY: the caller's contract.
        let q = unsafe {
            [
                scales.channel(c),
                scales.channel(c + 1),
                scales.channel(c + 2),
                scales.channel(c + 3),
            ]
        };
        let o = &scales.output;
        let full = (o.min, o.max) == (-128, 127);
        let sums = sum_bound(TAPS, input_offset);
        let [l0, l1, l2, l3] = q.map(|q| q.folded((o.offset, o), sums, None));
        let lanes = match (full, l0, l1, l2, l3) {
            (true, Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
            _ => None,
        };
        (Group { q, full, lanes }, q.map(|q| q.bias()))
    }

    /// Runs a 3x3 output row (as [`row_3x3`], whose contract is the
    /// caller's), one copy of the loop per clamp.
    #[inline(always)]
    unsafe fn row_3x3(
        &self,
        s: *const Quad,
        steps: (usize, usize),
        (k, start): (&[Quad; TAPS], [i32; 4]),
        out: (*mut i8, usize),
        o: &OutputQuant,
    ) {
        let [q0, q1, q2, q3] = &self.q;
        // Written out: opt-level "s" keeps `array::from_fn`'s loop.
        let put = |[a, b, c, d]: [i8; 4], out: *mut i8| {
            // SAFETY: the caller's contract.
            unsafe { out.cast::<[i8; 4]>().write_unaligned([a, b, c, d]) };
        };
        // SAFETY (of both): the caller's contract.
        if self.full {
            let f = |q: &Channel, a: i32| ssat8(q.offset_scaled(a, o)) as i8;
            unsafe {
                row_3x3(s, steps, k, start, out, |[a0, a1, a2, a3], at| {
                    put([f(q0, a0), f(q1, a1), f(q2, a2), f(q3, a3)], at)
                })
            }
        } else {
            let f = |q: &Channel, a: i32| q.finish(a, o);
            unsafe {
                row_3x3(s, steps, k, start, out, |[a0, a1, a2, a3], at| {
                    put([f(q0, a0), f(q1, a1), f(q2, a2), f(q3, a3)], at)
                })
            }
        }
    }
}

/// Runs the op; the caller has checked that the depth multiplier is 1,
/// `depth = in_depth = out_depth`, that the input offset fits the 16-bit
/// sums, and that `scales` (made of `quant` and `bias`) covers `depth`
/// channels. Returns `false` (the caller then runs another kernel) if the
/// depth is not a multiple of 4, the filter is not an undilated 3x3, the
/// strip's rows would be longer than `ROW` or a tensor is shorter than its
/// shape.
pub fn depthwise_groups(
    w: &Window,
    quant: &Requant<'_>,
    scales: &Scales<'_>,
    input: &[i8],
    filter: &[i8],
    output: &mut [i8],
) -> bool {
    let depth = w.out_depth;
    // The strip's columns: input columns -pad_width.. of every output's
    // taps; its rows: the three input rows an output row reads (see STRIP).
    let width = w.out_width.saturating_sub(1) * w.stride_width + 3;
    let sizes = (|| {
        let pixels = w
            .batches
            .checked_mul(w.in_height)?
            .checked_mul(w.in_width)?;
        let outs = w
            .batches
            .checked_mul(w.out_height)?
            .checked_mul(w.out_width)?;
        Some((pixels.checked_mul(depth)?, outs.checked_mul(depth)?))
    })();
    let Some((in_len, out_len)) = sizes else {
        return false;
    };
    let shape = (
        w.filter_height,
        w.filter_width,
        w.dilation_height,
        w.dilation_width,
    );
    if shape != (3, 3, 1, 1)
        || width > ROW
        || !depth.is_multiple_of(4)
        || input.len() < in_len
        || output.len() < out_len
        || filter.len() < TAPS * depth
    {
        return false;
    }
    let offset = quant.input_offset;
    let offs = super::dot::packed(offset);
    let (xp, op) = (input.as_ptr(), output.as_mut_ptr());
    // The strip's columns that hold input columns 0..in_width.
    let inside = (
        w.pad_width.min(width),
        (w.pad_width + w.in_width).min(width),
    );
    let mut strip = [[0u32; 2]; STRIP];
    let sp = strip.as_mut_ptr();
    // The strip row (0 to 2) of input row `y`; rows 0 and 1 are written
    // again 3 rows on.
    let slot = |y: isize| y.rem_euclid(3) as usize;
    for c in (0..depth).step_by(4) {
        // SAFETY: c + 3 < depth, the channel count of `scales`.
        let (group, start) = unsafe { Group::new(scales, c, offset) };
        // `depthwise_row`'s sums are doubled (`Folded` takes `2 x`): its
        // taps and biases are.
        let twice = group.lanes.is_some();
        // The rows' `depthwise_row` job, where the group's lanes fold (the
        // biases below 2^29: `Channel::folded`); its taps also serve the
        // other rows, widened in place.
        let mut job = RowJob {
            // Wrapping: a bias past 2^29 is a lane's of one output value,
            // which no sum changes (`Channel::folded`).
            bias: start.map(|b| b.wrapping_shl(1)),
            lanes: group.lanes.unwrap_or([Folded::UNUSED; 4]),
            taps: [[0; 2]; TAPS],
            stride: w.stride_width * core::mem::size_of::<Quad>(),
            depth,
        };
        let mut f = filter.as_ptr().wrapping_add(c);
        for tap in &mut job.taps {
            // SAFETY: tap t's word ends at t * depth + c + 4 <= 9 * depth
            // <= filter.len().
            let word = unsafe { load(f) };
            let (lo, hi) = (sxtb16(word), sxtb16_ror8(word));
            *tap = if twice {
                [doubled(lo), doubled(hi)]
            } else {
                [lo, hi]
            };
            f = f.wrapping_add(depth);
        }
        let mut out = c;
        for b in 0..w.batches {
            // The next input row to widen into the strip, and its slot.
            let mut next = -(w.pad_height as isize);
            let mut ring = slot(next);
            for oy in 0..w.out_height {
                let y0 = (oy * w.stride_height) as isize - w.pad_height as isize;
                if next < y0 {
                    (next, ring) = (y0, slot(y0));
                }
                while next < y0 + 3 {
                    let y = next;
                    let at = ring * ROW;
                    let again = if ring < 2 { at + 3 * ROW } else { at };
                    next += 1;
                    ring = if ring == 2 { 0 } else { ring + 1 };
                    // SAFETY (of these and every write below): at + j and
                    // again + j < 5 * ROW = STRIP for j < width <= ROW.
                    let (row, dup) = unsafe { (sp.add(at), sp.add(again)) };
                    if y < 0 || y as usize >= w.in_height {
                        for j in 0..width {
                            // SAFETY: as above.
                            unsafe { (row.add(j).write([0, 0]), dup.add(j).write([0, 0])) };
                        }
                        continue;
                    }
                    for j in 0..inside.0 {
                        // SAFETY: as above.
                        unsafe { (row.add(j).write([0, 0]), dup.add(j).write([0, 0])) };
                    }
                    for j in inside.1..width {
                        // SAFETY: as above.
                        unsafe { (row.add(j).write([0, 0]), dup.add(j).write([0, 0])) };
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
                        unsafe { (row.add(j).write(v), dup.add(j).write(v)) };
                        at += depth;
                    }
                }
                // SAFETY: channels c..c + 4 of each output pixel end at
                // most at out_len <= output.len().
                let row_out = unsafe { op.add(out) };
                out += w.out_width * depth;
                // The loop above ended at next = y0 + 3, so `ring` is
                // slot(y0 + 3) = slot(y0).
                // SAFETY: rows slot(y0) .. slot(y0) + 2 are input rows y0
                // .. y0 + 2 (see STRIP), slot(y0) * ROW + 2 * ROW + (n - 1) *
                // stride + 2 < 5 * ROW as `width` <= ROW covers the last
                // output's last tap; the output as above.
                let s = unsafe { sp.add(ring * ROW) };
                match twice {
                    // SAFETY: as for `row_3x3`, whose contract
                    // `depthwise_row`'s is (the job holds nine 4-aligned
                    // taps), for out_width >= 1 pixels.
                    true if w.out_width > 0 => unsafe {
                        depthwise_row(&job, s.cast(), w.out_width, row_out)
                    },
                    true => {}
                    // SAFETY: as above.
                    false => unsafe {
                        group.row_3x3(
                            s,
                            (w.stride_width, w.out_width),
                            (&job.taps, start),
                            (row_out, depth),
                            &scales.output,
                        )
                    },
                }
            }
        }
    }
    true
}
