//! A clustered int8 digits MLP: every filter channel holds at most K values,
//! zeros stay zero, accuracy holds at K = 16, and TensorFlow Lite Micro runs the
//! clustered model and its LUT-compressed file with mote-runtime's output bytes.

mod common;

use common::digits;

use common::oracle::{assert_identical_to_tflm, steps};
use mote_compress::cluster::cluster;
use mote_compress::lut;
use mote_compress::quantize::{quantize, Calibration, QuantizeConfig};
use mote_runtime::Model;
use mote_train::tflite::ModelDef;
use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};

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
    // The LUT-compressed files (TFLM's pip package is built with
    // USE_TFLM_COMPRESSION) in both engines, on every test row: the same
    // bytes as TFLM, and as mote-runtime on the dense clustered model.
    let dense: Vec<Vec<Vec<u8>>> = models
        .iter()
        .map(|(_, bytes)| common::oracle::mote_outputs(bytes, &steps(bytes, test_x.data(), 64)))
        .collect();
    for ((name, _), lut) in models.clone().iter().zip(luts) {
        models.push((format!("{name}_lut"), lut));
    }
    let rows = assert_identical_to_tflm(&models, test_x.data(), 64);
    assert_eq!(rows, 360);
    for ((name, lut), dense) in models[dense.len()..].iter().zip(&dense) {
        let ours = common::oracle::mote_outputs(lut, &steps(lut, test_x.data(), 64));
        assert_eq!(
            &ours, dense,
            "{name}: LUT outputs differ from the dense model's"
        );
    }
}

#[test]
fn clustered_digits_cnn_lut_file_runs_its_convolutions_as_tflite_micro_does() {
    // Every filter kind LUT-compressed: CONV_2D (tables along axis 0),
    // DEPTHWISE_CONV_2D (tables along the last axis) and FULLY_CONNECTED.
    let (train_x, train_y, test_x, _) = digits();
    let float = common::trained_digits_cnn(&train_x, &train_y, Some(5));
    let calibration =
        Calibration::new(vec![train_x.rows(), 8, 8, 1], train_x.data().to_vec()).unwrap();
    let int8 = quantize(&float, &calibration, &QuantizeConfig::default()).unwrap();
    let mut def = int8.clone();
    let filters = cluster(&mut def, 8).unwrap();
    assert_eq!(filters.len(), 4, "{filters:?}");
    let dense = def.to_bytes().unwrap();
    let compressed = lut::compress(&def, &filters).unwrap().to_bytes().unwrap();
    let models = vec![
        ("digits_cnn_c8".to_string(), dense.clone()),
        ("digits_cnn_c8_lut".to_string(), compressed.clone()),
    ];
    assert_eq!(assert_identical_to_tflm(&models, test_x.data(), 64), 360);
    let ours = common::oracle::mote_outputs(&compressed, &steps(&compressed, test_x.data(), 64));
    let want = common::oracle::mote_outputs(&dense, &steps(&dense, test_x.data(), 64));
    assert_eq!(
        ours, want,
        "LUT outputs differ from the dense clustered model's"
    );
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
