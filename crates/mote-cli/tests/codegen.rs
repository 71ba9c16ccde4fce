//! `mote codegen`: writes what mote-codegen generates (whose outputs
//! `mote-codegen-tests` checks against the interpreter on every asset model),
//! and refuses bad input with one line and no file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .expect("run mote")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mote-codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assets() -> PathBuf {
    std::env::var("MOTE_ASSETS")
        .map(Into::into)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets"))
}

fn line_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mote-runtime/tests/data/line.tflite")
}

/// A failed run: non-zero exit, one `error:` line containing `what`, no file.
fn assert_refused(out: &Output, what: &str, file: &Path) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(what), "{err}");
    assert!(!file.exists(), "{} was written", file.display());
}

#[test]
fn codegen_writes_the_generators_source_as_a_module() {
    let dir = scratch("ok");
    let out_file = dir.join("line.rs");
    let out = mote(&[
        "codegen",
        line_model().to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
        "--name",
        "Line",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("struct Line, ARENA_BYTES = "), "{stdout}");
    let written = std::fs::read_to_string(&out_file).unwrap();
    let expected = mote_codegen::generate(&std::fs::read(line_model()).unwrap(), "Line").unwrap();
    let (header, body) = written.split_once('\n').unwrap();
    assert!(
        header.starts_with("// `mote codegen line.tflite` wrote this file"),
        "{header}"
    );
    assert_eq!(body, expected);
}

#[test]
fn codegen_refuses_bad_input_with_one_line_and_no_file() {
    let dir = scratch("bad");
    let out_file = dir.join("model.rs");
    let o = out_file.to_str().unwrap();
    let missing = dir.join("missing.tflite");
    assert_refused(
        &mote(&["codegen", missing.to_str().unwrap(), "-o", o]),
        "cannot read",
        &out_file,
    );
    let not_model = dir.join("notes.tflite");
    std::fs::write(&not_model, b"not a model at all").unwrap();
    assert_refused(
        &mote(&["codegen", not_model.to_str().unwrap(), "-o", o]),
        "not a .tflite model",
        &out_file,
    );
    let line = line_model();
    assert_refused(
        &mote(&[
            "codegen",
            line.to_str().unwrap(),
            "-o",
            o,
            "--name",
            "9lives",
        ]),
        "not a Rust type name",
        &out_file,
    );
    let vela = assets().join("tflm/person_detection/person_detect_vela.tflite");
    assert_refused(
        &mote(&["codegen", vela.to_str().unwrap(), "-o", o]),
        "operator 0 (CUSTOM:ethos-u) is not supported",
        &out_file,
    );
}
