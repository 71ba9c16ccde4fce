//! TRANSPOSE_CONV: the gradient of CONV_2D with respect to its input (a
//! "deconvolution"), int8 and 16x8, as TensorFlow Lite Micro's reference
//! kernels.
//!
//! Inputs: 0 the output shape (int32, not read: the output tensor's shape is
//! used), 1 filter `[out_channels, filter_height, filter_width, in_channels]`,
//! 2 input `[batches, height, width, in_channels]`, 3 optional bias.
//!
//! TensorFlow Lite scatters each input pixel into an accumulator buffer the
//! size of the output. mote gathers instead: each output sums the input
//! pixels whose filter window covers it. Integer sums do not depend on the
//! order, so the results are identical, and no scratch memory is needed.

use super::conv_2d::{dims4, prepare_16x8, Bias};
use super::padding::{axis, Padding};
use super::per_channel::{ChannelParams, OutputQuant, Requant};
use super::{EvalContext, PrepareContext};
use crate::error::Error;
use crate::model::TensorType;

/// Field ids of `TransposeConvOptions`.
mod field {
    pub const PADDING: u16 = 0;
    pub const STRIDE_W: u16 = 1;
    pub const STRIDE_H: u16 = 2;
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 3;
    pub const QUANTIZED_BIAS_TYPE: u16 = 4;
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct TransposeConvParams {
    /// Input `[batches, height, width, channels]`.
    pub input: [usize; 4],
    /// Output `[batches, height, width, channels]`.
    pub output: [usize; 4],
    /// Filter height and width.
    pub filter: (usize, usize),
    /// Strides (height, width).
    pub stride: (usize, usize),
    /// Padding (top, left), as TensorFlow Lite computes it from the output size.
    pub pad: (usize, usize),
    /// Whether input 3 holds a bias.
    pub has_bias: bool,
    /// The arithmetic.
    pub kind: TransposeConvKind,
}

/// The arithmetic of a TRANSPOSE_CONV.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum TransposeConvKind {
    /// int8 activations and weights, int32 bias.
    Int8 {
        /// Minus the input zero point.
        input_offset: i32,
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// Per output channel multiplier and shift.
        channels: ChannelParams,
    },
    /// int16 activations, int8 weights, int64 (or int32) bias.
    Int16 {
        /// Output clamp range.
        output: OutputQuant,
        /// Per output channel multiplier and shift.
        channels: ChannelParams,
        /// Whether the accumulator is 64-bit.
        wide: bool,
    },
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<TransposeConvParams, Error> {
    let filter = ctx.input(1)?;
    let input = ctx.input(2)?;
    let bias = ctx.optional_input(3);
    let output = ctx.output(0)?;
    let in_dims = dims4(ctx, input.shape())?;
    let f = dims4(ctx, filter.shape())?;
    let out_dims = dims4(ctx, output.shape())?;
    let options = ctx.options();
    let padding =
        Padding::from_code(options.u8(field::PADDING, 0)).ok_or(ctx.invalid("unknown padding"))?;
    let positive = |v: i32| usize::try_from(v).ok().filter(|v| *v > 0);
    let stride_w = positive(options.i32(field::STRIDE_W, 1)).ok_or(ctx.invalid("bad stride"))?;
    let stride_h = positive(options.i32(field::STRIDE_H, 1)).ok_or(ctx.invalid("bad stride"))?;
    if f[0] != out_dims[3] || f[3] != in_dims[3] || in_dims[0] != out_dims[0] {
        return Err(ctx.invalid("filter shape does not match input and output"));
    }
    // As TensorFlow Lite Micro: the padding of a convolution from the output
    // size (as its input) with this filter and stride.
    let rows = axis(padding, out_dims[1], f[1], stride_h, 1).ok_or(ctx.invalid("bad window"))?;
    let columns = axis(padding, out_dims[2], f[2], stride_w, 1).ok_or(ctx.invalid("bad window"))?;
    if let Some(bias) = &bias {
        if bias.shape().elements() != out_dims[3] {
            return Err(ctx.invalid("bias size is not the number of output channels"));
        }
    }
    let activation = options.u8(field::FUSED_ACTIVATION_FUNCTION, 0);
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Int8 => {
            ctx.expect_type(&filter, TensorType::Int8)?;
            ctx.expect_readable::<i8>(&filter)?;
            if let Some(bias) = &bias {
                ctx.expect_type(bias, TensorType::Int32)?;
                ctx.expect_readable::<i32>(bias)?;
            }
            let (_, input_zero_point) = ctx.quantization(&input)?;
            let output_quant = OutputQuant::prepare(ctx, &output, activation, -128, 127)?;
            let channels = ChannelParams::prepare(ctx, &input, &filter, &output, f[0], 0)?;
            TransposeConvKind::Int8 {
                input_offset: input_zero_point.wrapping_neg(),
                output: output_quant,
                channels,
            }
        }
        TensorType::Int16 => {
            let (output_quant, channels, wide) = prepare_16x8(
                ctx,
                &input,
                &filter,
                bias.as_ref(),
                &output,
                activation,
                f[0],
                0,
                field::QUANTIZED_BIAS_TYPE,
            )?;
            TransposeConvKind::Int16 {
                output: output_quant,
                channels,
                wide,
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(TransposeConvParams {
        input: in_dims,
        output: out_dims,
        filter: (f[1], f[2]),
        stride: (stride_h, stride_w),
        pad: (rows.pad, columns.pad),
        has_bias: bias.is_some(),
        kind,
    })
}

/// Runs the operator.
pub fn eval(params: &TransposeConvParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    let filter = ctx.input_as::<i8>(1);
    match params.kind {
        TransposeConvKind::Int8 {
            input_offset,
            output,
            channels,
        } => {
            let input = ctx.input_as::<i8>(2);
            let bias = if params.has_bias {
                Bias::Narrow(ctx.input_as::<i32>(3))
            } else {
                Bias::None
            };
            let (out, multipliers, shifts) = channels.with_output::<i8>(ctx, 0);
            let quant = Requant {
                input_offset,
                output,
                multipliers,
                shifts,
            };
            gather(params, input, filter, out, |acc, oc| {
                let acc = (acc as i32).wrapping_add(bias.get(oc) as i32);
                quant.apply(acc, oc)
            });
        }
        TransposeConvKind::Int16 {
            output,
            channels,
            wide,
        } => {
            let input = ctx.input_as::<i16>(2);
            let bias = match (params.has_bias, wide) {
                (false, _) => Bias::None,
                (true, true) => Bias::Wide(ctx.input_as::<i64>(3)),
                (true, false) => Bias::Narrow(ctx.input_as::<i32>(3)),
            };
            let (out, multipliers, shifts) = channels.with_output::<i16>(ctx, 0);
            let quant = Requant {
                input_offset: 0,
                output,
                multipliers,
                shifts,
            };
            gather(params, input, filter, out, |acc, oc| {
                quant.apply_i16(acc.wrapping_add(bias.get(oc)), oc, wide)
            });
        }
    }
    Ok(())
}

/// An input element as the accumulator sees it.
trait Activation: Copy {
    fn widen(self) -> i64;
}

impl Activation for i8 {
    fn widen(self) -> i64 {
        i64::from(self)
    }
}

impl Activation for i16 {
    fn widen(self) -> i64 {
        i64::from(self)
    }
}

/// For each output element, sums `filter * input` over the input pixels and
/// filter taps that reach it (64-bit; for int8 the input offset is added to
/// every input), then writes `finish(sum, out_channel)`.
fn gather<T: Activation, O>(
    params: &TransposeConvParams,
    input: &[T],
    filter: &[i8],
    output: &mut [O],
    finish: impl Fn(i64, usize) -> O,
) {
    let offset = match params.kind {
        TransposeConvKind::Int8 { input_offset, .. } => i64::from(input_offset),
        TransposeConvKind::Int16 { .. } => 0,
    };
    let [batches, in_h, in_w, in_c] = params.input;
    let [_, out_h, out_w, out_c] = params.output;
    let (f_h, f_w) = params.filter;
    let (s_h, s_w) = params.stride;
    let (p_h, p_w) = params.pad;
    // The inputs i with i * stride <= o + pad < i * stride + filter.
    let span = |o: usize, pad: usize, stride: usize, f: usize, size: usize| {
        let top = o + pad;
        let first = (top + 1).saturating_sub(f).div_ceil(stride);
        let last = (top / stride + 1).min(size);
        (first, last)
    };
    let mut outputs = output.iter_mut();
    for b in 0..batches {
        for oy in 0..out_h {
            let (y0, y1) = span(oy, p_h, s_h, f_h, in_h);
            for ox in 0..out_w {
                let (x0, x1) = span(ox, p_w, s_w, f_w, in_w);
                for oc in 0..out_c {
                    let mut acc = 0i64;
                    for iy in y0..y1 {
                        let fy = oy + p_h - iy * s_h;
                        for ix in x0..x1 {
                            let fx = ox + p_w - ix * s_w;
                            let at = ((b * in_h + iy) * in_w + ix) * in_c;
                            let f_at = ((oc * f_h + fy) * f_w + fx) * in_c;
                            let (Some(x), Some(k)) =
                                (input.get(at..at + in_c), filter.get(f_at..f_at + in_c))
                            else {
                                continue;
                            };
                            for (&v, &w) in x.iter().zip(k) {
                                acc = acc.wrapping_add((v.widen() + offset) * i64::from(w));
                            }
                        }
                    }
                    if let Some(out) = outputs.next() {
                        *out = finish(acc, oc);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stride_two_spreads_each_input() {
        // 1x2 input [1, 2], one channel; 1x3 filter [1, 10, 100], stride 2,
        // VALID (no padding), output 1x5:
        // input 0 lands on outputs 0..3 as [1, 10, 100], input 1 on 2..5 as
        // [2, 20, 200]; output 2 gets 100 + 2.
        let params = TransposeConvParams {
            input: [1, 1, 2, 1],
            output: [1, 1, 5, 1],
            filter: (1, 3),
            stride: (1, 2),
            pad: (0, 0),
            has_bias: false,
            kind: TransposeConvKind::Int16 {
                output: OutputQuant {
                    offset: 0,
                    min: -32768,
                    max: 32767,
                },
                channels: ChannelParams::empty(),
                wide: true,
            },
        };
        let mut out = [0i64; 5];
        gather(&params, &[1i16, 2], &[1, 10, 100], &mut out, |acc, _| acc);
        assert_eq!(out, [1, 10, 102, 20, 100 * 2]);
    }
}
