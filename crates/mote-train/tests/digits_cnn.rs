//! The digits CNN reference task: 8x8x1 -> Conv2D 16 3x3 same relu ->
//! DepthwiseConv2D 3x3 same relu -> Conv2D 32 1x1 relu -> MaxPooling 2x2 ->
//! GlobalAveragePooling -> Dense 10 softmax, Adam 1e-3, batch 32, 30 epochs,
//! seeds 0..5. Keras reports 86.6 % mean test accuracy; we measure 84.6 % with
//! these seeds (85.1 % over 12 seeds; single seeds range 79-89 %). The guard
//! below catches regressions, not seed noise.

mod common;

use mote_train::{
    Activation, Adam, Conv2D, Dense, DepthwiseConv2D, Fit, GlobalAveragePooling2D, Layer, Loss,
    MaxPooling2D, Metric, Padding, Sequential,
};

#[test]
fn digits_cnn_trains_to_keras_level() {
    let d = common::digits();
    let train_x = d.train_x.clone().reshape([1437, 8, 8, 1]).unwrap();
    let test_x = d.test_x.clone().reshape([360, 8, 8, 1]).unwrap();
    let mut accuracies = Vec::new();
    for seed in 0..5 {
        let mut model = Sequential::new([
            Layer::from(
                Conv2D::new(16, 3)
                    .padding(Padding::Same)
                    .activation(Activation::Relu)
                    .input_shape([8, 8, 1]),
            ),
            DepthwiseConv2D::new(3)
                .padding(Padding::Same)
                .activation(Activation::Relu)
                .into(),
            Conv2D::new(32, 1).activation(Activation::Relu).into(),
            MaxPooling2D::new(2).into(),
            GlobalAveragePooling2D::new().into(),
            Dense::new(10).activation(Activation::Softmax).into(),
        ])
        .seeded(seed)
        .unwrap();
        model
            .compile(
                Adam::new(1e-3),
                Loss::SparseCategoricalCrossentropy { from_logits: false },
            )
            .metrics([Metric::Accuracy]);
        model
            .fit(
                &train_x,
                &d.train_y,
                Fit::epochs(30).batch_size(32).seed(seed).verbose(0),
            )
            .unwrap();
        let logs = model.evaluate(&test_x, &d.test_y).unwrap();
        accuracies.push(logs.get("accuracy").unwrap());
    }
    let mean = accuracies.iter().sum::<f32>() / accuracies.len() as f32;
    eprintln!("digits CNN test accuracy per seed {accuracies:?}, mean {mean:.4}");
    assert!(
        mean >= 0.83,
        "mean accuracy {mean} < 0.83 (Keras 0.866; {accuracies:?})"
    );
}
