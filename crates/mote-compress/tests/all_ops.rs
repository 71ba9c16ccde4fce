//! Post-training int8 quantization of every float operator mote-train
//! exports, and of the other TensorFlow Lite operators with int8 kernels
//! the quantizer handles: the int8 models stay close to float and run in
//! TensorFlow Lite Micro with outputs identical (bytes) to mote-runtime's.
//!
//! `cargo test --release -p mote-compress --test all_ops -- --nocapture`

#[path = "common/cnn.rs"]
#[allow(dead_code)]
mod cnn;
mod common;

use std::collections::BTreeSet;

use mote_compress::quantize::{quantize, Calibration, Io, QuantizeConfig, RangeMethod};
use mote_runtime::{BuiltinOperator as B, Model, TensorType};
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, TensorDef};
use mote_train::{
    Activation, ActivationLayer, Add, AveragePooling1D, AveragePooling2D, BatchNormalization,
    Concatenate, Conv1D, Conv2D, Dense, DepthwiseConv2D, Flatten, GlobalAveragePooling1D,
    GlobalAveragePooling2D, Graph, MaxPooling1D, MaxPooling2D, Padding, Reshape, SeparableConv2D,
};

/// A graph with every layer (and so every operator) mote-train exports,
/// seeded random weights; input [8, 8, 2], 5 softmax outputs.
fn exported_graph() -> Vec<u8> {
    use Activation::*;
    let mut g = Graph::new([8, 8, 2]);
    let x = g.input();
    let a = g.add(Conv2D::new(6, 3).padding(Padding::Same).activation(Relu), x);
    let b = g.add(
        DepthwiseConv2D::new(3)
            .padding(Padding::Same)
            .activation(Relu6),
        a,
    );
    let c = g.add(SeparableConv2D::new(6, 3).padding(Padding::Same), b);
    let d = g.add(Conv2D::new(6, 1).activation(LeakyRelu(0.2)), c);
    let s = g.add(Add::new(), [a, d]);
    // After an Add, BatchNormalization is not folded: MUL then ADD.
    let n = g.add(BatchNormalization::new(), s);
    let h = g.add(ActivationLayer::new(HardSwish), n);
    let m = g.add(MaxPooling2D::new(2), h);
    let p = g.add(
        AveragePooling2D::new(2).strides(1).padding(Padding::Same),
        m,
    );
    let joined = g.add(Concatenate::new(), [m, p]);
    let mean = g.add(GlobalAveragePooling2D::new(), joined);
    let flat = g.add(Flatten::new(), p);
    let seq = g.add(Reshape::new([16, 6]), flat);
    let c1 = g.add(Conv1D::new(4, 3).activation(Relu), seq);
    let mp = g.add(MaxPooling1D::new(2), c1);
    let ap = g.add(AveragePooling1D::new(2), mp);
    let mean1 = g.add(GlobalAveragePooling1D::new(), ap);
    let both = g.add(Concatenate::new(), [mean, mean1]);
    let t = g.add(Dense::new(8).activation(Tanh), both);
    let sg = g.add(Dense::new(8).activation(Sigmoid), both);
    let l = g.add(Dense::new(8), both);
    let r = g.add(ActivationLayer::new(Relu), l);
    let r6 = g.add(ActivationLayer::new(Relu6), r);
    // Fixed-scale inputs (TANH, LOGISTIC) with a calibrated one.
    let all = g.add(Concatenate::new(), [t, sg, r6]);
    let y = g.add(Dense::new(5).activation(Softmax), all);
    let model = g.build(y).unwrap().seeded(1).unwrap();
    mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap()
}

fn options(kind: u8, scalars: Vec<(u16, Scalar)>, vectors: Vec<(u16, Vec<i32>)>) -> OptionsDef {
    OptionsDef {
        kind,
        scalars,
        vectors,
        ..OptionsDef::default()
    }
}

