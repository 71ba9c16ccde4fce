//! mote's post-training int8 models run in TensorFlow Lite Micro with outputs
//! identical to mote-runtime's: hello_world, the MLPerf Tiny anomaly-detection
//! autoencoder, MLPerf Tiny's ResNet-8, a digits MLP trained with mote-train,
//! and a small model with every quantizable op (int8 and float edges), all in
//! one TFLM batch.

#[path = "../../mote-compress/tests/common/cnn.rs"]
mod cnn;

use mote_compress::quantize::{quantize, Calibration, Io, QuantizeConfig, RangeMethod};
use mote_conformance::{assets, run, Case, Engine, Rng, TempDir};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::data::{read_csv, LabelColumn};
use mote_train::npy::Array;
use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};

/// Every input of one invocation run by mote-runtime; outputs as arrays.
fn mote_outputs(bytes: &[u8], steps: &[Vec<Array>]) -> Vec<Vec<Array>> {
    let model = Model::parse(bytes).unwrap();
    let mut arena = vec![0u8; 4 << 20];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    steps
        .iter()
        .map(|inputs| {
            interpreter
                .input_bytes_mut(0)
                .unwrap()
                .copy_from_slice(&inputs[0].data);
            interpreter.invoke().unwrap();
            let t = interpreter.output_tensor(0).unwrap();
            vec![Array {
                shape: t.shape().dims().to_vec(),
                dtype: t.dtype(),
                data: interpreter.output_bytes(0).unwrap().to_vec(),
            }]
        })
        .collect()
}

/// `count` random inputs for `bytes`' input tensor: uniform int8, or floats
/// in `[low, high)`.
fn random_steps(bytes: &[u8], count: usize, seed: u64, low: f32, high: f32) -> Vec<Vec<Array>> {
    let model = Model::parse(bytes).unwrap();
    let graph = model.main();
    let input = graph.tensor(graph.inputs().get(0).unwrap()).unwrap();
    let shape = input.shape().dims().to_vec();
    let n = input.shape().elements();
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            vec![match input.dtype() {
                TensorType::Int8 => Array {
                    shape: shape.clone(),
                    dtype: TensorType::Int8,
                    data: rng.bytes(n),
                },
                _ => Array::from_f32(
                    shape.clone(),
                    &(0..n).map(|_| rng.uniform(low, high)).collect::<Vec<_>>(),
                ),
            }]
        })
        .collect()
}

