//! The Cortex-M4 DSP kernels' own entry points, for the kernel check that
//! runs them on QEMU against the reference kernels of `ops`
//! (`firmware/kernel-check`, `cargo xtask kernel-check`). Each returns
//! whether it ran: `false` for a case it does not cover (then it may have
//! written part of the output, and `arch`'s dispatch runs the reference).
//! Not an API: hidden, and only in `cfg(mote_dsp)` builds.

pub use super::conv_2d::conv_i8 as conv_2d_i8;
/// The largest filter DEPTHWISE_CONV_2D over one input channel transposes
/// for CONV_2D's kernel.
pub use super::depthwise_as_conv::FILTER as DEPTHWISE_AS_CONV_FILTER;
pub use super::depthwise_conv_2d::depthwise_conv_i8 as depthwise_conv_2d_i8;
pub use super::fully_connected::fully_connected_i8;
/// The longest input row FULLY_CONNECTED's kernel takes.
pub use super::fully_connected::CHUNK as FULLY_CONNECTED_ROW;

use super::conv_2d::offset_fits;
use super::depthwise_groups::depthwise_groups;
use super::requant::Scales;
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::per_channel::Requant;

/// DEPTHWISE_CONV_2D's channel-group kernel alone (`depthwise_groups.rs`,
/// which [`depthwise_conv_2d_i8`] tries first): `false` where it declines,
/// or where [`depthwise_conv_2d_i8`] would not reach it (a depth multiplier
/// other than 1, an input offset whose sums leave 16 bits, scales or bias
/// shorter than the channels).
pub fn depthwise_groups_i8(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let w = params.window;
    if params.depth_multiplier != 1 || w.in_depth != w.out_depth || !offset_fits(quant.input_offset)
    {
        return false;
    }
    let Some(scales) = Scales::new(quant, bias, w.out_depth) else {
        return false;
    };
    depthwise_groups(&w, (quant, bias), &scales, input, filter, output)
}
