//! The committed options schema table is what `tools/gen_options_schema.py`
//! generates from the installed ai-edge-litert's schema: it has not drifted.

use mote_conformance::{python, root, TempDir};

#[test]
fn the_options_schema_table_is_the_generated_one() {
    let dir = TempDir::new("options-schema");
    let out = dir.path().join("options_schema.rs");
    let status = std::process::Command::new(python())
        .arg(root().join("tools/gen_options_schema.py"))
        .arg("-")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "the generator failed");
    let generated = std::fs::read_to_string(&out).unwrap();
    let committed =
        std::fs::read_to_string(root().join("crates/mote-runtime/src/model/options_schema.rs"))
            .unwrap();
    assert!(
        generated == committed,
        "options_schema.rs differs from the generator's output: run tools/gen_options_schema.py"
    );
}
