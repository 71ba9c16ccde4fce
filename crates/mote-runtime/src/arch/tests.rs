//! The blocked kernels (with the portable primitives) against the reference
//! kernels on random shapes, strides, dilations, padding, offsets and
//! per-channel scales: every output byte must agree.

use super::portable::{smlabb, smlad, smlatt, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
use crate::ops::conv_2d::{Conv2dParams, ConvKind, Window};
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::fully_connected::{FullyConnectedKind, FullyConnectedParams};
use crate::ops::per_channel::{OutputQuant, Requant};
use crate::ops::{conv_2d, depthwise_conv_2d, fully_connected};

/// A small seeded generator (PCG-like LCG, high bits), shared by the
/// kernels' tests.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    /// Uniform in `lo..=hi`.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::from(self.next()) % (hi - lo + 1)
    }
    fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as i64, hi as i64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.next() as i8).collect()
    }
}

/// Random per-channel (or per-tensor) requantization, offsets and clamp.
struct Quant {
    input_offset: i32,
    output: OutputQuant,
    multipliers: Vec<i32>,
    shifts: Vec<i32>,
}

impl Quant {
    fn random(rng: &mut Rng, channels: usize) -> Self {
        let n = if rng.next().is_multiple_of(4) {
            1
        } else {
            channels
        };
        let min = rng.range(-128, 0) as i32;
        // Offsets near the edge of what 16-bit sums allow, now and then.
        let input_offset = match rng.next() % 8 {
            0 => rng.range(-32_640, 32_640) as i32,
            _ => rng.range(-128, 127) as i32,
        };
        Quant {
            input_offset,
            output: OutputQuant {
                offset: rng.range(-128, 127) as i32,
                min,
                max: rng.range(i64::from(min), 127) as i32,
            },
            multipliers: (0..n)
                .map(|_| rng.range(1 << 30, i64::from(i32::MAX)) as i32)
                .collect(),
            // Now and then left shifts, which the folded requantization
            // declines.
            shifts: if rng.next().is_multiple_of(8) {
                (0..n).map(|_| rng.range(-12, 3) as i32).collect()
            } else {
                (0..n).map(|_| rng.range(-20, -1) as i32).collect()
            },
        }
    }

    /// Whether the blocked kernels' folded requantization takes these
    /// scales (`requant::Scales::new`'s condition, restated).
    fn folds(&self) -> bool {
        self.multipliers
            .iter()
            .zip(&self.shifts)
            .all(|(&m, &s)| m == 0 || (m >= 0 && (-31..=-1).contains(&s)))
    }
    fn requant(&self) -> Requant<'_> {
        Requant {
            input_offset: self.input_offset,
            output: self.output,
            multipliers: &self.multipliers,
            shifts: &self.shifts,
        }
    }
}

/// A random window over `in_depth` channels with `out_depth` outputs.
fn window(rng: &mut Rng, in_depth: usize, out_depth: usize) -> Window {
    let (fh, fw) = (rng.usize(1, 4), rng.usize(1, 4));
    let (sh, sw) = (rng.usize(1, 3), rng.usize(1, 3));
    let (dh, dw) = if rng.next().is_multiple_of(4) {
        (rng.usize(1, 2), rng.usize(1, 2))
    } else {
        (1, 1)
    };
    let (ih, iw) = (rng.usize(1, 7), rng.usize(1, 7));
    let (ph, pw) = (rng.usize(0, fh), rng.usize(0, fw));
    let out = |i: usize, p: usize, f: usize, d: usize, s: usize| {
        ((i + 2 * p).saturating_sub(d * (f - 1) + 1)) / s + 1
    };
    Window {
        batches: rng.usize(1, 2),
        in_height: ih,
        in_width: iw,
        in_depth,
        filter_height: fh,
        filter_width: fw,
        out_height: out(ih, ph, fh, dh, sh),
        out_width: out(iw, pw, fw, dw, sw),
        out_depth,
        stride_height: sh,
        stride_width: sw,
        dilation_height: dh,
        dilation_width: dw,
        pad_height: ph,
        pad_width: pw,
    }
}

/// The reference CONV_2D into `want` and the blocked one into `got`, which
/// must accept the case.
fn run_both(
    params: &Conv2dParams,
    q: &Quant,
    (input, filter, bias): (&[i8], &[i8], &[i32]),
    (want, got): (&mut [i8], &mut [i8]),
) {
    conv_2d::conv_i8(params, &q.requant(), input, filter, bias, want);
    assert!(super::conv_2d::conv_i8(
        params,
        &q.requant(),
        input,
        filter,
        bias,
        got
    ));
}

fn bias(rng: &mut Rng, n: usize) -> Vec<i32> {
    if rng.next().is_multiple_of(3) {
        Vec::new()
    } else {
        (0..n).map(|_| rng.range(-40_000, 40_000) as i32).collect()
    }
}

