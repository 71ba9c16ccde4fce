//! DEPTHWISE_CONV_2D cases. Group cases: 3x3 undilated filters over channel
//! counts in fours and rows up to past the strip's 56 pixels, scales for
//! both requantizations, through `check::depthwise_groups_i8` (the group
//! kernel alone). Other cases: random filters, dilations and depth
//! multipliers through `check::depthwise_conv_2d_i8` (which tries the
//! groups first, then its per-pixel loop). Both against
//! `ops::depthwise_conv_2d::depthwise_conv_i8`, the reference.

use mote_runtime::check;
use mote_runtime::ops::conv_2d::{ConvKind, Window};
use mote_runtime::ops::depthwise_conv_2d::{self, DepthwiseConv2dParams};

use crate::compare::{Outputs, Verdict, MAX_OUTPUT};
use crate::quant::{self, Quant, MAX_CHANNELS};
use crate::rng::Rng;
use crate::tally::{Path, Taken};
use crate::tensors::{self, Tensors, MAX_FILTER, MAX_INPUT, MAX_MACS};

/// Widened pixels in one of the group kernel's strip rows.
const ROW: usize = 56;

/// A random window; `groups`: the group kernel's shapes.
fn random_window(rng: &mut Rng, groups: bool) -> (Window, usize) {
    loop {
        let (w, multiplier) = if groups {
            let depth = if rng.one_in(10) {
                rng.usize(1, 24)
            } else {
                4 * rng.usize(1, 8)
            };
            let pad = if rng.one_in(8) {
                (rng.usize(0, 4), rng.usize(0, 4))
            } else {
                (rng.usize(0, 1), rng.usize(0, 1))
            };
            let width = if rng.one_in(4) {
                rng.usize(40, 70)
            } else {
                rng.usize(1, 24)
            };
            let w = tensors::window(
                rng.usize(1, 2),
                (rng.usize(1, 10), width),
                (depth, depth),
                (3, 3),
                (rng.usize(1, 2), rng.usize(1, 2)),
                (1, 1),
                pad,
            );
            (w, 1)
        } else {
            // One input channel with a multiplier (micro_speech's 10x8 filter
            // over 8 outputs among them) runs as CONV_2D.
            let one = rng.one_in(5);
            let depth = if one { 1 } else { rng.usize(1, 24) };
            let multiplier = if one {
                rng.usize(2, 16)
            } else if rng.one_in(6) {
                rng.usize(2, 4)
            } else {
                1
            };
            let filter = if one && rng.one_in(2) {
                (rng.usize(1, 10), rng.usize(1, 8))
            } else {
                (rng.usize(1, 5), rng.usize(1, 5))
            };
            let dilation = if rng.one_in(4) {
                (rng.usize(1, 3), rng.usize(1, 3))
            } else {
                (1, 1)
            };
            let w = tensors::window(
                rng.usize(1, 2),
                (rng.usize(1, 12), rng.usize(1, 12)),
                (depth, depth * multiplier),
                filter,
                (rng.usize(1, 3), rng.usize(1, 3)),
                dilation,
                (rng.usize(0, filter.0), rng.usize(0, filter.1)),
            );
            (w, multiplier)
        };
        let (input, output, macs) = tensors::sizes(&w, 1);
        let filter = w.filter_height * w.filter_width * w.out_depth;
        if input <= MAX_INPUT
            && filter <= MAX_FILTER
            && output <= MAX_OUTPUT
            && macs <= MAX_MACS
            && w.out_depth <= MAX_CHANNELS
        {
            return (w, multiplier);
        }
    }
}

/// Whether the group kernel takes the shape (`depthwise_groups`'s checks).
fn group_shape(w: &Window) -> bool {
    let width = w.out_width.saturating_sub(1) * w.stride_width + 3;
    (
        w.filter_height,
        w.filter_width,
        w.dilation_height,
        w.dilation_width,
    ) == (3, 3, 1, 1)
        && width <= ROW
        && w.out_depth.is_multiple_of(4)
}

/// The clamp each group of 4 channels takes: `ssat` where the output range
/// is all of int8, in `depthwise_row` where each channel's lane also holds
/// the output offset (`Quant::packs`'s folded case).
fn group_paths(w: &Window, q: &Quant, bias: &[i32], taken: &mut Taken) {
    let o = q.output;
    for c in (0..w.out_depth).step_by(4) {
        taken.add(if q.packs(c..c + 4, 9, bias) == Some(true) {
            Path::DepthwiseRow
        } else if (o.min, o.max) == (-128, 127) {
            Path::DepthwiseGroupsFull
        } else {
            Path::DepthwiseGroupsClamped
        });
    }
}

/// Runs one random case (`groups`: a group-kernel case); on a difference
/// with `report`, describes it.
pub fn case(
    rng: &mut Rng,
    groups: bool,
    t: &mut Tensors,
    outs: &mut Outputs,
    taken: &mut Taken,
    report: bool,
) -> bool {
    let (w, multiplier) = random_window(rng, groups);
    let mut q = {
        let wild = rng.one_in(2);
        Quant::random(rng, w.out_depth, wild)
    };
    if groups && rng.one_in(3) {
        // Full output ranges (the `ssat` requantization) more often.
        (q.output.min, q.output.max) = (-128, 127);
    }
    let (input, output, _) = tensors::sizes(&w, 1);
    let filter = w.filter_height * w.filter_width * w.out_depth;
    t.fill(rng, input, filter);
    let bias = quant::bias(rng, &mut t.bias, w.out_depth);
    let params = DepthwiseConv2dParams {
        window: w,
        depth_multiplier: multiplier,
        has_bias: bias > 0,
        kind: ConvKind::Float32 { range: (0.0, 0.0) },
    };
    let (x, f, b) = t.operands(input, filter, bias);
    // `depthwise_as_conv`'s case: one input channel, the transposed filter
    // within its 1 KiB buffer, and no horizontal dilation (CONV_2D's kernel).
    let one_channel = !groups
        && multiplier != 1
        && w.in_depth == 1
        && filter <= check::DEPTHWISE_AS_CONV_FILTER
        && w.dilation_width == 1;
    let runs = (multiplier == 1 || one_channel) && quant::offset_fits(q.input_offset) && q.folds();
    let expect = runs && (!groups || group_shape(&w));
    if !runs {
        taken.add(Path::DepthwiseDeclined);
    } else if one_channel {
        taken.add(Path::DepthwiseOneChannel);
    } else if group_shape(&w) {
        group_paths(&w, &q, &t.bias[..bias], taken);
    } else if groups {
        taken.add(Path::DepthwiseGroupsDeclined);
    } else {
        if w.out_depth >= 4 {
            taken.add(Path::DepthwisePixels);
        }
        if !w.out_depth.is_multiple_of(4) {
            taken.add(Path::DepthwisePixelsTail);
        }
    }
    let r = q.requant();
    let verdict = outs.compare(
        rng,
        output,
        expect,
        |want| depthwise_conv_2d::depthwise_conv_i8(&params, &r, x, f, b, want),
        |got| {
            if groups {
                check::depthwise_groups_i8(&params, &r, x, f, b, got)
            } else {
                check::depthwise_conv_2d_i8(&params, &r, x, f, b, got)
            }
        },
    );
    let ok = matches!(verdict, Verdict::Equal | Verdict::Declined);
    if !ok && report {
        let op = if groups {
            "DEPTHWISE_CONV_2D (groups)"
        } else {
            "DEPTHWISE_CONV_2D"
        };
        crate::describe(op, &verdict, &w, &q, b);
        crate::say(format_args!("  depth multiplier {multiplier}"));
    }
    ok
}
