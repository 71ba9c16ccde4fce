//! mote's elementwise and shape kernels against TensorFlow Lite Micro, on
//! single-op models written by mote's writer: int8/int16 outputs identical,
//! float32 within 1e-5. Each test runs its whole batch in one oracle process.

mod harness;

use harness::{conform, options, t, Check, T};
use mote_conformance::Rng;
use mote_runtime::{BuiltinOperator as Op, TensorType};
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::OptionsDef;
use TensorType::{Bool, Float32, Int16, Int32, Int64, Int8, UInt32, UInt8};

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
fn binary_cases(
    rng: &mut Rng,
    op: Op,
    kind: u8,
    dtypes: &[TensorType],
    activations: &[u8],
    max_rank: usize,
) -> Vec<Check> {
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
                    let opts = if kind == 39 {
                        options(39, &[], &[])
                    } else {
                        activation_options(kind, act)
                    };
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
    checks.extend(binary_cases(
        &mut rng,
        Op::ADD,
        11,
        &[Float32, Int8],
        &[4],
        3,
    ));
    let compared = conform(&checks);
    assert_eq!(compared, checks.len());
}

#[test]
fn div_maximum_minimum_match_tflite_micro() {
    let mut rng = Rng::new(12);
    let mut checks = binary_cases(
        &mut rng,
        Op::DIV,
        29,
        &[Float32, Int32, Int8],
        &[0, 1, 3],
        5,
    );
    // A divisor equal to its zero point (int8) or 0 (int32) is undefined in
    // TensorFlow Lite: avoid it.
    for check in &mut checks {
        if check.model.tensors[1].dtype == Int32 {
            for v in check.inputs[1].data.chunks_exact_mut(4) {
                if v == [0; 4] {
                    v.copy_from_slice(&7i32.to_le_bytes());
                }
            }
        }
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
        checks.extend(binary_cases(
            &mut rng,
            op,
            39,
            &[Float32, Int8, Int16, Int32, Int64],
            &[0],
            5,
        ));
    }
    let compared = conform(&checks);
    assert_eq!(compared, checks.len());
}

/// A one-input op of union tag `kind` from `x` to `y`.
fn unary(rng: &mut Rng, name: String, op: Op, opts: OptionsDef, x: T, y: T) -> Check {
    Check::same(name, rng, op, opts, &[x], &[y])
}

