//! x86-64 int8 kernels in AVX2 (`core::arch::x86_64`): CONV_2D and
//! FULLY_CONNECTED as a matrix product of 16-bit patches (`input + offset`,
//! gathered once per tile of output pixels) with the int8 filters widened
//! in registers (`vpmovsxbw`), multiplied by `vpmaddwd` (exact: no
//! saturation, every pair of products fits 32 bits), 4 pixels x 2 channels
//! per pass; DEPTHWISE_CONV_2D 16 channels per pass with exact 16x16->32
//! products; and the per-channel requantization 8 lanes at a time with
//! TensorFlow Lite's double rounding reproduced exactly (64-bit products),
//! which also makes the int8 ADD of equal shapes 8 elements at a time.
//!
//! Selected at compile time: the runtime is `no_std`, so the dispatch in
//! `arch` uses `cfg(target_feature = "avx2")` (`-C target-cpu=x86-64-v3`,
//! or `native` on an AVX2 machine). Every function carries
//! `#[target_feature(enable = "avx2")]`, so the host tests run these kernels
//! (after `is_x86_feature_detected!`) against the reference in any build.
//! Like the Cortex-M4 kernels, each returns `false` for what it does not
//! cover, and the caller runs the reference, which rewrites every output.

mod add;
mod conv;
mod depthwise;
mod packed;
mod requant;

pub use add::add_i8;
pub use conv::{conv_i8, fully_connected_i8};
pub use depthwise::depthwise_conv_i8;
#[cfg(test)]
pub use requant::Requantizer;
