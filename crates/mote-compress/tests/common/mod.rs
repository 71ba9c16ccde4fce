//! Shared helpers of the compression tests: the assets folder and running a
//! one-input, one-output model (float or int8 at the edges) on float values.

#![allow(dead_code)]

use std::path::PathBuf;

use mote_train::data::{read_csv, LabelColumn};
use mote_train::spec::Spec;
use mote_train::{Fit, Tensor};

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

/// scikit-learn's digits as `mote data digits` splits them, pixels / 16:
/// (train x, train y, test x, test y), test = rows whose index % 5 == 0.
pub fn digits() -> (Tensor, Tensor, Tensor, Tensor) {
    let path = assets().join("data/digits.csv.gz");
    let (x, y) = read_csv(&path, LabelColumn::Last).unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let test: Vec<usize> = (0..x.rows()).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    (
        x.select_rows(&train),
        y.select_rows(&train),
        x.select_rows(&test),
        y.select_rows(&test),
    )
}

/// The digits CNN of `examples/specs/digits_cnn.toml` trained as `mote train`
/// does (its seed, batch and shuffling), for `epochs` (the spec's if `None`).
pub fn trained_digits_cnn(x: &Tensor, y: &Tensor, epochs: Option<usize>) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/specs/digits_cnn.toml"
    );
    let spec = Spec::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut shape = vec![x.rows()];
    shape.extend_from_slice(&spec.input_shape);
    let x = x.clone().reshape(shape).unwrap();
    let mut model = spec.model().unwrap();
    let fit = Fit::epochs(epochs.unwrap_or(spec.epochs))
        .batch_size(spec.batch_size)
        .seed(spec.seed)
        .shuffle(spec.shuffle)
        .verbose(0);
    model.fit(&x, y, fit).unwrap();
    mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap()
}