#[test]
fn activations_and_quantization_match_tflite_micro() {
    let mut rng = Rng::new(13);
    let rng = &mut rng;
    let none = || options(0, &[], &[]);
    let shape: &[usize] = &[2, 3, 5];
    let mut checks = vec![];
    // (input scale, zero point), (output scale, zero point)
    let int8_pairs = [
        ((0.05, 0), (0.05, 0)),
        ((0.02, -10), (0.03, 5)),
        ((0.1, 20), (0.01, -128)),
        ((0.5, -3), (0.04, 100)),
    ];
    let int16_pairs = [
        ((0.001, 0), (0.001, 0)),
        ((0.0005, 0), (0.0002, 0)),
        ((0.01, 0), (0.003, 0)),
    ];
    for (op, kind) in [(Op::RELU, 0), (Op::RELU6, 0)] {
        checks.push(unary(
            rng,
            format!("{op} f32"),
            op,
            none(),
            t(shape, Float32),
            t(shape, Float32),
        ));
        for (i, ((si, zi), (so, zo))) in int8_pairs.iter().enumerate() {
            // RELU6 takes the output to share the input's quantization.
            let (so, zo) = if op == Op::RELU6 {
                (*si, *zi)
            } else {
                (*so, *zo)
            };
            checks.push(unary(
                rng,
                format!("{op} int8 {i}"),
                op,
                options(kind, &[], &[]),
                t(shape, Int8).q(*si, *zi),
                t(shape, Int8).q(so, zo),
            ));
        }
        for (i, ((si, _), (so, _))) in int16_pairs.iter().enumerate() {
            let so = if op == Op::RELU6 { *si } else { *so };
            checks.push(unary(
                rng,
                format!("{op} int16 {i}"),
                op,
                none(),
                t(shape, Int16).q(*si, 0),
                t(shape, Int16).q(so, 0),
            ));
        }
    }
    for alpha in [0.2f32, 0.3, -0.5, 1.7] {
        let opts = || options(75, &[(0, Scalar::F32(alpha))], &[]);
        checks.push(unary(
            rng,
            format!("LEAKY_RELU f32 {alpha}"),
            Op::LEAKY_RELU,
            opts(),
            t(shape, Float32),
            t(shape, Float32),
        ));
        for (i, ((si, zi), (so, zo))) in int8_pairs.iter().enumerate() {
            checks.push(unary(
                rng,
                format!("LEAKY_RELU int8 {alpha} {i}"),
                Op::LEAKY_RELU,
                opts(),
                t(shape, Int8).q(*si, *zi),
                t(shape, Int8).q(*so, *zo),
            ));
        }
        for (i, ((si, _), (so, _))) in int16_pairs.iter().enumerate() {
            checks.push(unary(
                rng,
                format!("LEAKY_RELU int16 {alpha} {i}"),
                Op::LEAKY_RELU,
                opts(),
                t(shape, Int16).q(*si, 0),
                t(shape, Int16).q(*so, 0),
            ));
        }
    }
    // LOGISTIC, TANH and HARD_SWISH: float32 (wide inputs) and int8.
    for op in [Op::LOGISTIC, Op::TANH, Op::HARD_SWISH] {
        let mut check = unary(
            rng,
            format!("{op} f32"),
            op,
            none(),
            t(&[4, 50], Float32),
            t(&[4, 50], Float32),
        );
        for b in check.inputs[0].data.chunks_exact_mut(4) {
            let x = f32::from_le_bytes(b.try_into().unwrap()) * 5.0;
            b.copy_from_slice(&x.to_le_bytes());
        }
        checks.push(check);
        for (i, (si, zi)) in [(0.1f32, 0i64), (0.02, -30), (0.25, 50), (0.06, 127)]
            .iter()
            .enumerate()
        {
            let out = match op {
                Op::LOGISTIC => t(shape, Int8).q(1.0 / 256.0, -128),
                Op::TANH => t(shape, Int8).q(1.0 / 128.0, 0),
                _ => t(shape, Int8).q([0.03f32, 0.05, 0.1, 0.02][i], [-128i64, 0, 10, -5][i]),
            };
            checks.push(unary(
                rng,
                format!("{op} int8 {i}"),
                op,
                none(),
                t(shape, Int8).q(*si, *zi),
                out,
            ));
        }
    }
    // QUANTIZE from float (some values saturate) and between integer types.
    for (i, (scale, zp)) in [(0.05f32, 0i64), (0.02, -20), (0.013, 7), (0.5, 127)]
        .iter()
        .enumerate()
    {
        checks.push(unary(
            rng,
            format!("QUANTIZE f32->int8 {i}"),
            Op::QUANTIZE,
            none(),
            t(shape, Float32),
            t(shape, Int8).q(*scale, *zp),
        ));
        checks.push(unary(
            rng,
            format!("QUANTIZE f32->int16 {i}"),
            Op::QUANTIZE,
            none(),
            t(shape, Float32),
            t(shape, Int16).q(*scale / 200.0, 0),
        ));
    }
    /// (from, its scale and zero point, to, its scale and zero point)
    type Requantize = (TensorType, (f32, i64), TensorType, (f32, i64));
    let requantize: &[Requantize] = &[
        (Int8, (0.05, 3), Int8, (0.02, -7)),
        (Int8, (0.05, 3), Int8, (0.3, 100)),
        (Int8, (0.05, 3), UInt8, (0.05, 131)),
        (Int8, (0.05, -3), Int16, (0.0001, 0)),
        (Int8, (0.05, -3), Int32, (0.001, 5)),
        (UInt8, (0.02, 128), Int8, (0.02, 0)),
        (Int16, (0.001, 0), Int8, (0.2, -5)),
        (Int16, (0.001, 0), Int16, (0.0007, 0)),
        (Int16, (0.001, 0), Int32, (0.0001, 0)),
        (Int32, (0.0001, 0), Int8, (0.01, 3)),
        (Int32, (0.0001, 0), Int16, (0.0002, 0)),
    ];
    for (i, (from, qi, to, qo)) in requantize.iter().enumerate() {
        checks.push(unary(
            rng,
            format!("QUANTIZE {from:?}->{to:?} {i}"),
            Op::QUANTIZE,
            none(),
            t(shape, *from).q(qi.0, qi.1),
            t(shape, *to).q(qo.0, qo.1),
        ));
    }
    for (i, (from, scale, zp)) in [
        (Int8, 0.05f32, -3i64),
        (Int8, 0.7, 100),
        (Int16, 0.001, 0),
        (UInt8, 0.02, 128),
    ]
    .iter()
    .enumerate()
    {
        checks.push(unary(
            rng,
            format!("DEQUANTIZE {from:?} {i}"),
            Op::DEQUANTIZE,
            none(),
            t(shape, *from).q(*scale, *zp),
            t(shape, Float32),
        ));
    }
    // CAST between every pair TensorFlow Lite Micro has.
    for from in [Int8, Int16, Int32, UInt32, Float32, Bool] {
        for to in [Int8, Int16, Int32, UInt32, Float32] {
            let mut check = unary(
                rng,
                format!("CAST {from:?}->{to:?}"),
                Op::CAST,
                none(),
                t(shape, from),
                t(shape, to),
            );
            if from == Float32 && to == UInt32 {
                // A negative float to uint32 is undefined in C++: cast |x|.
                for b in check.inputs[0].data.chunks_exact_mut(4) {
                    b[3] &= 0x7f;
                }
            }
            checks.push(check);
        }
    }
    let compared = conform(&checks);
    assert_eq!(compared, checks.len());
}

