//! TensorFlow Lite Micro's signal library as custom ops: the fixed-point audio
//! front-end (window, FFT, energy, mel filter bank, noise reduction, PCAN, log)
//! that models such as micro_speech's `audio_preprocessor` call by name.
//!
//! Each op reproduces TFLM's C++ kernels (`signal/src/`, `signal/micro/kernels/`)
//! bit for bit, including their integer wrap-arounds; options come from the
//! operator's FlexBuffer custom options, read with [`crate::flexbuffer`].

pub mod energy;
pub mod fft_auto_scale;
pub mod filter_bank;
pub mod filter_bank_log;
pub mod filter_bank_spectral_subtraction;
pub mod filter_bank_square_root;
pub mod pcan;
pub mod rfft;
pub mod window;

use super::{EvalContext, PrepareContext};
use crate::arena::{self, Plain};
use crate::error::Error;
use crate::flexbuffer::{self, Map};

/// The operator's custom options as a FlexBuffer map.
pub(crate) fn options<'m>(ctx: &PrepareContext<'m, '_>) -> Result<Map<'m>, Error> {
    flexbuffer::root_map(ctx.operator.custom_options())
        .map_err(|_| ctx.invalid("custom options are not a FlexBuffer map"))
}

/// Integer option `key`, which must be present.
pub(crate) fn option_i32(
    ctx: &PrepareContext<'_, '_>,
    map: &Map<'_>,
    key: &str,
) -> Result<i32, Error> {
    map.get(key)
        .and_then(|v| v.as_i32())
        .map_err(|_| ctx.invalid("a custom option is missing or not an integer"))
}

/// A shift amount option, which must lie in `0..limit` (C shifts beyond are undefined).
pub(crate) fn option_shift(
    ctx: &PrepareContext<'_, '_>,
    map: &Map<'_>,
    key: &str,
    limit: u32,
) -> Result<u32, Error> {
    let value = option_i32(ctx, map, key)?;
    u32::try_from(value)
        .ok()
        .filter(|v| *v < limit)
        .ok_or(ctx.invalid("a shift option is out of range"))
}

/// Index of the most significant set bit plus one, as TFLM's
/// `MostSignificantBit32` built with GCC: note that it returns 32 (not 0) for 0.
pub(crate) fn most_significant_bit32(x: u32) -> u32 {
    if x == 0 {
        32
    } else {
        32 - x.leading_zeros()
    }
}

/// As [`most_significant_bit32`], for 64 bits (64 for 0).
pub(crate) fn most_significant_bit64(x: u64) -> u32 {
    if x == 0 {
        64
    } else {
        64 - x.leading_zeros()
    }
}

/// Takes output `o` out of the context as `T` (the context keeps an empty
/// slice), so that it can be used together with the op's persistent data.
pub(crate) fn take_output<'x, T: Plain>(ctx: &mut EvalContext<'x>, o: usize) -> &'x mut [T] {
    let bytes = ctx
        .outputs
        .get_mut(o)
        .map(core::mem::take)
        .unwrap_or_default();
    arena::cast_mut(bytes).unwrap_or_default()
}

/// The op's persistent values `p` and its output 0, both mutable.
pub(crate) fn persistent_and_output<'c, T: Plain, O: Plain>(
    ctx: &'c mut EvalContext<'_>,
    p: crate::ops::Persistent,
) -> (&'c mut [T], &'c mut [O]) {
    let output = take_output::<O>(ctx, 0);
    (ctx.persistent_mut::<T>(p), output)
}

/// Checks that `tensor` has rank `rank`.
pub(crate) fn expect_rank(
    ctx: &PrepareContext<'_, '_>,
    tensor: &crate::model::Tensor<'_>,
    rank: usize,
) -> Result<(), Error> {
    if tensor.shape().rank() == rank {
        Ok(())
    } else {
        Err(ctx.invalid("a tensor has the wrong rank"))
    }
}

/// Reads TFLM's signal test vectors (`shared/assets/tflm/signal_testdata`).
#[cfg(test)]
pub(crate) mod testdata {
    use std::path::PathBuf;

    /// The shared assets folder; panics with a clear message when missing.
    pub fn assets() -> PathBuf {
        let dir = std::env::var_os("MOTE_ASSETS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
            });
        assert!(
            dir.join("MANIFEST.md").is_file(),
            "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
            dir.display()
        );
        dir
    }

    /// The lines of test vector file `name`, each as its whitespace-separated words.
    pub fn lines(name: &str) -> Vec<Vec<String>> {
        let path = assets().join("tflm/signal_testdata").join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .filter(|l: &Vec<String>| !l.is_empty())
            .collect()
    }

    /// Words parsed as integers.
    pub fn ints<T: std::str::FromStr>(words: &[String]) -> Vec<T>
    where
        T::Err: std::fmt::Debug,
    {
        words.iter().map(|w| w.parse().unwrap()).collect()
    }
}