/// The TensorFlow Lite operators mote-train does not export but the
/// quantizer handles: PAD, PADV2, STRIDED_SLICE, TRANSPOSE, MAXIMUM, MINIMUM
/// (with a constant), SUB, RELU6, EXPAND_DIMS, SQUEEZE, and a CONCATENATION
/// of a SOFTMAX, a TANH and a calibrated tensor. Input [1, 4, 4, 3].
fn other_ops() -> Vec<u8> {
    let mut rng = cnn::Uniform::new(7);
    let mut def = ModelDef {
        description: "other int8 ops".into(),
        name: "main".into(),
        ..ModelDef::default()
    };
    let t = |def: &mut ModelDef, tensor: TensorDef| {
        def.tensors.push(tensor);
        def.tensors.len() as i32 - 1
    };
    let f = |name: &str, shape: &[i32]| TensorDef::new(name, shape, TensorType::Float32);
    let ints = |name: &str, shape: &[i32], values: &[i32]| {
        let mut tensor = TensorDef::new(name, shape, TensorType::Int32);
        tensor.data = Some(values.iter().flat_map(|v| v.to_le_bytes()).collect());
        tensor
    };
    let x = t(&mut def, f("x", &[1, 4, 4, 3]));
    let pads = t(&mut def, ints("pads", &[4, 2], &[0, 0, 1, 1, 1, 1, 0, 0]));
    let padded = t(&mut def, f("pad", &[1, 6, 6, 3]));
    let w = t(
        &mut def,
        TensorDef::constant_f32("conv/w", &[4, 3, 3, 3], &rng.values(108, 0.4)),
    );
    let b = t(
        &mut def,
        TensorDef::constant_f32("conv/b", &[4], &rng.values(4, 0.1)),
    );
    let conv = t(&mut def, f("conv", &[1, 4, 4, 4]));
    let pads2 = t(&mut def, ints("pads2", &[4, 2], &[0, 0, 1, 0, 0, 1, 0, 0]));
    let value = t(&mut def, TensorDef::constant_f32("value", &[], &[0.25]));
    let padded2 = t(&mut def, f("padv2", &[1, 5, 5, 4]));
    let begin = t(&mut def, ints("begin", &[4], &[0, 1, 0, 0]));
    let end = t(&mut def, ints("end", &[4], &[1, 5, 4, 4]));
    let strides = t(&mut def, ints("strides", &[4], &[1, 1, 1, 1]));
    let sliced = t(&mut def, f("slice", &[1, 4, 4, 4]));
    let perm = t(&mut def, ints("perm", &[4], &[0, 2, 1, 3]));
    let transposed = t(&mut def, f("transpose", &[1, 4, 4, 4]));
    let max = t(&mut def, f("maximum", &[1, 4, 4, 4]));
    let limit = t(
        &mut def,
        TensorDef::constant_f32("limit", &[4], &[0.5, 1.0, 1.5, 2.0]),
    );
    let min = t(&mut def, f("minimum", &[1, 4, 4, 4]));
    let diff = t(&mut def, f("sub", &[1, 4, 4, 4]));
    let relu6 = t(&mut def, f("relu6", &[1, 4, 4, 4]));
    let shape = t(&mut def, ints("shape", &[2], &[1, 64]));
    let flat = t(&mut def, f("flat", &[1, 64]));
    let mut dense = |def: &mut ModelDef, name: &str, fan_in: usize, units: usize, scale: f32| {
        def.tensors.push(TensorDef::constant_f32(
            format!("{name}/w"),
            &[units as i32, fan_in as i32],
            &rng.values(units * fan_in, scale),
        ));
        def.tensors.push(TensorDef::constant_f32(
            format!("{name}/b"),
            &[units as i32],
            &rng.values(units, 0.2),
        ));
        def.tensors.push(TensorDef::new(
            name,
            &[1, units as i32],
            TensorType::Float32,
        ));
        let n = def.tensors.len() as i32;
        (n - 3, n - 2, n - 1)
    };
    let (w1, b1, logits) = dense(&mut def, "fc1", 64, 6, 0.5);
    let (w2, b2, pre_tanh) = dense(&mut def, "fc2", 64, 6, 0.5);
    let (w3, b3, out_logits) = dense(&mut def, "fc3", 18, 5, 0.5);
    let probs = t(&mut def, f("softmax", &[1, 6]));
    let axis = t(&mut def, ints("axis", &[], &[1]));
    let expanded = t(&mut def, f("expand_dims", &[1, 1, 6]));
    let squeezed = t(&mut def, f("squeeze", &[1, 6]));
    let tanh = t(&mut def, f("tanh", &[1, 6]));
    let joined = t(&mut def, f("concatenation", &[1, 18]));
    let y = t(&mut def, f("y", &[1, 5]));
    let none = OptionsDef::default;
    let fc = || OptionsDef::fully_connected(0, false);
    let op = |o: B, inputs: &[i32], output: i32, options: OptionsDef| {
        OperatorDef::new(o, inputs, &[output], options)
    };
    let conv_options = options(
        1,
        vec![
            (0, Scalar::U8(1)),
            (1, Scalar::I32(1)),
            (2, Scalar::I32(1)),
            (3, Scalar::U8(0)),
        ],
        vec![],
    );
    def.operators = vec![
        op(B::PAD, &[x, pads], padded, options(22, vec![], vec![])),
        op(B::CONV_2D, &[padded, w, b], conv, conv_options),
        op(
            B::PADV2,
            &[conv, pads2, value],
            padded2,
            options(43, vec![], vec![]),
        ),
        op(
            B::STRIDED_SLICE,
            &[padded2, begin, end, strides],
            sliced,
            options(32, vec![], vec![]),
        ),
        op(
            B::TRANSPOSE,
            &[sliced, perm],
            transposed,
            options(26, vec![], vec![]),
        ),
        op(
            B::MAXIMUM,
            &[transposed, conv],
            max,
            options(39, vec![], vec![]),
        ),
        op(B::MINIMUM, &[max, limit], min, options(39, vec![], vec![])),
        op(
            B::SUB,
            &[min, conv],
            diff,
            options(28, vec![(0, Scalar::U8(0))], vec![]),
        ),
        op(B::RELU6, &[diff], relu6, none()),
        op(
            B::RESHAPE,
            &[relu6, shape],
            flat,
            options(17, vec![], vec![(0, vec![1, 64])]),
        ),
        op(B::FULLY_CONNECTED, &[flat, w1, b1], logits, fc()),
        op(
            B::SOFTMAX,
            &[logits],
            probs,
            options(9, vec![(0, Scalar::F32(1.0))], vec![]),
        ),
        op(
            B::EXPAND_DIMS,
            &[probs, axis],
            expanded,
            options(52, vec![], vec![]),
        ),
        op(
            B::SQUEEZE,
            &[expanded],
            squeezed,
            options(30, vec![], vec![(0, vec![1])]),
        ),
        op(B::FULLY_CONNECTED, &[flat, w2, b2], pre_tanh, fc()),
        op(B::TANH, &[pre_tanh], tanh, none()),
        op(
            B::CONCATENATION,
            &[squeezed, tanh, logits],
            joined,
            options(10, vec![(0, Scalar::I32(1))], vec![]),
        ),
        op(B::FULLY_CONNECTED, &[joined, w3, b3], out_logits, fc()),
        op(
            B::SOFTMAX,
            &[out_logits],
            y,
            options(9, vec![(0, Scalar::F32(1.0))], vec![]),
        ),
    ];
    def.inputs = vec![x];
    def.outputs = vec![y];
    def.to_bytes().unwrap()
}