/// Types TensorFlow Lite Micro has no kernel for: it fails at invoke (or at
/// allocation), printing the reason; mote refuses at `Interpreter::new`,
/// saying which type.
#[test]
fn refusals_are_shared_with_tflite_micro() {
    let mut rng = Rng::new(14);
    let rng = &mut rng;
    let none = || options(0, &[], &[]);
    let s: &[usize] = &[4];
    let checks = vec![
        unary(
            rng,
            "CAST to int64".into(),
            Op::CAST,
            none(),
            t(s, Int32),
            t(s, Int64),
        )
        .refused("does not support int64", "invocation failed"),
        unary(
            rng,
            "CAST from uint8".into(),
            Op::CAST,
            none(),
            t(s, UInt8),
            t(s, Int32),
        )
        .refused("does not support uint8", "invocation failed"),
        unary(
            rng,
            "QUANTIZE f32->uint8".into(),
            Op::QUANTIZE,
            none(),
            t(s, Float32),
            t(s, UInt8).q(0.1, 128),
        )
        .refused("does not support uint8", "invocation failed"),
        unary(
            rng,
            "DEQUANTIZE int32".into(),
            Op::DEQUANTIZE,
            none(),
            t(s, Int32).q(0.1, 0),
            t(s, Float32),
        )
        .refused("does not support int32", "allocate tensors"),
        Check::same(
            "TRANSPOSE int32",
            rng,
            Op::TRANSPOSE,
            options(26, &[], &[]),
            &[t(&[2, 2], Int32), T::i32s(&[1, 0])],
            &[t(&[2, 2], Int32)],
        )
        .refused("does not support int32", "invocation failed"),
        Check::same(
            "DIV int16",
            rng,
            Op::DIV,
            activation_options(29, 0),
            &[t(s, Int16).q(0.01, 0), t(s, Int16).q(0.01, 0)],
            &[t(s, Int16).q(0.01, 0)],
        )
        .refused("does not support int16", "invocation failed"),
    ];
    conform(&checks);
}

/// An int32 vector as little-endian bytes.
fn i32_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A tensor of `dtype`, quantized per tensor for int8 and int16.
fn typed(shape: &[usize], dtype: TensorType) -> T {
    match dtype {
        Int8 => t(shape, dtype).q(0.05, -7),
        Int16 => t(shape, dtype).q(0.001, 0),
        _ => t(shape, dtype),
    }
}

