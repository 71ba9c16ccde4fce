//! Single ops mote writes itself (with mote-train's writer), in shapes and
//! options the asset models do not cover, against TensorFlow Lite Micro.

use mote_conformance::{assets, run, Case, Engine, Rng, TempDir};
use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

fn quantized(name: &str, shape: &[i32], scale: f32, zero_point: i64) -> TensorDef {
    let mut t = TensorDef::new(name, shape, TensorType::Int8);
    t.quantization = Some(QuantizationDef {
        scale: vec![scale],
        zero_point: vec![zero_point],
        ..Default::default()
    });
    t
}

fn axes(values: &[i32]) -> TensorDef {
    let mut t = TensorDef::new("axes", &[values.len() as i32], TensorType::Int32);
    t.data = Some(values.iter().flat_map(|v| v.to_le_bytes()).collect());
    t
}

/// One MEAN: x -> MEAN(axes, keep_dims) -> y.
fn mean_model(x: TensorDef, axes_values: &[i32], keep_dims: bool, y: TensorDef) -> Vec<u8> {
    ModelDef {
        description: "mean".into(),
        name: "main".into(),
        tensors: vec![x, axes(axes_values), y],
        operators: vec![OperatorDef::new(
            BuiltinOperator::MEAN,
            &[0, 1],
            &[2],
            OptionsDef {
                kind: 27, // ReducerOptions
                scalars: vec![(0, Scalar::U8(keep_dims as u8))],
                ..OptionsDef::default()
            },
        )],
        inputs: vec![0],
        outputs: vec![2],
        metadata: vec![],
        signature_defs: vec![],
    }
    .to_bytes()
    .unwrap()
}

/// Runs each model once on its input in mote and TFLM; outputs must agree
/// (bytes for int8, 1e-5 relative for float).
fn check_all(models: Vec<(Vec<u8>, Array)>) {
    let dir = TempDir::new("ops");
    let cases: Vec<Case> = models
        .iter()
        .enumerate()
        .map(|(k, (bytes, x))| {
            let path = dir.path().join(format!("model{k}.tflite"));
            std::fs::write(&path, bytes).unwrap();
            Case {
                model: path,
                steps: vec![vec![x.clone()]],
            }
        })
        .collect();
    let expected = run(Engine::Tflm, &cases);
    for (k, ((bytes, x), e)) in models.iter().zip(expected).enumerate() {
        let e = e.unwrap_or_else(|e| panic!("model {k}: TFLM: {e}"));
        let model = Model::parse(bytes).unwrap();
        let mut arena = vec![0u8; 1 << 16];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
        interpreter
            .input_bytes_mut(0)
            .unwrap()
            .copy_from_slice(&x.data);
        interpreter.invoke().unwrap();
        let got = interpreter.output_bytes(0).unwrap();
        let want = &e.steps[0][0];
        if want.dtype == TensorType::Float32 {
            let f = |b: &[u8]| -> Vec<f32> {
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect()
            };
            let (g, w) = (f(got), f(&want.data));
            let largest = w.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, b) in g.iter().zip(&w) {
                assert!((a - b).abs() <= 1e-5 * largest, "model {k}: {g:?} vs {w:?}");
            }
        } else {
            assert_eq!(got, &want.data[..], "model {k}");
        }
    }
}

