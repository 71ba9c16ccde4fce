//! Shared helpers of the quantization tests: the assets folder and running a
//! one-input, one-output model (float or int8 at the edges) on float values.

#![allow(dead_code)]

use std::path::PathBuf;

use mote_runtime::{Interpreter, Model, OpResolver, TensorType};

/// The shared assets folder (`$MOTE_ASSETS` or `../shared/assets`); panics if missing.
pub fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

/// Reads an asset file, failing with its path.
pub fn asset(path: &str) -> Vec<u8> {
    let path = assets().join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `bytes` once per sample of `xs` (each `sample_len` floats) and returns
/// the outputs as floats: int8 edges are quantized and dequantized with the
/// tensors' own parameters.
pub fn run_float(bytes: &[u8], xs: &[f32], sample_len: usize) -> Vec<f32> {
    let model = Model::parse(bytes).unwrap();
    let mut arena = vec![0u8; 4 << 20];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let input = interpreter.input_tensor(0).unwrap();
    let output = interpreter.output_tensor(0).unwrap();
    let q = |t: &mote_runtime::Tensor<'_>| {
        t.quantization()
            .map_or((1.0, 0), |q| (q.scale(0), q.zero_point(0) as i32))
    };
    let (in_q, out_q) = (q(&input), q(&output));
    let mut ys = Vec::new();
    for x in xs.chunks(sample_len) {
        match input.dtype() {
            TensorType::Int8 => {
                let slot = interpreter.input_mut::<i8>(0).unwrap();
                for (s, v) in slot.iter_mut().zip(x) {
                    *s = ((v / in_q.0).round() + in_q.1 as f32).clamp(-128.0, 127.0) as i8;
                }
            }
            _ => interpreter.input_mut::<f32>(0).unwrap().copy_from_slice(x),
        }
        interpreter.invoke().unwrap();
        match output.dtype() {
            TensorType::Int8 => ys.extend(
                interpreter
                    .output::<i8>(0)
                    .unwrap()
                    .iter()
                    .map(|&v| (i32::from(v) - out_q.1) as f32 * out_q.0),
            ),
            _ => ys.extend_from_slice(interpreter.output::<f32>(0).unwrap()),
        }
    }
    ys
}
