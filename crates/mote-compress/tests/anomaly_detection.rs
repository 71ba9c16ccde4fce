//! mote's int8 of the MLPerf Tiny anomaly-detection autoencoder keeps the
//! anomaly score of the reference sample at least as close to float as
//! TensorFlow's own int8 model does.

mod common;

use mote_compress::quantize::{quantize, Calibration, QuantizeConfig, RangeMethod, WeightType};

/// The sample's 196 windows: 200 frames of 128 log-mel bins (float32 LE),
/// 5 consecutive frames (640 values) per window, stride one frame.
fn windows() -> Vec<f32> {
    let bytes = common::asset("mlperf-tiny/ad/normal_id_01_00000000_hist_librosa.bin");
    let frames: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(frames.len(), 200 * 128);
    (0..196)
        .flat_map(|w| frames[w * 128..w * 128 + 640].iter().copied())
        .collect()
}

/// The anomaly score: mean squared error between the windows and their reconstruction.
fn score(bytes: &[u8], windows: &[f32]) -> f64 {
    let reconstruction = common::run_float(bytes, windows, 640);
    let sum: f64 = windows
        .iter()
        .zip(&reconstruction)
        .map(|(x, y)| f64::from(x - y).powi(2))
        .sum();
    sum / windows.len() as f64
}

#[test]
fn int8_autoencoder_keeps_the_anomaly_score() {
    let float = common::asset("mlperf-tiny/ad/ad01_fp32.tflite");
    let theirs = common::asset("mlperf-tiny/ad/ad01_int8.tflite");
    let windows = windows();
    let float_score = score(&float, &windows);
    let their_score = score(&theirs, &windows);
    // The reference values: float 9.707, TensorFlow's int8 10.265.
    assert!((float_score - 9.707).abs() < 1e-3, "{float_score}");
    assert!((their_score - 10.265).abs() < 1e-3, "{their_score}");
    // The only data at hand is this sample: it calibrates and it scores.
    let calibration = Calibration::new(vec![196, 640], windows.clone()).unwrap();
    for method in [
        RangeMethod::MinMax,
        RangeMethod::Percentile,
        RangeMethod::Mse,
    ] {
        let config = QuantizeConfig {
            method,
            ..QuantizeConfig::default()
        };
        let ours = quantize(&float, &calibration, &config)
            .unwrap()
            .to_bytes()
            .unwrap();
        let our_score = score(&ours, &windows);
        println!(
            "{method:?}: score {our_score:.3} (float {float_score:.3}, TensorFlow int8 {their_score:.3})"
        );
        assert!(
            (our_score - float_score).abs() <= (their_score - float_score).abs(),
            "{method:?}: {our_score}"
        );
    }
}

#[test]
fn int4_weights_halve_the_autoencoder_at_a_measured_score_cost() {
    let float = common::asset("mlperf-tiny/ad/ad01_fp32.tflite");
    let windows = windows();
    let float_score = score(&float, &windows);
    let calibration = Calibration::new(vec![196, 640], windows.clone()).unwrap();
    let mut sizes = Vec::new();
    for weights in [WeightType::Int8, WeightType::Int4] {
        for method in [RangeMethod::MinMax, RangeMethod::Percentile] {
            let config = QuantizeConfig {
                method,
                weights,
                ..QuantizeConfig::default()
            };
            let ours = quantize(&float, &calibration, &config)
                .unwrap()
                .to_bytes()
                .unwrap();
            let our_score = score(&ours, &windows);
            println!(
                "{weights:?} weights, {method:?}: score {our_score:.3} (float {float_score:.3}), {} bytes",
                ours.len()
            );
            sizes.push(ours.len());
            // int8 within 1 % of float's score (TensorFlow's int8 is 5.7 %
            // off); int4, one scale per layer as TFLM requires, measured at
            // 23.0 (min/max): bounded at 2.5 x float.
            let bound = match weights {
                WeightType::Int8 => 0.01 * float_score,
                WeightType::Int4 => 1.5 * float_score,
            };
            assert!(
                (our_score - float_score).abs() < bound,
                "{weights:?} {method:?}: {our_score}"
            );
        }
    }
    // 270 880 weight bytes become 135 440, and FULLY_CONNECTED's scales one.
    assert!(sizes[2] < sizes[0] / 2, "{sizes:?}");
}

#[test]
fn per_channel_clustering_keeps_the_anomaly_score_in_two_thirds_of_the_file() {
    // ad01's own int8 has one weight scale per tensor, so clustering it gives
    // 16 values for up to 81,920 weights (score 36). mote's int8 of the float
    // model is per channel: one table of K values per output unit.
    let float = common::asset("mlperf-tiny/ad/ad01_fp32.tflite");
    let theirs = common::asset("mlperf-tiny/ad/ad01_int8.tflite");
    let windows = windows();
    let float_score = score(&float, &windows);
    let their_score = score(&theirs, &windows);
    let calibration = Calibration::new(vec![196, 640], windows.clone()).unwrap();
    let config = QuantizeConfig {
        method: RangeMethod::Percentile,
        ..QuantizeConfig::default()
    };
    let int8 = quantize(&float, &calibration, &config).unwrap();
    let int8_bytes = int8.to_bytes().unwrap();
    for k in [16, 8, 4] {
        let mut def = int8.clone();
        let filters = mote_compress::cluster::cluster(&mut def, k).unwrap();
        let dense = def.to_bytes().unwrap();
        let compressed = mote_compress::lut::compress(&def, &filters)
            .unwrap()
            .to_bytes()
            .unwrap();
        let dense_score = score(&dense, &windows);
        let lut_score = score(&compressed, &windows);
        println!(
            "K = {k}: score {dense_score:.3} (LUT file {lut_score:.3}), {} bytes LUT vs {} int8 (float {float_score:.3}, TensorFlow int8 {their_score:.3})",
            compressed.len(),
            int8_bytes.len()
        );
        assert_eq!(
            dense_score, lut_score,
            "K = {k}: the LUT file scores differently"
        );
    }
}
