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

use super::depthwise_conv_2d::checked_scales;
use super::depthwise_groups::depthwise_groups;
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::per_channel::Requant;

/// DEPTHWISE_CONV_2D's channel-group kernel alone (`depthwise_groups.rs`,
/// which [`depthwise_conv_2d_i8`] tries first): `false` where it declines,
/// or where [`depthwise_conv_2d_i8`] would not reach it (its
/// `checked_scales`).
pub fn depthwise_groups_i8(
    params: &DepthwiseConv2dParams,
    quant: &Requant<'_>,
    input: &[i8],
    filter: &[i8],
    bias: &[i32],
    output: &mut [i8],
) -> bool {
    let operands = (input, filter, bias, &*output);
    let Some(scales) = checked_scales(params, quant, operands) else {
        return false;
    };
    depthwise_groups(&params.window, quant, &scales, input, filter, output)
}
