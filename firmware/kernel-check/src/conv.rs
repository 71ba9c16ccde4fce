//! CONV_2D cases: random shapes (1x1 to 5x5 filters, strides 1 to 3,
//! padding, dilation, channel counts across the 4-byte words and the
//! 640-byte buffers' edges), through `check::conv_2d_i8` against
//! `ops::conv_2d::conv_i8_reference`.

use mote_runtime::check;
use mote_runtime::ops::conv_2d::{self, Conv2dParams, ConvKind, Window};

use crate::compare::{Outputs, Verdict, MAX_OUTPUT};
use crate::quant::{self, Quant};
use crate::rng::Rng;
use crate::tally::{Path, Taken};
use crate::tensors::{self, Tensors, MAX_FILTER, MAX_INPUT, MAX_MACS};

/// Bytes `two_wide` and `one_wide` widen (`gemm::WIDE`, `gemm::ONE_WIDE`).
const WIDE: usize = 640;

/// Bytes of padded filters a pass holds (`gemm::padded::PADDED`).
const PADDED: usize = 1024;

/// Channels per pass (`gemm::PASS`).
const PASS: usize = 64;

/// Words of widened filters a pass holds, and the fewest channels it
/// takes (`gemm::WIDE_FILTERS`, `gemm::WIDE_PASS`).
const WIDE_FILTERS: usize = 2048;
const WIDE_PASS: usize = 16;

fn random_window(rng: &mut Rng) -> Window {
    loop {
        let in_depth = match rng.next() % 10 {
            0..=4 => rng.usize(1, 16),
            5 | 6 => 4 * rng.usize(1, 10),
            7 => rng.usize(17, 40),
            _ => 4 * rng.usize(15, 24),
        };
        let most = if rng.one_in(4) { 32 } else { 12 };
        let out_depth = rng.usize(1, most);
        let filter = if rng.one_in(3) {
            (1, 1)
        } else {
            (rng.usize(1, 5), rng.usize(1, 5))
        };
        let dilation = if rng.one_in(5) {
            (rng.usize(1, 3), rng.usize(1, 2))
        } else {
            (1, 1)
        };
        let pad = (rng.usize(0, filter.0), rng.usize(0, filter.1));
        let stride = (rng.usize(1, 3), rng.usize(1, 3));
        // Half the 1x1 filters pointwise: stride 1, no padding.
        let (stride, pad) = if filter == (1, 1) && rng.one_in(2) {
            ((1, 1), (0, 0))
        } else {
            (stride, if rng.one_in(3) { (0, 0) } else { pad })
        };
        let w = tensors::window(
            rng.usize(1, 2),
            (rng.usize(1, 10), rng.usize(1, 10)),
            (in_depth, out_depth),
            filter,
            stride,
            dilation,
            pad,
        );
        let (input, output, macs) = tensors::sizes(&w, in_depth);
        let filter = out_depth * w.filter_height * w.filter_width * in_depth;
        if input <= MAX_INPUT && filter <= MAX_FILTER && output <= MAX_OUTPUT && macs <= MAX_MACS {
            return w;
        }
    }
}

/// The filter taps an output pixel uses, as `arch::conv_2d` finds them:
/// (first tap's offset in a filter, rows, bytes per row).
fn runs(w: &Window, oy: usize, ox: usize) -> (usize, usize, usize) {
    let (y_first, y_end, _) = w.rows(oy);
    let (x_first, x_end, _) = w.columns(ox);
    if y_end == y_first || x_end == x_first {
        return (0, 0, 0);
    }
    let d = w.in_depth;
    (
        (y_first * w.filter_width + x_first) * d,
        y_end - y_first,
        (x_end - x_first) * d,
    )
}

/// Where pixel (`b`, `oy`, `ox`)'s last filter row ends in the input once
/// padded to whole words, for a pixel over the whole filter: what
/// `gemm/padded.rs` checks against the input's length.
fn padded_end(w: &Window, (b, oy, ox): (usize, usize, usize), row: usize) -> usize {
    let (_, _, y0) = w.rows(oy);
    let (_, _, x0) = w.columns(ox);
    let (y, x) = (y0 as usize, x0 as usize);
    let first = ((b * w.in_height + y) * w.in_width + x) * w.in_depth;
    first + (w.filter_height - 1) * w.dilation_height * w.in_width * w.in_depth + row
}

/// Channels per pass of `gemm::Gemm::run`: `gemm::PASS`, or as many as
/// fit `WIDE_FILTERS` widened (`Gemm::wide_pass`), with the second `true`.
fn pass_size(w: &Window) -> (usize, bool) {
    let (step, size) = (
        w.filter_width * w.in_depth,
        w.filter_height * w.filter_width * w.in_depth,
    );
    if size == 0 || !step.is_multiple_of(4) || size > WIDE {
        return (PASS, false);
    }
    let n = (2 * (WIDE_FILTERS / size)).min(PASS);
    let one_row = size == step;
    if n >= 2 && (n >= w.out_depth.min(PASS) || (one_row && n >= WIDE_PASS)) {
        (n, true)
    } else {
        (PASS, false)
    }
}

