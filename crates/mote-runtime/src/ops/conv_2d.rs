//! CONV_2D: a 2-D convolution over NHWC input with OHWI filters, optional
//! bias, strides, dilation, SAME/VALID padding and a fused activation.
//!
//! Inputs: 0 input `[batches, height, width, depth]`, 1 filter
//! `[out_channels, filter_height, filter_width, depth / groups]`, 2 optional
//! bias `[out_channels]`. Output `[batches, out_height, out_width, out_channels]`.
//! int8 (per-channel weights, int32 bias) and float32, as TensorFlow Lite
//! Micro's reference `ConvPerChannel` and float `Conv` kernels.

use super::activation::clamp;
use super::fully_connected::dot_i8;
use super::padding::{axis, Padding};
use super::per_channel::{ChannelParams, OutputQuant, Requant};
use super::{EvalContext, Persistent, PrepareContext};
use crate::error::Error;
use crate::model::{Tensor, TensorType};

/// Field ids of `Conv2DOptions`.
mod field {
    pub const PADDING: u16 = 0;
    pub const STRIDE_W: u16 = 1;
    pub const STRIDE_H: u16 = 2;
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 3;
    pub const DILATION_W_FACTOR: u16 = 4;
    pub const DILATION_H_FACTOR: u16 = 5;
    pub const QUANTIZED_BIAS_TYPE: u16 = 6;
}

/// Checks the types of a 16x8 convolution-like op and computes its
/// requantization: int8 filter, int64 or int32 bias; without a bias the
/// option `quantized_bias_type` picks the accumulator (int32 only if it says
/// INT32), as TensorFlow Lite Micro does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare_16x8(
    ctx: &mut PrepareContext<'_, '_>,
    input: &crate::model::Tensor<'_>,
    filter: &crate::model::Tensor<'_>,
    bias: Option<&crate::model::Tensor<'_>>,
    output: &crate::model::Tensor<'_>,
    activation: u8,
    channels: usize,
    dimension: usize,
    bias_type_field: u16,
) -> Result<(OutputQuant, ChannelParams, bool), Error> {
    ctx.expect_type(filter, TensorType::Int8)?;
    ctx.expect_readable::<i8>(filter)?;
    let wide = match bias {
        Some(bias) if bias.dtype() == TensorType::Int64 => {
            ctx.expect_readable::<i64>(bias)?;
            true
        }
        Some(bias) if bias.dtype() == TensorType::Int32 => {
            ctx.expect_readable::<i32>(bias)?;
            false
        }
        Some(bias) => return Err(ctx.unsupported_type(bias.dtype())),
        None => ctx.options().u8(bias_type_field, 0) != TensorType::Int32.code(),
    };
    let (_, input_zero_point) = ctx.quantization(input)?;
    let output_quant = OutputQuant::prepare(ctx, output, activation, -32768, 32767)?;
    if input_zero_point != 0 || output_quant.offset != 0 {
        return Err(ctx.invalid("int16 activations must have zero point 0"));
    }
    let channels = ChannelParams::prepare(ctx, input, filter, output, channels, dimension)?;
    Ok((output_quant, channels, wide))
}

/// The geometry of a windowed op over NHWC tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Window {
    /// Batches.
    pub batches: usize,
    /// Input height.
    pub in_height: usize,
    /// Input width.
    pub in_width: usize,
    /// Input channels.
    pub in_depth: usize,
    /// Filter height.
    pub filter_height: usize,
    /// Filter width.
    pub filter_width: usize,
    /// Output height.
    pub out_height: usize,
    /// Output width.
    pub out_width: usize,
    /// Output channels.
    pub out_depth: usize,
    /// Vertical stride.
    pub stride_height: usize,
    /// Horizontal stride.
    pub stride_width: usize,
    /// Vertical dilation.
    pub dilation_height: usize,
    /// Horizontal dilation.
    pub dilation_width: usize,
    /// Padding above the input.
    pub pad_height: usize,
    /// Padding left of the input.
    pub pad_width: usize,
}

