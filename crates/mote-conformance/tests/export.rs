//! Models trained with mote and exported to `.tflite` run in TensorFlow Lite
//! (`ai-edge-litert`) with the outputs of `Model::predict`, within 1e-5.

use mote_conformance::{assets, run, Case, Engine, TempDir};
use mote_train::data::{read_csv, LabelColumn};
use mote_train::npy::Array;
use mote_train::tflite::export;
use mote_train::{
    Activation, ActivationLayer, Adam, AveragePooling1D, AveragePooling2D, BatchNormalization,
    Conv1D, Conv2D, Dense, DepthwiseConv2D, Fit, Flatten, GlobalAveragePooling1D,
    GlobalAveragePooling2D, Layer, Loss, MaxPooling1D, MaxPooling2D, Metric, Model, Padding,
    Reshape, SeparableConv2D, Sequential, Tensor,
};

/// The digits: pixels / 16, and labels.
fn digits() -> (Tensor, Tensor) {
    let (x, y) = read_csv(assets().join("data/digits.csv.gz"), LabelColumn::Last).unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    (x, y)
}

/// Exports `model`, runs the first `rows` samples of `x` in TensorFlow Lite
/// and compares with `model.predict`.
fn assert_litert_matches_predict(model: &mut Model, x: &Tensor, rows: usize, what: &str) {
    let dir = TempDir::new("export");
    let path = dir.path().join(format!("{what}.tflite"));
    std::fs::write(&path, export(model).unwrap().to_bytes().unwrap()).unwrap();
    let x = x.select_rows(&(0..rows).collect::<Vec<_>>());
    let expected = model.predict(&x).unwrap();
    let mut sample = vec![1];
    sample.extend_from_slice(&x.shape()[1..]);
    let steps = (0..rows)
        .map(|r| vec![Array::from_f32(sample.clone(), x.row(r))])
        .collect();
    let outcome = run(Engine::Litert, &[Case { model: path, steps }])
        .remove(0)
        .unwrap_or_else(|e| panic!("{what}: TensorFlow Lite could not run it: {e}"));
    let mut worst = 0.0f32;
    for (r, step) in outcome.steps.iter().enumerate() {
        let got: Vec<f32> = step[0].to_f64().into_iter().map(|v| v as f32).collect();
        assert_eq!(got.len(), expected.row_len(), "{what}: output width");
        for (g, e) in got.iter().zip(expected.row(r)) {
            worst = worst.max((g - e).abs());
        }
    }
    assert!(
        worst <= 1e-5,
        "{what}: TFLite differs from predict by {worst}"
    );
}

fn train(model: &mut Model, x: &Tensor, y: &Tensor, loss: Loss, epochs: usize) {
    model
        .compile(Adam::new(1e-2), loss)
        .metrics([Metric::Accuracy]);
    model
        .fit(x, y, Fit::epochs(epochs).batch_size(32).seed(3).verbose(0))
        .unwrap();
}

#[test]
fn digits_mlp_runs_in_tflite_as_predicted() {
    let (x, y) = digits();
    let mut model = Sequential::new([
        Dense::new(32)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ]);
    train(
        &mut model,
        &x,
        &y,
        Loss::SparseCategoricalCrossentropy { from_logits: false },
        3,
    );
    assert_litert_matches_predict(&mut model, &x, 40, "digits_mlp");
}

#[test]
fn digits_cnn_runs_in_tflite_as_predicted() {
    let (x, y) = digits();
    let x = x.reshape([1797, 8, 8, 1]).unwrap();
    let mut model = Sequential::new([
        Layer::from(
            Conv2D::new(16, [3, 3])
                .padding(Padding::Same)
                .activation(Activation::Relu)
                .input_shape([8, 8, 1]),
        ),
        DepthwiseConv2D::new([3, 3])
            .padding(Padding::Same)
            .activation(Activation::Relu)
            .into(),
        Conv2D::new(32, [1, 1]).activation(Activation::Relu).into(),
        MaxPooling2D::new([2, 2]).into(),
        GlobalAveragePooling2D::new().into(),
        Dense::new(10).activation(Activation::Softmax).into(),
    ]);
    train(
        &mut model,
        &x,
        &y,
        Loss::SparseCategoricalCrossentropy { from_logits: false },
        2,
    );
    assert_litert_matches_predict(&mut model, &x, 40, "digits_cnn");
}