#[test]
fn mean_matches_tflm() {
    let mut rng = Rng::new(9);
    let int8_input = |shape: &[usize], rng: &mut Rng| Array {
        shape: shape.to_vec(),
        dtype: TensorType::Int8,
        data: rng.bytes(shape.iter().product()),
    };
    let float_input = |shape: &[usize], rng: &mut Rng| {
        let n: usize = shape.iter().product();
        Array::from_f32(
            shape.to_vec(),
            &(0..n).map(|_| rng.uniform(-2.0, 2.0)).collect::<Vec<_>>(),
        )
    };
    let models = vec![
        // Global average pooling as MobileNet v2 ends: axes 1, 2, keep_dims.
        (
            mean_model(
                quantized("x", &[1, 7, 7, 16], 0.05, -3),
                &[1, 2],
                true,
                quantized("y", &[1, 1, 1, 16], 0.02, 5),
            ),
            int8_input(&[1, 7, 7, 16], &mut rng),
        ),
        // The last axis, negative, without keep_dims; 49 elements per mean.
        (
            mean_model(
                quantized("x", &[2, 3, 49], 0.1, 10),
                &[-1],
                false,
                quantized("y", &[2, 3], 0.1, 10),
            ),
            int8_input(&[2, 3, 49], &mut rng),
        ),
        // Axes 0 and 2 of three, scales far apart.
        (
            mean_model(
                quantized("x", &[3, 4, 5], 0.5, 0),
                &[0, 2],
                false,
                quantized("y", &[4], 0.01, -20),
            ),
            int8_input(&[3, 4, 5], &mut rng),
        ),
        (
            mean_model(
                TensorDef::new("x", &[1, 5, 5, 3], TensorType::Float32),
                &[1, 2],
                true,
                TensorDef::new("y", &[1, 1, 1, 3], TensorType::Float32),
            ),
            float_input(&[1, 5, 5, 3], &mut rng),
        ),
        (
            mean_model(
                TensorDef::new("x", &[2, 3, 4], TensorType::Float32),
                &[0, -1],
                false,
                TensorDef::new("y", &[3], TensorType::Float32),
            ),
            float_input(&[2, 3, 4], &mut rng),
        ),
    ];
    check_all(models);
}

#[test]
fn options_of_another_type_read_as_the_defaults_as_in_tflm() {
    // LEAKY_RELU whose options table (alpha 0.2) is tagged 93 (WhileOptions,
    // whose field 0 is also 4 bytes), as mote-train once wrote it: TFLM's
    // `builtin_options_as_LeakyReluOptions()` is null, so alpha keeps its
    // default 0; and MEAN whose ReducerOptions (keep_dims 1) is tagged 11
    // (AddOptions): keep_dims keeps its default, false.
    let leaky = |kind: u8| {
        ModelDef {
            description: "leaky".into(),
            name: "main".into(),
            tensors: vec![
                TensorDef::new("x", &[1, 8], TensorType::Float32),
                TensorDef::new("y", &[1, 8], TensorType::Float32),
            ],
            operators: vec![OperatorDef::new(
                BuiltinOperator::LEAKY_RELU,
                &[0],
                &[1],
                OptionsDef {
                    kind,
                    scalars: vec![(0, Scalar::F32(0.2))],
                    ..OptionsDef::default()
                },
            )],
            inputs: vec![0],
            outputs: vec![1],
            metadata: vec![],
            signature_defs: vec![],
        }
        .to_bytes()
        .unwrap()
    };
    let x = Array::from_f32(vec![1, 8], &[-4.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]);
    let mut mean = ModelDef::from_model(
        &Model::parse(&mean_model(
            quantized("x", &[1, 2, 2, 3], 0.05, -3),
            &[1, 2],
            false,
            quantized("y", &[1, 3], 0.05, -3),
        ))
        .unwrap(),
    )
    .unwrap();
    mean.operators[0].options.kind = 11;
    mean.operators[0].options.scalars = vec![(0, Scalar::U8(1))];
    let mean_x = Array {
        shape: vec![1, 2, 2, 3],
        dtype: TensorType::Int8,
        data: Rng::new(4).bytes(12),
    };
    // The right tag for contrast: alpha 0.2 is read and changes the output.
    check_all(vec![
        (leaky(93), x.clone()),
        (leaky(75), x.clone()),
        (mean.to_bytes().unwrap(), mean_x),
    ]);
    let run_mote = |bytes: &[u8]| {
        let model = Model::parse(bytes).unwrap();
        let mut arena = vec![0u8; 1 << 16];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
        interpreter
            .input_bytes_mut(0)
            .unwrap()
            .copy_from_slice(&x.data);
        interpreter.invoke().unwrap();
        interpreter.output_bytes(0).unwrap().to_vec()
    };
    assert_ne!(run_mote(&leaky(93)), run_mote(&leaky(75)));
}

