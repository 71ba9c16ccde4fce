//! CONV_2D (int8) as a blocked matrix product. Returns
//! `false` for what it does not cover (grouped or
//! horizontally dilated convolutions, inputs too short for their shapes, an
//! input offset whose sums leave 16 bits); the caller then runs the reference,
//! which rewrites every output.

mod pixels;

use super::gemm::Gemm;
use crate::ops::conv_2d::{Conv2dParams, Window};
use crate::ops::per_channel::Requant;

/// Whether `x + offset` fits an `i16` half-word for every int8 `x`.
pub fn offset_fits(offset: i32) -> bool {
    (i32::from(i16::MIN) + 128..=i32::from(i16::MAX) - 127).contains(&offset)
}

/// Whether the tensors hold at least what the shapes say.
fn sizes_fit(
    input: (&[i8], usize),
    filter: (&[i8], usize),
    bias: &[i32],
    channels: usize,
    output: (&[i8], usize),
) -> bool {
    input.0.len() >= input.1
        && filter.0.len() >= filter.1
        && output.0.len() >= output.1
        && (bias.is_empty() || bias.len() >= channels)
}

/// Whether output pixel `p` of `w` reads input pixel `p` alone, through
/// the whole filter: a 1x1 filter at stride 1 without padding.
fn pointwise(w: &Window) -> bool {
    let one = (
        w.filter_height,
        w.filter_width,
        w.stride_height,
        w.stride_width,
    );
    one == (1, 1, 1, 1)
        && (w.pad_height, w.pad_width) == (0, 0)
        && (w.out_height, w.out_width) == (w.in_height, w.in_width)
}

/// The int8 CONV_2D, bit-exact with `ops::conv_2d::conv_i8`.
pub fn conv_i8(
    params: &Conv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let w = params.window;
    let depth = w.in_depth;
    let filter_size = w.filter_height * w.filter_width * depth;
    let pixels = w.batches * w.out_height * w.out_width;
    if params.filter_depth != depth
        || w.dilation_width != 1
        || !offset_fits(quant.input_offset)
        || !sizes_fit(
            (input, w.batches * w.in_height * w.in_width * depth),
            (filter, w.out_depth * filter_size),
            bias,
            w.out_depth,
            (output, pixels * w.out_depth),
        )
    {
        return false;
    }
    let gemm = Gemm {
        input,
        filter,
        bias,
        quant,
        filter_size,
        input_step: w.dilation_height * w.in_width * depth,
        filter_step: w.filter_width * depth,
        pointwise: (cfg!(feature = "conv-1x1") && pointwise(&w)).then_some(pixels),
    };
    let pixels = pixels::Pixels::new(w);
    gemm.run(pixels, output, w.out_depth)
}
