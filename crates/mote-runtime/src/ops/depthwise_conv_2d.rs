//! DEPTHWISE_CONV_2D: each input channel convolved with its own
//! `depth_multiplier` filters.
//!
//! Inputs: 0 input `[batches, height, width, depth]`, 1 filter
//! `[1, filter_height, filter_width, depth * depth_multiplier]`, 2 optional bias.
//! Output channel `c * depth_multiplier + m` comes from input channel `c`.
//! int8 (per-channel weights, int32 bias) and float32, as TensorFlow Lite
//! Micro's reference `DepthwiseConvPerChannel` and float `DepthwiseConv`.

use super::activation::clamp;
use super::conv_2d::{
    dims4, int8_requant, prepare_int4_filter, prepare_lut_filter, window, ConvKind, Window,
};
use super::int4::{self, INT4};
use super::per_channel::Requant;
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// Field ids of `DepthwiseConv2DOptions`.
mod field {
    pub const PADDING: u16 = 0;
    pub const STRIDE_W: u16 = 1;
    pub const STRIDE_H: u16 = 2;
    pub const DEPTH_MULTIPLIER: u16 = 3;
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 4;
    pub const DILATION_W_FACTOR: u16 = 5;
    pub const DILATION_H_FACTOR: u16 = 6;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct DepthwiseConv2dParams {
    /// Shapes, strides, dilation and padding.
    pub window: Window,
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    /// Whether input 2 holds a bias.
    pub has_bias: bool,
    /// The arithmetic.
    pub kind: ConvKind,
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<DepthwiseConv2dParams, Error> {
    let input = ctx.input(0)?;
    let filter = ctx.input(1)?;
    let bias = ctx.optional_input(2);
    let output = ctx.output(0)?;
    let in_dims = dims4(ctx, input.shape())?;
    let f = dims4(ctx, filter.shape())?;
    let out_dims = dims4(ctx, output.shape())?;
    let window = window(
        ctx,
        [field::PADDING, field::STRIDE_W, field::STRIDE_H],
        Some([field::DILATION_W_FACTOR, field::DILATION_H_FACTOR]),
        in_dims,
        (f[1], f[2]),
        out_dims,
    )?;
    let options = ctx.options();
    let depth_multiplier = usize::try_from(options.i32(field::DEPTH_MULTIPLIER, 1))
        .map_err(|_| ctx.invalid("bad depth multiplier"))?;
    if f[0] != 1
        || f[3] != window.out_depth
        || window.in_depth.checked_mul(depth_multiplier) != Some(window.out_depth)
        || depth_multiplier == 0
    {
        return Err(ctx.invalid("filter shape does not match input, output and depth multiplier"));
    }
    if let Some(bias) = &bias {
        if bias.shape().elements() != window.out_depth {
            return Err(ctx.invalid("bias size is not the number of output channels"));
        }
    }
    let activation = options.u8(field::FUSED_ACTIVATION_FUNCTION, 0);
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Float32 => {
            ctx.expect_weights::<f32, f32>(&filter, bias.as_ref())?;
            let range = ctx.float_activation(activation)?;
            ConvKind::Float32 { range }
        }
        // Without the `int4` feature an int4 filter falls to the int8 arm,
        // which refuses its type.
        TensorType::Int8 if INT4 && filter.dtype() == TensorType::Int4 => prepare_int4_filter(
            ctx,
            (&input, &filter, bias.as_ref(), &output),
            activation,
            window.out_depth,
            3,
        )?,
        TensorType::Int8 if super::lut::LUT && filter.lut().is_some() => prepare_lut_filter(
            ctx,
            (&input, &filter, bias.as_ref(), &output),
            activation,
            window.out_depth,
            3,
        )?,
        TensorType::Int8 => {
            ctx.expect_weights::<i8, i32>(&filter, bias.as_ref())?;
            let (input_offset, output, channels) = int8_requant(
                ctx,
                (&input, &filter, &output),
                activation,
                window.out_depth,
                3,
            )?;
            ConvKind::Int8 {
                input_offset,
                output,
                channels,
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(DepthwiseConv2dParams {
        window,
        depth_multiplier,
        has_bias: bias.is_some(),
        kind,
    })
}

/// Runs the operator.
pub fn eval(params: &DepthwiseConv2dParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    match params.kind {
        // `prepare` never makes these (16x8 depthwise is not supported).
        ConvKind::Int16 { .. } => return Err(ctx.invalid_data("16x8 depthwise is not supported")),
        ConvKind::Float32 { range } => {
            let filter = ctx.input_as::<f32>(1);
            let bias = if params.has_bias {
                ctx.input_as::<f32>(2)
            } else {
                &[]
            };
            let (input, output) = ctx.io_as::<f32, f32>(0, 0);
            depthwise_conv_f32(params, range, input, filter, bias, output);
        }
        ConvKind::Int8 {
            input_offset,
            output,
            channels,
        } => {
            let o = channels.int8_operands(ctx, params.has_bias, input_offset, output);
            crate::arch::depthwise_conv_i8(params, &o.quant, o.input, o.weights, o.bias, o.out);
        }
        ConvKind::Int4Filter {
            input_offset,
            output,
            channels,
        } => {
            if !INT4 {
                return Err(ctx.invalid_data("an int4 filter needs mote-runtime's `int4` feature"));
            }
            let o = channels.int8_operands(ctx, params.has_bias, input_offset, output);
            depthwise_conv_i8_int4(params, &o.quant, o.input, o.weights, o.bias, o.out);
        }
        ConvKind::LutFilter {
            output,
            channels,
            lut,
        } => {
            if !super::lut::LUT {
                return Err(ctx.invalid_data("a LUT filter needs mote-runtime's `lut` feature"));
            }
            let o = super::lut::operands(ctx, &channels, params.has_bias, output, lut);
            depthwise_conv_i8_lut(params, &o.quant, o.input, &o.filter, o.bias, o.out);
        }
    }
    Ok(())
}

/// Sums `tap(input_index, filter_index)` for every filter tap inside the
/// image, for output position `(b, out_y, out_x)` and output channel 0 of
/// input channel 0; callers add the channel to both indices.
#[inline]
fn taps(w: &Window, b: usize, out_y: usize, out_x: usize, mut tap: impl FnMut(usize, usize)) {
    let (y_first, y_end, in_y0) = w.rows(out_y);
    let (x_first, x_end, in_x0) = w.columns(out_x);
    for fy in y_first..y_end {
        let in_y = (in_y0 + (fy * w.dilation_height) as isize) as usize;
        let row = (b * w.in_height + in_y) * w.in_width;
        for fx in x_first..x_end {
            let in_x = (in_x0 + (fx * w.dilation_width) as isize) as usize;
            tap(
                (row + in_x) * w.in_depth,
                (fy * w.filter_width + fx) * w.out_depth,
            );
        }
    }
}

/// The int8 reference kernel: per output channel `c * m + j`, the sum over
/// taps inside the image of `filter * (input[c] + input_offset)`, plus the
/// bias, requantized per channel. Accumulates up to 64 output channels of a
/// pixel at once, each in TensorFlow Lite's tap order.
pub fn depthwise_conv_i8(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    let w = &params.window;
    let multiplier = params.depth_multiplier.max(1);
    // An int8 zero point gives an offset in [-127, 128].
    let narrow = (-127..=128).contains(&quant.input_offset);
    let offset16 = quant.input_offset as i16;
    const CHUNK: usize = 64;
    // Channels per chunk: whole groups of `multiplier` when they fit.
    let grouped = narrow && (2..=CHUNK).contains(&multiplier);
    let step = if grouped {
        CHUNK / multiplier * multiplier
    } else {
        CHUNK
    };
    let mut out_pixels = output.chunks_exact_mut(w.out_depth.max(1));
    for b in 0..w.batches {
        for out_y in 0..w.out_height {
            for out_x in 0..w.out_width {
                let Some(out_pixel) = out_pixels.next() else {
                    return;
                };
                for start in (0..w.out_depth).step_by(step) {
                    let end = (start + step).min(w.out_depth);
                    let mut acc = [0i32; CHUNK];
                    let accs = acc.get_mut(..end - start).unwrap_or(&mut []);
                    taps(w, b, out_y, out_x, |in_at, f_at| {
                        let Some(k) = filter.get(f_at + start..f_at + end) else {
                            return;
                        };
                        if multiplier == 1 && narrow {
                            let Some(x) = input.get(in_at + start..in_at + end) else {
                                return;
                            };
                            // |x + offset| <= 255 and |f| <= 128: the product
                            // is exact in 16 bits (cheaper to vectorize).
                            for ((a, &f), &x) in accs.iter_mut().zip(k).zip(x) {
                                let shifted = i16::from(x) + offset16;
                                *a = a.wrapping_add(i32::from(shifted * i16::from(f)));
                            }
                        } else if grouped {
                            // Chunks hold whole groups of `multiplier`
                            // channels, all reading one input channel.
                            let first = in_at + start / multiplier;
                            let Some(x) = input.get(first..first + (end - start) / multiplier)
                            else {
                                return;
                            };
                            let groups = accs
                                .chunks_exact_mut(multiplier)
                                .zip(k.chunks_exact(multiplier));
                            for ((group, filters), &x) in groups.zip(x) {
                                let shifted = i16::from(x) + offset16;
                                for (a, &f) in group.iter_mut().zip(filters) {
                                    *a = a.wrapping_add(i32::from(shifted * i16::from(f)));
                                }
                            }
                        } else if multiplier == 1 {
                            let Some(x) = input.get(in_at + start..in_at + end) else {
                                return;
                            };
                            for ((a, &f), &x) in accs.iter_mut().zip(k).zip(x) {
                                *a = a.wrapping_add(
                                    i32::from(f) * i32::from(x).wrapping_add(quant.input_offset),
                                );
                            }
                        } else {
                            for (j, (a, &f)) in accs.iter_mut().zip(k).enumerate() {
                                let x = input.get(in_at + (start + j) / multiplier).copied();
                                let x = i32::from(x.unwrap_or(0));
                                *a = a.wrapping_add(
                                    i32::from(f) * x.wrapping_add(quant.input_offset),
                                );
                            }
                        }
                    });
                    let outs = out_pixel.get_mut(start..end).unwrap_or(&mut []);
                    quant.apply_slice(accs, bias, start, outs);
                }
            }
        }
    }
}

/// The int4-filter kernel: [`depthwise_conv_i8_blocks`] with each tap's
/// weights unpacked from `packed` (the filter `[1, height, width, channels]`
/// as TensorFlow Lite stores int4).
pub fn depthwise_conv_i8_int4(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    packed: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    depthwise_conv_i8_blocks(params, quant, input, bias, output, |at, k| {
        int4::unpack(packed, at, k)
    });
}

/// The LUT-filter kernel: [`depthwise_conv_i8_blocks`] with each tap's
/// weights decoded from `filter` (its channels are the last axis: one table
/// per output channel).
pub fn depthwise_conv_i8_lut(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &super::lut::LutFilter<'_>,
    bias: &[i32],
    output: &mut [i8],
) {
    depthwise_conv_i8_blocks(params, quant, input, bias, output, |at, k| {
        filter.decode(at, k)
    });
}

/// The depthwise convolution of a filter stored other than as int8: per
/// output pixel and block of [`int4::BLOCK`] channels, each tap's weights
/// written by `unpack(first element, block)` into a stack buffer, then
/// `sum(f * (x + input_offset))` plus the bias, requantized per channel, as
/// [`depthwise_conv_i8`].
fn depthwise_conv_i8_blocks(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    bias: &[i32],
    output: &mut [i8],
    unpack: impl Fn(usize, &mut [i8]),
) {
    let w = &params.window;
    let multiplier = params.depth_multiplier.max(1);
    let mut out_pixels = output.chunks_exact_mut(w.out_depth.max(1));
    let mut weights = [0i8; int4::BLOCK];
    for b in 0..w.batches {
        for out_y in 0..w.out_height {
            for out_x in 0..w.out_width {
                let Some(out_pixel) = out_pixels.next() else {
                    return;
                };
                for start in (0..w.out_depth).step_by(int4::BLOCK) {
                    let end = (start + int4::BLOCK).min(w.out_depth);
                    let mut acc = [0i32; int4::BLOCK];
                    let accs = acc.get_mut(..end - start).unwrap_or(&mut []);
                    let k = weights.get_mut(..end - start).unwrap_or(&mut []);
                    taps(w, b, out_y, out_x, |in_at, f_at| {
                        unpack(f_at + start, k);
                        for (j, (a, &f)) in accs.iter_mut().zip(k.iter()).enumerate() {
                            let x = input.get(in_at + (start + j) / multiplier).copied();
                            let x = i32::from(x.unwrap_or(0));
                            *a = a.wrapping_add(i32::from(f) * x.wrapping_add(quant.input_offset));
                        }
                    });
                    let outs = out_pixel.get_mut(start..end).unwrap_or(&mut []);
                    quant.apply_slice(accs, bias, start, outs);
                }
            }
        }
    }
}

/// The float32 reference kernel: per output channel, the sum over taps in
/// TensorFlow Lite's order, then the bias, then the clamp.
pub fn depthwise_conv_f32(
    params: &DepthwiseConv2dParams,
    range: (f32, f32),
    input: &[f32],
    filter: &[f32],
    bias: &[f32],
    output: &mut [f32],
) {
    let w = &params.window;
    let multiplier = params.depth_multiplier.max(1);
    let mut out_pixels = output.chunks_exact_mut(w.out_depth.max(1));
    for b in 0..w.batches {
        for out_y in 0..w.out_height {
            for out_x in 0..w.out_width {
                let Some(out_pixel) = out_pixels.next() else {
                    return;
                };
                out_pixel.fill(0.0);
                taps(w, b, out_y, out_x, |in_at, f_at| {
                    let k = filter.get(f_at..f_at + w.out_depth).unwrap_or(&[]);
                    for (oc, (total, &f)) in out_pixel.iter_mut().zip(k).enumerate() {
                        *total += input.get(in_at + oc / multiplier).copied().unwrap_or(0.0) * f;
                    }
                });
                for (oc, out) in out_pixel.iter_mut().enumerate() {
                    *out = clamp(*out + bias.get(oc).copied().unwrap_or(0.0), range);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::per_channel::OutputQuant;

    fn params(multiplier: usize, depth: usize) -> DepthwiseConv2dParams {
        DepthwiseConv2dParams {
            window: Window {
                batches: 1,
                in_height: 2,
                in_width: 2,
                in_depth: depth,
                filter_height: 2,
                filter_width: 2,
                out_height: 2,
                out_width: 2,
                out_depth: depth * multiplier,
                stride_height: 1,
                stride_width: 1,
                dilation_height: 1,
                dilation_width: 1,
                pad_height: 0,
                pad_width: 0,
            },
            depth_multiplier: multiplier,
            has_bias: false,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        }
    }

    #[test]
    fn int8_multiplier_two() {
        // SAME-like window on a 2x2 single-channel image [1, 2, 3, 4] with a
        // 2x2 filter, VALID-sized out 2x2 but padding 0 -> only taps inside:
        // out (0,0) sees all four pixels, (0,1) sees 2 and 4, (1,0) 3 and 4,
        // (1,1) only 4. Filters per tap (two channels): [1, -1] at every tap.
        // ch0: 10, 6, 7, 4; ch1: the negatives. Input offset 1 adds 1 per tap:
        // ch0: 14, 8, 9, 5; ch1: -14, -8, -9, -5. Multiplier 1.0.
        let quant = Requant {
            input_offset: 1,
            output: OutputQuant {
                offset: 0,
                min: -128,
                max: 127,
            },
            multipliers: &[1 << 30, 1 << 30],
            shifts: &[1, 1],
        };
        let mut out = [0i8; 8];
        depthwise_conv_i8(
            &params(2, 1),
            &quant,
            &[1, 2, 3, 4],
            &[1, -1, 1, -1, 1, -1, 1, -1],
            &[],
            &mut out,
        );
        assert_eq!(out, [14, -14, 8, -8, 9, -9, 5, -5]);
    }

    #[test]
    fn float_two_channels() {
        // Channels (a, b) = (1, 10) at every pixel, filters (1, 0.5) per tap,
        // bias (0, 1): out (0,0) = 4 taps: (4, 20 + 1); (1,1) = 1 tap: (1, 6).
        let mut p = params(1, 2);
        p.has_bias = true;
        let input = [1.0, 10.0, 1.0, 10.0, 1.0, 10.0, 1.0, 10.0];
        let filter = [1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5];
        let mut out = [0f32; 8];
        depthwise_conv_f32(
            &p,
            (f32::MIN, f32::MAX),
            &input,
            &filter,
            &[0.0, 1.0],
            &mut out,
        );
        assert_eq!(out, [4.0, 21.0, 2.0, 11.0, 2.0, 11.0, 1.0, 6.0]);
    }

    /// TensorFlow Lite's loop nest, literally (the test oracle).
    fn naive(
        p: &DepthwiseConv2dParams,
        q: &Requant<'_>,
        input: &[i8],
        filter: &[i8],
        bias: &[i32],
    ) -> Vec<i8> {
        let w = &p.window;
        let mut out = vec![];
        for b in 0..w.batches {
            for oy in 0..w.out_height {
                for ox in 0..w.out_width {
                    for ic in 0..w.in_depth {
                        for m in 0..p.depth_multiplier {
                            let oc = ic * p.depth_multiplier + m;
                            let mut acc = 0i32;
                            for fy in 0..w.filter_height {
                                for fx in 0..w.filter_width {
                                    let iy = (oy * w.stride_height + fy * w.dilation_height)
                                        as isize
                                        - w.pad_height as isize;
                                    let ix = (ox * w.stride_width + fx * w.dilation_width) as isize
                                        - w.pad_width as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy as usize >= w.in_height
                                        || ix as usize >= w.in_width
                                    {
                                        continue;
                                    }
                                    let x = input[((b * w.in_height + iy as usize) * w.in_width
                                        + ix as usize)
                                        * w.in_depth
                                        + ic];
                                    let f = filter[(fy * w.filter_width + fx) * w.out_depth + oc];
                                    acc += i32::from(f) * (i32::from(x) + q.input_offset);
                                }
                            }
                            out.push(q.apply(acc + bias[oc], oc));
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn int8_equals_tensorflow_lites_loops_on_random_cases() {
        let mut word = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| (word() % n) as usize;
        for case in 0..300 {
            let multiplier = [1, 1, 2, 3, 8, 70][next(6)];
            let in_depth = 1 + next(5);
            let (fh, fw) = (1 + next(3), 1 + next(3));
            let stride = 1 + next(2);
            let dilation = 1 + next(2);
            let (in_h, in_w) = (1 + next(7), 1 + next(7));
            let mut p = params(multiplier, in_depth);
            p.window = Window {
                batches: 1,
                in_height: in_h,
                in_width: in_w,
                in_depth,
                filter_height: fh,
                filter_width: fw,
                out_height: in_h.div_ceil(stride),
                out_width: in_w.div_ceil(stride),
                out_depth: in_depth * multiplier,
                stride_height: stride,
                stride_width: stride,
                dilation_height: dilation,
                dilation_width: dilation,
                pad_height: next(fh as u64),
                pad_width: next(fw as u64),
            };
            let w = p.window;
            let input: Vec<i8> = (0..in_h * in_w * in_depth)
                .map(|_| next(256) as u8 as i8)
                .collect();
            let filter: Vec<i8> = (0..fh * fw * w.out_depth)
                .map(|_| next(256) as u8 as i8)
                .collect();
            let bias: Vec<i32> = (0..w.out_depth).map(|_| next(2000) as i32 - 1000).collect();
            let multipliers: Vec<i32> = (0..w.out_depth)
                .map(|_| (1 << 30) + next(1 << 30) as i32)
                .collect();
            let shifts: Vec<i32> = (0..w.out_depth).map(|_| -(next(10) as i32)).collect();
            // Offsets inside and outside the 16-bit fast paths' range.
            let offset = if case % 5 == 0 {
                next(1000) as i32 - 500
            } else {
                next(256) as i32 - 127
            };
            let q = Requant {
                input_offset: offset,
                output: OutputQuant {
                    offset: 3,
                    min: -128,
                    max: 127,
                },
                multipliers: &multipliers,
                shifts: &shifts,
            };
            let mut out = vec![0i8; w.out_height * w.out_width * w.out_depth];
            depthwise_conv_i8(&p, &q, &input, &filter, &bias, &mut out);
            assert_eq!(
                out,
                naive(&p, &q, &input, &filter, &bias),
                "case {case}: {p:?}"
            );
            // A LUT filter (one table per channel, the last axis) gives the
            // numbers of its decoded values.
            let (layout, values, packed, decoded) =
                crate::ops::lut::random_filter(&mut next, filter.len(), w.out_depth, 0);
            let lut = crate::ops::lut::LutFilter {
                layout,
                values: &values,
                packed: &packed,
            };
            depthwise_conv_i8_lut(&p, &q, &input, &lut, &bias, &mut out);
            assert_eq!(
                out,
                naive(&p, &q, &input, &decoded, &bias),
                "case {case} (LUT {layout:?}): {p:?}"
            );
        }
    }
}