#[test]
fn conv_matches_reference() {
    let mut rng = Rng(1);
    let mut covered = 0;
    for case in 0..400 {
        let in_depth = rng.usize(1, 19);
        let out_depth = rng.usize(1, 11);
        let mut w = window(&mut rng, in_depth, out_depth);
        if case % 3 == 0 {
            // 1x1, the matrix-product case.
            (w.filter_height, w.filter_width, w.pad_height, w.pad_width) = (1, 1, 0, 0);
            (w.dilation_height, w.dilation_width) = (1, 1);
            w.out_height = (w.in_height - 1) / w.stride_height + 1;
            w.out_width = (w.in_width - 1) / w.stride_width + 1;
        }
        let params = Conv2dParams {
            window: w,
            filter_depth: in_depth,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let q = Quant::random(&mut rng, out_depth);
        let input = rng.bytes(w.batches * w.in_height * w.in_width * in_depth);
        let filter = rng.bytes(out_depth * w.filter_height * w.filter_width * in_depth);
        let b = bias(&mut rng, out_depth);
        let n = w.batches * w.out_height * w.out_width * out_depth;
        let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
        conv_2d::conv_i8(&params, &q.requant(), &input, &filter, &b, &mut want);
        if super::conv_2d::conv_i8(&params, &q.requant(), &input, &filter, &b, &mut got) {
            covered += 1;
            assert!(q.folds(), "case {case} took long scales");
            assert_eq!(got, want, "case {case}: {w:?}");
        } else {
            assert!(
                w.dilation_width != 1 || !q.folds(),
                "case {case} not covered: {w:?}"
            );
        }
    }
    assert!(covered > 250, "only {covered} cases ran the blocked kernel");
}

#[test]
fn conv_pair_pass_matches_reference() {
    // Full int8 range and right shifts of 2 to 31 (now and then 1, which
    // the pass declines): the scales `pair_pass` takes.
    let mut rng = Rng(41);
    let before = super::portable::PAIR_PASSES.with(|n| n.get());
    let padded_before = super::gemm::PADDED_PAIRS.with(|n| n.get());
    let singles_before = super::portable::SINGLE_PASSES.with(|n| n.get());
    for case in 0..400 {
        // Whole-word filter rows, and (half) rows padded to words.
        let in_depth = if case % 4 >= 2 {
            rng.usize(1, 7)
        } else {
            4 * rng.usize(1, 12)
        };
        let out_depth = rng.usize(1, 13);
        let mut w = window(&mut rng, in_depth, out_depth);
        (w.dilation_height, w.dilation_width) = (1, 1);
        if case % 2 == 0 {
            (w.filter_height, w.filter_width, w.pad_height, w.pad_width) = (1, 1, 0, 0);
        }
        let out = |i: usize, p: usize, f: usize, s: usize| ((i + 2 * p).saturating_sub(f)) / s + 1;
        w.out_height = out(w.in_height, w.pad_height, w.filter_height, w.stride_height);
        w.out_width = out(w.in_width, w.pad_width, w.filter_width, w.stride_width);
        let params = Conv2dParams {
            window: w,
            filter_depth: in_depth,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let mut q = Quant::random(&mut rng, out_depth);
        q.output.min = -128;
        q.output.max = 127;
        // Past 23 the lanes cannot hold the output offset; 1 is declined.
        let shifts = match rng.next() % 10 {
            0 => (-31, -1),
            1..=3 => (-31, -2),
            _ => (-23, -2),
        };
        for s in &mut q.shifts {
            *s = rng.range(shifts.0, shifts.1) as i32;
        }
        // Now and then TensorFlow Lite's scale for an effective scale
        // below 2^-32: multiplier 0, shift 0.
        if rng.next().is_multiple_of(4) {
            let c = rng.usize(0, q.multipliers.len() - 1);
            (q.multipliers[c], q.shifts[c]) = (0, 0);
        }
        let input = rng.bytes(w.batches * w.in_height * w.in_width * in_depth);
        let filter = rng.bytes(out_depth * w.filter_height * w.filter_width * in_depth);
        let b = bias(&mut rng, out_depth);
        let n = w.batches * w.out_height * w.out_width * out_depth;
        let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
        run_both(&params, &q, (&input, &filter, &b), (&mut want, &mut got));
        assert_eq!(got, want, "case {case}: {w:?}");
    }
    let ran = super::portable::PAIR_PASSES.with(|n| n.get()) - before;
    let padded = super::gemm::PADDED_PAIRS.with(|n| n.get()) - padded_before;
    let singles = super::portable::SINGLE_PASSES.with(|n| n.get()) - singles_before;
    assert!(
        ran > 500 && padded > 100 && singles > 100,
        "pair_pass ran {ran} times, {padded} padded, single_pass_wide {singles}"
    );
}

#[test]
fn pointwise_passes_match_reference() {
    // 1x1 filters at stride 1 without padding over whole-word depths, the
    // scales `pair_pass` takes: `pointwise.rs` runs the passes with an even
    // channel count (one pixel alone when their number is odd, several
    // passes past 64 channels); odd channel counts run `Gemm::pass`.
    let mut rng = Rng(47);
    let before = super::gemm::POINTWISE_PASSES.with(|n| n.get());
    let (mut odd_pixels, mut odd_channels) = (0, 0);
    for case in 0..200 {
        let in_depth = 4 * rng.usize(1, 24);
        let out_depth = if case % 8 == 0 {
            2 * rng.usize(0, 20) + 1
        } else {
            2 * rng.usize(1, 60)
        };
        let (h, wd) = (rng.usize(1, 6), rng.usize(1, 6));
        let w = Window {
            batches: rng.usize(1, 2),
            in_height: h,
            in_width: wd,
            in_depth,
            filter_height: 1,
            filter_width: 1,
            out_height: h,
            out_width: wd,
            out_depth,
            stride_height: 1,
            stride_width: 1,
            dilation_height: rng.usize(1, 2),
            dilation_width: 1,
            pad_height: 0,
            pad_width: 0,
        };
        let params = Conv2dParams {
            window: w,
            filter_depth: in_depth,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let mut q = Quant::random(&mut rng, out_depth);
        (q.output.min, q.output.max) = (-128, 127);
        for s in &mut q.shifts {
            *s = rng.range(-31, -2) as i32;
        }
        let pixels = w.batches * h * wd;
        let input = rng.bytes(pixels * in_depth);
        let filter = rng.bytes(out_depth * in_depth);
        let b = bias(&mut rng, out_depth);
        let (mut want, mut got) = (vec![0i8; pixels * out_depth], vec![0i8; pixels * out_depth]);
        let ran = super::gemm::POINTWISE_PASSES.with(|n| n.get());
        run_both(&params, &q, (&input, &filter, &b), (&mut want, &mut got));
        assert_eq!(got, want, "case {case}: {w:?}");
        let ran = super::gemm::POINTWISE_PASSES.with(|n| n.get()) - ran;
        assert_eq!(
            ran > 0,
            out_depth % 2 == 0,
            "case {case}: {ran} pointwise passes, {w:?}"
        );
        odd_pixels += usize::from(ran > 0 && pixels % 2 == 1);
        odd_channels += usize::from(out_depth % 2 == 1);
    }
    let ran = super::gemm::POINTWISE_PASSES.with(|n| n.get()) - before;
    assert!(
        ran > 200 && odd_pixels > 20 && odd_channels > 10,
        "{ran} pointwise passes, {odd_pixels} cases over odd pixels, {odd_channels} odd channel counts"
    );
}

#[test]
fn zero_scale_channels_keep_pair_pass() {
    // A 1x1 filter over 8 channels into 6 outputs, the third of which has
    // TensorFlow Lite's scale for effective scales below 2^-32 (multiplier
    // 0, shift 0): its outputs are the offset, and the pairs still run.
    let mut rng = Rng(43);
    let mut w = window(&mut rng, 8, 6);
    (
        w.batches,
        w.in_height,
        w.in_width,
        w.out_height,
        w.out_width,
    ) = (1, 2, 4, 2, 4);
    (w.filter_height, w.filter_width, w.pad_height, w.pad_width) = (1, 1, 0, 0);
    (
        w.stride_height,
        w.stride_width,
        w.dilation_height,
        w.dilation_width,
    ) = (1, 1, 1, 1);
    let params = Conv2dParams {
        window: w,
        filter_depth: 8,
        has_bias: true,
        kind: ConvKind::Float32 { range: (0.0, 0.0) },
    };
    let mut q = Quant::random(&mut rng, 6);
    q.output = OutputQuant {
        offset: -128,
        min: -128,
        max: 127,
    };
    q.multipliers = vec![1 << 30; 6];
    q.shifts = vec![-8, -8, 0, -8, -8, -8];
    q.multipliers[2] = 0;
    let input = rng.bytes(8 * 8);
    let filter = rng.bytes(6 * 8);
    let b = bias(&mut rng, 6);
    let (mut want, mut got) = (vec![0i8; 8 * 6], vec![0i8; 8 * 6]);
    let before = super::portable::PAIR_PASSES.with(|n| n.get());
    run_both(&params, &q, (&input, &filter, &b), (&mut want, &mut got));
    assert_eq!(got, want);
    assert!(want.chunks(6).all(|pixel| pixel[2] == -128));
    let ran = super::portable::PAIR_PASSES.with(|n| n.get()) - before;
    assert_eq!(ran, 4, "pair_pass ran {ran} times for 4 pixel pairs");
}

#[test]
fn folded_offset_is_fixed_plus_offset() {
    use super::requant::{Fixed, Folded};
    let mut rng = Rng(43);
    let mut covered = 0;
    for case in 0..200_000 {
        let multiplier = match rng.next() % 4 {
            0 => [i32::MAX, 1 << 30, 0, 1][rng.usize(0, 3)],
            _ => rng.range(1 << 30, i64::from(i32::MAX)) as i32,
        };
        let shift = rng.range(-33, -1) as i32;
        let offset = if rng.next().is_multiple_of(4) {
            0
        } else {
            rng.range(-130, 130) as i32
        };
        // Accumulators below 2^29 in magnitude (`requant::SUM_LIMIT`).
        let limit = (1 << 29) - 1;
        let acc = match case % 3 {
            0 => [0, 1, -1, limit, -limit, 1 - limit][rng.usize(0, 5)],
            1 => (rng.next() as i32) >> 3,
            _ => ((rng.range(-1000, 1000) as i32) << rng.usize(0, 19)) + rng.range(-2, 2) as i32,
        };
        let Some(fixed) = Fixed::new(multiplier, shift) else {
            continue;
        };
        let folded = Folded::new(&fixed, offset);
        let folds = (-23..=-1).contains(&shift) && (-128..=128).contains(&offset);
        let fits = (-31..=-1).contains(&shift) && (offset == 0 || folds);
        assert_eq!(folded.is_some(), fits, "shift {shift} offset {offset}");
        if let Some(f) = folded {
            covered += 1;
            assert_eq!(
                f.scale(acc),
                fixed.scale(acc) + offset,
                "acc {acc} multiplier {multiplier} shift {shift} offset {offset}"
            );
        }
    }
    assert!(covered > 120_000, "{covered}");
}

#[test]
fn folded_takes_large_sums_only_of_one_output() {
    // Sums that may reach 2^29 (the pairs' kernels double them) fold only
    // where the channel's output is one value for all of them, or its
    // multiplier is 0; below 2^29 every scale folds.
    use super::requant::{sum_bound, Scales, SUM_LIMIT};
    let output = OutputQuant {
        offset: -3,
        min: -128,
        max: 127,
    };
    assert_eq!(sum_bound(100, 128), 100 * 128 * 256);
    assert_eq!(sum_bound(usize::MAX, 0), u32::MAX);
    let small = sum_bound(100, 128);
    let under = (SUM_LIMIT - small - 1) as i32;
    // (multiplier, shift, bias, sums): the lane's output for sums of 0, or
    // None where it does not fold.
    let cases = [
        (1 << 30, -8, under, small, Some(127)),
        (1 << 30, -8, -under, small, Some(-128)),
        // Past the limit, saturated at both ends: one value.
        (1 << 30, -8, under + 1, small, Some(127)),
        (1 << 30, -8, -under - 1, small, Some(-128)),
        // Past the limit, 64 -+ 39 (scale 2^-23): declined.
        (1 << 30, -22, 1 << 29, sum_bound(10_000, 128), None),
        // Sums that would wrap: declined.
        (1 << 30, -8, i32::MIN, small, None),
        // A multiplier of 0 takes any bias: the offset.
        (0, 0, i32::MIN, small, Some(-3)),
    ];
    for (multiplier, shift, bias, sums, want) in cases {
        let quant = Requant {
            input_offset: 128,
            output,
            multipliers: &[multiplier],
            shifts: &[shift],
        };
        let biases = [bias];
        let scales = Scales::new(&quant, &biases, 1).unwrap();
        // SAFETY: channel 0 of 1.
        let channel = unsafe { scales.channel(0) };
        for fold in [output.offset, 0] {
            let lane = channel.folded((fold, &output), sums, None);
            let got = lane.map(|l| (l.scale(bias) + output.offset - fold).clamp(-128, 127));
            assert_eq!(got, want, "bias {bias} shift {shift} fold {fold}");
        }
    }
}

#[test]
fn depthwise_matches_reference() {
    let mut rng = Rng(2);
    let mut ran = 0;
    for case in 0..400 {
        let depth = rng.usize(1, 21);
        let w = window(&mut rng, depth, depth);
        let params = DepthwiseConv2dParams {
            window: w,
            depth_multiplier: 1,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let q = Quant::random(&mut rng, depth);
        let input = rng.bytes(w.batches * w.in_height * w.in_width * depth);
        let filter = rng.bytes(w.filter_height * w.filter_width * depth);
        let b = bias(&mut rng, depth);
        let n = w.batches * w.out_height * w.out_width * depth;
        let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
        depthwise_conv_2d::depthwise_conv_i8(&params, &q.requant(), &input, &filter, &b, &mut want);
        let took = super::depthwise_conv_2d::depthwise_conv_i8(
            &params,
            &q.requant(),
            &input,
            &filter,
            &b,
            &mut got,
        );
        assert_eq!(took, q.folds(), "case {case}: {w:?}");
        if took {
            ran += 1;
            assert_eq!(got, want, "case {case}: {w:?}");
        }
    }
    assert!(ran > 300, "only {ran} cases ran the blocked kernel");
}

/// One input channel with a depth multiplier above 1 runs as a CONV_2D
/// (the filter transposed): random shapes (now and then a micro_speech-like
/// 10x8 filter over 49x40 with stride 2), multipliers, offsets, padding,
/// strides and dilation against the reference depthwise kernel.
#[test]
fn depthwise_one_channel_matches_reference() {
    let mut rng = Rng(41);
    let mut ran = 0;
    for case in 0..400 {
        let m = rng.usize(2, 24);
        let mut w = window(&mut rng, 1, m);
        if case % 10 == 0 {
            (w.in_height, w.in_width, w.filter_height, w.filter_width) = (49, 40, 10, 8);
            (
                w.stride_height,
                w.stride_width,
                w.dilation_height,
                w.dilation_width,
            ) = (2, 2, 1, 1);
            (w.pad_height, w.pad_width, w.out_height, w.out_width) = (4, 3, 25, 20);
            w.batches = 1;
        } else if case % 3 == 0 {
            // Bigger filters, some past what the transposition takes.
            (w.filter_height, w.filter_width) = (rng.usize(1, 9), rng.usize(1, 9));
            (w.in_height, w.in_width) = (rng.usize(1, 14), rng.usize(1, 14));
            (w.pad_height, w.pad_width) =
                (rng.usize(0, w.filter_height), rng.usize(0, w.filter_width));
            let out = |i: usize, p: usize, f: usize, d: usize, s: usize| {
                ((i + 2 * p).saturating_sub(d * (f - 1) + 1)) / s + 1
            };
            w.out_height = out(
                w.in_height,
                w.pad_height,
                w.filter_height,
                w.dilation_height,
                w.stride_height,
            );
            w.out_width = out(
                w.in_width,
                w.pad_width,
                w.filter_width,
                w.dilation_width,
                w.stride_width,
            );
        }
        let params = DepthwiseConv2dParams {
            window: w,
            depth_multiplier: m,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let q = Quant::random(&mut rng, m);
        let input = rng.bytes(w.batches * w.in_height * w.in_width);
        let size = w.filter_height * w.filter_width * m;
        let filter = rng.bytes(size);
        let b = bias(&mut rng, m);
        let n = w.batches * w.out_height * w.out_width * m;
        let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
        depthwise_conv_2d::depthwise_conv_i8(&params, &q.requant(), &input, &filter, &b, &mut want);
        let took = super::depthwise_conv_2d::depthwise_conv_i8(
            &params,
            &q.requant(),
            &input,
            &filter,
            &b,
            &mut got,
        );
        if took {
            ran += 1;
            assert!(q.folds(), "case {case} took long scales");
            assert_eq!(got, want, "case {case}: {w:?}");
        } else {
            assert!(
                w.dilation_width != 1 || size > super::depthwise_as_conv::FILTER || !q.folds(),
                "case {case} not covered: {w:?}"
            );
        }
    }
    assert!(ran > 250, "only {ran} cases ran the blocked kernel");
}

#[test]
fn fully_connected_matches_reference() {
    let mut rng = Rng(3);
    let chunk = super::fully_connected::CHUNK;
    for case in 0..600 {
        // Now and then rows near the longest one widening takes, or longer
        // (chunked; micro_speech's are 4,000), else short ones; now and then
        // a depth it declines (not a multiple of 4, or long rows over units
        // that are not in fours).
        let depth = match case % 7 {
            0 => 4 * rng.usize(chunk / 4 - 8, chunk / 4 + 2),
            1 => 4 * rng.usize(15, 50),
            2 if case % 3 == 0 => 4000,
            2 => 4 * rng.usize(chunk / 4 + 1, 3 * chunk / 4 + 1),
            _ => 4 * rng.usize(1, 18),
        } - usize::from(case % 16 == 3) * rng.usize(1, 3);
        let units = match rng.next() % 3 {
            0 => rng.usize(1, 13),
            _ => 4 * rng.usize(1, 3),
        };
        let batches = rng.usize(1, 3);
        let params = FullyConnectedParams {
            batches,
            depth,
            units,
            has_bias: true,
            kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
        };
        let q = Quant::random(&mut rng, units);
        let input = rng.bytes(batches * depth);
        let weights = rng.bytes(units * depth);
        let b = bias(&mut rng, units);
        let (mut want, mut got) = (vec![0i8; batches * units], vec![0i8; batches * units]);
        fully_connected::fully_connected_i8(&params, &q.requant(), &input, &weights, &b, &mut want);
        let ran = super::fully_connected::fully_connected_i8(
            &params,
            &q.requant(),
            &input,
            &weights,
            &b,
            &mut got,
        );
        assert_eq!(
            ran,
            depth.is_multiple_of(4) && (depth <= chunk || units.is_multiple_of(4)),
            "case {case}: depth {depth} units {units}"
        );
        if ran {
            assert_eq!(got, want, "case {case}: depth {depth} units {units}");
        }
    }
}

#[test]
fn fully_connected_declines_short_tensors() {
    let params = FullyConnectedParams {
        batches: 2,
        depth: 8,
        units: 4,
        has_bias: false,
        kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
    };
    let mut rng = Rng(5);
    let q = Quant::random(&mut rng, 4);
    let (input, weights) = (rng.bytes(16), rng.bytes(32));
    let mut out = vec![0i8; 8];
    let run = |i: &[i8], w: &[i8], o: &mut [i8]| {
        super::fully_connected::fully_connected_i8(&params, &q.requant(), i, w, &[], o)
    };
    assert!(!run(&input[..15], &weights, &mut out));
    assert!(!run(&input, &weights[..31], &mut out));
    assert!(!run(&input, &weights, &mut out[..7]));
}

#[test]
fn dot_4_rows_wide_is_the_sum() {
    use super::portable::dot_4_rows_wide;
    let mut rng = Rng(9);
    let (steps, stride) = (5, 23);
    let w = rng.bytes(3 * stride + 4 * steps);
    let x: Vec<i16> = (0..4 * steps).map(|_| rng.next() as i16).collect();
    // (x0, x2), (x1, x3) per group of 4.
    let wide: Vec<u32> = x
        .chunks(4)
        .flat_map(|g| {
            let pack = |a: i16, b: i16| (a as u16 as u32) | ((b as u16 as u32) << 16);
            [pack(g[0], g[2]), pack(g[1], g[3])]
        })
        .collect();
    // SAFETY: 2 * steps words, rows up to 3 * stride + 4 * steps bytes.
    let got = unsafe { dot_4_rows_wide(wide.as_ptr(), w.as_ptr(), stride, steps, [1, 2, 3, 4]) };
    for (k, g) in got.into_iter().enumerate() {
        let row = &w[k * stride..k * stride + 4 * steps];
        let want = row.iter().zip(&x).fold(k as i32 + 1, |a, (&w, &x)| {
            a.wrapping_add(i32::from(w) * i32::from(x))
        });
        assert_eq!(g, want, "row {k}");
    }
}

#[test]
fn out_of_range_offsets_fall_back() {
    // x + offset would leave 16 bits: the blocked kernels decline.
    assert!(!super::conv_2d::offset_fits(32_641));
    assert!(!super::conv_2d::offset_fits(-32_641));
    assert!(super::conv_2d::offset_fits(32_640) && super::conv_2d::offset_fits(-32_640));
}

#[test]
fn fast_requantization_matches_reference() {
    use crate::ops::per_channel::requantize;
    let mut rng = Rng(23);
    let specials = [
        0,
        1,
        -1,
        i32::MAX,
        i32::MIN,
        i32::MIN + 1,
        1 << 30,
        -(1 << 30),
    ];
    let (mut folded, mut declined) = (0, 0);
    for case in 0..400_000 {
        let multiplier = match rng.next() % 6 {
            0 => [i32::MIN, i32::MAX, 1 << 30, -(1 << 30), 1, -1, 0][rng.usize(0, 6)],
            1 => rng.next() as i32,
            2 => rng.range(0, 1 << 30) as i32,
            _ => rng.range(1 << 30, i64::from(i32::MAX)) as i32,
        };
        let shift = match rng.next() % 8 {
            0 => rng.range(-40, 40) as i32,
            1 => [i32::MIN, i32::MAX, -32, -31, 31, -1, 0, 1][rng.usize(0, 7)],
            _ => rng.range(-31, -1) as i32,
        };
        let acc = match case % 5 {
            0 => specials[rng.usize(0, specials.len() - 1)],
            1 => rng.next() as i32,
            // Near the ties of both roundings: multiples of powers of two.
            2 => ((rng.range(-1000, 1000) as i32) << rng.usize(0, 20)) + rng.range(-2, 2) as i32,
            _ => rng.range(-300_000, 300_000) as i32,
        };
        let min = rng.range(-128, 127) as i32;
        let output = OutputQuant {
            offset: rng.range(-128, 127) as i32,
            min,
            max: rng.range(i64::from(min), 127) as i32,
        };
        let want = requantize(acc, multiplier, shift, &output);
        let folds = multiplier == 0 || (multiplier > 0 && (-31..=-1).contains(&shift));
        match super::requant::requantize_fast(acc, multiplier, shift, &output) {
            Some(got) => {
                folded += 1;
                assert!(folds, "took multiplier {multiplier} shift {shift}");
                assert_eq!(
                    got, want,
                    "acc {acc} multiplier {multiplier} shift {shift} {output:?}"
                );
            }
            None => {
                declined += 1;
                assert!(!folds, "declined multiplier {multiplier} shift {shift}");
            }
        }
    }
    assert!(
        folded > 250_000 && declined > 50_000,
        "{folded} folded, {declined} declined"
    );
}

#[test]
fn folded_requantization_is_the_double_rounding() {
    use crate::quant::multiply_by_quantized_multiplier;
    let mut rng = Rng(29);
    let mut folded = 0;
    for case in 0..400_000 {
        let multiplier = match rng.next() % 8 {
            0 => [i32::MAX, (1 << 30) + 1, 1 << 30, 3 << 29, 0, 1][rng.usize(0, 5)],
            // Below 2^30: not TensorFlow Lite's normalized multipliers, but
            // inside the fold's case.
            1 => rng.range(0, 1 << 30) as i32,
            _ => rng.range(1 << 30, i64::from(i32::MAX)) as i32,
        };
        let shift = match rng.next() % 8 {
            0 => rng.range(-33, 2) as i32,
            1 => rng.range(-31, -20) as i32,
            _ => rng.range(-12, -1) as i32,
        };
        let acc = match case % 4 {
            0 => [0, 1, -1, i32::MAX, i32::MIN, i32::MIN + 1][rng.usize(0, 5)],
            1 => rng.next() as i32,
            // Near the ties of both roundings.
            2 => ((rng.range(-1000, 1000) as i32) << rng.usize(0, 20)) + rng.range(-2, 2) as i32,
            _ => rng.range(-3_000_000, 3_000_000) as i32,
        };
        if let Some(f) = super::requant::Fixed::new(multiplier, shift) {
            folded += 1;
            assert_eq!(
                f.scale(acc),
                multiply_by_quantized_multiplier(acc, multiplier, shift),
                "acc {acc} multiplier {multiplier} shift {shift}"
            );
        }
    }
    assert!(folded > 300_000);
    // Outside its case: a negative multiplier, no right shift, a left one,
    // one past 31.
    assert!(super::requant::Fixed::new(-1, -3).is_none());
    assert!(super::requant::Fixed::new(i32::MIN, -3).is_none());
    assert!(super::requant::Fixed::new(i32::MAX, 0).is_none());
    assert!(super::requant::Fixed::new(i32::MAX, 2).is_none());
    assert!(super::requant::Fixed::new(i32::MAX, -32).is_none());
}

#[test]
fn primitives_do_what_the_instructions_do() {
    // bytes [-1, 2, -3, 4] = 0x04fd02ff: SXTB16 takes bytes 0 and 2 -> halves
    // -1, -3; ROR 8 takes bytes 1 and 3 -> 2, 4.
    let x = 0x04fd_02ffu32;
    assert_eq!(sxtb16(x), 0xfffd_ffff);
    assert_eq!(sxtb16_ror8(x), 0x0004_0002);
    // SXTAB16 adds to halves (100, -200): 99, -203 and 102, -196.
    let a = (100u32) | ((-200i16 as u16 as u32) << 16);
    assert_eq!(sxtab16(a, x), 99 | ((-203i16 as u16 as u32) << 16));
    assert_eq!(sxtab16_ror8(a, x), 102 | ((-196i16 as u16 as u32) << 16));
    // SMLAD: 7 + (-1)(2) + (-3)(4) = -7; SMLABB 7 - 2 = 5; SMLATT 7 - 12 = -5.
    let (p, q) = (sxtb16(x), sxtb16_ror8(x));
    assert_eq!(smlad(p, q, 7), -7);
    assert_eq!(smlabb(p, q, 7), 5);
    assert_eq!(smlatt(p, q, 7), -5);
    // Wrapping: i32::MAX + 1 * 1 + 0 wraps to i32::MIN, as the instruction.
    assert_eq!(smlad(1, 1, i32::MAX), i32::MIN);
}

/// The AVX2 kernels of `x86_64` against the reference kernels (skipped on
/// a host without AVX2).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use crate::ops::per_channel::requantize;

    fn avx2() -> bool {
        std::is_x86_feature_detected!("avx2")
    }

    /// Channel counts that cross the 8/16-lane and 64-channel block edges.
    fn wide(rng: &mut Rng, small: usize) -> usize {
        match rng.next() % 4 {
            0 => rng.usize(1, 150),
            1 => rng.usize(14, 40),
            _ => rng.usize(1, small),
        }
    }

    #[test]
    fn requantization_matches_reference() {
        if !avx2() {
            return;
        }
        let mut rng = Rng(11);
        let specials = [0, 1, -1, i32::MAX, i32::MIN, 1 << 30, -(1 << 30), 12_345];
        for case in 0..2_000 {
            let n = rng.usize(1, 40);
            let first = rng.usize(0, 5);
            let per_tensor = rng.next().is_multiple_of(4);
            let channels = if per_tensor { 1 } else { first + n };
            let multipliers: Vec<i32> = (0..channels)
                .map(|_| match rng.next() % 6 {
                    0 => i32::MIN,
                    1 => -(rng.next() as i32 & 0x7fff_ffff),
                    2 => rng.next() as i32,
                    // Products at the rounding ties: 2^30 * odd acc.
                    3 => [1 << 30, -(1 << 30), i32::MAX, 1, -1][rng.usize(0, 4)],
                    _ => rng.range(1 << 30, i64::from(i32::MAX)) as i32,
                })
                .collect();
            let shifts: Vec<i32> = (0..channels)
                .map(|_| match rng.next() % 8 {
                    0 => rng.range(-40, 40) as i32,
                    1 => [i32::MIN, i32::MAX, -31, 31, 0][rng.usize(0, 4)],
                    _ => rng.range(-12, 3) as i32,
                })
                .collect();
            let (mut multipliers, mut shifts) = (multipliers, shifts);
            if case % 3 == 0 {
                // What real scales below 1 give (the kernels' fast path).
                multipliers
                    .iter_mut()
                    .for_each(|m| *m = (*m).max(i32::MIN + 1));
                shifts.iter_mut().for_each(|s| *s = -s.rem_euclid(32));
            }
            let acc: Vec<i32> = (0..n)
                .map(|i| {
                    if i % 7 == 0 {
                        specials[rng.usize(0, specials.len() - 1)]
                    } else {
                        (rng.next() as i32) >> rng.usize(0, 24)
                    }
                })
                .collect();
            let b = if rng.next().is_multiple_of(3) {
                Vec::new()
            } else {
                (0..first + n)
                    .map(|_| rng.next() as i32 >> rng.usize(0, 20))
                    .collect()
            };
            let min = rng.range(-128, 0) as i32;
            let output = OutputQuant {
                offset: rng.range(-128, 127) as i32,
                min,
                max: rng.range(i64::from(min) - 3, 127) as i32,
            };
            let quant = Requant {
                input_offset: 0,
                output,
                multipliers: &multipliers,
                shifts: &shifts,
            };
            let want: Vec<i8> = (0..n)
                .map(|j| {
                    let bias = b.get(first + j).copied().unwrap_or(0);
                    let c = if per_tensor { 0 } else { first + j };
                    requantize(
                        acc[j].wrapping_add(bias),
                        multipliers[c],
                        shifts[c],
                        &output,
                    )
                })
                .collect();
            let mut got = vec![0i8; n];
            // SAFETY: the host has AVX2 (checked above).
            unsafe {
                let r = super::super::x86_64::Requantizer::new(&quant, &b, first + n).unwrap();
                r.row(&acc, first, &mut got);
            }
            assert_eq!(
                got, want,
                "case {case}: {acc:?} {multipliers:?} {shifts:?} {output:?}"
            );
        }
    }

    #[test]
    fn conv_matches_reference() {
        if !avx2() {
            return;
        }
        let mut rng = Rng(12);
        let mut covered = 0;
        for case in 0..600 {
            let in_depth = wide(&mut rng, 19);
            let out_depth = wide(&mut rng, 11);
            let mut w = window(&mut rng, in_depth, out_depth);
            if case % 3 == 0 {
                (w.filter_height, w.filter_width, w.pad_height, w.pad_width) = (1, 1, 0, 0);
                (w.dilation_height, w.dilation_width) = (1, 1);
                w.out_height = (w.in_height - 1) / w.stride_height + 1;
                w.out_width = (w.in_width - 1) / w.stride_width + 1;
            }
            let params = Conv2dParams {
                window: w,
                filter_depth: in_depth,
                has_bias: true,
                kind: ConvKind::Float32 { range: (0.0, 0.0) },
            };
            let q = Quant::random(&mut rng, out_depth);
            let input = rng.bytes(w.batches * w.in_height * w.in_width * in_depth);
            let filter = rng.bytes(out_depth * w.filter_height * w.filter_width * in_depth);
            let b = bias(&mut rng, out_depth);
            let n = w.batches * w.out_height * w.out_width * out_depth;
            let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
            conv_2d::conv_i8_reference(&params, &q.requant(), &input, &filter, &b, &mut want);
            // SAFETY: the host has AVX2 (checked above).
            let ran = unsafe {
                super::super::x86_64::conv_i8(&params, &q.requant(), &input, &filter, &b, &mut got)
            };
            if ran {
                covered += 1;
                assert_eq!(got, want, "case {case}: {w:?}");
            } else {
                let k = w.filter_height * w.filter_width * in_depth;
                assert!(
                    k > 2048 || !(-32_640..=32_640).contains(&q.input_offset),
                    "case {case}"
                );
            }
        }
        assert!(covered > 550, "only {covered} cases ran the AVX2 kernel");
    }

    #[test]
    fn vnni_conv_matches_reference() {
        if !super::super::x86_64::avx_vnni() {
            eprintln!("skipped: this host has no AVX-VNNI");
            return;
        }
        let mut rng = Rng(16);
        let mut covered = 0;
        for case in 0..600 {
            let in_depth = wide(&mut rng, 19);
            let out_depth = wide(&mut rng, 11);
            let mut w = window(&mut rng, in_depth, out_depth);
            if case % 3 == 0 {
                (w.filter_height, w.filter_width, w.pad_height, w.pad_width) = (1, 1, 0, 0);
                (w.dilation_height, w.dilation_width) = (1, 1);
                w.out_height = (w.in_height - 1) / w.stride_height + 1;
                w.out_width = (w.in_width - 1) / w.stride_width + 1;
            }
            let params = Conv2dParams {
                window: w,
                filter_depth: in_depth,
                has_bias: true,
                kind: ConvKind::Float32 { range: (0.0, 0.0) },
            };
            let mut q = Quant::random(&mut rng, out_depth);
            // An int8 zero point's offset (the kernel's range), -128's included.
            q.input_offset = match rng.next() % 4 {
                0 => 128,
                1 => -127,
                _ => rng.usize(0, 256) as i32 - 127,
            };
            let input = rng.bytes(w.batches * w.in_height * w.in_width * in_depth);
            let filter = rng.bytes(out_depth * w.filter_height * w.filter_width * in_depth);
            let b = bias(&mut rng, out_depth);
            let n = w.batches * w.out_height * w.out_width * out_depth;
            let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
            conv_2d::conv_i8_reference(&params, &q.requant(), &input, &filter, &b, &mut want);
            // SAFETY: the host has AVX-VNNI (checked above).
            let ran = unsafe {
                super::super::x86_64::conv_i8_vnni(
                    &params,
                    &q.requant(),
                    &input,
                    &filter,
                    &b,
                    &mut got,
                )
            };
            if ran {
                covered += 1;
                assert_eq!(got, want, "case {case}: {w:?}");
            } else {
                let packed = out_depth.div_ceil(16)
                    * w.filter_height
                    * (w.filter_width * in_depth).div_ceil(4)
                    * 64;
                let image = (w.in_height + 2 * w.pad_height + w.filter_height * w.dilation_height)
                    * (w.in_width + 2 * w.pad_width + w.filter_width)
                    * in_depth;
                assert!(
                    w.out_height * w.out_width < 8
                        || w.dilation_width != 1
                        || packed > 65_536
                        || image > 65_536,
                    "case {case}: {w:?}"
                );
            }
        }
        assert!(
            covered > 200,
            "only {covered} cases ran the AVX-VNNI kernel"
        );
    }

    #[test]
    fn depthwise_matches_reference() {
        if !avx2() {
            return;
        }
        let mut rng = Rng(13);
        for case in 0..600 {
            let depth = wide(&mut rng, 21);
            let w = window(&mut rng, depth, depth);
            let params = DepthwiseConv2dParams {
                window: w,
                depth_multiplier: 1,
                has_bias: true,
                kind: ConvKind::Float32 { range: (0.0, 0.0) },
            };
            let q = Quant::random(&mut rng, depth);
            let input = rng.bytes(w.batches * w.in_height * w.in_width * depth);
            let filter = rng.bytes(w.filter_height * w.filter_width * depth);
            let b = bias(&mut rng, depth);
            let n = w.batches * w.out_height * w.out_width * depth;
            let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
            depthwise_conv_2d::depthwise_conv_i8(
                &params,
                &q.requant(),
                &input,
                &filter,
                &b,
                &mut want,
            );
            // SAFETY: the host has AVX2 (checked above).
            let ran = unsafe {
                super::super::x86_64::depthwise_conv_i8(
                    &params,
                    &q.requant(),
                    &input,
                    &filter,
                    &b,
                    &mut got,
                )
            };
            assert!(ran, "case {case}");
            assert_eq!(got, want, "case {case}: {w:?}");
        }
    }

    #[test]
    fn fully_connected_matches_reference() {
        if !avx2() {
            return;
        }
        let mut rng = Rng(14);
        for case in 0..600 {
            let batches = if rng.next().is_multiple_of(5) {
                rng.usize(1, 70)
            } else {
                rng.usize(1, 4)
            };
            let depth = match rng.next() % 4 {
                0 => rng.usize(1, 700),
                _ => rng.usize(1, 70),
            };
            let units = wide(&mut rng, 13);
            let params = FullyConnectedParams {
                batches,
                depth,
                units,
                has_bias: true,
                kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
            };
            let q = Quant::random(&mut rng, units);
            let input = rng.bytes(batches * depth);
            let weights = rng.bytes(units * depth);
            let b = bias(&mut rng, units);
            let (mut want, mut got) = (vec![0i8; batches * units], vec![0i8; batches * units]);
            fully_connected::fully_connected_i8(
                &params,
                &q.requant(),
                &input,
                &weights,
                &b,
                &mut want,
            );
            // SAFETY: the host has AVX2 (checked above).
            let ran = unsafe {
                super::super::x86_64::fully_connected_i8(
                    &params,
                    &q.requant(),
                    &input,
                    &weights,
                    &b,
                    &mut got,
                )
            };
            if ran {
                assert_eq!(got, want, "case {case}");
            } else {
                assert!(!(-32_640..=32_640).contains(&q.input_offset), "case {case}");
            }
        }
    }

    #[test]
    fn vnni_fully_connected_matches_reference() {
        if !super::super::x86_64::avx_vnni() {
            eprintln!("skipped: this host has no AVX-VNNI");
            return;
        }
        let mut rng = Rng(15);
        let mut ran_any = 0;
        for case in 0..600 {
            let batches = rng.usize(1, 4);
            let depth = match rng.next() % 4 {
                0 => rng.usize(1, 1500),
                1 => 32 * rng.usize(1, 8),
                _ => rng.usize(1, 100),
            };
            let units = wide(&mut rng, 13);
            let params = FullyConnectedParams {
                batches,
                depth,
                units,
                has_bias: true,
                kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
            };
            let mut q = Quant::random(&mut rng, units);
            // Half the cases take the offset of a ReLU's output (zero point
            // -128), which skips the weights' sums.
            if rng.next().is_multiple_of(2) {
                q.input_offset = 128;
            }
            let input = rng.bytes(batches * depth);
            let weights = rng.bytes(units * depth);
            let b = bias(&mut rng, units);
            let (mut want, mut got) = (vec![0i8; batches * units], vec![0i8; batches * units]);
            fully_connected::fully_connected_i8(
                &params,
                &q.requant(),
                &input,
                &weights,
                &b,
                &mut want,
            );
            // SAFETY: the host has AVX-VNNI (checked above).
            let ran = unsafe {
                super::super::x86_64::fully_connected_i8_vnni(
                    &params,
                    &q.requant(),
                    &input,
                    &weights,
                    &b,
                    &mut got,
                )
            };
            if ran {
                ran_any += 1;
                assert_eq!(got, want, "case {case}");
            } else {
                assert!(
                    depth > 4096 || depth * units > 4096,
                    "case {case}: depth {depth}"
                );
            }
        }
        assert!(ran_any > 200, "only {ran_any} cases ran");
    }

    #[test]
    fn add_matches_reference() {
        use crate::ops::arithmetic::AddSubQuantized;
        if !avx2() {
            return;
        }
        let mut rng = Rng(15);
        for case in 0..2_000 {
            let n = rng.usize(0, 70);
            let multiplier = |rng: &mut Rng| match rng.next() % 6 {
                0 => [i32::MIN, i32::MAX, 1 << 30, -(1 << 30), 0][rng.usize(0, 4)],
                1 => rng.next() as i32,
                _ => rng.range(1 << 30, i64::from(i32::MAX)) as i32,
            };
            let shift = |rng: &mut Rng| match rng.next() % 8 {
                0 => [i32::MIN, i32::MAX, 0, 3, -31, -32][rng.usize(0, 5)],
                _ => rng.range(-25, 0) as i32,
            };
            let min = rng.range(-128, 127) as i32;
            let q = AddSubQuantized {
                input1_offset: rng.range(-128, 127) as i32,
                input2_offset: rng.range(-128, 127) as i32,
                output_offset: rng.range(-128, 127) as i32,
                left_shift: if rng.next().is_multiple_of(4) { 15 } else { 20 },
                input1: (multiplier(&mut rng), shift(&mut rng)),
                input2: (multiplier(&mut rng), shift(&mut rng)),
                output: (multiplier(&mut rng), shift(&mut rng)),
                range: (min, rng.range(i64::from(min) - 2, 127) as i32),
            };
            let a: Vec<u8> = rng.bytes(n).into_iter().map(|v| v as u8).collect();
            let b: Vec<u8> = rng.bytes(n).into_iter().map(|v| v as u8).collect();
            let want: Vec<u8> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| {
                    q.apply(i32::from(x as i8), i32::from(y as i8), i32::wrapping_add) as i8 as u8
                })
                .collect();
            let mut got = vec![0u8; n];
            // SAFETY: the host has AVX2 (checked above).
            assert!(unsafe { super::super::x86_64::add_i8(&q, &a, &b, &mut got) });
            assert_eq!(got, want, "case {case}: {q:?}");
        }
    }
}

/// The channel-group depthwise kernel (`depthwise_groups`) against the
/// reference on the shapes it takes: depths of multiples of 4, 3x3 filters
/// over images wide enough to have interior pixels (and past the strip),
/// strides 1 and 2, and that it declines other filters and dilation, SAME-like and larger padding, per-channel scales
/// whose shifts take both the short requantization (right shifts of 1 to 30,
/// small biases, full or narrow output ranges) and the general one (left
/// shifts, large biases, any multiplier including `i32::MIN`).
#[test]
fn depthwise_groups_match_reference() {
    let mut rng = Rng(31);
    let mut ran = 0;
    let rows_before = super::portable::DEPTHWISE_ROWS.with(|n| n.get());
    for case in 0..600 {
        let depth = 4 * rng.usize(1, 6);
        let (fh, fw) = if case % 4 == 0 {
            (rng.usize(1, 5), rng.usize(1, 5))
        } else {
            (3, 3)
        };
        let (sh, sw) = (rng.usize(1, 2), rng.usize(1, 2));
        let (dh, dw) = if case % 5 == 0 {
            (rng.usize(1, 3), rng.usize(1, 3))
        } else {
            (1, 1)
        };
        let (ih, iw) = (rng.usize(1, 12), rng.usize(1, 64));
        let (ph, pw) = (rng.usize(0, fh), rng.usize(0, fw));
        let out = |i: usize, p: usize, f: usize, d: usize, s: usize| {
            ((i + 2 * p).saturating_sub(d * (f - 1) + 1)) / s + 1
        };
        let w = Window {
            batches: rng.usize(1, 2),
            in_height: ih,
            in_width: iw,
            in_depth: depth,
            filter_height: fh,
            filter_width: fw,
            out_height: out(ih, ph, fh, dh, sh),
            out_width: out(iw, pw, fw, dw, sw),
            out_depth: depth,
            stride_height: sh,
            stride_width: sw,
            dilation_height: dh,
            dilation_width: dw,
            pad_height: ph,
            pad_width: pw,
        };
        let params = DepthwiseConv2dParams {
            window: w,
            depth_multiplier: 1,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let mut q = Quant::random(&mut rng, depth);
        let n = q.multipliers.len();
        match case % 6 {
            // The short path's whole range of right shifts.
            0 => q.shifts = (0..n).map(|_| rng.range(-20, -1) as i32).collect(),
            // Zero multipliers (any shift: the output is the offset) and
            // the edges of the others.
            1 => {
                let edges = [1 << 30, (1 << 30) + 1, i32::MAX, i32::MAX - 1];
                let mut scales = (0..n).map(|_| match rng.next() % 4 {
                    0 => (0, rng.range(-40, 40) as i32),
                    1 => (edges[rng.usize(0, 3)], rng.range(-20, -1) as i32),
                    _ => (rng.range(1 << 30, i64::from(i32::MAX)) as i32, -1),
                });
                (q.multipliers, q.shifts) = (&mut scales).unzip();
            }
            _ => {}
        }
        if case % 3 == 0 {
            q.output = OutputQuant {
                offset: rng.range(-128, 127) as i32,
                min: -128,
                max: 127,
            };
        }
        let input = rng.bytes(w.batches * ih * iw * depth);
        let filter = rng.bytes(fh * fw * depth);
        let b = match case % 7 {
            // Any bias: the folded requantization takes every sum.
            0 => (0..depth)
                .map(|_| rng.range(-(1 << 31), (1 << 31) - 1) as i32)
                .collect(),
            _ => bias(&mut rng, depth),
        };
        let len = w.batches * w.out_height * w.out_width * depth;
        let (mut want, mut got) = (vec![0i8; len], vec![0i8; len]);
        let requant = q.requant();
        depthwise_conv_2d::depthwise_conv_i8(&params, &requant, &input, &filter, &b, &mut want);
        let Some(scales) = super::requant::Scales::new(&requant, &b, depth) else {
            continue;
        };
        let took = super::depthwise_groups::depthwise_groups(
            &w, &requant, &scales, &input, &filter, &mut got,
        );
        if took {
            ran += 1;
            assert_eq!(got, want, "case {case}: {w:?}");
        } else {
            // Only other filters and rows past the strip's 56 pixels fall back.
            let width = (w.out_width - 1) * sw + 3;
            assert!(
                (fh, fw, dh, dw) != (3, 3, 1, 1) || width > 56,
                "case {case}: {w:?}"
            );
        }
    }
    assert!(ran > 250, "only {ran} cases ran the kernel");
    // The full range with folding scales: `depthwise_row`'s rows.
    let rows = super::portable::DEPTHWISE_ROWS.with(|n| n.get()) - rows_before;
    assert!(rows > 200, "only {rows} rows ran depthwise_row");
}
