//! int4 filters (TensorFlow Lite's `TensorType INT4`, two values a byte, low
//! nibble first, the whole tensor packed densely) in FULLY_CONNECTED, CONV_2D
//! and DEPTHWISE_CONV_2D, on random shapes with odd element counts.
//!
//! Two checks, both against TensorFlow Lite Micro: TFLM runs each int4 model
//! exactly as the same model with the values stored as int8 (which pins the
//! packing order: a wrong order or sign extension changes the outputs), and
//! mote-runtime's outputs are TFLM's, byte for byte.

use mote_conformance::{run, Case, Engine, Outcome, Rng, TempDir};
use mote_runtime::{BuiltinOperator, Interpreter, Model, OpResolver, TensorType};
use mote_train::layers::Padding;
use mote_train::npy::Array;
use mote_train::tflite::{options, ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef};

/// Packs int4 values (each in -8..=7) two a byte, the first in the low nibble;
/// an odd count leaves the last high nibble zero.
fn pack(values: &[i8]) -> Vec<u8> {
    values
        .chunks(2)
        .map(|p| (p[0] as u8 & 0x0f) | (p.get(1).map_or(0, |&h| h as u8) << 4))
        .collect()
}

fn per_channel(scales: Vec<f32>, dimension: i32) -> Option<QuantizationDef> {
    Some(QuantizationDef {
        zero_point: vec![0; scales.len()],
        scale: scales,
        quantized_dimension: dimension,
        ..QuantizationDef::default()
    })
}

fn quant(scale: f32, zero_point: i64) -> Option<QuantizationDef> {
    Some(QuantizationDef {
        scale: vec![scale],
        zero_point: vec![zero_point],
        ..QuantizationDef::default()
    })
}

/// One weighted op and its random shapes.
#[derive(Clone, Debug)]
struct Shape {
    op: BuiltinOperator,
    input: Vec<i32>,
    filter: Vec<i32>,
    output: Vec<i32>,
    /// Output channels (units).
    channels: usize,
    /// The filter axis of the channels.
    dimension: i32,
    /// Filter values summed per output.
    fan_in: usize,
    options: OptionsDef,
}

fn random_shape(rng: &mut Rng, k: usize) -> Shape {
    let mut pick = |low: u64, high: u64| (low + rng.next_u64() % (high - low + 1)) as i32;
    match k % 3 {
        0 => {
            let (batches, depth, units) = (pick(1, 3), pick(1, 41), pick(1, 9));
            Shape {
                op: BuiltinOperator::FULLY_CONNECTED,
                input: vec![batches, depth],
                filter: vec![units, depth],
                output: vec![batches, units],
                channels: units as usize,
                dimension: 0,
                fan_in: depth as usize,
                options: OptionsDef::fully_connected(pick(0, 1) as u8, false),
            }
        }
        1 => {
            let (h, w, cin, cout) = (pick(3, 7), pick(3, 7), pick(1, 5), pick(1, 5));
            let (kh, kw) = (pick(1, 3), pick(1, 3));
            let (sh, sw) = (pick(1, 2), pick(1, 2));
            let same = pick(0, 1) == 0;
            let out = |n: i32, k: i32, s: i32| {
                if same {
                    (n + s - 1) / s
                } else {
                    (n - k) / s + 1
                }
            };
            Shape {
                op: BuiltinOperator::CONV_2D,
                input: vec![1, h, w, cin],
                filter: vec![cout, kh, kw, cin],
                output: vec![1, out(h, kh, sh), out(w, kw, sw), cout],
                channels: cout as usize,
                dimension: 0,
                fan_in: (kh * kw * cin) as usize,
                options: options::conv_2d(
                    if same { Padding::Same } else { Padding::Valid },
                    [sh as usize, sw as usize],
                    pick(0, 1) as u8,
                ),
            }
        }
        _ => {
            let (h, w, cin, mult) = (pick(3, 7), pick(3, 7), pick(1, 5), pick(1, 2));
            let (kh, kw) = (pick(1, 3), pick(1, 3));
            let same = pick(0, 1) == 0;
            let out = |n: i32, k: i32| if same { n } else { n - k + 1 };
            Shape {
                op: BuiltinOperator::DEPTHWISE_CONV_2D,
                input: vec![1, h, w, cin],
                filter: vec![1, kh, kw, cin * mult],
                output: vec![1, out(h, kh), out(w, kw), cin * mult],
                channels: (cin * mult) as usize,
                dimension: 3,
                fan_in: (kh * kw) as usize,
                options: options::depthwise_conv_2d(
                    if same { Padding::Same } else { Padding::Valid },
                    [1, 1],
                    mult as usize,
                    pick(0, 1) as u8,
                ),
            }
        }
    }
}

