//! Quantization-aware training of the digits MLP: the exported int8 model
//! runs in TensorFlow Lite Micro with outputs identical to mote-runtime's
//! (int8 and float edges), its accuracy is at least the min/max PTQ model's,
//! and the fake-quantized training loss goes down. Operators QAT cannot
//! simulate are refused by name.
//!
//! Reproduce the figures: `cargo test -p mote-compress --test qat -- --nocapture`
//! (needs the oracle Python: `.venv` with scripts/oracle-requirements.txt, or `$MOTE_PYTHON`).

mod common;

use mote_compress::qat::{qat, QatConfig, QatError};
use mote_compress::quantize::{quantize, Calibration, Io, QuantizeConfig, WeightType};
use mote_compress::report::{accuracy, run_float};
use mote_conformance::{run, Case, Engine, TempDir};
use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, TensorType};
use mote_train::data::{read_csv, LabelColumn};
use mote_train::npy::Array;
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

/// Each test row as one invocation's input, in the model's input type.
fn steps(bytes: &[u8], x: &Tensor) -> Vec<Vec<Array>> {
    let model = Model::parse(bytes).unwrap();
    let graph = model.main();
    let input = graph.tensor(graph.inputs().get(0).unwrap()).unwrap();
    let shape = input.shape().dims().to_vec();
    (0..x.rows())
        .map(|r| {
            let row = &x.data()[r * 64..(r + 1) * 64];
            vec![match input.dtype() {
                TensorType::Int8 => {
                    let q = input.quantization().unwrap();
                    let (scale, zero) = (q.scale(0), q.zero_point(0) as f32);
                    Array {
                        shape: shape.clone(),
                        dtype: TensorType::Int8,
                        data: row
                            .iter()
                            .map(|v| ((v / scale).round() + zero).clamp(-128.0, 127.0) as i8 as u8)
                            .collect(),
                    }
                }
                _ => Array::from_f32(shape.clone(), row),
            }]
        })
        .collect()
}

fn mote_outputs(bytes: &[u8], steps: &[Vec<Array>]) -> Vec<Vec<u8>> {
    let model = Model::parse(bytes).unwrap();
    let mut arena = vec![0u8; 1 << 20];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    steps
        .iter()
        .map(|inputs| {
            interpreter
                .input_bytes_mut(0)
                .unwrap()
                .copy_from_slice(&inputs[0].data);
            interpreter.invoke().unwrap();
            interpreter.output_bytes(0).unwrap().to_vec()
        })
        .collect()
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
    let dir = TempDir::new("qat");
    let mut cases = Vec::new();
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
        let path = dir.path().join(format!("qat_{io:?}.tflite"));
        std::fs::write(&path, &bytes).unwrap();
        let steps = steps(&bytes, &test_x);
        cases.push(Case {
            model: path,
            steps: steps.clone(),
        });
        models.push((io, bytes, steps));
    }
    let outcomes = run(Engine::Tflm, &cases);
    for ((io, bytes, steps), outcome) in models.iter().zip(outcomes) {
        let theirs = outcome.unwrap_or_else(|e| panic!("{io:?}: TFLM failed: {e}"));
        let ours = mote_outputs(bytes, steps);
        assert_eq!(ours.len(), theirs.steps.len());
        for (s, (a, b)) in ours.iter().zip(&theirs.steps).enumerate() {
            assert_eq!(a, &b[0].data, "{io:?}: test row {s} differs from TFLM");
        }
        println!(
            "QAT {io:?} edges: {} test rows identical to TFLM",
            steps.len()
        );
    }
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
    let dir = TempDir::new("int4");
    let steps = steps(&ptq, &test_x);
    let cases: Vec<Case> = [("ptq", &ptq), ("qat", &qat4)]
        .iter()
        .map(|(name, bytes)| {
            let path = dir.path().join(format!("{name}_int4.tflite"));
            std::fs::write(&path, bytes).unwrap();
            Case {
                model: path,
                steps: steps.clone(),
            }
        })
        .collect();
    for ((name, bytes), outcome) in [("ptq", &ptq), ("qat", &qat4)]
        .iter()
        .zip(run(Engine::Tflm, &cases))
    {
        let theirs = outcome.unwrap_or_else(|e| panic!("{name}: TFLM failed: {e}"));
        let ours = mote_outputs(bytes, &steps);
        for (s, (a, b)) in ours.iter().zip(&theirs.steps).enumerate() {
            assert_eq!(a, &b[0].data, "{name}: test row {s} differs from TFLM");
        }
        println!("{name} int4: {} test rows identical to TFLM", steps.len());
    }
}

#[test]
fn layers_qat_cannot_simulate_are_named() {
    // MLPerf Tiny's ResNet-8 starts with a CONV_2D.
    let resnet = common::asset("mlperf-tiny/ic/resnet8_float.tflite");
    let x = Calibration::new(vec![1, 32, 32, 3], vec![0.0; 3072]).unwrap();
    let err = qat(&resnet, &x, &[0.0], None, &QatConfig::default()).unwrap_err();
    assert_eq!(
        err,
        QatError::UnsupportedOp {
            index: 0,
            op: BuiltinOperator::CONV_2D
        }
    );
    assert!(err
        .to_string()
        .starts_with("operator 0 (CONV_2D) is not supported by quantization-aware training"));
    // The sine model is a regression: no SOFTMAX to train cross-entropy on.
    let sine = common::asset("tflm/hello_world/hello_world_float.tflite");
    let x = Calibration::new(vec![2, 1], vec![0.0, 1.0]).unwrap();
    let err = qat(&sine, &x, &[0.0, 0.0], None, &QatConfig::default()).unwrap_err();
    assert!(err.to_string().contains("does not end in SOFTMAX"), "{err}");
}