/// The branches `gemm::Gemm::run` takes, pass by pass: neighbouring pixels
/// with equal runs go in pairs, the others alone; pairs whose runs are
/// whole filter rows take `pair_pass` where the pass's scales and range
/// fit it (`Quant::packs`, which also says whether its lanes hold the
/// offset), over filters widened once per pass where the pass has them
/// and the run starts on a word, and so do pairs over the whole filter
/// with rows padded to words where those fit.
fn paths(w: &Window, q: &Quant, (input, bias): (usize, &[i32]), taken: &mut Taken) {
    let (step, channels) = (w.filter_width * w.in_depth, w.out_depth);
    // `conv_2d::pointwise`: the passes of channel pairs over widened
    // filters run `gemm/pointwise.rs` (the same kernels pixel pair by pair).
    let pointwise = (
        w.filter_height,
        w.filter_width,
        w.stride_height,
        w.stride_width,
    ) == (1, 1, 1, 1)
        && (w.pad_height, w.pad_width) == (0, 0)
        && (w.out_height, w.out_width) == (w.in_height, w.in_width);
    let size = w.filter_height * step;
    let row = step.next_multiple_of(4);
    let (n, wide) = pass_size(w);
    let passes = (0..channels).step_by(n).map(|f| (f, n.min(channels - f)));
    let pair =
        |(first, rows, len): (usize, usize, usize), b: (usize, usize, usize), taken: &mut Taken| {
            for (f, m) in passes.clone() {
                let packs = q.packs(f..f + m, size, bias);
                let pass = |taken: &mut Taken, widened: bool| {
                    taken.add(match (packs, widened) {
                        (Some(true), false) => Path::ConvPairPass,
                        (_, false) => Path::ConvPairPassOffset,
                        (Some(true), true) => Path::ConvPairPassWide,
                        (_, true) => Path::ConvPairPassWideOffset,
                    })
                };
                if len != 0 && len.is_multiple_of(4) && rows * len <= WIDE {
                    let one_run = rows == 1 || len == step;
                    if m >= 2 && one_run && packs.is_some() {
                        if pointwise && wide && m.is_multiple_of(2) {
                            taken.add(Path::ConvPointwise);
                        }
                        pass(
                            taken,
                            wide && first.is_multiple_of(4) && first + rows * len <= size,
                        );
                    } else if m >= 2 {
                        taken.add(Path::ConvPairWide);
                    }
                    if !m.is_multiple_of(2) {
                        taken.add(Path::ConvPairWideOdd);
                    }
                } else if packs.is_some()
                    && m >= 2
                    && !step.is_multiple_of(4)
                    && w.filter_height * row <= WIDE
                    && m * w.filter_height * row <= PADDED
                    && (first, rows, len) == (0, w.filter_height, step)
                    && padded_end(w, b, row) <= input
                {
                    taken.add(Path::ConvPairPadded);
                    pass(taken, true);
                } else {
                    taken.add(Path::ConvPair);
                }
            }
        };
    let single = |taken: &mut Taken| {
        if size != 0 && size.is_multiple_of(4) && size <= WIDE {
            for (f, m) in passes.clone() {
                if let (true, true, Some(folds)) = (wide, m >= 2, q.packs(f..f + m, size, bias)) {
                    taken.add(if folds {
                        Path::ConvSinglePass
                    } else {
                        Path::ConvSinglePassOffset
                    });
                    if !m.is_multiple_of(2) {
                        taken.add(Path::ConvSingleWideTail);
                    }
                    continue;
                }
                if m >= 4 {
                    taken.add(Path::ConvSingleWide);
                }
                if !m.is_multiple_of(4) {
                    taken.add(Path::ConvSingleWideTail);
                }
            }
        } else {
            taken.add(Path::ConvSingle);
        }
    };
    let mut pending = None;
    for b in 0..w.batches {
        for oy in 0..w.out_height {
            for ox in 0..w.out_width {
                let r = runs(w, oy, ox);
                match pending.take() {
                    Some(a) if a == r => pair(r, (b, oy, ox), taken),
                    Some(_) => {
                        single(taken);
                        pending = Some(r);
                    }
                    None => pending = Some(r),
                }
            }
        }
    }
    if pending.is_some() {
        single(taken);
    }
}

/// Runs one random case; on a difference with `report`, describes it.
pub fn case(
    rng: &mut Rng,
    t: &mut Tensors,
    outs: &mut Outputs,
    taken: &mut Taken,
    report: bool,
) -> bool {
    let w = random_window(rng);
    let q = {
        let wild = rng.one_in(2);
        Quant::random(rng, w.out_depth, wild)
    };
    let (input, output, _) = tensors::sizes(&w, w.in_depth);
    let filter = w.out_depth * w.filter_height * w.filter_width * w.in_depth;
    t.fill(rng, input, filter);
    let bias = quant::bias(rng, &mut t.bias, w.out_depth);
    let params = Conv2dParams {
        window: w,
        filter_depth: w.in_depth,
        has_bias: bias > 0,
        kind: ConvKind::Float32 { range: (0.0, 0.0) },
    };
    let expect = w.dilation_width == 1 && quant::offset_fits(q.input_offset) && q.folds();
    if expect {
        paths(&w, &q, (input, &t.bias[..bias]), taken);
    } else {
        taken.add(Path::ConvDeclined);
    }
    let (x, f, b) = t.operands(input, filter, bias);
    let r = q.requant();
    let verdict = outs.compare(
        rng,
        output,
        expect,
        |want| conv_2d::conv_i8_reference(&params, &r, x, f, b, want),
        |got| check::conv_2d_i8(&params, &r, x, f, b, got),
    );
    let ok = matches!(verdict, Verdict::Equal | Verdict::Declined);
    if !ok && report {
        crate::describe("CONV_2D", &verdict, &w, &q, b);
    }
    ok
}
