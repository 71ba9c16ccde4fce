//! TensorFlow Lite Micro's SEANet integration tests (127 single-op int16
//! models with input and expected CSVs, in the shared assets): every model
//! whose ops mote has runs in mote, and
//! - its output is within 1 of the expected CSV, as TensorFlow Lite Micro's
//!   own test checks (`EXPECT_NEAR(golden[i], output[i], 1)`: the goldens come
//!   from TensorFlow Lite, which rounds differently in a few cases), and
//! - it is identical to TensorFlow Lite Micro's output on the same input (one
//!   oracle batch).
//!
//! All 127 must run: a model with an op mote lacks, or has but not for its
//! types, fails the test with its name.

use std::path::{Path, PathBuf};

use mote_conformance::{assets, run, Case, Engine};
use mote_runtime::{Error, Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;

mod harness;

/// One comma-separated line of integers.
fn csv(path: &Path) -> Vec<i64> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim()
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|e| panic!("{}: {v:?}: {e}", path.display()))
        })
        .collect()
}

/// The model's input `i` from `<name>_input<i>_<dtype>.csv`.
fn input(model: &Path, i: usize, shape: &[usize], dtype: TensorType) -> Array {
    let stem = model.with_extension("");
    let suffix = match dtype {
        TensorType::Int8 => "int8",
        TensorType::Int16 => "int16",
        TensorType::Int32 => "int32",
        other => panic!("{}: input type {other:?}", model.display()),
    };
    let values = csv(&PathBuf::from(format!(
        "{}_input{i}_{suffix}.csv",
        stem.display()
    )));
    let data = match dtype {
        TensorType::Int8 => values.iter().map(|&v| v as i8 as u8).collect(),
        TensorType::Int16 => values
            .iter()
            .flat_map(|&v| (v as i16).to_le_bytes())
            .collect(),
        _ => values
            .iter()
            .flat_map(|&v| (v as i32).to_le_bytes())
            .collect(),
    };
    Array {
        shape: shape.to_vec(),
        dtype,
        data,
    }
}

/// The expected output 0.
fn golden(model: &Path) -> Vec<i64> {
    let stem = model.with_extension("");
    let dir = stem.parent().unwrap();
    let name = stem.file_name().unwrap().to_str().unwrap();
    let prefix = format!("{name}_golden_");
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|f| f.starts_with(&prefix) && f.ends_with(".csv"))
        .unwrap_or_else(|| panic!("no golden for {}", model.display()));
    csv(&dir.join(file))
}

#[test]
fn seanet_integration_models_match_their_goldens_and_tflite_micro() {
    let root = assets().join("tflm/integration_tests/seanet");
    let mut models: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tflite"))
        .collect();
    models.sort();
    assert_eq!(models.len(), 127, "the SEANet set has 127 models");

    let resolver = OpResolver::all();
    let mut uncovered = std::collections::BTreeMap::<String, usize>::new();
    let mut cases = vec![];
    let mut ours = vec![];
    for path in &models {
        let bytes = std::fs::read(path).unwrap();
        let model = Model::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let graph = model.main();
        let missing: Vec<String> = (0..graph.operator_count())
            .map(|i| graph.operator(i).unwrap().builtin())
            .filter(|op| resolver.find(*op, None).is_none())
            .map(|op| op.to_string())
            .collect();
        if !missing.is_empty() {
            *uncovered.entry(missing.join("+")).or_default() += 1;
            continue;
        }
        // An op mote has, but not for these types.
        let mut arena = vec![0u8; 1 << 20];
        if let Err(Error::UnsupportedType { op, dtype, .. }) =
            Interpreter::new(&model, &mut arena, &resolver)
        {
            *uncovered.entry(format!("{op} {dtype}")).or_default() += 1;
            continue;
        }
        let inputs: Vec<Array> = graph
            .inputs()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let t = graph.tensor(t as usize).unwrap();
                input(path, i, t.shape().dims(), t.dtype())
            })
            .collect();
        let out = harness::run_mote(&bytes, &inputs)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        ours.push((path.clone(), out.into_iter().next().unwrap()));
        cases.push(Case {
            model: path.clone(),
            steps: vec![inputs],
        });
    }
    // Every model must have run.
    assert!(
        uncovered.is_empty(),
        "SEANet models not run, by op: {uncovered:?}"
    );
    let theirs = run(Engine::Tflm, &cases);
    let (mut exact, mut off_by_one, mut failures) = (vec![], vec![], vec![]);
    for ((path, ours), theirs) in ours.iter().zip(theirs) {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let theirs = theirs.unwrap_or_else(|e| panic!("{name}: TFLM: {e}"));
        let theirs = &theirs.steps[0][0];
        let (a, expected) = (ours.to_f64(), golden(path));
        if ours.data != theirs.data || ours.dtype != theirs.dtype {
            failures.push(format!("{name}: differs from TensorFlow Lite Micro"));
        }
        if a.len() != expected.len() {
            failures.push(format!(
                "{name}: {} outputs, golden has {}",
                a.len(),
                expected.len()
            ));
            continue;
        }
        let worst = a
            .iter()
            .zip(&expected)
            .map(|(x, y)| (x - *y as f64).abs())
            .fold(0.0, f64::max);
        if worst == 0.0 {
            exact.push(name);
        } else if worst <= 1.0 {
            off_by_one.push(name);
        } else {
            failures.push(format!("{name}: off its golden by {worst}"));
        }
    }
    println!(
        "SEANet: {} run ({} exactly as the golden, {} within 1: {:?}); not run (op or type missing): {:?}",
        exact.len() + off_by_one.len(),
        exact.len(),
        off_by_one.len(),
        off_by_one,
        uncovered
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // ADD 17, SUB 5, LEAKY_RELU 23, PAD 19, QUANTIZE 2, STRIDED_SLICE 34.
    assert!(exact.len() + off_by_one.len() >= 100);
    // TensorFlow Lite Micro itself is off by one on these (see the MANIFEST).
    assert_eq!(
        off_by_one,
        [
            "leaky_relu11",
            "leaky_relu18",
            "leaky_relu19",
            "leaky_relu3"
        ]
    );
}
