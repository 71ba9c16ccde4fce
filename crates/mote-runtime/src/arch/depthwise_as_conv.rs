//! DEPTHWISE_CONV_2D over one input channel (any depth multiplier `M`, as
//! micro_speech's first layer) as the CONV_2D with `M` output channels: its
//! filter `[1, H, W, M]` transposed to `[M, H, W, 1]`, into a stack buffer of
//! up to [`FILTER`] bytes, runs the blocked kernel of `gemm.rs`. Bit-exact:
//! output channel `m` of pixel `p` is the same sum of `filter * (input +
//! offset)` over the same taps (wrapping 32-bit sums do not depend on the
//! order), plus bias `m`, requantized by channel `m`'s scale in both ops.

use super::conv_2d;
use crate::ops::conv_2d::Conv2dParams;
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::per_channel::Requant;

/// The largest filter (`H * W * M` bytes) transposed onto the stack.
pub const FILTER: usize = 1024;

/// The int8 DEPTHWISE_CONV_2D of a one-channel input, bit-exact with
/// `ops::depthwise_conv_2d::depthwise_conv_i8`: `false` (the caller runs the
/// reference) for more input channels, a filter over [`FILTER`] bytes or
/// shorter than its shape, or what `conv_2d::conv_i8` declines. Out of line:
/// its buffer takes stack only while it runs.
#[inline(never)]
pub fn depthwise_as_conv(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let w = params.window;
    let (m, taps) = (w.out_depth, w.filter_height * w.filter_width);
    let size = taps.saturating_mul(m);
    if w.in_depth != 1 || params.depth_multiplier != m || m == 0 || size > FILTER {
        return false;
    }
    let Some(filter) = filter.get(..size) else {
        return false;
    };
    let mut buf = [0i8; FILTER];
    // Channel `c`'s taps are every `m`-th byte from `c` on.
    for (c, row) in buf.chunks_exact_mut(taps.max(1)).take(m).enumerate() {
        let column = filter.get(c..).unwrap_or_default().iter().step_by(m);
        for (d, &v) in row.iter_mut().zip(column) {
            *d = v;
        }
    }
    let conv = Conv2dParams {
        window: w,
        filter_depth: 1,
        has_bias: params.has_bias,
        kind: params.kind,
    };
    let filter = buf.get(..size).unwrap_or_default();
    conv_2d::conv_i8(&conv, quant, input, filter, bias, output)
}
