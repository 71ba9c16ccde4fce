//! Optimized int8 kernels, chosen at compile time. On `thumbv7em` (Cortex-M4
//! and M7, `cfg(mote_dsp)` from `build.rs`) CONV_2D, DEPTHWISE_CONV_2D and
//! FULLY_CONNECTED run blocked kernels that do two MACs per `SMLAD`; elsewhere,
//! or with the `reference-kernels` feature, the entry points below are the
//! reference kernels of `ops`. The blocked kernels are written once over the
//! primitives of `simd`: Armv7E-M instructions in `cortex_m4` (and two whole
//! inner loops in `asm!`, FULLY_CONNECTED's and CONV_2D's pixel pairs'),
//! their plain Rust twin in `portable`, which the host tests compare with
//! the reference kernels. Both give the reference's results bit for bit: the sums are the
//! same numbers in wrapping 32-bit arithmetic, requantized by the same code.
//!
//! On x86-64 the three ops and ADD run the kernels of `x86_64` (explicit
//! AVX2, bit-exact with the reference, tested against it on any x86-64 host
//! with AVX2) when the CPU has AVX2: asked once with CPUID in the default
//! build, known at compile time in one that enables AVX2 (`-C
//! target-cpu=x86-64-v3` or `native`); without AVX2, the portable kernels of
//! `ops`.

#[cfg(any(test, mote_dsp))]
mod add;
#[cfg(mote_dsp)]
#[doc(hidden)]
pub mod check;
#[cfg(any(test, mote_dsp))]
mod conv_2d;
#[cfg(mote_dsp)]
mod cortex_m4;
#[cfg(any(test, mote_dsp))]
mod depthwise_as_conv;
#[cfg(any(test, mote_dsp))]
mod depthwise_conv_2d;
#[cfg(any(test, mote_dsp))]
mod depthwise_groups;
#[cfg(any(test, mote_dsp))]
mod dot;
#[cfg(any(test, mote_dsp))]
mod dsp_extra;
#[cfg(any(test, mote_dsp))]
mod fully_connected;
#[cfg(any(test, mote_dsp))]
mod gemm;
#[cfg(any(test, mote_dsp))]
mod pair_pass;
#[cfg(test)]
mod portable;
#[cfg(any(test, mote_dsp))]
mod requant;
#[cfg(test)]
mod tests;
#[cfg(all(target_arch = "x86_64", any(test, not(feature = "reference-kernels"))))]
mod x86_64;

/// The 2-MAC primitives the blocked kernels use.
#[cfg(any(test, mote_dsp))]
mod simd {
    #[cfg(mote_dsp)]
    pub use super::cortex_m4::*;
    #[cfg(all(test, not(mote_dsp)))]
    pub use super::portable::*;
}

use crate::ops;
use crate::ops::arithmetic::AddSubQuantized;
use crate::ops::conv_2d::Conv2dParams;
use crate::ops::depthwise_conv_2d::DepthwiseConv2dParams;
use crate::ops::fully_connected::FullyConnectedParams;
use crate::ops::per_channel::Requant;

/// Which optimized int8 kernels this build runs on this CPU: `"cortex-m dsp"`,
/// `"x86-64 avx-vnni"`, `"x86-64 avx2"` or `"reference"` (for reports such as
/// `mote bench`'s; on x86-64 it asks the CPU, once).
pub fn kernels() -> &'static str {
    #[cfg(mote_dsp)]
    return "cortex-m dsp";
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    {
        if x86_64::avx_vnni() {
            return "x86-64 avx-vnni";
        }
        if x86_64::avx2() {
            return "x86-64 avx2";
        }
    }
    #[allow(unreachable_code)]
    "reference"
}