/// Operator `index` of the model at `path` as a model of its own: the same
/// tensors (data, quantization, variables), its inputs and outputs as the
/// graph's, with `options` (the reader does not hand out raw option tables).
fn extract_op(path: &std::path::Path, index: usize, options: OptionsDef) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let graph = model.main();
    let op = graph.operator(index).unwrap();
    let mut tensors = Vec::new();
    let mut map = std::collections::HashMap::new();
    let mut remap = |t: usize, tensors: &mut Vec<TensorDef>| -> i32 {
        *map.entry(t).or_insert_with(|| {
            let tensor = graph.tensor(t).unwrap();
            let shape: Vec<i32> = tensor.shape().dims().iter().map(|d| *d as i32).collect();
            let mut def = TensorDef::new(tensor.name(), &shape, tensor.dtype());
            if tensor.is_constant() {
                def.data = Some(tensor.data().to_vec());
            }
            def.is_variable = tensor.is_variable();
            if let Some(q) = tensor.quantization() {
                def.quantization = Some(QuantizationDef {
                    scale: (0..q.scale_count()).map(|i| q.scale(i)).collect(),
                    zero_point: (0..q.scale_count()).map(|i| q.zero_point(i)).collect(),
                    quantized_dimension: q.quantized_dimension() as i32,
                    ..Default::default()
                });
            }
            tensors.push(def);
            tensors.len() as i32 - 1
        })
    };
    let inputs: Vec<i32> = (0..op.inputs().len())
        .map(|i| op.inputs().get(i).map_or(-1, |t| remap(t, &mut tensors)))
        .collect();
    let outputs: Vec<i32> = (0..op.outputs().len())
        .map(|i| remap(op.outputs().get(i).unwrap(), &mut tensors))
        .collect();
    let graph_inputs: Vec<i32> = (0..op.inputs().len())
        .filter_map(|i| op.inputs().get(i))
        .filter(|&t| {
            let tensor = graph.tensor(t).unwrap();
            !tensor.is_constant() && !tensor.is_variable()
        })
        .map(|t| remap(t, &mut tensors))
        .collect();
    ModelDef {
        description: "one op".into(),
        name: "main".into(),
        tensors,
        operators: vec![OperatorDef::new(op.builtin(), &inputs, &outputs, options)],
        inputs: graph_inputs,
        outputs,
        metadata: vec![],
        signature_defs: vec![],
    }
    .to_bytes()
    .unwrap()
}

