//! Quantization-aware training of the digits MLP and of the digits CNN
//! (CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, MEAN): the exported int8 models
//! run in TensorFlow Lite Micro with outputs identical to mote-runtime's
//! (int8 and float edges), their accuracy is at least the min/max PTQ
//! model's, and the fake-quantized training loss goes down. Operators QAT
//! cannot simulate are refused by name.
//!
//! Reproduce the figures: `cargo test -p mote-compress --test qat -- --nocapture`
//! (needs the oracle Python: `.venv` with scripts/oracle-requirements.txt, or `$MOTE_PYTHON`).

mod common;

use mote_compress::qat::{qat, QatConfig, QatError};
use mote_compress::quantize::{quantize, Calibration, Io, QuantizeConfig, WeightType};
use mote_compress::report::{accuracy, run_float};
use mote_runtime::{BuiltinOperator, Model, TensorType};
use mote_train::data::{read_csv, LabelColumn};
use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};

/// The digits MLP (64 -> 32 relu -> 10 softmax, Adam 1e-3, batch 32, 50
/// epochs, seed 0) on rows with index % 5 != 0; returns its float `.tflite`,
/// the train and the test split (pixels / 16).
fn digits() -> (Vec<u8>, (Tensor, Tensor), (Tensor, Tensor)) {
    let (x, y) = read_csv(
        common::assets().join("data/digits.csv.gz"),
        LabelColumn::Last,
    )
    .unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    let test: Vec<usize> = (0..x.rows()).filter(|i| i % 5 == 0).collect();
    let (train_x, train_y) = (x.select_rows(&train), y.select_rows(&train));
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
            Fit::epochs(50).batch_size(32).seed(0).verbose(0),
        )
        .unwrap();
    let bytes = mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap();
    (
        bytes,
        (train_x, train_y),
        (x.select_rows(&test), y.select_rows(&test)),
    )
}

#[test]
fn qat_models_beat_ptq_and_run_identically_in_tflite_micro() {
    let (float, (train_x, train_y), (test_x, test_y)) = digits();
    let train = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let test_accuracy = |bytes: &[u8]| {
        let outputs = run_float(bytes, test_x.data(), 64).unwrap();
        accuracy(&outputs, 10, test_y.data())
    };
    let ptq = quantize(&float, &train, &QuantizeConfig::default())
        .unwrap()
        .to_bytes()
        .unwrap();
    let mut models = Vec::new();
    for io in [Io::Int8, Io::Float] {
        let config = QatConfig {
            io,
            ..QatConfig::default()
        };
        let (int8, report) = qat(&float, &train, train_y.data(), None, &config).unwrap();
        assert!(
            report.loss.last() < report.loss.first(),
            "{:?}",
            report.loss
        );
        let bytes = int8.to_bytes().unwrap();
        let (f, p, q) = (
            test_accuracy(&float),
            test_accuracy(&ptq),
            test_accuracy(&bytes),
        );
        println!(
            "{io:?} edges: float {:.2} %, PTQ int8 {:.2} %, QAT int8 {:.2} %",
            100.0 * f,
            100.0 * p,
            100.0 * q
        );
        assert!(q >= p, "QAT {q} below PTQ {p}");
        models.push((format!("qat_{io:?}"), bytes));
    }
    let rows = common::oracle::assert_identical_to_tflm(&models, test_x.data(), 64);
    println!("QAT Int8 and Float edges: {rows} test rows identical to TFLM");
}