#[test]
fn shape_ops_match_tflite_micro() {
    let mut rng = Rng::new(15);
    let rng = &mut rng;
    let mut checks = vec![];
    // CONCATENATION: two or three inputs, several axes (negative too).
    /// (input shapes, axis, output shape)
    type Concat = (&'static [&'static [usize]], i32, &'static [usize]);
    let concat: &[Concat] = &[
        (&[&[2, 3], &[2, 1]], 1, &[2, 4]),
        (&[&[2, 3], &[1, 3], &[3, 3]], 0, &[6, 3]),
        (
            &[&[1, 2, 3, 4], &[1, 2, 1, 4], &[1, 2, 2, 4]],
            -2,
            &[1, 2, 6, 4],
        ),
        (&[&[2, 2, 1, 3, 2], &[2, 2, 2, 3, 2]], 2, &[2, 2, 3, 3, 2]),
    ];
    for dtype in [Float32, Int8, Int16, Int32, Int64, Bool] {
        for (c, (ins, axis, out)) in concat.iter().enumerate() {
            let inputs: Vec<T> = ins.iter().map(|s| typed(s, dtype)).collect();
            let opts = options(10, &[(0, Scalar::I32(*axis)), (1, Scalar::U8(0))], &[]);
            checks.push(Check::same(
                format!("CONCATENATION {dtype:?} {c}"),
                rng,
                Op::CONCATENATION,
                opts,
                &inputs,
                &[typed(out, dtype)],
            ));
        }
    }
    // PAD and PADV2, 1-D to 5-D.
    let pads: &[(&[usize], &[i32])] = &[
        (&[5], &[2, 3]),
        (&[2, 3], &[1, 0, 0, 2]),
        (&[1, 4, 4, 3], &[0, 0, 1, 1, 2, 1, 0, 0]),
        (&[1, 2, 3, 2], &[0, 1, 1, 0, 0, 2, 1, 1]),
        (&[2, 1, 2, 3, 2], &[1, 0, 0, 1, 1, 1, 0, 0, 2, 0]),
    ];
    for dtype in [Float32, Int8, Int16, Int32] {
        for (p, (shape, paddings)) in pads.iter().enumerate() {
            let out: Vec<usize> = shape
                .iter()
                .enumerate()
                .map(|(d, n)| n + (paddings[2 * d] + paddings[2 * d + 1]) as usize)
                .collect();
            let pad_t = t(&[shape.len(), 2], Int32).constant(i32_bytes(paddings));
            checks.push(Check::same(
                format!("PAD {dtype:?} {p}"),
                rng,
                Op::PAD,
                options(22, &[], &[]),
                &[typed(shape, dtype), pad_t.clone()],
                &[typed(&out, dtype)],
            ));
            let value = match dtype {
                Float32 => 2.5f32.to_le_bytes().to_vec(),
                Int8 => vec![42],
                Int16 => 1234i16.to_le_bytes().to_vec(),
                _ => (-77i32).to_le_bytes().to_vec(),
            };
            let value_t = typed(&[], dtype).constant(value);
            checks.push(Check::same(
                format!("PADV2 {dtype:?} {p}"),
                rng,
                Op::PADV2,
                options(43, &[], &[]),
                &[typed(shape, dtype), pad_t, value_t],
                &[typed(&out, dtype)],
            ));
        }
    }
    // SQUEEZE and EXPAND_DIMS.
    for dtype in [Float32, Int8, Int16] {
        for (dims, out) in [
            (vec![], vec![3, 2]),
            (vec![0], vec![3, 1, 2]),
            (vec![-2, 0], vec![3, 2]),
        ] {
            let opts = options(30, &[], &[(0, dims.clone())]);
            checks.push(Check::same(
                format!("SQUEEZE {dtype:?} {dims:?}"),
                rng,
                Op::SQUEEZE,
                opts,
                &[typed(&[1, 3, 1, 2], dtype)],
                &[typed(&out, dtype)],
            ));
        }
        for (axis, out) in [(0, vec![1, 3, 2]), (1, vec![3, 1, 2]), (-1, vec![3, 2, 1])] {
            let axis_t = t(&[1], Int32).constant(i32_bytes(&[axis]));
            checks.push(Check::same(
                format!("EXPAND_DIMS {dtype:?} {axis}"),
                rng,
                Op::EXPAND_DIMS,
                options(52, &[], &[]),
                &[typed(&[3, 2], dtype), axis_t],
                &[typed(&out, dtype)],
            ));
        }
    }
    // STRIDED_SLICE: (input, begin, end, strides, begin_mask, end_mask, shrink, output)
    type Slice = (
        &'static [usize],
        &'static [i32],
        &'static [i32],
        &'static [i32],
        i32,
        i32,
        i32,
        &'static [usize],
    );
    let slices: &[Slice] = &[
        (&[10], &[2], &[8], &[2], 0, 0, 0, &[3]),
        (&[10], &[-2], &[1], &[-3], 0, 0, 0, &[3]),
        (&[10], &[0], &[0], &[-1], 1, 1, 0, &[10]),
        (&[4, 6], &[1, -1], &[3, 0], &[1, -2], 0, 0, 0, &[2, 3]),
        (&[4, 6], &[1, 2], &[0, 5], &[1, 1], 0, 1, 0, &[3, 3]),
        (&[4, 6], &[2, 0], &[3, 6], &[1, 1], 0, 0, 1, &[6]),
        (&[4, 6], &[-1, 1], &[0, 4], &[1, 1], 0, 0, 1, &[3]),
        (
            &[2, 3, 4],
            &[0, 1, 0],
            &[2, 3, 4],
            &[1, 1, 3],
            5,
            0,
            0,
            &[2, 2, 2],
        ),
        (
            &[1, 3, 12, 8],
            &[0, 0, 2, 0],
            &[1, 3, 11, 8],
            &[1, 1, 1, 1],
            0,
            0,
            0,
            &[1, 3, 9, 8],
        ),
        (
            &[1, 3, 12, 8],
            &[0, 2, 11, 7],
            &[1, 0, 0, 0],
            &[1, -1, -4, -3],
            0,
            0,
            1,
            &[2, 3, 3],
        ),
    ];
    for dtype in [Float32, Int8, Int16, Int32, Bool] {
        for (i, (shape, begin, end, strides, bm, em, sm, out)) in slices.iter().enumerate() {
            let opts = options(
                32,
                &[
                    (0, Scalar::I32(*bm)),
                    (1, Scalar::I32(*em)),
                    (4, Scalar::I32(*sm)),
                ],
                &[],
            );
            let inputs = [
                typed(shape, dtype),
                T::i32s(begin),
                T::i32s(end),
                T::i32s(strides),
            ];
            checks.push(Check::same(
                format!("STRIDED_SLICE {dtype:?} {i}"),
                rng,
                Op::STRIDED_SLICE,
                opts,
                &inputs,
                &[typed(out, dtype)],
            ));
        }
    }
    // TRANSPOSE, 2-D to 5-D.
    let perms: &[(&[usize], &[i32])] = &[
        (&[3, 4], &[1, 0]),
        (&[2, 3, 4], &[2, 0, 1]),
        (&[1, 2, 3, 4], &[0, 3, 1, 2]),
        (&[2, 1, 3, 2, 2], &[4, 2, 0, 3, 1]),
    ];
    for dtype in [Float32, Int8, Int16] {
        for (i, (shape, perm)) in perms.iter().enumerate() {
            let out: Vec<usize> = perm.iter().map(|&p| shape[p as usize]).collect();
            let inputs = [typed(shape, dtype), T::i32s(perm)];
            checks.push(Check::same(
                format!("TRANSPOSE {dtype:?} {i}"),
                rng,
                Op::TRANSPOSE,
                options(26, &[], &[]),
                &inputs,
                &[typed(&out, dtype)],
            ));
        }
    }
    let compared = conform(&checks);
    assert_eq!(compared, checks.len());
}
