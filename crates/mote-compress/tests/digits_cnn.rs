//! The digits CNN of `examples/specs/digits_cnn.toml` (CONV_2D, DEPTHWISE_CONV_2D,
//! CONV_2D, MAX_POOL_2D, MEAN, FULLY_CONNECTED, SOFTMAX), trained by
//! mote-train as `mote train` does (seed 0, 30 epochs), through int8
//! post-training quantization with each range method: the int8 models keep
//! the float model's test accuracy (within a point on this one seed; the
//! 5-seed figures are in RESULTS.md) and run in TensorFlow Lite Micro with
//! outputs identical to mote-runtime's on all 360 test rows.
//!
//! `cargo test --release -p mote-compress --test digits_cnn -- --nocapture`

mod common;

use common::digits;

use common::oracle::assert_identical_to_tflm;
use mote_compress::quantize::{quantize, Calibration, QuantizeConfig, RangeMethod};
use mote_compress::report::{accuracy, run_float};
use mote_runtime::{BuiltinOperator, Model};

#[test]
fn int8_digits_cnn_keeps_its_accuracy_and_matches_tflite_micro() {
    let (train_x, train_y, test_x, test_y) = digits();
    let float = common::trained_digits_cnn(&train_x, &train_y, None);
    let model = Model::parse(&float).unwrap();
    let has_mean = (0..model.main().operator_count())
        .any(|i| model.main().operator(i).unwrap().builtin() == BuiltinOperator::MEAN);
    assert!(has_mean, "GlobalAveragePooling2D exports as MEAN");
    let score = |bytes: &[u8]| {
        accuracy(
            &run_float(bytes, test_x.data(), 64).unwrap(),
            10,
            test_y.data(),
        )
    };
    let float_accuracy = score(&float);
    println!("float: {:.2} %", 100.0 * float_accuracy);
    // Flat [N, 64] rows calibrate the [1, 8, 8, 1] input, as `mote quantize` reads x_train.npy.
    let calibration = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let mut models = Vec::new();
    for method in [
        RangeMethod::MinMax,
        RangeMethod::Percentile,
        RangeMethod::Mse,
    ] {
        let config = QuantizeConfig {
            method,
            ..QuantizeConfig::default()
        };
        let int8 = quantize(&float, &calibration, &config)
            .unwrap()
            .to_bytes()
            .unwrap();
        let got = score(&int8);
        println!(
            "int8 {method:?}: {:.2} %, {} bytes (float {})",
            100.0 * got,
            int8.len(),
            float.len()
        );
        assert!(
            got >= float_accuracy - 0.01,
            "{method:?}: {got} vs {float_accuracy}"
        );
        models.push((format!("digits_cnn_{method:?}").to_lowercase(), int8));
    }
    let rows = assert_identical_to_tflm(&models, test_x.data(), 64);
    println!("TensorFlow Lite Micro: identical outputs on {rows} test rows, 3 models");
}