/// The builtin operators of a model, by name.
fn ops(bytes: &[u8]) -> BTreeSet<String> {
    let model = Model::parse(bytes).unwrap();
    let graph = model.main();
    (0..graph.operator_count())
        .map(|i| graph.operator(i).unwrap().builtin().to_string())
        .collect()
}

/// Quantizes `float` (calibrated on uniform inputs in [-1, 1)) with int8
/// and float edges; checks the softmax outputs stay within `tolerance` of
/// float's on other inputs, and returns the two int8 models.
fn quantize_both(
    name: &str,
    float: &[u8],
    row: usize,
    shape: &[usize],
    inputs: &[f32],
    tolerance: f32,
) -> Vec<(String, Vec<u8>)> {
    let mut calibration_shape = vec![300];
    calibration_shape.extend_from_slice(shape);
    let samples = Calibration::new(
        calibration_shape,
        cnn::Uniform::new(2).values(300 * row, 1.0),
    )
    .unwrap();
    let expected = common::run_float(float, inputs, row);
    let mut models = Vec::new();
    for (io, method) in [
        (Io::Int8, RangeMethod::MinMax),
        (Io::Float, RangeMethod::Percentile),
    ] {
        let config = QuantizeConfig {
            io,
            method,
            ..QuantizeConfig::default()
        };
        let int8 = quantize(float, &samples, &config)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_bytes()
            .unwrap();
        let model = Model::parse(&int8).unwrap();
        let graph = model.main();
        // Every activation is int8 (but the float edges).
        let float_tensors = (0..graph.tensor_count())
            .filter(|&i| graph.tensor(i).unwrap().dtype() == TensorType::Float32)
            .count();
        assert_eq!(
            float_tensors,
            if io == Io::Float { 2 } else { 0 },
            "{name} {io:?}"
        );
        let got = common::run_float(&int8, inputs, row);
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        println!(
            "{name} {io:?} {method:?}: {} ops, max |int8 - float| of the softmax = {worst:.4}",
            graph.operator_count()
        );
        assert!(worst < tolerance, "{name} {io:?}: {worst}");
        models.push((format!("{name}_{io:?}").to_lowercase(), int8));
    }
    models
}