fn read(path: &str) -> Vec<u8> {
    let path = assets().join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config(method: RangeMethod, io: Io) -> QuantizeConfig {
    QuantizeConfig {
        method,
        io,
        ..QuantizeConfig::default()
    }
}

/// A digits MLP (64 -> 32 relu -> 10 softmax) trained 50 epochs, its float
/// `.tflite` and its training pixels / 16.
fn digits_mlp() -> (Vec<u8>, Tensor) {
    let (x, y) = read_csv(assets().join("data/digits.csv.gz"), LabelColumn::Last).unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    let (x, y) = (x.select_rows(&train), y.select_rows(&train));
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
        .fit(&x, &y, Fit::epochs(50).batch_size(32).seed(0).verbose(0))
        .unwrap();
    let bytes = mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap();
    (bytes, x)
}

/// A quantized model: its name, bytes, and the inputs of each invocation.
type Quantized = (&'static str, Vec<u8>, Vec<Vec<Array>>);

#[test]
fn quantized_models_run_identically_in_tflite_micro() {
    let dir = TempDir::new("quantize");
    let mut models: Vec<Quantized> = Vec::new();

    // hello_world: calibrated on 1000 points over [0, 2π].
    let xs: Vec<f32> = (0..1000)
        .map(|i| i as f32 * std::f32::consts::TAU / 999.0)
        .collect();
    let hello = read("tflm/hello_world/hello_world_float.tflite");
    let calibration = Calibration::new(vec![1000, 1], xs).unwrap();
    let int8 = quantize(&hello, &calibration, &config(RangeMethod::MinMax, Io::Int8)).unwrap();
    let int8 = int8.to_bytes().unwrap();
    let steps = random_steps(&int8, 64, 1, 0.0, 0.0);
    models.push(("hello_world", int8, steps));

    // ad01: calibrated on the sample's 196 windows of 5 frames.
    let bin = read("mlperf-tiny/ad/normal_id_01_00000000_hist_librosa.bin");
    let frames: Vec<f32> = bin
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let windows: Vec<f32> = (0..196)
        .flat_map(|w| frames[w * 128..w * 128 + 640].iter().copied())
        .collect();
    let ad = read("mlperf-tiny/ad/ad01_fp32.tflite");
    let calibration = Calibration::new(vec![196, 640], windows).unwrap();
    let int8 = quantize(
        &ad,
        &calibration,
        &config(RangeMethod::Percentile, Io::Int8),
    )
    .unwrap();
    let int8 = int8.to_bytes().unwrap();
    let steps = random_steps(&int8, 8, 2, 0.0, 0.0);
    models.push(("ad01", int8, steps));

    // The digits MLP, calibrated on its training set, per-tensor weights.
    let (mlp, train_x) = digits_mlp();
    let calibration = Calibration::new(vec![train_x.rows(), 64], train_x.data().to_vec()).unwrap();
    let per_tensor = QuantizeConfig {
        per_channel: false,
        ..config(RangeMethod::Mse, Io::Int8)
    };
    let int8 = quantize(&mlp, &calibration, &per_tensor)
        .unwrap()
        .to_bytes()
        .unwrap();
    let steps = random_steps(&int8, 32, 3, 0.0, 0.0);
    models.push(("digits_mlp", int8, steps));

    // MLPerf Tiny's ResNet-8 (CONV_2D, ADD, AVERAGE_POOL_2D, RESHAPE,
    // FULLY_CONNECTED, SOFTMAX), calibrated on 8 random images.
    let resnet = read("mlperf-tiny/ic/resnet8_float.tflite");
    let mut rng = Rng::new(5);
    let images: Vec<f32> = (0..8 * 3072).map(|_| rng.uniform(0.0, 255.0)).collect();
    let calibration = Calibration::new(vec![8, 32, 32, 3], images).unwrap();
    let int8 = quantize(
        &resnet,
        &calibration,
        &config(RangeMethod::MinMax, Io::Int8),
    )
    .unwrap();
    let int8 = int8.to_bytes().unwrap();
    let steps = random_steps(&int8, 2, 6, 0.0, 0.0);
    models.push(("resnet8", int8, steps));

    // Every quantizable op, int8 and float edges.
    let float = cnn::model(1).to_bytes().unwrap();
    let values = cnn::Uniform::new(2).values(300 * 72, 1.0);
    let calibration = Calibration::new(vec![300, 6, 6, 2], values).unwrap();
    for (name, io) in [("every_op_int8", Io::Int8), ("every_op_float", Io::Float)] {
        let int8 = quantize(&float, &calibration, &config(RangeMethod::MinMax, io)).unwrap();
        let int8 = int8.to_bytes().unwrap();
        let steps = random_steps(&int8, 32, 4, -1.5, 1.5);
        models.push((name, int8, steps));
    }

    let cases: Vec<Case> = models
        .iter()
        .map(|(name, bytes, steps)| {
            let model = dir.path().join(format!("{name}.tflite"));
            std::fs::write(&model, bytes).unwrap();
            Case {
                model,
                steps: steps.clone(),
            }
        })
        .collect();
    let outcomes = run(Engine::Tflm, &cases);
    for ((name, bytes, steps), outcome) in models.iter().zip(outcomes) {
        let theirs = outcome.unwrap_or_else(|e| panic!("{name}: TFLM failed: {e}"));
        let ours = mote_outputs(bytes, steps);
        assert_eq!(ours.len(), theirs.steps.len(), "{name}");
        for (s, (a, b)) in ours.iter().zip(&theirs.steps).enumerate() {
            assert_eq!(a[0].data, b[0].data, "{name}: step {s} differs from TFLM");
        }
        println!("{name}: {} invocations identical to TFLM", steps.len());
    }
}