#[test]
fn batch_norm_folds_and_every_2d_layer_maps() {
    // Conv (linear) + BN folds; depthwise (tanh) + BN stays MUL + ADD;
    // separable, average pooling with same padding, flatten, reshape.
    let (x, y) = digits();
    let x = x.reshape([1797, 8, 8, 1]).unwrap();
    let mut model = Sequential::new([
        Layer::from(
            Conv2D::new(6, 3)
                .padding(Padding::Same)
                .input_shape([8, 8, 1]),
        ),
        BatchNormalization::new().into(),
        ActivationLayer::new(Activation::Relu).into(),
        SeparableConv2D::new(8, 3)
            .padding(Padding::Same)
            .depth_multiplier(2)
            .activation(Activation::Relu6)
            .into(),
        DepthwiseConv2D::new(3)
            .strides(2)
            .depth_multiplier(2)
            .activation(Activation::Tanh)
            .into(),
        BatchNormalization::new().into(),
        AveragePooling2D::new(2).padding(Padding::Same).into(),
        Flatten::new().into(),
        Dense::new(12).into(),
        BatchNormalization::new().into(),
        Reshape::new([3, 4]).into(),
        Dense::new(2).activation(Activation::Sigmoid).into(),
        Flatten::new().into(),
        Dense::new(10).activation(Activation::Softmax).into(),
    ]);
    train(
        &mut model,
        &x,
        &y,
        Loss::SparseCategoricalCrossentropy { from_logits: false },
        2,
    );
    let bytes = export(&model).unwrap().to_bytes().unwrap();
    let runtime = mote_runtime::Model::parse(&bytes).unwrap();
    let ops: Vec<String> = (0..runtime.main().operator_count())
        .map(|i| {
            runtime
                .main()
                .operator(i)
                .unwrap()
                .builtin()
                .name()
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    // two BNs fold (after the conv and the dense), one becomes MUL + ADD
    assert_eq!(ops.iter().filter(|o| *o == "MUL").count(), 1, "{ops:?}");
    assert_eq!(
        ops.iter().filter(|o| *o == "DEPTHWISE_CONV_2D").count(),
        2,
        "{ops:?}"
    );
    assert_litert_matches_predict(&mut model, &x, 20, "zoo_2d");
}

#[test]
fn one_d_layers_map_to_2d_operators_of_height_one() {
    // The digits' rows as 8 steps of 8 channels.
    let (x, y) = digits();
    let x = x.reshape([1797, 8, 8]).unwrap();
    let mut model = Sequential::new([
        Layer::from(Conv1D::new(8, 3).padding(Padding::Same).input_shape([8, 8])),
        BatchNormalization::new().into(),
        ActivationLayer::new(Activation::Relu).into(),
        MaxPooling1D::new(2).into(),
        AveragePooling1D::new(2).into(),
        Conv1D::new(8, 2).activation(Activation::Relu).into(),
        GlobalAveragePooling1D::new().into(),
        Dense::new(10).activation(Activation::Softmax).into(),
    ]);
    train(
        &mut model,
        &x,
        &y,
        Loss::SparseCategoricalCrossentropy { from_logits: false },
        2,
    );
    assert_litert_matches_predict(&mut model, &x, 20, "zoo_1d");
}

#[test]
fn hello_world_float_imports_predicts_as_tflite_and_fine_tunes() {
    use mote_train::tflite::import_bytes;
    let path = assets().join("tflm/hello_world/hello_world_float.tflite");
    let bytes = std::fs::read(&path).unwrap();
    let mut model = import_bytes(&bytes).unwrap();
    assert_eq!(model.input_shape(), Some(&[1][..]));
    // x over [0, 2 pi): TensorFlow Lite on the original file against the imported model
    let x = Tensor::from_fn([64, 1], |i| i as f32 * std::f32::consts::TAU / 64.0);
    let expected = model.predict(&x).unwrap();
    let steps = (0..64)
        .map(|r| vec![Array::from_f32(vec![1, 1], x.row(r))])
        .collect();
    let outcome = run(Engine::Litert, &[Case { model: path, steps }])
        .remove(0)
        .unwrap();
    for (r, step) in outcome.steps.iter().enumerate() {
        let got = step[0].to_f64()[0] as f32;
        let want = expected.data()[r];
        assert!(
            (got - want).abs() <= 1e-5,
            "x = {}: TFLite {got}, imported {want}",
            x.data()[r]
        );
    }
    // fine-tuning towards sin(x) + 0.5 lowers the loss it starts from (about
    // 0.25: the imported model already fits sin(x) to 2e-4, where Adam's
    // steps only jitter)
    let y = Tensor::new(x.data().iter().map(|v| v.sin() + 0.5).collect(), [64, 1]).unwrap();
    model.compile(Adam::new(1e-3), Loss::MeanSquaredError);
    let before = model.evaluate(&x, &y).unwrap().get("loss").unwrap();
    model
        .fit(&x, &y, Fit::epochs(30).batch_size(16).seed(1).verbose(0))
        .unwrap();
    let after = model.evaluate(&x, &y).unwrap().get("loss").unwrap();
    assert!(
        before > 0.2 && after < before / 2.0,
        "fine-tuning: loss {before} -> {after}"
    );
}
