//! Every `.tflite` model in the shared assets is read, imported into
//! `ModelDef`, written, and read again: the second file has the same tensors,
//! quantization, operators, typed builtin options, custom options, metadata
//! and signature defs as the first; importing it again gives the same
//! `ModelDef` (the writer is a fixed point after one pass).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use mote_conformance::assets;
use mote_runtime::Model;
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

/// Everything the format says of a model, as text (buffer indices left out:
/// the writer renumbers buffers).
fn describe(model: &Model<'_>) -> String {
    let mut s = String::new();
    let graph = model.main();
    writeln!(
        s,
        "description {:?} subgraph {:?}",
        model.description(),
        graph.name()
    )
    .unwrap();
    writeln!(
        s,
        "inputs {:?} outputs {:?}",
        graph.inputs().iter().collect::<Vec<_>>(),
        graph.outputs().iter().collect::<Vec<_>>()
    )
    .unwrap();
    for i in 0..graph.tensor_count() {
        let t = graph.tensor(i).unwrap();
        write!(
            s,
            "tensor {i} {:?} {} {:?} sig={:?} var={} rank={} data={:?}",
            t.name(),
            t.shape(),
            t.dtype(),
            t.shape_signature().map(|d| d.collect::<Vec<_>>()),
            t.is_variable(),
            t.has_rank(),
            t.is_constant().then(|| t.data()),
        )
        .unwrap();
        if let Some(q) = t.quantization() {
            let n = q.scale_count();
            write!(
                s,
                " q scale={:?} zero={:?} dim={} minmax={:?}",
                (0..n).map(|i| q.scale(i).to_bits()).collect::<Vec<_>>(),
                (0..n).map(|i| q.zero_point(i)).collect::<Vec<_>>(),
                q.quantized_dimension(),
                (0..n).map(|i| q.min_max(i)).collect::<Vec<_>>()
            )
            .unwrap();
        }
        s.push('\n');
    }
    for i in 0..graph.operator_count() {
        let op = graph.operator(i).unwrap();
        let code = op.code().unwrap();
        writeln!(
            s,
            "op {i} {} {:?} v{} in={:?} out={:?} mid={:?} options=[{}] options2=[{}] custom={:?}",
            op.builtin(),
            code.custom_name(),
            code.version(),
            op.inputs().iter().collect::<Vec<_>>(),
            op.outputs().iter().collect::<Vec<_>>(),
            op.intermediates().iter().collect::<Vec<_>>(),
            op.options(),
            op.options2(),
            op.custom_options()
        )
        .unwrap();
    }
    for (name, bytes) in model.metadata() {
        writeln!(s, "metadata {name:?} {bytes:?}").unwrap();
    }
    for i in 0..model.signature_count() {
        let sig = model.signature(i).unwrap();
        writeln!(
            s,
            "signature {:?} subgraph {} in={:?} out={:?}",
            sig.key(),
            sig.subgraph_index(),
            sig.inputs().collect::<Vec<_>>(),
            sig.outputs().collect::<Vec<_>>()
        )
        .unwrap();
    }
    s
}

#[test]
fn every_asset_model_round_trips_through_model_def() {
    let mut paths = Vec::new();
    models(&assets(), &mut paths);
    paths.sort();
    assert_eq!(paths.len(), 153, "the MANIFEST lists 153 models");
    let mut failures = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let model = Model::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let def = match ModelDef::from_model(&model) {
            Ok(def) => def,
            Err(e) => {
                failures.push(format!("{}: import: {e}", path.display()));
                continue;
            }
        };
        let written = def.to_bytes().unwrap();
        let again = Model::parse(&written)
            .unwrap_or_else(|e| panic!("{}: the written file: {e}", path.display()));
        let (a, b) = (describe(&model), describe(&again));
        if a != b {
            let line = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            failures.push(format!("{}: differs at {line:?}", path.display()));
            continue;
        }
        assert_eq!(
            ModelDef::from_model(&again).unwrap(),
            def,
            "{}: importing the written file gives another ModelDef",
            path.display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