#[test]
fn svdf_ops_of_the_keyword_models_match_tflm_over_invokes() {
    // Every SVDF of both keyword_scrambled models (int16 and int8 state), each
    // on its own, over five invokes (the state carries over).
    let dir = TempDir::new("svdf");
    let mut cases = Vec::new();
    let mut models = Vec::new();
    let mut rng = Rng::new(17);
    for name in ["keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite"] {
        let path = assets().join("tflm/models").join(name);
        let bytes = std::fs::read(&path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let graph = model.main();
        for index in 0..graph.operator_count() {
            let op = graph.operator(index).unwrap();
            if op.builtin() != BuiltinOperator::SVDF {
                continue;
            }
            let o = op.options();
            let options = OptionsDef {
                kind: o.kind(),
                scalars: vec![(0, Scalar::I32(o.i32(0, 0))), (1, Scalar::U8(o.u8(1, 0)))],
                ..OptionsDef::default()
            };
            let single = extract_op(&path, index, options);
            let file = dir.path().join(format!("{name}.{index}.tflite"));
            std::fs::write(&file, &single).unwrap();
            let n = graph
                .tensor(op.inputs().get(0).unwrap())
                .unwrap()
                .shape()
                .elements();
            let steps = (0..5)
                .map(|_| {
                    vec![Array {
                        shape: vec![1, n],
                        dtype: TensorType::Int8,
                        data: rng.bytes(n),
                    }]
                })
                .collect();
            cases.push(Case { model: file, steps });
            models.push(single);
        }
    }
    assert_eq!(cases.len(), 14, "7 SVDFs in each model");
    let expected = run(Engine::Tflm, &cases);
    for ((case, bytes), e) in cases.iter().zip(&models).zip(expected) {
        let e = e.unwrap_or_else(|e| panic!("{}: TFLM: {e}", case.model.display()));
        let model = Model::parse(bytes).unwrap();
        let mut arena = vec![0u8; 1 << 16];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
        for (s, step) in case.steps.iter().enumerate() {
            interpreter
                .input_bytes_mut(0)
                .unwrap()
                .copy_from_slice(&step[0].data);
            interpreter.invoke().unwrap();
            assert_eq!(
                interpreter.output_bytes(0).unwrap(),
                &e.steps[s][0].data[..],
                "{} invoke {s}",
                case.model.display()
            );
        }
    }
}

/// The builtin options of `op` rebuilt field by field (with the schema's
/// types), for the ops this test extracts; `None` for others.
fn options_of(op: &mote_runtime::model::Operator<'_>) -> Option<OptionsDef> {
    let o = op.options();
    let u8s = |ids: &[u16]| {
        ids.iter()
            .map(|&i| (i, Scalar::U8(o.u8(i, 0))))
            .collect::<Vec<_>>()
    };
    let i32s = |ids: &[(u16, i32)]| {
        ids.iter()
            .map(|&(i, d)| (i, Scalar::I32(o.i32(i, d))))
            .collect::<Vec<_>>()
    };
    let scalars = match op.builtin() {
        BuiltinOperator::CONV_2D => {
            let mut v = u8s(&[0, 3]);
            v.extend(i32s(&[(1, 1), (2, 1), (4, 1), (5, 1)]));
            v
        }
        BuiltinOperator::DEPTHWISE_CONV_2D => {
            let mut v = u8s(&[0, 4]);
            v.extend(i32s(&[(1, 1), (2, 1), (3, 1), (5, 1), (6, 1)]));
            v
        }
        BuiltinOperator::AVERAGE_POOL_2D | BuiltinOperator::MAX_POOL_2D => {
            let mut v = u8s(&[0, 5]);
            v.extend(i32s(&[(1, 1), (2, 1), (3, 1), (4, 1)]));
            v
        }
        BuiltinOperator::FULLY_CONNECTED => u8s(&[0, 1, 2]),
        BuiltinOperator::SOFTMAX => vec![(0, Scalar::F32(o.f32(0, 0.0)))],
        BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM => {
            let mut v = u8s(&[0, 3]);
            v.push((1, Scalar::F32(o.f32(1, 0.0))));
            v.push((2, Scalar::F32(o.f32(2, 0.0))));
            v
        }
        _ => return None,
    };
    Some(OptionsDef {
        kind: o.kind(),
        scalars,
        ..OptionsDef::default()
    })
}

#[test]
fn every_supported_op_of_resnet8_and_dtln_matches_tflm_alone() {
    // resnet8 needs ADD and dtln LOGISTIC (not in this branch) to run whole;
    // each of their other ops runs here on its own, on random inputs, twice.
    let dir = TempDir::new("extract");
    let mut cases = Vec::new();
    let mut models = Vec::new();
    let mut rng = Rng::new(23);
    for name in [
        "mlperf-tiny/ic/resnet8_int8.tflite",
        "tflm/dtln/dtln_noise_suppression.tflite",
    ] {
        let path = assets().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let graph = model.main();
        for index in 0..graph.operator_count() {
            let op = graph.operator(index).unwrap();
            let Some(options) = options_of(&op) else {
                continue;
            };
            let single = extract_op(&path, index, options);
            let file = dir.path().join(format!(
                "{}.{index}.tflite",
                path.file_stem().unwrap().to_string_lossy()
            ));
            std::fs::write(&file, &single).unwrap();
            let m = Model::parse(&single).unwrap();
            let g = m.main();
            let steps = (0..2)
                .map(|_| {
                    (0..g.inputs().len())
                        .map(|i| {
                            let t = g.tensor(g.inputs().get(i).unwrap()).unwrap();
                            Array {
                                shape: t.shape().dims().to_vec(),
                                dtype: t.dtype(),
                                data: rng.bytes(t.byte_len()),
                            }
                        })
                        .collect()
                })
                .collect();
            cases.push(Case { model: file, steps });
            models.push(single);
        }
    }
    // resnet8: 9 CONV_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX; dtln: 2
    // LSTMs and a FULLY_CONNECTED.
    assert_eq!(cases.len(), 15);
    let expected = run(Engine::Tflm, &cases);
    for ((case, bytes), e) in cases.iter().zip(&models).zip(expected) {
        let e = e.unwrap_or_else(|e| panic!("{}: TFLM: {e}", case.model.display()));
        let model = Model::parse(bytes).unwrap();
        let mut arena = vec![0u8; 1 << 20];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())
            .unwrap_or_else(|err| panic!("{}: {err}", case.model.display()));
        for (s, step) in case.steps.iter().enumerate() {
            for (i, x) in step.iter().enumerate() {
                interpreter
                    .input_bytes_mut(i)
                    .unwrap()
                    .copy_from_slice(&x.data);
            }
            interpreter.invoke().unwrap();
            assert_eq!(
                interpreter.output_bytes(0).unwrap(),
                &e.steps[s][0].data[..],
                "{} invoke {s}",
                case.model.display()
            );
        }
    }
}