/// The int8 CONV_2D: the blocked kernel where it applies, else the reference.
#[inline]
pub fn conv_i8(p: &Conv2dParams, q: &Requant<'_>, x: &[i8], w: &[i8], b: &[i32], out: &mut [i8]) {
    #[cfg(mote_dsp)]
    if !conv_2d::conv_i8(p, q, x, w, b, out) {
        conv_reference(p, q, x, w, b, out);
    }
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    // SAFETY: the CPU has AVX-VNNI (asked by `avx_vnni()`), which the kernel needs.
    if x86_64::avx_vnni() && unsafe { x86_64::conv_i8_vnni(p, q, x, w, b, out) } {
        return;
    }
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    // SAFETY: the CPU has AVX2 (asked by `avx2()`), which the kernel needs.
    if x86_64::avx2() && unsafe { x86_64::conv_i8(p, q, x, w, b, out) } {
        return;
    }
    #[cfg(not(mote_dsp))]
    ops::conv_2d::conv_i8(p, q, x, w, b, out);
}

/// The reference CONV_2D out of line: its stack buffers (4.6 KB on a 32-bit
/// target) are then no part of the frame the blocked kernel runs under.
#[cfg(mote_dsp)]
#[inline(never)]
fn conv_reference(p: &Conv2dParams, q: &Requant<'_>, x: &[i8], w: &[i8], b: &[i32], o: &mut [i8]) {
    ops::conv_2d::conv_i8(p, q, x, w, b, o);
}

/// The int8 DEPTHWISE_CONV_2D: the blocked kernel where it applies, else the reference.
#[inline]
pub fn depthwise_conv_i8(
    p: &DepthwiseConv2dParams,
    q: &Requant<'_>,
    x: &[i8],
    w: &[i8],
    b: &[i32],
    out: &mut [i8],
) {
    #[cfg(mote_dsp)]
    if depthwise_conv_2d::depthwise_conv_i8(p, q, x, w, b, out) {
        return;
    }
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    // SAFETY: the CPU has AVX2 (asked by `avx2()`), which the kernel needs.
    if x86_64::avx2() && unsafe { x86_64::depthwise_conv_i8(p, q, x, w, b, out) } {
        return;
    }
    ops::depthwise_conv_2d::depthwise_conv_i8(p, q, x, w, b, out);
}

/// The int8 FULLY_CONNECTED: the blocked kernel where it applies, else the reference.
#[inline]
pub fn fully_connected_i8(
    p: &FullyConnectedParams,
    q: &Requant<'_>,
    x: &[i8],
    w: &[i8],
    b: &[i32],
    out: &mut [i8],
) {
    #[cfg(mote_dsp)]
    if fully_connected::fully_connected_i8(p, q, x, w, b, out) {
        return;
    }
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    // SAFETY: the CPU has AVX-VNNI (asked by `avx_vnni()`), which the kernel needs.
    if x86_64::avx_vnni() && unsafe { x86_64::fully_connected_i8_vnni(p, q, x, w, b, out) } {
        return;
    }
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    // SAFETY: the CPU has AVX2 (asked by `avx2()`), which the kernel needs.
    if x86_64::avx2() && unsafe { x86_64::fully_connected_i8(p, q, x, w, b, out) } {
        return;
    }
    ops::fully_connected::fully_connected_i8(p, q, x, w, b, out);
}

/// The int8 ADD of two inputs of the output's size (no broadcasting):
/// `true` if an optimized kernel wrote `output`, else the caller runs the
/// reference.
#[inline]
#[allow(unused_variables)]
pub fn add_i8(q: &AddSubQuantized, a: &[u8], b: &[u8], output: &mut [u8]) -> bool {
    #[cfg(mote_dsp)]
    return add::add_i8(q, a, b, output);
    #[cfg(all(target_arch = "x86_64", not(feature = "reference-kernels")))]
    // SAFETY: the CPU has AVX2 (asked by `avx2()`), which the kernel needs.
    if x86_64::avx2() && unsafe { x86_64::add_i8(q, a, b, output) } {
        return true;
    }
    #[allow(unreachable_code)]
    false
}
