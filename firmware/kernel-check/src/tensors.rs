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

/// Bytes starting at a word boundary.
#[repr(align(4))]
pub struct Aligned<const N: usize>(pub [i8; N]);

/// A case's operands.
pub struct Tensors {
    input: Aligned<{ MAX_INPUT + 3 }>,
    filter: Aligned<{ MAX_FILTER + 3 }>,
    /// The bias, one per output channel.
    pub bias: [i32; MAX_CHANNELS],
    /// Where the case's input and filter start in their buffers: 0 to 3
    /// bytes past a word, as tensors in an arena may.
    pub at: (usize, usize),
}

impl Tensors {
    /// Zeros.
    pub const fn new() -> Self {
        Tensors {
            input: Aligned([0; MAX_INPUT + 3]),
            filter: Aligned([0; MAX_FILTER + 3]),
            bias: [0; MAX_CHANNELS],
            at: (0, 0),
        }
    }

    /// Places an input of `input` bytes and a filter of `filter` bytes at
    /// random offsets and fills them with random tensors.
    pub fn fill(&mut self, rng: &mut Rng, input: usize, filter: usize) {
        self.at = (rng.usize(0, 3), rng.usize(0, 3));
        rng.fill(&mut self.input.0[self.at.0..self.at.0 + input]);
        rng.fill(&mut self.filter.0[self.at.1..self.at.1 + filter]);
    }

    /// The input, filter and bias of the case [`Tensors::fill`] drew.
    pub fn operands(&self, input: usize, filter: usize, bias: usize) -> (&[i8], &[i8], &[i32]) {
        (
            &self.input.0[self.at.0..self.at.0 + input],
            &self.filter.0[self.at.1..self.at.1 + filter],
            &self.bias[..bias],
        )
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
