//! A small digits student (64 -> 8 relu -> 10) distilled from a larger
//! teacher (64 -> 128 relu -> 10) against the same student trained on labels
//! alone.

mod common;

use mote_compress::distill::{distill, DistillConfig};
use mote_train::data::{read_csv, LabelColumn};
use mote_train::{Activation, Adam, Dense, Fit, Loss, Metric, Model, Sequential, Tensor};

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

/// 64 -> `hidden` relu -> 10 softmax trained on labels, Adam 1e-3, batch 32, 50 epochs.
fn trained(hidden: usize, x: &Tensor, y: &Tensor) -> Model {
    let mut model = Sequential::new([
        Dense::new(hidden)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ])
    .seeded(0)
    .unwrap();
    model
        .compile(
            Adam::new(1e-3),
            Loss::SparseCategoricalCrossentropy { from_logits: false },
        )
        .metrics([Metric::Accuracy]);
    model
        .fit(x, y, Fit::epochs(50).batch_size(32).seed(0).verbose(0))
        .unwrap();
    model
}

fn accuracy(model: &mut Model, x: &Tensor, y: &Tensor) -> f64 {
    let p = model.predict(x).unwrap();
    mote_compress::report::accuracy(p.data(), 10, y.data())
}

#[test]
fn a_distilled_student_learns_from_the_teacher() {
    let (train_x, train_y, test_x, test_y) = digits();
    let mut teacher = trained(128, &train_x, &train_y);
    let mut alone = trained(8, &train_x, &train_y);
    let teacher_probabilities = teacher.predict(&train_x).unwrap();
    let config = DistillConfig::default();
    let mut student = distill(
        &train_x,
        &train_y,
        teacher_probabilities.data(),
        &[8],
        &config,
    )
    .unwrap();
    let (t, a, s) = (
        accuracy(&mut teacher, &test_x, &test_y),
        accuracy(&mut alone, &test_x, &test_y),
        accuracy(&mut student, &test_x, &test_y),
    );
    println!(
        "teacher (128 hidden) {:.2} %, student (8 hidden) on labels {:.2} %, distilled (α {}, T {}) {:.2} %",
        100.0 * t,
        100.0 * a,
        config.alpha,
        config.temperature,
        100.0 * s
    );
    // The student exports and runs like any mote-train model.
    let bytes = mote_train::tflite::export(&student)
        .unwrap()
        .to_bytes()
        .unwrap();
    let runtime = common::run_float(&bytes, test_x.data(), 64);
    assert!((mote_compress::report::accuracy(&runtime, 10, test_y.data()) - s).abs() < 1e-9);
    assert!(s >= a, "distilled {s} < labels alone {a}");
}