#[test]
fn every_exported_and_other_op_quantizes_and_matches_tflite_micro() {
    let exported = exported_graph();
    let have = ops(&exported);
    for op in [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "LEAKY_RELU",
        "ADD",
        "MUL",
        "HARD_SWISH",
        "MAX_POOL_2D",
        "AVERAGE_POOL_2D",
        "CONCATENATION",
        "MEAN",
        "RESHAPE",
        "FULLY_CONNECTED",
        "TANH",
        "LOGISTIC",
        "RELU",
        "RELU6",
        "SOFTMAX",
    ] {
        assert!(
            have.contains(op),
            "the exported graph has no {op}: {have:?}"
        );
    }
    let other = other_ops();
    let x_exported = cnn::Uniform::new(3).values(32 * 128, 1.0);
    let x_other = cnn::Uniform::new(4).values(32 * 48, 1.0);
    let exported_models = quantize_both("exported", &exported, 128, &[8, 8, 2], &x_exported, 0.05);
    let other_models = quantize_both("other", &other, 48, &[4, 4, 3], &x_other, 0.05);
    // The CONCATENATION of a SOFTMAX and a TANH output with a calibrated
    // tensor requantizes the two fixed-scale inputs.
    let int8 = &other_models[0].1;
    let quantizes = |bytes: &[u8]| {
        let model = Model::parse(bytes).unwrap();
        let graph = model.main();
        (0..graph.operator_count())
            .filter(|&i| graph.operator(i).unwrap().builtin() == B::QUANTIZE)
            .count()
    };
    assert_eq!(quantizes(int8), 2);
    // The float models too (within 1e-5: TensorFlow Lite Micro reads the
    // options mote-train writes, LEAKY_RELU's alpha included).
    common::oracle::assert_same_as_tflm(&[("exported_float".into(), exported)], &x_exported, 128);
    common::oracle::assert_same_as_tflm(&[("other_float".into(), other)], &x_other, 48);
    let rows = common::oracle::assert_identical_to_tflm(&exported_models, &x_exported, 128);
    let rows_other = common::oracle::assert_identical_to_tflm(&other_models, &x_other, 48);
    println!("TFLM identical: {rows} and {rows_other} rows, int8 and float edges");
}

