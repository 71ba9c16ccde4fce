//! The input, filter and bias buffers every case draws into, and the
//! window geometry the convolutions share.

use mote_runtime::ops::conv_2d::Window;

use crate::quant::MAX_CHANNELS;
use crate::rng::Rng;

/// Input bytes of the largest case.
pub const MAX_INPUT: usize = 32 * 1024;
/// Filter bytes of the largest case.
pub const MAX_FILTER: usize = 32 * 1024;
/// Multiply-accumulates of the largest case (keeps a case's time on QEMU short).
pub const MAX_MACS: usize = 300_000;

/// A case's operands.
pub struct Tensors {
    /// The input tensor.
    pub input: [i8; MAX_INPUT],
    /// The filter (weights).
    pub filter: [i8; MAX_FILTER],
    /// The bias, one per output channel.
    pub bias: [i32; MAX_CHANNELS],
}

impl Tensors {
    /// Zeros.
    pub const fn new() -> Self {
        Tensors {
            input: [0; MAX_INPUT],
            filter: [0; MAX_FILTER],
            bias: [0; MAX_CHANNELS],
        }
    }

    /// Fills the first `input` and `filter` bytes with random tensors.
    pub fn fill(&mut self, rng: &mut Rng, input: usize, filter: usize) {
        rng.fill(&mut self.input[..input]);
        rng.fill(&mut self.filter[..filter]);
    }
}

/// Output size along one axis, as TensorFlow Lite's padding gives it (at
/// least 1).
fn out_size(input: usize, pad: usize, filter: usize, dilation: usize, stride: usize) -> usize {
    (input + 2 * pad).saturating_sub(dilation * (filter - 1) + 1) / stride + 1
}

/// A window over `(height, width)` input pixels with the given filter,
/// strides, dilations and padding (each `(height, width)`).
pub fn window(
    batches: usize,
    (in_height, in_width): (usize, usize),
    (in_depth, out_depth): (usize, usize),
    (filter_height, filter_width): (usize, usize),
    (stride_height, stride_width): (usize, usize),
    (dilation_height, dilation_width): (usize, usize),
    (pad_height, pad_width): (usize, usize),
) -> Window {
    Window {
        batches,
        in_height,
        in_width,
        in_depth,
        filter_height,
        filter_width,
        out_height: out_size(
            in_height,
            pad_height,
            filter_height,
            dilation_height,
            stride_height,
        ),
        out_width: out_size(
            in_width,
            pad_width,
            filter_width,
            dilation_width,
            stride_width,
        ),
        out_depth,
        stride_height,
        stride_width,
        dilation_height,
        dilation_width,
        pad_height,
        pad_width,
    }
}

/// Input, output and filter-window bytes and MACs of `w` (filters of
/// `filter_depth` channels).
pub fn sizes(w: &Window, filter_depth: usize) -> (usize, usize, usize) {
    let input = w.batches * w.in_height * w.in_width * w.in_depth;
    let output = w.batches * w.out_height * w.out_width * w.out_depth;
    let macs = output * w.filter_height * w.filter_width * filter_depth;
    (input, output, macs)
}
