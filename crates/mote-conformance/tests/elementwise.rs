//! mote's elementwise and shape kernels against TensorFlow Lite Micro, on
//! single-op models written by mote's writer: int8/int16 outputs identical,
//! float32 within 1e-5. Each test runs its whole batch in one oracle process.

mod harness;

use harness::{conform, options, t, Check, T};
#[allow(unused_imports)]
use mote_conformance::Rng;
use mote_runtime::{BuiltinOperator as Op, TensorType};
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::OptionsDef;
use TensorType::{Float32, Int16, Int32, Int64, Int8};

/// Shapes `(input1, input2, output)`: equal, broadcast both ways, scalar,
/// 4-D and 5-D.
const SHAPES: &[(&[usize], &[usize], &[usize])] = &[
    (&[2, 3, 4], &[2, 3, 4], &[2, 3, 4]),
    (&[2, 1, 4], &[3, 1], &[2, 3, 4]),
    (&[], &[5], &[5]),
    (&[7], &[1], &[7]),
    (&[1, 2, 3, 4], &[1, 1, 1, 4], &[1, 2, 3, 4]),
    (&[2, 1, 3, 1, 2], &[1, 2, 1, 4, 1], &[2, 2, 3, 4, 2]),
];

/// `(scale, zero point)` triples for input 1, input 2 and the output.
const INT8_QUANT: &[[(f32, i64); 3]] = &[
    [(0.05, 0), (0.05, 0), (0.1, 0)],
    [(0.02, -10), (0.07, 5), (0.09, 3)],
    [(0.3, 100), (0.01, -128), (0.05, -20)],
    [(0.004, 7), (0.2, 0), (0.5, -128)],
];
const INT16_QUANT: &[[(f32, i64); 3]] = &[
    [(0.0005, 0), (0.0008, 0), (0.001, 0)],
    [(0.01, 0), (0.0003, 0), (0.004, 0)],
];

fn activation_options(kind: u8, activation: u8) -> OptionsDef {
    options(kind, &[(0, Scalar::U8(activation))], &[])
}

/// Cases of a binary op for each shape, quantization and activation.
fn binary_cases(rng: &mut Rng, op: Op, kind: u8, dtypes: &[TensorType], activations: &[u8], max_rank: usize) -> Vec<Check> {
    let mut checks = vec![];
    for &dtype in dtypes {
        let quants: Vec<Option<[(f32, i64); 3]>> = match dtype {
            Int8 => INT8_QUANT.iter().copied().map(Some).collect(),
            Int16 => INT16_QUANT.iter().copied().map(Some).collect(),
            _ => vec![None],
        };
        for (s, (a, b, out)) in SHAPES.iter().enumerate() {
            if out.len() > max_rank {
                continue;
            }
            for (qi, quant) in quants.iter().enumerate() {
                for &act in activations {
                    // Every shape with the first quantization, every quantization with the first shape.
                    if s > 0 && qi > 0 {
                        continue;
                    }
                    let mut x = [t(a, dtype), t(b, dtype), t(out, dtype)];
                    if let Some(q) = quant {
                        for (x, (scale, zp)) in x.iter_mut().zip(q) {
                            *x = x.clone().q(*scale, *zp);
                        }
                    }
                    let [x, y, z] = x;
                    let opts = if kind == 39 { options(39, &[], &[]) } else { activation_options(kind, act) };
                    checks.push(Check::same(
                        format!("{op} {dtype:?} shape {s} quant {qi} act {act}"),
                        rng,
                        op,
                        opts,
                        &[x, y],
                        &[z],
                    ));
                }
            }
        }
    }
    checks
}

#[test]
fn add_sub_mul_match_tflite_micro() {
    let mut rng = Rng::new(11);
    let mut checks = vec![];
    let all = [Float32, Int32, Int8, Int16];
    checks.extend(binary_cases(&mut rng, Op::ADD, 11, &all, &[0, 1, 2, 3], 6));
    checks.extend(binary_cases(&mut rng, Op::SUB, 28, &all, &[0, 1, 2, 3], 5));
    checks.extend(binary_cases(&mut rng, Op::MUL, 21, &all, &[0, 1, 2, 3], 6));
    // A fused TANH is not applied by these ops in TensorFlow Lite Micro.
    checks.extend(binary_cases(&mut rng, Op::ADD, 11, &[Float32, Int8], &[4], 3));
    let compared = conform(&checks);
    assert_eq!(compared, checks.len());
}

#[test]
fn div_maximum_minimum_match_tflite_micro() {
    let mut rng = Rng::new(12);
    let mut checks = binary_cases(&mut rng, Op::DIV, 29, &[Float32, Int8], &[0, 1, 3], 5);
    // A divisor equal to its zero point is undefined in TensorFlow Lite: avoid it.
    for check in &mut checks {
        if let Some(q) = check.model.tensors[1].quantization.as_ref() {
            let zp = q.zero_point[0] as i8 as u8;
            for v in &mut check.inputs[1].data {
                if *v == zp {
                    *v = v.wrapping_add(1);
                }
            }
        }
    }
    for op in [Op::MAXIMUM, Op::MINIMUM] {
        checks.extend(binary_cases(&mut rng, op, 39, &[Float32, Int8, Int16, Int32, Int64], &[0], 5));
    }
    let compared = conform(&checks);
    assert_eq!(compared, checks.len());
}