/// The op with `values` (each -8..=7) as its filter, stored as `dtype` (int4
/// packed, or int8), a per-channel filter scale and an int32 bias.
fn model(
    shape: &Shape,
    values: &[i8],
    bias: &[i32],
    dtype: TensorType,
    seed: u64,
    per_channel_fc: bool,
) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let x_scale = 0.05;
    // TFLM takes an int4 FULLY_CONNECTED filter with one scale only
    // (fully_connected_common.cc refuses per-channel int4).
    let scales = if shape.op == BuiltinOperator::FULLY_CONNECTED && !per_channel_fc {
        1
    } else {
        shape.channels
    };
    let w_scales: Vec<f32> = (0..scales).map(|_| rng.uniform(0.01, 0.03)).collect();
    let mut x = TensorDef::new("x", &shape.input, TensorType::Int8);
    x.quantization = quant(x_scale, -3);
    let mut w = TensorDef::new("w", &shape.filter, dtype);
    w.data = Some(match dtype {
        TensorType::Int4 => pack(values),
        _ => values.iter().map(|&v| v as u8).collect(),
    });
    w.quantization = if scales == 1 {
        quant(w_scales[0], 0)
    } else {
        per_channel(w_scales.clone(), shape.dimension)
    };
    let mut b = TensorDef::new("b", &[shape.channels as i32], TensorType::Int32);
    b.data = Some(bias.iter().flat_map(|v| v.to_le_bytes()).collect());
    b.quantization = if scales == 1 {
        quant(w_scales[0] * x_scale, 0)
    } else {
        per_channel(w_scales.iter().map(|s| s * x_scale).collect(), 0)
    };
    // Accumulators of about 340 sqrt(fan_in) (|w| ~ 4.6, |x + 3| ~ 74) land
    // some 40 output steps from the zero point.
    let y_scale = x_scale * 0.02 * 340.0 * (shape.fan_in as f32).sqrt() / 40.0;
    let mut y = TensorDef::new("y", &shape.output, TensorType::Int8);
    y.quantization = quant(y_scale, 5);
    ModelDef {
        description: "mote conformance int4 filter".into(),
        name: "main".into(),
        tensors: vec![x, w, b, y],
        operators: vec![OperatorDef::new(
            shape.op,
            &[0, 1, 2],
            &[3],
            shape.options.clone(),
        )],
        inputs: vec![0],
        outputs: vec![3],
        ..ModelDef::default()
    }
    .to_bytes()
    .unwrap()
}

struct Built {
    shape: Shape,
    int4: Vec<u8>,
    int8: Vec<u8>,
    inputs: Vec<Array>,
}

fn build(count: usize) -> Vec<Built> {
    let mut rng = Rng::new(41);
    (0..count)
        .map(|k| {
            let shape = random_shape(&mut rng, k);
            let n: usize = shape.filter.iter().map(|&d| d as usize).product();
            let values: Vec<i8> = (0..n).map(|_| (rng.next_u64() % 16) as i8 - 8).collect();
            let bias: Vec<i32> = (0..shape.channels)
                .map(|_| (rng.next_u64() % 4001) as i32 - 2000)
                .collect();
            let seed = rng.next_u64();
            let int4 = model(&shape, &values, &bias, TensorType::Int4, seed, false);
            let int8 = model(&shape, &values, &bias, TensorType::Int8, seed, false);
            let elements: usize = shape.input.iter().map(|&d| d as usize).product();
            let inputs = (0..3)
                .map(|_| Array {
                    shape: shape.input.iter().map(|&d| d as usize).collect(),
                    dtype: TensorType::Int8,
                    data: rng.bytes(elements),
                })
                .collect();
            Built {
                shape,
                int4,
                int8,
                inputs,
            }
        })
        .collect()
}