impl Window {
    /// The input rows (`y`) that filter taps `0..filter_height` of output row
    /// `out_y` read, as `(first tap, last tap + 1, input row of tap 0)`;
    /// taps falling in the padding are skipped, as TensorFlow Lite does.
    #[inline]
    fn taps(
        out: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
        taps: usize,
        size: usize,
    ) -> (usize, usize, isize) {
        // Tap t reads input origin + t * dilation, inside iff
        // ceil(-origin / d) <= t < ceil((size - origin) / d).
        let origin = (out * stride) as isize - pad as isize;
        let d = dilation.max(1) as isize;
        let first = if origin >= 0 {
            0
        } else {
            ((d - 1 - origin) / d) as usize
        }
        .min(taps);
        let size = size as isize;
        let end = if size <= origin {
            0
        } else {
            ((size - origin + d - 1) / d) as usize
        }
        .clamp(first, taps.max(first));
        (first, end, origin)
    }

    /// Rows of the filter that output row `out_y` uses.
    #[inline]
    pub fn rows(&self, out_y: usize) -> (usize, usize, isize) {
        Self::taps(
            out_y,
            self.stride_height,
            self.pad_height,
            self.dilation_height,
            self.filter_height,
            self.in_height,
        )
    }

    /// Columns of the filter that output column `out_x` uses.
    #[inline]
    pub fn columns(&self, out_x: usize) -> (usize, usize, isize) {
        Self::taps(
            out_x,
            self.stride_width,
            self.pad_width,
            self.dilation_width,
            self.filter_width,
            self.in_width,
        )
    }
}

/// What `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct Conv2dParams {
    /// Shapes, strides, dilation and padding.
    pub window: Window,
    /// Channels of one filter (the input depth divided by the groups).
    pub filter_depth: usize,
    /// Whether input 2 holds a bias.
    pub has_bias: bool,
    /// The arithmetic.
    pub kind: ConvKind,
}

/// The arithmetic of a convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum ConvKind {
    /// float32, clamped to the fused activation's range.
    Float32 {
        /// The clamp range.
        range: (f32, f32),
    },
    /// int16 activations, int8 weights ("16x8"), int64 or int32 bias.
    Int16 {
        /// Output clamp range (the zero point is 0).
        output: OutputQuant,
        /// Per output channel multiplier and shift.
        channels: ChannelParams,
        /// Whether the accumulator (and bias) is 64-bit.
        wide: bool,
    },
    /// int8 with per-channel requantization.
    Int8 {
        /// Minus the input zero point.
        input_offset: i32,
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// Per output channel multiplier and shift.
        channels: ChannelParams,
    },
    /// int8 activations, int4 filter packed two a byte ([`super::int4`]),
    /// per-channel requantization: the arithmetic of [`ConvKind::Int8`].
    Int4Filter {
        /// Minus the input zero point.
        input_offset: i32,
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// Per output channel multiplier and shift.
        channels: ChannelParams,
    },
    /// int8 activations, a LUT-compressed int8 filter ([`super::lut`]),
    /// per-channel requantization: the arithmetic of [`ConvKind::Int8`] on
    /// the decoded values.
    LutFilter {
        /// Output zero point and clamp range.
        output: OutputQuant,
        /// Per output channel multiplier and shift.
        channels: ChannelParams,
        /// Minus the input zero point, the filter's layout and its value
        /// tables ([`super::lut::store`]).
        lut: Persistent,
    },
}

/// The params of an int8 convolution-like op whose filter is
/// LUT-compressed: checks the filter and the int32 bias, computes the
/// requantization of `channels` output channels (filter axis `dimension`)
/// and stores the filter's tables.
pub(crate) fn prepare_lut_filter(
    ctx: &mut PrepareContext<'_, '_>,
    (input, filter, bias, output): (&Tensor<'_>, &Tensor<'_>, Option<&Tensor<'_>>, &Tensor<'_>),
    activation: u8,
    channels: usize,
    dimension: usize,
) -> Result<ConvKind, Error> {
    let Some(lut) = filter.lut() else {
        return Err(ctx.invalid("the filter is not LUT-compressed"));
    };
    super::lut::expect_filter(ctx, filter, bias)?;
    let (input_offset, output, channels) = int8_requant(
        ctx,
        (input, filter, output),
        activation,
        channels,
        dimension,
    )?;
    Ok(ConvKind::LutFilter {
        output,
        channels,
        lut: super::lut::store(ctx, &lut, input_offset)?,
    })
}

