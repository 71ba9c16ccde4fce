//! A model with every quantizable op stays close to float through int8, with
//! int8 or float edges; a model with an op int8 cannot take is refused by name;
//! its LUT-compressed filters run as the dense clustered model.

#[path = "common/cnn.rs"]
mod cnn;
mod common;

use mote_compress::quantize::{
    quantize, Calibration, Io, QuantizeConfig, QuantizeError, RangeMethod,
};
use mote_runtime::{BuiltinOperator, Model, TensorType};

fn calibration(seed: u64, count: usize) -> Calibration {
    let values = cnn::Uniform::new(seed).values(count * 72, 1.0);
    Calibration::new(vec![count, 6, 6, 2], values).unwrap()
}

#[test]
fn int8_outputs_stay_close_to_float() {
    let float = cnn::model(1).to_bytes().unwrap();
    let samples = calibration(2, 300);
    let inputs = cnn::Uniform::new(3).values(50 * 72, 1.0);
    let expected = common::run_float(&float, &inputs, 72);
    // The probabilities move with the input (else the test could not fail).
    let (lo, hi) = expected
        .iter()
        .fold((1.0f32, 0.0f32), |(l, h), &p| (l.min(p), h.max(p)));
    println!("float probabilities span [{lo:.3}, {hi:.3}]");
    assert!(hi - lo > 0.2, "{lo} {hi}");
    for (method, io) in [
        (RangeMethod::MinMax, Io::Int8),
        (RangeMethod::Percentile, Io::Float),
        (RangeMethod::Mse, Io::Int8),
    ] {
        let config = QuantizeConfig {
            method,
            io,
            ..QuantizeConfig::default()
        };
        let int8 = quantize(&float, &samples, &config)
            .unwrap()
            .to_bytes()
            .unwrap();
        let model = Model::parse(&int8).unwrap();
        let graph = model.main();
        let edge = graph.tensor(graph.inputs().get(0).unwrap()).unwrap();
        let output = graph.tensor(graph.outputs().get(0).unwrap()).unwrap();
        match io {
            Io::Int8 => {
                assert_eq!(
                    (edge.dtype(), output.dtype()),
                    (TensorType::Int8, TensorType::Int8)
                );
                // SOFTMAX's output quantization is fixed: (1/256, -128).
                let q = output.quantization().unwrap();
                assert_eq!((q.scale(0), q.zero_point(0)), (1.0 / 256.0, -128));
            }
            Io::Float => {
                assert_eq!(
                    (edge.dtype(), output.dtype()),
                    (TensorType::Float32, TensorType::Float32)
                );
                let first = graph.operator(0).unwrap().builtin();
                let last = graph
                    .operator(graph.operator_count() - 1)
                    .unwrap()
                    .builtin();
                assert_eq!(
                    (first, last),
                    (BuiltinOperator::QUANTIZE, BuiltinOperator::DEQUANTIZE)
                );
            }
        }
        let got = common::run_float(&int8, &inputs, 72);
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        println!("{method:?} {io:?}: max |int8 - float| of the softmax = {worst:.4}");
        // Probabilities in 1/256 steps after thirteen int8 ops: a few steps (0.025 ~ 6).
        assert!(worst < 0.025, "{method:?}: {worst}");
    }
}

#[test]
fn an_op_without_int8_support_is_refused_by_name() {
    let mut def = cnn::model(1);
    def.operators[7].op = BuiltinOperator::ABS;
    let err = quantize(
        &def.to_bytes().unwrap(),
        &calibration(2, 4),
        &QuantizeConfig::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        QuantizeError::UnsupportedOp {
            index: 7,
            op: BuiltinOperator::ABS
        }
    );
}

#[test]
fn calibration_of_the_wrong_shape_is_refused() {
    let float = cnn::model(1).to_bytes().unwrap();
    let wrong = Calibration::new(vec![2, 70], vec![0.0; 140]).unwrap();
    let err = quantize(&float, &wrong, &QuantizeConfig::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "calibration data of shape [2, 70] does not match the model input [1, 6, 6, 2] (expected [N, ...] with ... = the input shape without its batch dimension)"
    );
}

#[test]
fn lut_filters_of_every_op_run_as_the_dense_clustered_model() {
    // The int8 CNN (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and more)
    // clustered and LUT-compressed: mote-runtime gives the dense clustered
    // model's output bytes.
    let float = cnn::model(1).to_bytes().unwrap();
    let mut def = quantize(&float, &calibration(2, 300), &QuantizeConfig::default()).unwrap();
    let filters = mote_compress::cluster::cluster(&mut def, 4).unwrap();
    assert!(filters.len() >= 3, "{filters:?}");
    let dense = def.to_bytes().unwrap();
    let lut = mote_compress::lut::compress(&def, &filters)
        .unwrap()
        .to_bytes()
        .unwrap();
    let inputs = cnn::Uniform::new(5).values(20 * 72, 1.0);
    let want = common::oracle::mote_outputs(&dense, &common::oracle::steps(&dense, &inputs, 72));
    let got = common::oracle::mote_outputs(&lut, &common::oracle::steps(&lut, &inputs, 72));
    assert_eq!(got, want);
    assert!(
        want.iter().any(|o| o != &want[0]),
        "the outputs do not move with the input"
    );
}
