//! Every float model of the shared assets that mote-runtime runs, made by
//! TensorFlow, through int8 post-training quantization: each int8 model runs
//! in TensorFlow Lite Micro with outputs identical (bytes) to mote-runtime's.
//!
//! - hello_world (FULLY_CONNECTED): 1000 points over [0, 2π];
//! - MLPerf Tiny ad01 (FULLY_CONNECTED): the reference sample's 196 windows;
//! - MLPerf Tiny ResNet-8 and its large variant (CONV_2D, ADD,
//!   AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX) and visual wake
//!   words (DEPTHWISE_CONV_2D too): random images (no CIFAR-10 or COCO images
//!   are staged), with float edges for VWW;
//! - TFLM's mnist_lstm (UNIDIRECTIONAL_SEQUENCE_LSTM, RESHAPE,
//!   FULLY_CONNECTED, SOFTMAX): random 28 x 28 images in [0, 1];
//! - MLPerf Tiny's KWS reference "float32" model, a dynamic-range hybrid
//!   (int8 CONV_2D weights) that TensorFlow Lite Micro refuses as it is: its
//!   weights dequantized, random 49 x 10 features in [-30, 20).
//!
//! `cargo test --release -p mote-compress --test asset_models -- --nocapture`

#[path = "common/cnn.rs"]
#[allow(dead_code)]
mod cnn;
mod common;

use common::oracle::assert_identical_to_tflm;
use mote_compress::quantize::{quantize, Calibration, Io, QuantizeConfig, RangeMethod};
use mote_runtime::{Model, TensorType};

/// `n` floats uniform in `[lo, hi)` from `seed`.
fn uniform(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    cnn::Uniform::new(seed)
        .values(n, 1.0)
        .into_iter()
        .map(|u| lo + (hi - lo) * (u + 1.0) / 2.0)
        .collect()
}

/// One asset model: its path, calibration samples (`[N, ...]`), the rows
/// TensorFlow Lite Micro runs, and how to quantize it.
struct Case {
    name: &'static str,
    path: &'static str,
    shape: Vec<usize>,
    calibration: Vec<f32>,
    rows: Vec<f32>,
    config: QuantizeConfig,
}

fn config(method: RangeMethod, io: Io) -> QuantizeConfig {
    QuantizeConfig {
        method,
        io,
        ..QuantizeConfig::default()
    }
}

fn cases() -> Vec<Case> {
    let tau = std::f32::consts::TAU;
    let bin = common::asset("mlperf-tiny/ad/normal_id_01_00000000_hist_librosa.bin");
    let frames: Vec<f32> = bin
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let windows: Vec<f32> = (0..196)
        .flat_map(|w| frames[w * 128..w * 128 + 640].iter().copied())
        .collect();
    let image = 32 * 32 * 3;
    let vww = 96 * 96 * 3;
    vec![
        Case {
            name: "hello_world",
            path: "tflm/hello_world/hello_world_float.tflite",
            shape: vec![1000, 1],
            calibration: (0..1000).map(|i| i as f32 * tau / 999.0).collect(),
            rows: uniform(1, 64, 0.0, tau),
            config: config(RangeMethod::MinMax, Io::Int8),
        },
        Case {
            name: "ad01",
            path: "mlperf-tiny/ad/ad01_fp32.tflite",
            shape: vec![196, 640],
            rows: windows[..8 * 640].to_vec(),
            calibration: windows,
            config: config(RangeMethod::Percentile, Io::Int8),
        },
        Case {
            name: "resnet8",
            path: "mlperf-tiny/ic/resnet8_float.tflite",
            shape: vec![8, 32, 32, 3],
            calibration: uniform(5, 8 * image, 0.0, 255.0),
            rows: uniform(6, 2 * image, 0.0, 255.0),
            config: config(RangeMethod::MinMax, Io::Int8),
        },
        Case {
            name: "resnet_large",
            path: "mlperf-tiny/ic/resnet_large_float.tflite",
            shape: vec![4, 32, 32, 3],
            calibration: uniform(7, 4 * image, 0.0, 1.0),
            rows: uniform(8, 2 * image, 0.0, 1.0),
            config: config(RangeMethod::Mse, Io::Int8),
        },
        Case {
            name: "vww_96",
            path: "mlperf-tiny/vww/vww_96_float.tflite",
            shape: vec![4, 96, 96, 3],
            calibration: uniform(9, 4 * vww, 0.0, 1.0),
            rows: uniform(10, 2 * vww, 0.0, 1.0),
            config: config(RangeMethod::MinMax, Io::Float),
        },
        Case {
            name: "mnist_lstm",
            path: "tflm/mnist_lstm/trained_lstm.tflite",
            shape: vec![16, 28, 28],
            calibration: uniform(11, 16 * 784, 0.0, 1.0),
            rows: uniform(12, 4 * 784, 0.0, 1.0),
            config: config(RangeMethod::MinMax, Io::Int8),
        },
        Case {
            name: "kws_hybrid",
            path: "mlperf-tiny/kws/kws_ref_model_float32.tflite",
            shape: vec![16, 49, 10, 1],
            calibration: uniform(13, 16 * 490, -30.0, 20.0),
            rows: uniform(14, 4 * 490, -30.0, 20.0),
            config: config(RangeMethod::Percentile, Io::Int8),
        },
    ]
}

#[test]
fn every_float_asset_model_quantizes_and_matches_tflite_micro() {
    for case in cases() {
        let float = common::asset(case.path);
        let calibration = Calibration::new(case.shape.clone(), case.calibration).unwrap();
        let int8 = quantize(&float, &calibration, &case.config)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name))
            .to_bytes()
            .unwrap();
        let model = Model::parse(&int8).unwrap();
        let graph = model.main();
        let floats = (0..graph.tensor_count())
            .filter(|&i| graph.tensor(i).unwrap().dtype() == TensorType::Float32)
            .count();
        let edges = if case.config.io == Io::Float { 2 } else { 0 };
        assert_eq!(floats, edges, "{}: float tensors", case.name);
        let row: usize = case.shape[1..].iter().product();
        let rows = assert_identical_to_tflm(&[(case.name.into(), int8.clone())], &case.rows, row);
        println!(
            "{}: {} -> {} bytes, {} ops, identical to TFLM on {rows} rows",
            case.name,
            float.len(),
            int8.len(),
            graph.operator_count()
        );
    }
}