/// The params of an int8 convolution-like op whose filter is int4: checks
/// the packed filter and the int32 bias, then computes the requantization of
/// `channels` output channels (filter axis `dimension`).
pub(crate) fn prepare_int4_filter(
    ctx: &mut PrepareContext<'_, '_>,
    (input, filter, bias, output): (&Tensor<'_>, &Tensor<'_>, Option<&Tensor<'_>>, &Tensor<'_>),
    activation: u8,
    channels: usize,
    dimension: usize,
) -> Result<ConvKind, Error> {
    super::int4::expect_filter(ctx, filter)?;
    if let Some(bias) = bias {
        ctx.expect_type(bias, TensorType::Int32)?;
        ctx.expect_readable::<i32>(bias)?;
    }
    let (input_offset, output, channels) = int8_requant(
        ctx,
        (input, filter, output),
        activation,
        channels,
        dimension,
    )?;
    Ok(ConvKind::Int4Filter {
        input_offset,
        output,
        channels,
    })
}

/// The requantization of an int8 convolution-like op: minus the input zero
/// point, the output's zero point and clamp range, and the scales of
/// `channels` output channels (filter axis `dimension`).
pub(crate) fn int8_requant(
    ctx: &mut PrepareContext<'_, '_>,
    (input, filter, output): (&Tensor<'_>, &Tensor<'_>, &Tensor<'_>),
    activation: u8,
    channels: usize,
    dimension: usize,
) -> Result<(i32, OutputQuant, ChannelParams), Error> {
    let (_, input_zero_point) = ctx.quantization(input)?;
    let output_quant = OutputQuant::prepare(ctx, output, activation, -128, 127)?;
    let channels = ChannelParams::prepare(ctx, input, filter, output, channels, dimension)?;
    Ok((input_zero_point.wrapping_neg(), output_quant, channels))
}

/// Reads the padding, strides and dilation of a convolution-like op and
/// checks them against the input, filter and output shapes.
pub(crate) fn window(
    ctx: &PrepareContext<'_, '_>,
    ids: [u16; 3],
    dilation_ids: Option<[u16; 2]>,
    input: [usize; 4],
    filter: (usize, usize),
    output: [usize; 4],
) -> Result<Window, Error> {
    let options = ctx.options();
    let [padding, stride_w, stride_h] = ids;
    let padding =
        Padding::from_code(options.u8(padding, 0)).ok_or(ctx.invalid("unknown padding"))?;
    let positive = |v: i32| usize::try_from(v).ok().filter(|v| *v > 0);
    let stride_width = positive(options.i32(stride_w, 1)).ok_or(ctx.invalid("bad stride"))?;
    let stride_height = positive(options.i32(stride_h, 1)).ok_or(ctx.invalid("bad stride"))?;
    let (dilation_width, dilation_height) = match dilation_ids {
        Some([w, h]) => (
            positive(options.i32(w, 1)).ok_or(ctx.invalid("bad dilation"))?,
            positive(options.i32(h, 1)).ok_or(ctx.invalid("bad dilation"))?,
        ),
        None => (1, 1),
    };
    let [batches, in_height, in_width, in_depth] = input;
    let (filter_height, filter_width) = filter;
    let rows = axis(
        padding,
        in_height,
        filter_height,
        stride_height,
        dilation_height,
    )
    .ok_or(ctx.invalid("bad window"))?;
    let columns = axis(
        padding,
        in_width,
        filter_width,
        stride_width,
        dilation_width,
    )
    .ok_or(ctx.invalid("bad window"))?;
    if output[0] != batches || output[1] != rows.out || output[2] != columns.out {
        return Err(ctx.invalid("output shape does not match the window"));
    }
    Ok(Window {
        batches,
        in_height,
        in_width,
        in_depth,
        filter_height,
        filter_width,
        out_height: rows.out,
        out_width: columns.out,
        out_depth: output[3],
        stride_height,
        stride_width,
        dilation_height,
        dilation_width,
        pad_height: rows.pad,
        pad_width: columns.pad,
    })
}

/// The four dimensions of a rank-4 shape.
pub(crate) fn dims4(
    ctx: &PrepareContext<'_, '_>,
    shape: crate::model::Shape,
) -> Result<[usize; 4], Error> {
    if shape.rank() != 4 {
        return Err(ctx.invalid("expected a rank-4 tensor"));
    }
    Ok([shape.dim(0), shape.dim(1), shape.dim(2), shape.dim(3)])
}

/// Checks the operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<Conv2dParams, Error> {
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
    let filter_depth = f[3];
    if f[0] != window.out_depth
        || filter_depth == 0
        || window.in_depth % filter_depth != 0
        || window.out_depth % (window.in_depth / filter_depth).max(1) != 0
    {
        return Err(ctx.invalid("filter shape does not match input and output"));
    }
    if let Some(bias) = &bias {
        if bias.shape().elements() != window.out_depth {
            return Err(ctx.invalid("bias size is not the number of output channels"));
        }
    }
    let activation = ctx.options().u8(field::FUSED_ACTIVATION_FUNCTION, 0);
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Float32 => {
            ctx.expect_weights::<f32, f32>(&filter, bias.as_ref())?;
            let range = ctx.float_activation(activation)?;
            ConvKind::Float32 { range }
        }
        // Without the `int4` feature an int4 filter falls to the int8 arm,
        // which refuses its type.
        TensorType::Int8 if super::int4::INT4 && filter.dtype() == TensorType::Int4 => {
            prepare_int4_filter(
                ctx,
                (&input, &filter, bias.as_ref(), &output),
                activation,
                window.out_depth,
                0,
            )?
        }
        TensorType::Int8 if super::lut::LUT && filter.lut().is_some() => prepare_lut_filter(
            ctx,
            (&input, &filter, bias.as_ref(), &output),
            activation,
            window.out_depth,
            0,
        )?,
        TensorType::Int8 => {
            ctx.expect_weights::<i8, i32>(&filter, bias.as_ref())?;
            let (input_offset, output, channels) = int8_requant(
                ctx,
                (&input, &filter, &output),
                activation,
                window.out_depth,
                0,
            )?;
            ConvKind::Int8 {
                input_offset,
                output,
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
                window.out_depth,
                0,
                field::QUANTIZED_BIAS_TYPE,
            )?;
            ConvKind::Int16 {
                output: output_quant,
                channels,
                wide,
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(Conv2dParams {
        window,
        filter_depth,
        has_bias: bias.is_some(),
        kind,
    })
}

/// Runs the operator.
pub fn eval(params: &Conv2dParams, ctx: &mut EvalContext<'_>) -> Result<(), Error> {
    match params.kind {
        ConvKind::Float32 { range } => {
            let filter = ctx.input_as::<f32>(1);
            let bias = if params.has_bias {
                ctx.input_as::<f32>(2)
            } else {
                &[]
            };
            let (input, output) = ctx.io_as::<f32, f32>(0, 0);
            conv_f32(params, range, input, filter, bias, output);
        }
        ConvKind::Int16 {
            output,
            channels,
            wide,
        } => {
            let input = ctx.input_as::<i16>(0);
            let filter = ctx.input_as::<i8>(1);
            let bias = if !params.has_bias {
                Bias::None
            } else if wide {
                Bias::Wide(ctx.input_as::<i64>(2))
            } else {
                Bias::Narrow(ctx.input_as::<i32>(2))
            };
            let (out, multipliers, shifts) = channels.with_output::<i16>(ctx, 0);
            let quant = Requant {
                input_offset: 0,
                output,
                multipliers,
                shifts,
            };
            conv_i16(params, &quant, wide, input, filter, bias, out);
        }
        ConvKind::Int8 {
            input_offset,
            output,
            channels,
        } => {
            let o = channels.int8_operands(ctx, params.has_bias, input_offset, output);
            crate::arch::conv_i8(params, &o.quant, o.input, o.weights, o.bias, o.out);
        }
        ConvKind::Int4Filter {
            input_offset,
            output,
            channels,
        } => {
            if !super::int4::INT4 {
                return Err(ctx.invalid_data("an int4 filter needs mote-runtime's `int4` feature"));
            }
            let o = channels.int8_operands(ctx, params.has_bias, input_offset, output);
            conv_i8_int4(params, &o.quant, o.input, o.weights, o.bias, o.out);
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
            conv_i8_lut(params, &o.quant, o.input, &o.filter, o.bias, o.out);
        }
    }
    Ok(())
}

/// Calls `f(batch, out_y, out_x, y_first, y_end, x_first, x_end)` for every
/// output pixel in order, with the filter taps inside the image.
#[inline]
fn for_each_output(w: &Window, mut f: impl FnMut(usize, usize, usize, usize, usize, usize, usize)) {
    for b in 0..w.batches {
        for out_y in 0..w.out_height {
            let (y_first, y_end, _) = w.rows(out_y);
            for out_x in 0..w.out_width {
                let (x_first, x_end, _) = w.columns(out_x);
                f(b, out_y, out_x, y_first, y_end, x_first, x_end);
            }
        }
    }
}

/// The int8 kernel: [`conv_2d_fast`](super::conv_2d_fast) where it applies
/// (the same numbers, faster), else the reference.
pub fn conv_i8(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    if super::conv_2d_fast::supports(params, quant.input_offset) {
        super::conv_2d_fast::conv_i8(params, quant, input, filter, bias, output);
    } else {
        conv_i8_reference(params, quant, input, filter, bias, output);
    }
}

/// The int8 reference kernel: for each output, the sum over the taps inside
/// the image of `filter * (input + input_offset)`, plus the bias, requantized
/// per channel. `sum(f * (x + o))` is computed as `sum(f * x) + o * sum(f)`,
/// the same number in wrapping 32-bit arithmetic.
pub fn conv_i8_reference(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    let fd = params.filter_depth;
    conv_i8_taps(params, quant, input, bias, output, |f_at, x| {
        filter.get(f_at..f_at + fd).map(|k| dot_i8(k, x))
    });
}

/// The int4-filter kernel: [`conv_i8_reference`]'s sums with each tap's
/// `filter_depth` weights unpacked [`super::int4::BLOCK`] at a time from
/// `packed` (the filter `[out, height, width, depth]` as TensorFlow Lite
/// stores int4, so a tap may start mid-byte).
pub fn conv_i8_int4(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    packed: &[i8],
    bias: &[i32],
    output: &mut [i8],
) {
    conv_i8_taps(params, quant, input, bias, output, |f_at, x| {
        Some(super::int4::dot(packed, f_at, x))
    });
}

/// The LUT-filter kernel: [`conv_i8_reference`]'s sums with each tap's
/// `filter_depth` weights decoded [`super::lut::BLOCK`] at a time from
/// `filter` (one output channel's weights are a run of the filter, so each
/// tap reads one value table).
pub fn conv_i8_lut(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &super::lut::LutFilter<'_>,
    bias: &[i32],
    output: &mut [i8],
) {
    conv_i8_taps(params, quant, input, bias, output, |f_at, x| {
        Some(filter.dot(f_at, x))
    });
}

/// The int8 convolution every filter encoding shares: the walk over outputs
/// and taps, the bias and the requantization. `tap(f_at, x)` is
/// `(sum(f * x), sum(f))` of the filter's `filter_depth` weights from element
/// `f_at` with the input `x` (`None` skips the tap, as out-of-range data).
fn conv_i8_taps(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    bias: &[i32],
    output: &mut [i8],
    tap: impl Fn(usize, &[i8]) -> Option<(i32, i32)>,
) {
    let w = &params.window;
    let fd = params.filter_depth;
    let groups = (w.in_depth / fd.max(1)).max(1);
    let per_group = (w.out_depth / groups).max(1);
    let filter_size = w.filter_height * w.filter_width * fd;
    let mut out_index = 0usize;
    for_each_output(w, |b, out_y, out_x, y_first, y_end, x_first, x_end| {
        let in_y0 = (out_y * w.stride_height) as isize - w.pad_height as isize;
        let in_x0 = (out_x * w.stride_width) as isize - w.pad_width as isize;
        for oc in 0..w.out_depth {
            let group = oc / per_group;
            let filter_base = oc * filter_size;
            let mut acc = 0i32;
            for fy in y_first..y_end {
                let in_y = (in_y0 + (fy * w.dilation_height) as isize) as usize;
                let row_base = (b * w.in_height + in_y) * w.in_width;
                for fx in x_first..x_end {
                    let in_x = (in_x0 + (fx * w.dilation_width) as isize) as usize;
                    let at = (row_base + in_x) * w.in_depth + group * fd;
                    let f_at = filter_base + (fy * w.filter_width + fx) * fd;
                    let Some((dot, sum)) = input.get(at..at + fd).and_then(|x| tap(f_at, x)) else {
                        continue;
                    };
                    acc = acc
                        .wrapping_add(dot)
                        .wrapping_add(sum.wrapping_mul(quant.input_offset));
                }
            }
            if let Some(bias) = bias.get(oc) {
                acc = acc.wrapping_add(*bias);
            }
            if let Some(out) = output.get_mut(out_index) {
                *out = quant.apply(acc, oc);
            }
            out_index += 1;
        }
    });
}

/// A 16x8 kernel's bias.
#[derive(Clone, Copy, Debug)]
pub enum Bias<'b> {
    /// No bias.
    None,
    /// int32 bias (int32 accumulator).
    Narrow(&'b [i32]),
    /// int64 bias (int64 accumulator).
    Wide(&'b [i64]),
}

impl Bias<'_> {
    /// The bias of channel `c` (0 without one).
    #[inline]
    pub fn get(&self, c: usize) -> i64 {
        match self {
            Bias::None => 0,
            Bias::Narrow(b) => b.get(c).map_or(0, |v| i64::from(*v)),
            Bias::Wide(b) => b.get(c).copied().unwrap_or(0),
        }
    }
}

/// The 16x8 reference kernel: int16 input (zero point 0), int8 filter, sums
/// in 64 bits (which, truncated, is also the 32-bit accumulator's wrapping
/// sum), plus the bias, requantized per channel.
pub fn conv_i16(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    wide: bool,
    input: &[i16],
    filter: &[i8],
    bias: Bias<'_>,
    output: &mut [i16],
) {
    let w = &params.window;
    let fd = params.filter_depth;
    let groups = (w.in_depth / fd.max(1)).max(1);
    let per_group = (w.out_depth / groups).max(1);
    let filter_size = w.filter_height * w.filter_width * fd;
    let mut out_index = 0usize;
    for_each_output(w, |b, out_y, out_x, y_first, y_end, x_first, x_end| {
        let in_y0 = (out_y * w.stride_height) as isize - w.pad_height as isize;
        let in_x0 = (out_x * w.stride_width) as isize - w.pad_width as isize;
        for oc in 0..w.out_depth {
            let group = oc / per_group;
            let filter_base = oc * filter_size;
            let mut acc = 0i64;
            for fy in y_first..y_end {
                let in_y = (in_y0 + (fy * w.dilation_height) as isize) as usize;
                let row_base = (b * w.in_height + in_y) * w.in_width;
                for fx in x_first..x_end {
                    let in_x = (in_x0 + (fx * w.dilation_width) as isize) as usize;
                    let at = (row_base + in_x) * w.in_depth + group * fd;
                    let f_at = filter_base + (fy * w.filter_width + fx) * fd;
                    let (Some(x), Some(k)) = (input.get(at..at + fd), filter.get(f_at..f_at + fd))
                    else {
                        continue;
                    };
                    let dot = x.iter().zip(k).fold(0i64, |d, (&a, &c)| {
                        d.wrapping_add(i64::from(i32::from(a) * i32::from(c)))
                    });
                    acc = acc.wrapping_add(dot);
                }
            }
            acc = acc.wrapping_add(bias.get(oc));
            if let Some(out) = output.get_mut(out_index) {
                *out = quant.apply_i16(acc, oc, wide);
            }
            out_index += 1;
        }
    });
}

/// The float32 reference kernel, summing in TensorFlow Lite's order (filter
/// row, column, channel), then adding the bias and clamping.
pub fn conv_f32(
    params: &Conv2dParams,
    range: (f32, f32),
    input: &[f32],
    filter: &[f32],
    bias: &[f32],
    output: &mut [f32],
) {
    let w = &params.window;
    let fd = params.filter_depth;
    let groups = (w.in_depth / fd.max(1)).max(1);
    let per_group = (w.out_depth / groups).max(1);
    let filter_size = w.filter_height * w.filter_width * fd;
    let mut out_index = 0usize;
    for_each_output(w, |b, out_y, out_x, y_first, y_end, x_first, x_end| {
        let in_y0 = (out_y * w.stride_height) as isize - w.pad_height as isize;
        let in_x0 = (out_x * w.stride_width) as isize - w.pad_width as isize;
        for oc in 0..w.out_depth {
            let group = oc / per_group;
            let filter_base = oc * filter_size;
            let mut total = 0f32;
            for fy in y_first..y_end {
                let in_y = (in_y0 + (fy * w.dilation_height) as isize) as usize;
                let row_base = (b * w.in_height + in_y) * w.in_width;
                for fx in x_first..x_end {
                    let in_x = (in_x0 + (fx * w.dilation_width) as isize) as usize;
                    let at = (row_base + in_x) * w.in_depth + group * fd;
                    let f_at = filter_base + (fy * w.filter_width + fx) * fd;
                    let (Some(x), Some(k)) = (input.get(at..at + fd), filter.get(f_at..f_at + fd))
                    else {
                        continue;
                    };
                    for (a, c) in x.iter().zip(k) {
                        total += a * c;
                    }
                }
            }
            let b = bias.get(oc).copied().unwrap_or(0.0);
            if let Some(out) = output.get_mut(out_index) {
                *out = clamp(total + b, range);
            }
            out_index += 1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(
        in_hw: (usize, usize),
        filter: (usize, usize),
        out_hw: (usize, usize),
        pad: (usize, usize),
        stride: usize,
    ) -> Window {
        Window {
            batches: 1,
            in_height: in_hw.0,
            in_width: in_hw.1,
            in_depth: 1,
            filter_height: filter.0,
            filter_width: filter.1,
            out_height: out_hw.0,
            out_width: out_hw.1,
            out_depth: 1,
            stride_height: stride,
            stride_width: stride,
            dilation_height: 1,
            dilation_width: 1,
            pad_height: pad.0,
            pad_width: pad.1,
        }
    }

    #[test]
    fn float_same_padding_skips_outside_taps() {
        // 3x3 input 1..9, 3x3 filter of ones, SAME, stride 1: each output is
        // the sum of its in-image neighbourhood.
        // corner (0,0): 1+2+4+5 = 12; centre: 45; bias 1 added.
        let params = Conv2dParams {
            window: window((3, 3), (3, 3), (3, 3), (1, 1), 1),
            filter_depth: 1,
            has_bias: true,
            kind: ConvKind::Float32 {
                range: (f32::MIN, f32::MAX),
            },
        };
        let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut out = [0f32; 9];
        conv_f32(
            &params,
            (f32::MIN, f32::MAX),
            &input,
            &[1.0; 9],
            &[1.0],
            &mut out,
        );
        // row 0: 1+2+4+5, 1+2+3+4+5+6, 2+3+5+6
        assert_eq!(out, [13., 22., 17., 28., 46., 34., 25., 40., 29.]);
    }

    #[test]
    fn int8_stride_two_with_offset() {
        // 4x4 input all 10 with zero point 2 (offset -2): x + o = 8.
        // 2x2 filter [1, 2, 3, 4] (sum 10), VALID, stride 2 -> 2x2 outputs of
        // 8 * 10 = 80, bias -16 -> 64; multiplier 0.25 (2^30, -1): 16;
        // output zero point 3 -> 19.
        let params = Conv2dParams {
            window: window((4, 4), (2, 2), (2, 2), (0, 0), 2),
            filter_depth: 1,
            has_bias: true,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let quant = Requant {
            input_offset: -2,
            output: OutputQuant {
                offset: 3,
                min: -128,
                max: 127,
            },
            multipliers: &[1 << 30],
            shifts: &[-1],
        };
        let mut out = [0i8; 4];
        conv_i8(&params, &quant, &[10; 16], &[1, 2, 3, 4], &[-16], &mut out);
        assert_eq!(out, [19; 4]);
    }

    #[test]
    fn int8_two_output_channels_and_padding() {
        // 1x2 input [1, 2] (offset 0), 1x3 filters [1, 1, 1] and [0, 1, -1],
        // SAME: pad 1 each side.
        // ch0 at x=0: 1+2 = 3; x=1: 1+2 = 3. ch1 at x=0: (pad)*0 + 1*1 - 2 = -1;
        // x=1: 1*0 + 2*1 + pad = 2. Multiplier 1.0 (2^30, 1).
        let mut w = window((1, 2), (1, 3), (1, 2), (0, 1), 1);
        w.out_depth = 2;
        let params = Conv2dParams {
            window: w,
            filter_depth: 1,
            has_bias: false,
            kind: ConvKind::Float32 { range: (0.0, 0.0) },
        };
        let quant = Requant {
            input_offset: 0,
            output: OutputQuant {
                offset: 0,
                min: -128,
                max: 127,
            },
            multipliers: &[1 << 30, 1 << 30],
            shifts: &[1, 1],
        };
        let mut out = [0i8; 4];
        conv_i8(
            &params,
            &quant,
            &[1, 2],
            &[1, 1, 1, 0, 1, -1],
            &[],
            &mut out,
        );
        assert_eq!(out, [3, -1, 3, 2]);
    }

    #[test]
    fn lut_filter_equals_the_reference_on_its_decoded_values() {
        let mut word = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: u64| (word() % n.max(1)) as usize;
        for case in 0..200 {
            let (fh, fw) = (1 + next(3), 1 + next(3));
            let stride = 1 + next(2);
            let (in_h, in_w) = (1 + next(6), 1 + next(6));
            // Depths past the 64-value decode block, and grouped filters.
            let filter_depth = [1, 3, 8, 70][next(4)];
            let groups = 1 + next(2);
            let out_depth = groups * (1 + next(4));
            let mut w = window(
                (in_h, in_w),
                (fh, fw),
                (in_h.div_ceil(stride), in_w.div_ceil(stride)),
                (next(fh as u64), next(fw as u64)),
                stride,
            );
            w.in_depth = filter_depth * groups;
            w.out_depth = out_depth;
            let params = Conv2dParams {
                window: w,
                filter_depth,
                has_bias: true,
                kind: ConvKind::Float32 { range: (0.0, 0.0) },
            };
            let input: Vec<i8> = (0..in_h * in_w * w.in_depth)
                .map(|_| next(256) as u8 as i8)
                .collect();
            let per_channel = fh * fw * filter_depth;
            let (layout, values, packed, decoded) = crate::ops::lut::random_filter(
                &mut next,
                out_depth * per_channel,
                out_depth,
                per_channel,
            );
            let bias: Vec<i32> = (0..out_depth).map(|_| next(4000) as i32 - 2000).collect();
            let multipliers: Vec<i32> = (0..out_depth)
                .map(|_| (1 << 30) + next(1 << 30) as i32)
                .collect();
            let shifts: Vec<i32> = (0..out_depth).map(|_| -(next(10) as i32)).collect();
            let quant = Requant {
                input_offset: next(256) as i32 - 127,
                output: OutputQuant {
                    offset: -5,
                    min: -128,
                    max: 127,
                },
                multipliers: &multipliers,
                shifts: &shifts,
            };
            let outputs = w.out_height * w.out_width * out_depth;
            let (mut want, mut got) = (vec![0i8; outputs], vec![0i8; outputs]);
            conv_i8_reference(&params, &quant, &input, &decoded, &bias, &mut want);
            let filter = crate::ops::lut::LutFilter {
                layout,
                values: &values,
                packed: &packed,
            };
            conv_i8_lut(&params, &quant, &input, &filter, &bias, &mut got);
            assert_eq!(got, want, "case {case} (LUT {layout:?}): {params:?}");
        }
    }
}
