//! A digits MLP trained with mote-train keeps its test accuracy through int8
//! post-training quantization (within 0.3 points, about one test sample).

mod common;

use common::digits;

use mote_compress::quantize::{quantize, Calibration, QuantizeConfig, RangeMethod};
use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};

/// The fraction of samples whose largest output is at the label.
fn accuracy(bytes: &[u8], x: &Tensor, y: &Tensor) -> f64 {
    let outputs = common::run_float(bytes, x.data(), 64);
    let hits = outputs
        .chunks(10)
        .zip(y.data())
        .filter(|(p, &label)| {
            let best = (0..10).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            best == label as usize
        })
        .count();
    hits as f64 / y.data().len() as f64
}

#[test]
fn int8_digits_mlp_keeps_its_accuracy() {
    let (train_x, train_y, test_x, test_y) = digits();
    // 64 -> Dense 32 relu -> Dense 10 softmax, Adam 1e-3, batch 32, 50 epochs, seed 0.
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
    let float = mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap();
    let float_accuracy = accuracy(&float, &test_x, &test_y);
    // Calibrate on the training set.
    let calibration = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    for method in [
        RangeMethod::MinMax,
        RangeMethod::Percentile,
        RangeMethod::Mse,
    ] {
        for per_channel in [true, false] {
            let config = QuantizeConfig {
                method,
                per_channel,
                ..QuantizeConfig::default()
            };
            let int8 = quantize(&float, &calibration, &config)
                .unwrap()
                .to_bytes()
                .unwrap();
            let int8_accuracy = accuracy(&int8, &test_x, &test_y);
            println!(
                "{method:?}, per channel {per_channel}: int8 test accuracy {:.2} % (float {:.2} %), {} -> {} bytes",
                100.0 * int8_accuracy,
                100.0 * float_accuracy,
                float.len(),
                int8.len()
            );
            assert!(
                int8_accuracy >= float_accuracy - 0.003,
                "{method:?} per channel {per_channel}: {int8_accuracy} vs {float_accuracy}"
            );
        }
    }
}
