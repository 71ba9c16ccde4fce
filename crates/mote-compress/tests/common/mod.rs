//! Shared helpers of the compression tests: the assets folder and running a
//! one-input, one-output model (float or int8 at the edges) on float values.

#![allow(dead_code)]

use std::path::PathBuf;

pub mod oracle;

/// The shared assets folder (`$MOTE_ASSETS` or `../shared/assets`); panics if missing.
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

/// Reads an asset file, failing with its path.
pub fn asset(path: &str) -> Vec<u8> {
    let path = assets().join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `bytes` once per sample of `xs` (each `sample_len` floats) and returns
/// the outputs as floats (int8 edges quantized with the tensors' parameters).
pub fn run_float(bytes: &[u8], xs: &[f32], sample_len: usize) -> Vec<f32> {
    mote_compress::report::run_float(bytes, xs, sample_len).unwrap()
}