/// An LSTM with the options the int8 kernel takes: time-major input of 2
/// sequences (5 steps of 3 features), 4 cells, a cell clip, the cell
/// activation `activation` (`ActivationFunctionType`, 4 = TANH); then
/// FULLY_CONNECTED and SOFTMAX.
fn lstm_model(activation: u8) -> Vec<u8> {
    let mut rng = cnn::Uniform::new(11);
    let mut def = ModelDef {
        description: "lstm".into(),
        name: "main".into(),
        ..ModelDef::default()
    };
    let push = |def: &mut ModelDef, t: TensorDef| {
        def.tensors.push(t);
        def.tensors.len() as i32 - 1
    };
    let f = |name: &str, shape: &[i32]| TensorDef::new(name, shape, TensorType::Float32);
    let x = push(&mut def, f("x", &[5, 2, 3]));
    let mut inputs = vec![-1; 24];
    inputs[0] = x;
    for g in 0..4 {
        let w = TensorDef::constant_f32(format!("w{g}"), &[4, 3], &rng.values(12, 0.8));
        inputs[1 + g] = push(&mut def, w);
        let r = TensorDef::constant_f32(format!("r{g}"), &[4, 4], &rng.values(16, 0.6));
        inputs[5 + g] = push(&mut def, r);
        let b = TensorDef::constant_f32(format!("b{g}"), &[4], &rng.values(4, 0.5));
        inputs[12 + g] = push(&mut def, b);
    }
    for (slot, name) in [(18, "hidden"), (19, "cell")] {
        let mut state = f(name, &[2, 4]);
        state.is_variable = true;
        inputs[slot] = push(&mut def, state);
    }
    let sequence = push(&mut def, f("lstm", &[5, 2, 4]));
    let shape = {
        let mut t = TensorDef::new("shape", &[2], TensorType::Int32);
        t.data = Some([1i32, 40].iter().flat_map(|v| v.to_le_bytes()).collect());
        push(&mut def, t)
    };
    let flat = push(&mut def, f("flat", &[1, 40]));
    let w = push(
        &mut def,
        TensorDef::constant_f32("fc/w", &[3, 40], &rng.values(120, 0.5)),
    );
    let b = push(
        &mut def,
        TensorDef::constant_f32("fc/b", &[3], &rng.values(3, 0.1)),
    );
    let logits = push(&mut def, f("logits", &[1, 3]));
    let y = push(&mut def, f("y", &[1, 3]));
    let lstm_options = options(
        71,
        vec![
            (0, Scalar::U8(activation)),
            (1, Scalar::F32(3.0)),
            (3, Scalar::U8(1)),
        ],
        vec![],
    );
    def.operators = vec![
        OperatorDef::new(
            B::UNIDIRECTIONAL_SEQUENCE_LSTM,
            &inputs,
            &[sequence],
            lstm_options,
        ),
        OperatorDef::new(
            B::RESHAPE,
            &[sequence, shape],
            &[flat],
            options(17, vec![], vec![(0, vec![1, 40])]),
        ),
        OperatorDef::new(
            B::FULLY_CONNECTED,
            &[flat, w, b],
            &[logits],
            OptionsDef::fully_connected(0, false),
        ),
        OperatorDef::new(
            B::SOFTMAX,
            &[logits],
            &[y],
            options(9, vec![(0, Scalar::F32(1.0))], vec![]),
        ),
    ];
    def.inputs = vec![x];
    def.outputs = vec![y];
    def.to_bytes().unwrap()
}

#[test]
fn an_lstm_quantizes_and_matches_tflite_micro() {
    let float = lstm_model(4);
    let x = cnn::Uniform::new(5).values(16 * 30, 1.0);
    let models = quantize_both("lstm", &float, 30, &[5, 2, 3], &x, 0.05);
    common::oracle::assert_same_as_tflm(&[("lstm_float".into(), float)], &x, 30);
    let rows = common::oracle::assert_identical_to_tflm(&models, &x, 30);
    println!("lstm: identical to TFLM on {rows} rows (the states carried across)");
    // A cell activation outside the schema's enum (6, which mote-runtime
    // reads as sigmoid and TensorFlow Lite Micro as none) is refused.
    let samples = Calibration::new(vec![2, 5, 2, 3], vec![0.0; 60]).unwrap();
    let err = quantize(&lstm_model(6), &samples, &QuantizeConfig::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM) cannot be quantized to int8"
    );
}
