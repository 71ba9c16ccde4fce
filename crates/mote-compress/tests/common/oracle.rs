//! Runs models in TensorFlow Lite Micro (the `tflite-micro` oracle) and in
//! mote-runtime on the same rows: int8 outputs must be identical bytes, float
//! outputs equal within 1e-5 of the largest output.

use mote_conformance::{run, Case, Engine, TempDir};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;

/// Each row of `x` (`row_len` floats) as one invocation's input, in the model's input type.
pub fn steps(bytes: &[u8], x: &[f32], row_len: usize) -> Vec<Vec<Array>> {
    let model = Model::parse(bytes).unwrap();
    let graph = model.main();
    let input = graph.tensor(graph.inputs().get(0).unwrap()).unwrap();
    let shape = input.shape().dims().to_vec();
    x.chunks_exact(row_len)
        .map(|row| {
            vec![match input.dtype() {
                TensorType::Int8 => {
                    let q = input.quantization().unwrap();
                    let (scale, zero) = (q.scale(0), q.zero_point(0) as f32);
                    Array {
                        shape: shape.clone(),
                        dtype: TensorType::Int8,
                        data: row
                            .iter()
                            .map(|v| ((v / scale).round() + zero).clamp(-128.0, 127.0) as i8 as u8)
                            .collect(),
                    }
                }
                _ => Array::from_f32(shape.clone(), row),
            }]
        })
        .collect()
}

/// mote-runtime's output 0 bytes for each step.
pub fn mote_outputs(bytes: &[u8], steps: &[Vec<Array>]) -> Vec<Vec<u8>> {
    let model = Model::parse(bytes).unwrap();
    let mut arena = vec![0u8; 1 << 20];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    steps
        .iter()
        .map(|inputs| {
            interpreter
                .input_bytes_mut(0)
                .unwrap()
                .copy_from_slice(&inputs[0].data);
            interpreter.invoke().unwrap();
            interpreter.output_bytes(0).unwrap().to_vec()
        })
        .collect()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Checks every `(name, model bytes)` against TFLM on the rows of `x`, in one
/// Python process: int8 outputs identical, float outputs within 1e-5 of the
/// largest; returns how many rows each was checked on.
pub fn assert_same_as_tflm(models: &[(String, Vec<u8>)], x: &[f32], row_len: usize) -> usize {
    check(models, x, row_len, false)
}

/// As [`assert_same_as_tflm`], but float outputs must be identical bytes too.
pub fn assert_identical_to_tflm(models: &[(String, Vec<u8>)], x: &[f32], row_len: usize) -> usize {
    check(models, x, row_len, true)
}

fn check(models: &[(String, Vec<u8>)], x: &[f32], row_len: usize, exact: bool) -> usize {
    let dir = TempDir::new("oracle");
    let mut cases = Vec::new();
    let mut all_steps = Vec::new();
    for (name, bytes) in models {
        let path = dir.path().join(format!("{name}.tflite"));
        std::fs::write(&path, bytes).unwrap();
        let steps = steps(bytes, x, row_len);
        cases.push(Case {
            model: path,
            steps: steps.clone(),
        });
        all_steps.push(steps);
    }
    let outcomes = run(Engine::Tflm, &cases);
    for (((name, bytes), steps), outcome) in models.iter().zip(&all_steps).zip(outcomes) {
        let theirs = outcome.unwrap_or_else(|e| panic!("{name}: TFLM failed: {e}"));
        let ours = mote_outputs(bytes, steps);
        assert_eq!(ours.len(), theirs.steps.len(), "{name}");
        let model = Model::parse(bytes).unwrap();
        let graph = model.main();
        let out = graph.tensor(graph.outputs().get(0).unwrap()).unwrap();
        for (s, (a, b)) in ours.iter().zip(&theirs.steps).enumerate() {
            if out.dtype() == TensorType::Float32 && !exact {
                let (a, b) = (f32s(a), f32s(&b[0].data));
                let largest = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
                for (x, y) in a.iter().zip(&b) {
                    assert!(
                        (x - y).abs() <= 1e-5 * largest,
                        "{name}: row {s}: mote {a:?} vs TFLM {b:?}"
                    );
                }
            } else {
                assert_eq!(a, &b[0].data, "{name}: row {s} differs from TFLM");
            }
        }
    }
    x.len() / row_len
}