#[test]
fn int4_weight_models_are_smaller_and_run_identically_in_tflite_micro() {
    let (float, (train_x, train_y), (test_x, test_y)) = digits();
    let train = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let test_accuracy = |bytes: &[u8]| {
        let outputs = run_float(bytes, test_x.data(), 64).unwrap();
        accuracy(&outputs, 10, test_y.data())
    };
    let int4 = QuantizeConfig {
        weights: WeightType::Int4,
        ..QuantizeConfig::default()
    };
    let int8 = quantize(&float, &train, &QuantizeConfig::default())
        .unwrap()
        .to_bytes()
        .unwrap();
    let ptq = quantize(&float, &train, &int4).unwrap().to_bytes().unwrap();
    let config = QatConfig {
        weights: WeightType::Int4,
        ..QatConfig::default()
    };
    let qat4 = qat(&float, &train, train_y.data(), None, &config)
        .unwrap()
        .0
        .to_bytes()
        .unwrap();
    let (f, p, q) = (
        test_accuracy(&float),
        test_accuracy(&ptq),
        test_accuracy(&qat4),
    );
    println!(
        "float {:.2} %, PTQ int4 {:.2} % ({} B), QAT int4 {:.2} % ({} B), int8 {} B",
        100.0 * f,
        100.0 * p,
        ptq.len(),
        100.0 * q,
        qat4.len(),
        int8.len()
    );
    // Weights: 2 368 int8 bytes -> 1 184; one scale per FULLY_CONNECTED.
    assert!(
        ptq.len() < int8.len() * 2 / 3,
        "{} vs {}",
        ptq.len(),
        int8.len()
    );
    assert_eq!(qat4.len(), ptq.len());
    assert!(p > f - 0.02 && q > f - 0.02, "float {f}, PTQ {p}, QAT {q}");
    // Both models' weights really are int4.
    for bytes in [&ptq, &qat4] {
        let model = Model::parse(bytes).unwrap();
        let g = model.subgraph(0).unwrap();
        let int4 = (0..g.tensor_count())
            .filter(|&t| g.tensor(t).unwrap().dtype() == TensorType::Int4)
            .count();
        assert_eq!(int4, 2);
    }
    let models = [
        ("ptq_int4".to_string(), ptq),
        ("qat_int4".to_string(), qat4),
    ];
    let rows = common::oracle::assert_identical_to_tflm(&models, test_x.data(), 64);
    println!("PTQ and QAT int4: {rows} test rows identical to TFLM");
}

#[test]
fn layers_qat_cannot_simulate_are_named() {
    // MLPerf Tiny's ResNet-8: its residual ADD (operator 3).
    let resnet = common::asset("mlperf-tiny/ic/resnet8_float.tflite");
    let x = Calibration::new(vec![1, 32, 32, 3], vec![0.0; 3072]).unwrap();
    let err = qat(&resnet, &x, &[0.0], None, &QatConfig::default()).unwrap_err();
    assert_eq!(
        err,
        QatError::UnsupportedOp {
            index: 3,
            op: BuiltinOperator::ADD
        }
    );
    assert!(err
        .to_string()
        .starts_with("operator 3 (ADD) is not supported by quantization-aware training"));
    // The sine model is a regression: no SOFTMAX to train cross-entropy on.
    let sine = common::asset("tflm/hello_world/hello_world_float.tflite");
    let x = Calibration::new(vec![2, 1], vec![0.0, 1.0]).unwrap();
    let err = qat(&sine, &x, &[0.0, 0.0], None, &QatConfig::default()).unwrap_err();
    assert!(err.to_string().contains("does not end in SOFTMAX"), "{err}");
}

#[test]
fn qat_cnn_beats_ptq_and_runs_identically_in_tflite_micro() {
    let (_, (train_x, train_y), (test_x, test_y)) = digits();
    let float = common::trained_digits_cnn(&train_x, &train_y, None);
    // Flat [N, 64] rows for the [1, 8, 8, 1] input, as `mote qat` reads x_train.npy.
    let train = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let test_accuracy = |bytes: &[u8]| {
        let outputs = run_float(bytes, test_x.data(), 64).unwrap();
        accuracy(&outputs, 10, test_y.data())
    };
    let ptq = quantize(&float, &train, &QuantizeConfig::default())
        .unwrap()
        .to_bytes()
        .unwrap();
    let mut models = Vec::new();
    for io in [Io::Int8, Io::Float] {
        let config = QatConfig {
            io,
            ..QatConfig::default()
        };
        let (int8, report) = qat(&float, &train, train_y.data(), None, &config).unwrap();
        assert!(
            report.loss.last() < report.loss.first(),
            "{:?}",
            report.loss
        );
        let bytes = int8.to_bytes().unwrap();
        let (f, p, q) = (
            test_accuracy(&float),
            test_accuracy(&ptq),
            test_accuracy(&bytes),
        );
        println!(
            "CNN, {io:?} edges: float {:.2} %, PTQ int8 {:.2} %, QAT int8 {:.2} %",
            100.0 * f,
            100.0 * p,
            100.0 * q
        );
        assert!(q >= p, "QAT {q} below PTQ {p}");
        models.push((format!("qat_cnn_{io:?}"), bytes));
    }
    let rows = common::oracle::assert_identical_to_tflm(&models, test_x.data(), 64);
    println!("CNN QAT Int8 and Float edges: {rows} test rows identical to TFLM");
}
