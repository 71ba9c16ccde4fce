//! TensorFlow Lite Micro's SEANet integration tests (int16 activations, 16x8
//! quantization) for the ops mote implements: every CONV_2D and
//! TRANSPOSE_CONV model gives, in mote, exactly its golden output and exactly
//! what the `tflite-micro` package gives.

use std::path::{Path, PathBuf};

use mote_conformance::{assets, run, Case, Engine};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;

/// The integers of a one-line CSV.
fn csv(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect()
}

/// Every `<name>.tflite` of one SEANet op folder, sorted.
fn models(op: &str) -> Vec<PathBuf> {
    let dir = assets().join("tflm/integration_tests/seanet").join(op);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tflite"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no models in {}", dir.display());
    paths
}

/// The model's inputs, read from `<name>_input<i>_<dtype>.csv`.
fn inputs(path: &Path, model: &Model<'_>) -> Vec<Array> {
    let graph = model.main();
    let stem = path.file_stem().unwrap().to_string_lossy();
    (0..graph.inputs().len())
        .map(|i| {
            let t = graph.tensor(graph.inputs().get(i).unwrap()).unwrap();
            let values =
                csv(&path.with_file_name(format!("{stem}_input{i}_{}.csv", t.dtype().name())));
            let data = match t.dtype() {
                TensorType::Int16 => values
                    .iter()
                    .flat_map(|v| (*v as i16).to_le_bytes())
                    .collect(),
                TensorType::Int32 => values
                    .iter()
                    .flat_map(|v| (*v as i32).to_le_bytes())
                    .collect(),
                TensorType::Int8 => values.iter().map(|v| *v as i8 as u8).collect(),
                other => panic!("{}: input type {other}", path.display()),
            };
            Array {
                shape: t.shape().dims().to_vec(),
                dtype: t.dtype(),
                data,
            }
        })
        .collect()
}

fn check_op(op: &str) {
    let paths = models(op);
    let mut cases = Vec::new();
    let mut bytes = Vec::new();
    for path in &paths {
        let b = std::fs::read(path).unwrap();
        let model = Model::parse(&b).unwrap();
        cases.push(Case {
            model: path.clone(),
            steps: vec![inputs(path, &model)],
        });
        bytes.push(b);
    }
    let expected = run(Engine::Tflm, &cases);
    for ((path, case), (b, tflm)) in paths.iter().zip(&cases).zip(bytes.iter().zip(expected)) {
        let name = path.file_name().unwrap().to_string_lossy();
        let model = Model::parse(b).unwrap();
        let mut arena = vec![0u8; 4 << 20];
        let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, x) in case.steps[0].iter().enumerate() {
            interpreter
                .input_bytes_mut(i)
                .unwrap()
                .copy_from_slice(&x.data);
        }
        interpreter.invoke().unwrap();
        let got: Vec<i64> = interpreter
            .output::<i16>(0)
            .unwrap()
            .iter()
            .map(|v| i64::from(*v))
            .collect();
        let stem = path.file_stem().unwrap().to_string_lossy();
        let golden = csv(&path.with_file_name(format!("{stem}_golden_int16.csv")));
        let differing = got.iter().zip(&golden).filter(|(a, b)| a != b).count();
        assert!(
            got.len() == golden.len() && differing == 0,
            "{name}: {differing} of {} outputs differ from the golden",
            golden.len()
        );
        let tflm = tflm.unwrap_or_else(|e| panic!("{name}: TFLM: {e}"));
        assert_eq!(
            interpreter.output_bytes(0).unwrap(),
            &tflm.steps[0][0].data[..],
            "{name}: differs from TFLM"
        );
    }
    println!("{op}: {} models equal their goldens and TFLM", paths.len());
}

#[test]
fn seanet_conv_16x8() {
    check_op("conv");
}

#[test]
fn seanet_transpose_conv_16x8() {
    check_op("transpose_conv");
}
