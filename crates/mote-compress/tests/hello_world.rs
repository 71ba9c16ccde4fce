//! mote's int8 of TensorFlow Lite Micro's hello_world sine model tracks sin(x)
//! at least as well as TensorFlow's own int8 conversion.

mod common;

use mote_compress::quantize::{quantize, Calibration, QuantizeConfig, RangeMethod};

/// `n` evenly spaced points over [0, 2π].
fn points(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| i as f32 * std::f32::consts::TAU / (n - 1) as f32)
        .collect()
}

/// The largest |model(x) - sin(x)| over `xs`.
fn max_error(bytes: &[u8], xs: &[f32]) -> f32 {
    common::run_float(bytes, xs, 1)
        .iter()
        .zip(xs)
        .map(|(y, x)| (y - x.sin()).abs())
        .fold(0.0, f32::max)
}

#[test]
fn int8_hello_world_tracks_sine_as_well_as_tensorflows() {
    let float = common::asset("tflm/hello_world/hello_world_float.tflite");
    let theirs = common::asset("tflm/hello_world/hello_world_int8.tflite");
    // Calibrate on 1000 evenly spaced inputs over the model's domain.
    let xs = points(1000);
    let calibration = Calibration::new(vec![xs.len(), 1], xs).unwrap();
    let (nine, many) = (points(9), points(10_001));
    let their_nine = max_error(&theirs, &nine);
    let their_many = max_error(&theirs, &many);
    let float_many = max_error(&float, &many);
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
        let our_nine = max_error(&ours, &nine);
        let our_many = max_error(&ours, &many);
        println!(
            "{method:?}: max |y - sin x| at 9 points {our_nine:.4} (TensorFlow int8 {their_nine:.4}), \
             at 10001 points {our_many:.4} (TensorFlow int8 {their_many:.4}, float {float_many:.4})"
        );
        // TensorFlow's int8 model: 0.116 at the 9 points.
        assert!(our_nine <= their_nine.max(0.116), "{method:?}: {our_nine}");
        assert!(our_many <= their_many, "{method:?}: {our_many}");
    }
}
