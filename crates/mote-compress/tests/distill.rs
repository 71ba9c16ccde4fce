//! Issue 8's distillation task, seed 0: the student of
//! `examples/specs/digits_student.toml` (64 -> 16 relu -> 10) trained on
//! labels alone and distilled from the teacher of `digits_teacher.toml`
//! (64 -> 128 relu -> 10), both 50 epochs; the distilled student, and its int8
//! PTQ, run in TensorFlow Lite Micro as in mote-runtime.
//!
//! Reproduce: `cargo test --release -p mote-compress --test distill -- --nocapture`
//! (needs the oracle Python: `.venv` with scripts/oracle-requirements.txt, or
//! `$MOTE_PYTHON`). Five and more seeds: `bench/distill/digits.py`.

mod common;

use common::digits;

use common::oracle::assert_same_as_tflm;
use mote_compress::distill::{distill, soften, teacher_logits, DistillConfig, LogitSource};
use mote_compress::quantize::{quantize, Calibration, QuantizeConfig};
use mote_compress::report::accuracy;
use mote_train::spec::Spec;
use mote_train::{Fit, Model, Tensor};

fn spec(name: &str) -> Spec {
    let path = format!("{}/../../examples/specs/{name}", env!("CARGO_MANIFEST_DIR"));
    Spec::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `mote train SPEC`: the spec's model fitted with its own settings.
fn trained(spec: &Spec, x: &Tensor, y: &Tensor) -> Model {
    let mut model = spec.model().unwrap();
    model
        .fit(
            x,
            y,
            Fit::epochs(spec.epochs)
                .batch_size(spec.batch_size)
                .seed(spec.seed)
                .verbose(0),
        )
        .unwrap();
    model
}

fn bytes(model: &Model) -> Vec<u8> {
    mote_train::tflite::export(model)
        .unwrap()
        .to_bytes()
        .unwrap()
}

/// Test accuracy of a `.tflite` run in mote-runtime.
fn accuracy_of(bytes: &[u8], x: &Tensor, y: &Tensor) -> f64 {
    accuracy(&common::run_float(bytes, x.data(), 64), 10, y.data())
}

#[test]
fn the_distilled_student_learns_from_the_teacher_and_runs_in_tflite_micro() {
    let (train_x, train_y, test_x, test_y) = digits();
    let student_spec = spec("digits_student.toml");
    let teacher = bytes(&trained(&spec("digits_teacher.toml"), &train_x, &train_y));
    let alone = bytes(&trained(&student_spec, &train_x, &train_y));

    // The teacher's logits are read before its SOFTMAX: softmax of them is its output.
    let (logits, source) = teacher_logits(&teacher, train_x.data(), 64).unwrap();
    assert_eq!(source, LogitSource::BeforeSoftmax);
    let probabilities = common::run_float(&teacher, train_x.data(), 64);
    for (p, q) in soften(&logits, 10, 1.0).iter().zip(&probabilities) {
        assert!((p - q).abs() < 1e-6, "{p} vs {q}");
    }

    // The recipe chosen on a validation split (RESULTS.md): α 0.5, T 4, the
    // student's Adam at 0.01 (`digits_student_tuned.toml`), 50 epochs as the reference.
    let config = DistillConfig {
        alpha: 0.5,
        temperature: 4.0,
    };
    let tuned = spec("digits_student_tuned.toml");
    let student = distill(&tuned, &train_x, &train_y, &logits, &config).unwrap();
    let control = bytes(&trained(&tuned, &train_x, &train_y));
    let distilled = bytes(&student);
    let (t, a, c, d) = (
        accuracy_of(&teacher, &test_x, &test_y),
        accuracy_of(&alone, &test_x, &test_y),
        accuracy_of(&control, &test_x, &test_y),
        accuracy_of(&distilled, &test_x, &test_y),
    );
    println!(
        "seed 0: teacher {:.2} %, student alone {:.2} % (Adam 0.01: {:.2} %), distilled (alpha {}, T {}, Adam 0.01) {:.2} %",
        100.0 * t,
        100.0 * a,
        100.0 * c,
        config.alpha,
        config.temperature,
        100.0 * d
    );
    // Same architecture as the student alone: 64*16 + 16 + 16*10 + 10 parameters.
    assert_eq!(student.param_count(), 1210);
    assert!(d > a, "distilled {d} not above the student alone {a}");

    // In TensorFlow Lite Micro: the float student within 1e-5 of mote-runtime
    // on every test row, its int8 PTQ byte for byte.
    let calibration = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let int8 = quantize(&distilled, &calibration, &QuantizeConfig::default())
        .unwrap()
        .to_bytes()
        .unwrap();
    let rows = assert_same_as_tflm(
        &[
            ("distilled".to_string(), distilled.clone()),
            ("distilled_int8".to_string(), int8.clone()),
        ],
        test_x.data(),
        64,
    );
    println!(
        "distilled float and int8 ({:.2} %): {rows} test rows as in TFLM",
        100.0 * accuracy_of(&int8, &test_x, &test_y)
    );
}
