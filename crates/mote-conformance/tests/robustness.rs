//! The elementwise and shape kernels never panic: thousands of random
//! single-op models (random shapes, types, quantization, constant index
//! tensors and options, most of them invalid) either run or are refused with
//! an error. Runs with overflow checks on.

mod harness;

use harness::{options, single_op, t, T};
use mote_conformance::Rng;
use mote_runtime::{BuiltinOperator as Op, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::builder::Scalar;

const OPS: &[(Op, u8, usize)] = &[
    (Op::ADD, 11, 2),
    (Op::SUB, 28, 2),
    (Op::MUL, 21, 2),
    (Op::DIV, 29, 2),
    (Op::MAXIMUM, 39, 2),
    (Op::MINIMUM, 39, 2),
    (Op::CONCATENATION, 10, 3),
    (Op::PAD, 22, 2),
    (Op::PADV2, 43, 3),
    (Op::SQUEEZE, 30, 1),
    (Op::EXPAND_DIMS, 52, 2),
    (Op::STRIDED_SLICE, 32, 4),
    (Op::TRANSPOSE, 26, 2),
    (Op::RELU, 0, 1),
    (Op::RELU6, 0, 1),
    (Op::LEAKY_RELU, 75, 1),
    (Op::LOGISTIC, 0, 1),
    (Op::TANH, 0, 1),
    (Op::HARD_SWISH, 0, 1),
    (Op::QUANTIZE, 0, 1),
    (Op::DEQUANTIZE, 0, 1),
    (Op::CAST, 0, 1),
];

const TYPES: &[TensorType] = &[
    TensorType::Float32,
    TensorType::Int8,
    TensorType::UInt8,
    TensorType::Int16,
    TensorType::Int32,
    TensorType::UInt32,
    TensorType::Int64,
    TensorType::Bool,
];

fn pick<'a, X>(rng: &mut Rng, xs: &'a [X]) -> &'a X {
    &xs[(rng.next_u64() % xs.len() as u64) as usize]
}

fn shape(rng: &mut Rng) -> Vec<usize> {
    let rank = (rng.next_u64() % 6) as usize;
    (0..rank).map(|_| (rng.next_u64() % 4) as usize).collect()
}

fn small_i32(rng: &mut Rng) -> i32 {
    match rng.next_u64() % 8 {
        0 => i32::MIN,
        1 => i32::MAX,
        _ => (rng.next_u64() % 13) as i32 - 6,
    }
}

/// A tensor, mostly of the base type and shape (so that many models are valid).
fn tensor(rng: &mut Rng, base: &(TensorType, Vec<usize>)) -> T {
    let dtype = if rng.next_u64().is_multiple_of(4) {
        *pick(rng, TYPES)
    } else {
        base.0
    };
    let s = if rng.next_u64().is_multiple_of(3) {
        shape(rng)
    } else {
        base.1.clone()
    };
    let mut x = t(&s, dtype);
    if !rng.next_u64().is_multiple_of(4) {
        let scale = *pick(
            rng,
            &[
                0.0f32,
                -1.0,
                1e-30,
                0.01,
                0.01,
                0.5,
                0.5,
                3.0,
                f32::INFINITY,
                1e30,
            ],
        );
        let zp = *pick(rng, &[0i64, 0, 0, -128, 127, 5, 40000, -1 << 40]);
        x = x.q(scale, zp);
    }
    if dtype == TensorType::Int32 && rng.next_u64().is_multiple_of(2) {
        let n: usize = s.iter().product();
        let values: Vec<i32> = (0..n).map(|_| small_i32(rng)).collect();
        x = x.constant(values.iter().flat_map(|v| v.to_le_bytes()).collect());
    }
    x
}

#[test]
fn random_models_run_or_are_refused_without_panicking() {
    let mut rng = Rng::new(99);
    let (mut ran, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let (op, kind, inputs) = *pick(&mut rng, OPS);
        let base = (*pick(&mut rng, TYPES), shape(&mut rng));
        let inputs: Vec<T> = (0..inputs).map(|_| tensor(&mut rng, &base)).collect();
        let output = tensor(&mut rng, &base);
        let mut scalars = vec![];
        for id in 0..6u16 {
            if rng.next_u64().is_multiple_of(2) {
                let value = if op == Op::LEAKY_RELU {
                    Scalar::F32(*pick(&mut rng, &[0.2f32, -3.0, f32::NAN, 1e30]))
                } else if matches!(op, Op::STRIDED_SLICE | Op::CONCATENATION) && id != 1 {
                    Scalar::I32(small_i32(&mut rng))
                } else {
                    Scalar::U8((rng.next_u64() % 8) as u8)
                };
                scalars.push((id, value));
            }
        }
        let vectors = if op == Op::SQUEEZE {
            vec![(
                0,
                (0..rng.next_u64() % 3)
                    .map(|_| small_i32(&mut rng))
                    .collect(),
            )]
        } else {
            vec![]
        };
        let model = single_op(op, options(kind, &scalars, &vectors), &inputs, &[output]);
        let Ok(bytes) = model.to_bytes() else {
            continue;
        };
        let values: Vec<Array> = inputs
            .iter()
            .filter(|x| x.data.is_none())
            .map(|x| harness::random(&mut rng, x))
            .collect();
        match harness::run_mote(&bytes, &values) {
            Ok(_) => ran += 1,
            Err(_) => refused += 1,
        }
    }
    println!("{ran} ran, {refused} refused");
    assert!(ran > 500 && refused > 500, "{ran} ran, {refused} refused");
}
