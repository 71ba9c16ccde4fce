//! x86-64 int8 kernels in AVX2 (`core::arch::x86_64`). CONV_2D: the input
//! widened once (`input + offset`, 16 bits) into a zero-padded image, the
//! filters packed once per call on the stack as `[tap pair][channel][2]`,
//! then per 4 output pixels and 16 channels a `vpbroadcastd` of each
//! pixel's tap pair times 8 channels' filter pairs (`vpmaddwd`: exact, no
//! saturation), the sums already in channel order (`packed`); small
//! products and FULLY_CONNECTED take 16-bit patches against the filter
//! widened in registers, 4 pixels x 2 channels per pass (`conv`).
//! DEPTHWISE_CONV_2D two taps per `vpmaddwd` (`depthwise`). The int8 ADD of
//! equal shapes (`add`). TensorFlow Lite's per-channel requantization with
//! its double rounding reproduced exactly, 8 lanes at a time (`requant`).
//!
//! Selected at run time: the runtime is `no_std`, so `detect` asks CPUID
//! once (in a build that enables AVX2, `-C target-cpu=x86-64-v3`, the answer
//! is known at compile time). Every function carries
//! `#[target_feature(enable = "avx2")]`, so the default build compiles them
//! as AVX2 code, and the host tests run them against the reference in any
//! build.
//! Like the Cortex-M4 kernels, each returns `false` for what it does not
//! cover, and the caller runs the reference, which rewrites every output.
//! Nothing here uses the arena: the packed filters and the widened image
//! live on the stack (up to about 170 KiB in one call).

use core::arch::x86_64::__m256i;
#[cfg(target_feature = "avxvnni")]
use core::arch::x86_64::_mm256_dpwssd_avx_epi32;
#[cfg(not(target_feature = "avxvnni"))]
use core::arch::x86_64::{_mm256_add_epi32, _mm256_madd_epi16};

mod add;
mod conv;
mod depthwise;
mod detect;
mod packed;
mod requant;
mod vnni;

pub use add::add_i8;
pub use conv::{conv_i8, fully_connected_i8};
pub use depthwise::depthwise_conv_i8;
pub use detect::{avx2, avx_vnni};
#[cfg(test)]
pub use requant::Requantizer;
pub use vnni::{conv_i8 as conv_i8_vnni, fully_connected_i8 as fully_connected_i8_vnni};

/// `acc + a0 * b0 + a1 * b1` per 32-bit lane of 16-bit pairs, wrapping:
/// `vpmaddwd` then `vpaddd`, or one `vpdpwssd` where the build enables
/// AVX-VNNI (`-C target-cpu=native` on a CPU that has it; the same sums,
/// its accumulation wraps as `vpaddd` does).
#[inline]
#[target_feature(enable = "avx2")]
fn mac(acc: __m256i, a: __m256i, b: __m256i) -> __m256i {
    // The AVX-VNNI intrinsics need Rust 1.89; only such builds compile this.
    #[cfg(target_feature = "avxvnni")]
    #[allow(clippy::incompatible_msrv)]
    // SAFETY: this build enables AVX-VNNI (`cfg` above).
    return unsafe { _mm256_dpwssd_avx_epi32(acc, a, b) };
    #[cfg(not(target_feature = "avxvnni"))]
    _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
}
