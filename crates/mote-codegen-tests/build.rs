//! Compiles every `.tflite` model in the test assets (and mote-runtime's own
//! test models) with mote-codegen into
//! `$OUT_DIR/models.rs`: one module per model, and `MODELS`, a table of
//! `(path, run)` the tests walk. Models the generator refuses are listed in
//! `REFUSED` with the reason, so the test can check the interpreter refuses
//! them too (nothing is skipped silently).

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let assets = std::env::var("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("../../../shared/assets"));
    println!("cargo:rerun-if-env-changed=MOTE_ASSETS");
    println!("cargo:rerun-if-changed={}", assets.display());
    let mut models = Vec::new();
    collect(&assets, &mut models);
    models.sort();
    // mote's own test models (int4 and LUT filters among them), by absolute path.
    let ours = manifest.join("../mote-runtime/tests/data");
    println!("cargo:rerun-if-changed={}", ours.display());
    let mut own = Vec::new();
    collect(&ours, &mut own);
    own.sort();
    models.extend(own);
    if models.is_empty() {
        panic!(
            "no .tflite models under {} (set MOTE_ASSETS)",
            assets.display()
        );
    }
    let mut out = String::new();
    let mut table = String::new();
    let mut refused = String::new();
    for (k, path) in models.iter().enumerate() {
        let relative = path
            .strip_prefix(&assets)
            .unwrap_or(path)
            .display()
            .to_string();
        let bytes = std::fs::read(path).unwrap();
        match mote_codegen::generate(&bytes, "Model") {
            Ok(source) => {
                let file = format!("model_{k}.rs");
                std::fs::write(
                    Path::new(&std::env::var("OUT_DIR").unwrap()).join(&file),
                    source,
                )
                .unwrap();
                let _ = writeln!(out, "\n#[allow(dead_code)]\nmod model_{k} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/{file}\"));\n}}");
                let _ = writeln!(
                    table,
                    "    Compiled {{ path: {relative:?}, arena_bytes: model_{k}::Model::ARENA_BYTES, run: |inputs, outputs| {{\n        let mut model = Box::new(model_{k}::Model::new());\n        run(&mut *model, inputs, outputs, |m, i| m.input_bytes_mut(i), |m| m.invoke(), |m, o| m.output_bytes(o).map(<[u8]>::to_vec))\n    }} }},"
                );
            }
            Err(e) => {
                let _ = writeln!(refused, "    ({relative:?}, {:?}),", e.to_string());
            }
        }
    }
    let _ = writeln!(
        out,
        "\n/// Every model the generator compiled.\npub static MODELS: &[Compiled] = &[\n{table}];"
    );
    let _ = writeln!(out, "\n/// Models the generator refused, with its reason.\npub static REFUSED: &[(&str, &str)] = &[\n{refused}];");
    std::fs::write(
        Path::new(&std::env::var("OUT_DIR").unwrap()).join("models.rs"),
        out,
    )
    .unwrap();
}

fn collect(dir: &Path, models: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, models);
        } else if path.extension().is_some_and(|e| e == "tflite") {
            models.push(path);
        }
    }
}
