//! A clustered int8 digits MLP: every filter channel holds at most K values,
//! zeros stay zero, accuracy holds at K = 16, and TensorFlow Lite Micro runs the
//! clustered model with mote-runtime's output bytes.

mod common;

use common::oracle::{assert_identical_to_tflm, steps};
use mote_compress::cluster::cluster;
use mote_compress::lut;
use mote_compress::quantize::{quantize, Calibration, QuantizeConfig};
use mote_conformance::TempDir;
use mote_runtime::Model;
use mote_train::data::{read_csv, LabelColumn};
use mote_train::tflite::ModelDef;
use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};

/// scikit-learn's digits, pixels / 16: (train x, train y, test x, test y).
fn digits() -> (Tensor, Tensor, Tensor, Tensor) {
    let path = common::assets().join("data/digits.csv.gz");
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

fn accuracy(bytes: &[u8], x: &Tensor, y: &Tensor) -> f64 {
    let outputs = common::run_float(bytes, x.data(), 64);
    let hits = outputs
        .chunks(10)
        .zip(y.data())
        .filter(|(p, &label)| {
            (0..10).fold(0, |b, i| if p[i] > p[b] { i } else { b }) == label as usize
        })
        .count();
    hits as f64 / y.data().len() as f64
}

#[test]
fn clustered_digits_mlp_has_k_values_per_channel_and_runs_in_tflite_micro() {
    let (train_x, train_y, test_x, test_y) = digits();
    let mut model = Sequential::new([
        Dense::new(32)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ])
    .seeded(0)
    .unwrap();
    model.compile(
        Adam::new(1e-3),
        Loss::SparseCategoricalCrossentropy { from_logits: false },
    );
    model
        .fit(
            &train_x,
            &train_y,
            Fit::epochs(30).batch_size(32).seed(0).verbose(0),
        )
        .unwrap();
    let float = mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap();
    let calibration = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let int8 = quantize(&float, &calibration, &QuantizeConfig::default()).unwrap();
    let int8_accuracy = accuracy(&int8.to_bytes().unwrap(), &test_x, &test_y);
    let mut models = Vec::new();
    let mut luts = Vec::new();
    for k in [16, 4] {
        let mut def = int8.clone();
        let filters = cluster(&mut def, k).unwrap();
        assert_eq!(filters.len(), 2);
        for f in &filters {
            let before = int8.tensors[f.tensor].data.as_ref().unwrap();
            let after = def.tensors[f.tensor].data.as_ref().unwrap();
            let inner = before.len() / f.channels;
            for (c, (b, a)) in before.chunks(inner).zip(after.chunks(inner)).enumerate() {
                let mut distinct = a.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                assert!(
                    distinct.len() <= k,
                    "{} channel {c}: {} values",
                    f.name,
                    distinct.len()
                );
                for (&b, &a) in b.iter().zip(a) {
                    // Zeros stay zero (values near 0 may join them).
                    assert!(
                        b != 0 || a == 0,
                        "{} channel {c}: a zero became {a}",
                        f.name
                    );
                }
            }
        }
        let bytes = def.to_bytes().unwrap();
        // Written and read back: the same clustered tensors.
        let back = ModelDef::from_model(&Model::parse(&bytes).unwrap()).unwrap();
        assert!(
            back.tensors == def.tensors,
            "the clustered tensors read back differently"
        );
        let clustered_accuracy = accuracy(&bytes, &test_x, &test_y);
        println!(
            "K = {k}: {:.2} % (int8 {:.2} %)",
            100.0 * clustered_accuracy,
            100.0 * int8_accuracy
        );
        if k == 16 {
            assert!(
                clustered_accuracy >= int8_accuracy - 0.01,
                "{clustered_accuracy} vs {int8_accuracy}"
            );
        }
        let compressed = lut::compress(&def, &filters).unwrap().to_bytes().unwrap();
        println!(
            "K = {k}: {} bytes dense, {} LUT-compressed",
            bytes.len(),
            compressed.len()
        );
        assert!(compressed.len() < bytes.len());
        luts.push(compressed);
        models.push((format!("digits_mlp_c{k}"), bytes));
    }
    let rows = assert_identical_to_tflm(&models, &test_x.data()[..64 * 50], 64);
    assert_eq!(rows, 50);
    // The LUT-compressed files in TFLM (the pip package is built with
    // USE_TFLM_COMPRESSION): the dense clustered model's output bytes. (Run
    // through Python directly: the conformance runner asks mote-runtime for the
    // output count, and mote-runtime does not read LUT models yet.)
    let dir = TempDir::new("lut");
    let rows: Vec<i8> = steps(&models[0].1, &test_x.data()[..64 * 50], 64)
        .iter()
        .flat_map(|s| s[0].data.iter().map(|&b| b as i8))
        .collect();
    let x = dir.path().join("x.bin");
    std::fs::write(&x, rows.iter().map(|&v| v as u8).collect::<Vec<u8>>()).unwrap();
    for ((name, dense), lut) in models.iter().zip(&luts) {
        let (a, b) = (
            dir.path().join(format!("{name}.tflite")),
            dir.path().join(format!("{name}_lut.tflite")),
        );
        std::fs::write(&a, dense).unwrap();
        std::fs::write(&b, lut).unwrap();
        let script = r#"
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
x = np.fromfile(sys.argv[1], np.int8).reshape(-1, 1, 64)
outs = []
for f in sys.argv[2:]:
    it = runtime.Interpreter.from_file(f)
    o = []
    for r in x:
        it.set_input(r, 0)
        it.invoke()
        o.append(it.get_output(0).copy())
    outs.append(np.array(o))
assert outs[0].shape == (50, 1, 10), outs[0].shape
assert (outs[0] == outs[1]).all(), 'LUT outputs differ'
print('same', outs[0].size)
"#;
        let out = std::process::Command::new(mote_conformance::python())
            .arg("-c")
            .arg(script)
            .arg(&x)
            .arg(&a)
            .arg(&b)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "same 500",
            "{name}"
        );
    }
}

#[test]
fn bad_cluster_counts_and_float_models_are_refused() {
    let mut model = Sequential::new([Dense::new(4).input_shape([3])])
        .seeded(0)
        .unwrap();
    model.compile(Adam::new(1e-3), Loss::MeanSquaredError);
    let float = mote_train::tflite::export(&model).unwrap();
    let mut def = float.clone();
    assert!(cluster(&mut def, 1)
        .unwrap_err()
        .to_string()
        .contains("2..=16"));
    assert!(cluster(&mut def, 17).is_err());
    assert!(cluster(&mut def, 8)
        .unwrap_err()
        .to_string()
        .contains("no int8"));
}
