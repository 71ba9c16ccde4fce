//! What AVERAGE_POOL_2D and MAX_POOL_2D share: the window, the types and the
//! clamp range (TensorFlow Lite Micro's `pooling_common.cc`).

use super::activation::Activation;
use super::conv_2d::{dims4, window, Window};
use super::per_channel::OutputQuant;
use super::PrepareContext;
use crate::error::Error;
use crate::model::TensorType;

/// Field ids of `Pool2DOptions`.
mod field {
    pub const PADDING: u16 = 0;
    pub const STRIDE_W: u16 = 1;
    pub const STRIDE_H: u16 = 2;
    pub const FILTER_WIDTH: u16 = 3;
    pub const FILTER_HEIGHT: u16 = 4;
    pub const FUSED_ACTIVATION_FUNCTION: u16 = 5;
}

/// What a pooling `eval` needs, computed once by `prepare`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct PoolParams {
    /// Shapes, strides and padding (no dilation; input and output depth agree).
    pub window: Window,
    /// The arithmetic.
    pub kind: PoolKind,
}

/// The element type of a pooling op and its clamp range.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub enum PoolKind {
    /// float32.
    Float32 {
        /// The fused activation's range.
        range: (f32, f32),
    },
    /// int8 (input and output share their quantization).
    Int8 {
        /// The fused activation's range.
        min: i32,
        /// The fused activation's range.
        max: i32,
    },
}

/// Checks a pooling operator and computes its params.
pub fn prepare(ctx: &mut PrepareContext<'_, '_>) -> Result<PoolParams, Error> {
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    let in_dims = dims4(ctx, input.shape())?;
    let out_dims = dims4(ctx, output.shape())?;
    let options = ctx.options();
    let filter_height = usize::try_from(options.i32(field::FILTER_HEIGHT, 0)).unwrap_or(0);
    let filter_width = usize::try_from(options.i32(field::FILTER_WIDTH, 0)).unwrap_or(0);
    let window = window(
        ctx,
        [field::PADDING, field::STRIDE_W, field::STRIDE_H],
        None,
        in_dims,
        (filter_height, filter_width),
        out_dims,
    )?;
    if window.out_depth != window.in_depth {
        return Err(ctx.invalid("pooling keeps the depth"));
    }
    let activation = options.u8(field::FUSED_ACTIVATION_FUNCTION, 0);
    ctx.expect_type(&output, input.dtype())?;
    let kind = match input.dtype() {
        TensorType::Float32 => {
            let range = Activation::from_code(activation)
                .and_then(Activation::float_range)
                .ok_or(ctx.invalid("unsupported fused activation"))?;
            PoolKind::Float32 { range }
        }
        TensorType::Int8 => {
            ctx.quantization(&input)?;
            let q = OutputQuant::prepare(ctx, &output, activation, -128, 127)?;
            PoolKind::Int8 {
                min: q.min,
                max: q.max,
            }
        }
        other => return Err(ctx.unsupported_type(other)),
    };
    Ok(PoolParams { window, kind })
}

/// The in-image part of one pooling window.
#[derive(Clone, Copy, Debug)]
pub struct Span<'w> {
    window: &'w Window,
    batch: usize,
    rows: (usize, usize, isize),
    columns: (usize, usize, isize),
}

impl Span<'_> {
    /// Element offsets (of channel 0) of the window's in-image pixels, row by
    /// row, as TensorFlow Lite visits them.
    pub fn offsets(&self) -> impl Iterator<Item = usize> + '_ {
        let w = self.window;
        let (y_first, y_end, in_y0) = self.rows;
        let (x_first, x_end, in_x0) = self.columns;
        let b = self.batch;
        (y_first..y_end).flat_map(move |fy| {
            let in_y = (in_y0 + fy as isize) as usize;
            (x_first..x_end).map(move |fx| {
                let in_x = (in_x0 + fx as isize) as usize;
                ((b * w.in_height + in_y) * w.in_width + in_x) * w.in_depth
            })
        })
    }

    /// Number of in-image pixels.
    pub fn count(&self) -> usize {
        (self.rows.1 - self.rows.0) * (self.columns.1 - self.columns.0)
    }
}

/// Calls `f(span, output_pixel)` for each output pixel in order, with its
/// window clipped to the image as TensorFlow Lite does. Returns `false` (and
/// stops) at a window with no pixel inside the image.
pub fn for_each_window(w: &Window, mut f: impl FnMut(Span<'_>, usize)) -> bool {
    let mut index = 0;
    for batch in 0..w.batches {
        for out_y in 0..w.out_height {
            let rows = w.rows(out_y);
            for out_x in 0..w.out_width {
                let columns = w.columns(out_x);
                if rows.0 >= rows.1 || columns.0 >= columns.1 {
                    return false;
                }
                let span = Span {
                    window: w,
                    batch,
                    rows,
                    columns,
                };
                f(span, index);
                index += 1;
            }
        }
    }
    true
}
