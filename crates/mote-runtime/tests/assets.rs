//! Every `.tflite` model in the shared assets parses, and its views agree with
//! what the MANIFEST says of it.

use std::path::{Path, PathBuf};

use mote_runtime::{BuiltinOperator, Model};

/// The assets folder: `$MOTE_ASSETS`, or `../shared/assets` beside the repository.
fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets"));
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

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

#[test]
fn every_asset_model_parses() {
    let mut paths = Vec::new();
    models(&assets(), &mut paths);
    assert!(
        paths.len() >= 150,
        "expected the 153 asset models, found {}",
        paths.len()
    );
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let model = Model::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let graph = model.main();
        assert!(graph.operator_count() > 0, "{}", path.display());
        for i in 0..graph.tensor_count() {
            let t = graph.tensor(i).unwrap();
            if t.is_constant() {
                assert_eq!(
                    t.data().len(),
                    t.byte_len(),
                    "{} tensor {i}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn hello_world_float_reads_as_its_manifest_says() {
    let bytes = std::fs::read(assets().join("tflm/hello_world/hello_world_float.tflite")).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let graph = model.main();
    assert_eq!(graph.operator_count(), 3);
    for i in 0..3 {
        assert_eq!(
            graph.operator(i).unwrap().builtin(),
            BuiltinOperator::FULLY_CONNECTED
        );
    }
    let input = graph.tensor(graph.inputs().get(0).unwrap()).unwrap();
    assert_eq!(input.shape().dims(), &[1, 1]);
}

#[test]
fn hello_world_float_tracks_sine() {
    use mote_runtime::{Interpreter, OpResolver};
    let bytes = std::fs::read(assets().join("tflm/hello_world/hello_world_float.tflite")).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 4096];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let mut worst = 0.0f32;
    for k in 0..9 {
        let x = k as f32 * std::f32::consts::TAU / 8.0;
        interpreter.input_mut::<f32>(0).unwrap()[0] = x;
        interpreter.invoke().unwrap();
        let y = interpreter.output::<f32>(0).unwrap()[0];
        worst = worst.max((y - x.sin()).abs());
    }
    // The MANIFEST: max |err| over these 9 points is 0.039 for the float model.
    assert!(worst < 0.04, "max error {worst}");
}

#[test]
fn an_arena_too_small_says_how_much_is_needed() {
    use mote_runtime::{Error, Interpreter, OpResolver};
    let bytes = std::fs::read(assets().join("tflm/hello_world/hello_world_float.tflite")).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut big = vec![0u8; 4096];
    let used = Interpreter::new(&model, &mut big, &OpResolver::all())
        .unwrap()
        .arena_used();
    // The error names the bytes needed; when the arena cannot even hold the
    // planner's scratch that is a lower bound, so at most one retry is needed.
    let mut size = used / 2;
    for attempt in 0..3 {
        let mut arena = vec![0u8; size];
        match Interpreter::new(&model, &mut arena, &OpResolver::all()) {
            Err(Error::ArenaTooSmall { needed, available }) => {
                assert_eq!(available, size);
                assert!(
                    needed > size,
                    "needed {needed} must exceed the {size} bytes that failed"
                );
                size = needed;
            }
            Err(other) => panic!("expected ArenaTooSmall, got {other}"),
            Ok(_) => {
                assert!(attempt > 0, "half the arena must not do");
                // `size` may differ from `used` by alignment padding only.
                assert!(size.abs_diff(used) <= 32, "size {size}, used {used}");
                return;
            }
        }
    }
    panic!("the size in ArenaTooSmall did not converge");
}
