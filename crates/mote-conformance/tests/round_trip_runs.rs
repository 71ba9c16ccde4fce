//! What mote writes runs: every asset model, imported into `ModelDef` and
//! written again, gives TensorFlow Lite Micro the same outputs, bit for bit,
//! as the original file, over two invocations with seeded inputs (so the
//! state of recurrent models is compared too); the one model TFLM refuses
//! that TensorFlow Lite runs (hybrid-quantized KWS float) is compared there.

use std::path::{Path, PathBuf};

use mote_conformance::{assets, run, Case, Engine, Rng, TempDir};
use mote_runtime::{Model, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::ModelDef;

fn models(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            models(&path, out);
        } else if path.extension().is_some_and(|e| e == "tflite") {
            out.push(path);
        }
    }
}

/// Seeded inputs for every graph input: floats in [-1, 1), random integers;
/// an int32 vector as long as the first output's rank is taken to be an
/// output shape (TRANSPOSE_CONV) and gets that output's shape.
fn inputs(model: &Model<'_>, rng: &mut Rng) -> Vec<Array> {
    let graph = model.main();
    let out_shape: Vec<usize> = graph
        .outputs()
        .get(0)
        .and_then(|o| graph.tensor(o))
        .map(|t| t.shape().dims().to_vec())
        .unwrap_or_default();
    graph
        .inputs()
        .iter()
        .map(|i| {
            let t = graph.tensor(i as usize).unwrap();
            let shape = t.shape().dims().to_vec();
            let n = t.shape().elements();
            let data = match t.dtype() {
                TensorType::Float32 => (0..n)
                    .flat_map(|_| rng.uniform(-1.0, 1.0).to_le_bytes())
                    .collect(),
                TensorType::Int32 if shape.len() == 1 && n == out_shape.len() => out_shape
                    .iter()
                    .flat_map(|d| (*d as i32).to_le_bytes())
                    .collect(),
                TensorType::Int32 => (0..n)
                    .flat_map(|_| ((rng.next_u64() % 201) as i32 - 100).to_le_bytes())
                    .collect(),
                dtype => rng.bytes(t.byte_len().max(dtype.bytes_for(n).unwrap_or(0))),
            };
            Array {
                shape,
                dtype: t.dtype(),
                data,
            }
        })
        .collect()
}

#[test]
fn every_rewritten_asset_model_runs_like_the_original_in_tflite_micro() {
    let mut paths = Vec::new();
    models(&assets(), &mut paths);
    paths.sort();
    assert_eq!(paths.len(), 153, "the MANIFEST lists 153 models");
    let dir = TempDir::new("round-trip-runs");
    let mut cases = Vec::new();
    for (m, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let written = ModelDef::from_model(&model).unwrap().to_bytes().unwrap();
        let copy = dir.path().join(format!("model{m}.tflite"));
        std::fs::write(&copy, written).unwrap();
        let mut rng = Rng::new(m as u64);
        let steps: Vec<Vec<Array>> = (0..2).map(|_| inputs(&model, &mut rng)).collect();
        cases.push(Case {
            model: path.clone(),
            steps: steps.clone(),
        });
        cases.push(Case { model: copy, steps });
    }
    // TFLM first; what TFLM refuses (the hybrid-quantized KWS float model,
    // the Ethos-U model) goes to TensorFlow Lite.
    let mut ran = Vec::new();
    let mut refused: Vec<usize> = (0..paths.len()).collect();
    for engine in [Engine::Tflm, Engine::Litert] {
        let batch: Vec<Case> = refused
            .iter()
            .flat_map(|m| [cases[2 * m].clone(), cases[2 * m + 1].clone()])
            .collect();
        let outcomes = run(engine, &batch);
        let mut still = Vec::new();
        for (k, &m) in refused.iter().enumerate() {
            let path = &paths[m];
            match (&outcomes[2 * k], &outcomes[2 * k + 1]) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.steps.len(), b.steps.len());
                    for (s, (x, y)) in a.steps.iter().zip(&b.steps).enumerate() {
                        assert!(!x.is_empty(), "{}: no outputs", path.display());
                        for (o, (p, q)) in x.iter().zip(y).enumerate() {
                            assert!(
                                p.shape == q.shape && p.dtype == q.dtype && p.data == q.data,
                                "{engine:?} {}: step {s} output {o} differs after the round trip",
                                path.display()
                            );
                        }
                    }
                    ran.push((m, engine));
                }
                (Err(e), Err(_)) => {
                    eprintln!("{engine:?} refuses both copies of {}: {e}", path.display());
                    still.push(m);
                }
                (a, b) => panic!(
                    "{engine:?} {}: the original {} but the rewritten copy {}",
                    path.display(),
                    a.as_ref()
                        .map_or_else(|e| format!("fails ({e})"), |_| "runs".into()),
                    b.as_ref()
                        .map_or_else(|e| format!("fails ({e})"), |_| "runs".into()),
                ),
            }
        }
        refused = still;
    }
    let tflm = ran.iter().filter(|(_, e)| *e == Engine::Tflm).count();
    eprintln!(
        "{tflm} models ran identically in TFLM, {} in LiteRT; neither runs {:?}",
        ran.len() - tflm,
        refused.iter().map(|m| &paths[*m]).collect::<Vec<_>>()
    );
    // Only the Ethos-U command stream runs nowhere (it needs the NPU).
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(paths[refused[0]].ends_with("person_detect_vela.tflite"));
}