/// TFLM's outputs for every model: first the int4 ones, then the int8 ones.
fn tflm(built: &[Built], dir: &TempDir) -> (Vec<Outcome>, Vec<Outcome>) {
    let mut cases = Vec::new();
    for (tag, pick) in [("int4", 0), ("int8", 1)] {
        for (k, b) in built.iter().enumerate() {
            let path = dir.path().join(format!("{tag}_{k}.tflite"));
            std::fs::write(&path, if pick == 0 { &b.int4 } else { &b.int8 }).unwrap();
            cases.push(Case {
                model: path,
                steps: b.inputs.iter().map(|x| vec![x.clone()]).collect(),
            });
        }
    }
    let mut outcomes: Vec<Outcome> = run(Engine::Tflm, &cases)
        .into_iter()
        .enumerate()
        .map(|(k, r)| r.unwrap_or_else(|e| panic!("{}: TFLM: {e}", cases[k].model.display())))
        .collect();
    let int8 = outcomes.split_off(built.len());
    (outcomes, int8)
}

#[test]
fn tflite_micro_runs_int4_filters_as_their_int8_values() {
    let built = build(36);
    let dir = TempDir::new("int4-tflm");
    let (int4, int8) = tflm(&built, &dir);
    let mut distinct = std::collections::HashSet::new();
    for (k, b) in built.iter().enumerate() {
        for s in 0..b.inputs.len() {
            let want = &int4[k].steps[s][0].data;
            assert_eq!(
                want, &int8[k].steps[s][0].data,
                "model {k} {:?} filter {:?} step {s}",
                b.shape.op, b.shape.filter
            );
            distinct.extend(want.iter().copied());
        }
    }
    // The outputs spread over many values (not all clamped or saturated).
    assert!(distinct.len() > 100, "{} distinct outputs", distinct.len());
}

#[test]
fn mote_runs_int4_filters_as_tflite_micro() {
    let built = build(36);
    let dir = TempDir::new("int4-mote");
    let (int4, _) = tflm(&built, &dir);
    for (k, b) in built.iter().enumerate() {
        let model = Model::parse(&b.int4).unwrap();
        let mut arena = vec![0u8; 1 << 16];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())
            .unwrap_or_else(|e| panic!("model {k} {:?}: {e}", b.shape.op));
        for (s, x) in b.inputs.iter().enumerate() {
            interpreter
                .input_bytes_mut(0)
                .unwrap()
                .copy_from_slice(&x.data);
            interpreter.invoke().unwrap();
            assert_eq!(
                interpreter.output_bytes(0).unwrap(),
                &int4[k].steps[s][0].data[..],
                "model {k} {:?} filter {:?} step {s}",
                b.shape.op,
                b.shape.filter
            );
        }
    }
}

#[test]
fn per_channel_int4_fully_connected_is_refused_as_in_tflite_micro() {
    // Shape 0 is a FULLY_CONNECTED; written with one scale per unit.
    let mut rng = Rng::new(41);
    let shape = random_shape(&mut rng, 0);
    assert!(shape.channels > 1, "{shape:?}");
    let n: usize = shape.filter.iter().map(|&d| d as usize).product();
    let values: Vec<i8> = (0..n).map(|_| (rng.next_u64() % 16) as i8 - 8).collect();
    let bias = vec![0; shape.channels];
    let bytes = model(&shape, &values, &bias, TensorType::Int4, 5, true);
    let dir = TempDir::new("int4-fc-per-channel");
    let path = dir.path().join("fc.tflite");
    std::fs::write(&path, &bytes).unwrap();
    let elements: usize = shape.input.iter().map(|&d| d as usize).product();
    let case = Case {
        model: path,
        steps: vec![vec![Array {
            shape: shape.input.iter().map(|&d| d as usize).collect(),
            dtype: TensorType::Int8,
            data: vec![0; elements],
        }]],
    };
    let tflm = run(Engine::Tflm, &[case]).remove(0);
    assert!(tflm.is_err(), "TFLM ran a per-channel int4 FULLY_CONNECTED");
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 1 << 16];
    let Err(err) = Interpreter::new(&model, &mut arena, &OpResolver::all()) else {
        panic!("mote ran a per-channel int4 FULLY_CONNECTED");
    };
    assert!(err.to_string().contains("one scale"), "{err}");
}
