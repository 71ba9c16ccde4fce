//! The `mote` command as a user meets it: the demo's numbers, `--help`, and one
//! clear line (never a panic) on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .expect("run mote")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mote-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts a failed run: non-zero exit, one line on stderr naming `what`, no panic.
fn assert_one_line_error(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success: {err}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(what), "'{what}' expected in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn npy_f32(path: &Path, shape: &[usize], values: &[f32]) {
    mote_train::npy::write(
        path,
        &mote_train::npy::Array::from_f32(shape.to_vec(), values),
    )
    .unwrap();
}

#[test]
fn demo_walks_the_loss_learns_the_line_and_runs_it_on_the_runtime() {
    let dir = scratch("demo");
    let run = || mote(&["demo", "--verbose", "0", "--out-dir", dir.to_str().unwrap()]);
    let out = run();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // y = 3x - 1: errors -1 0 1 2 3 4, squares sum to 31, root 5.57.
    assert!(
        stdout.contains("sum of squared errors = 31, its square root = 5.57"),
        "{stdout}"
    );
    // y = 2x - 1 is the rule: loss 0.
    assert!(
        stdout.contains("sum of squared errors = 0, its square root = 0.00"),
        "{stdout}"
    );
    let predicted: f32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("model.predict(10) = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a prediction line");
    assert!((predicted - 19.0).abs() < 0.05, "predict(10) = {predicted}");
    assert!(stdout.contains("the same as the trained model"), "{stdout}");
    assert_eq!(text(&run().stdout), stdout, "the demo is deterministic");
    let inspect = text(&mote(&["inspect", dir.join("line.tflite").to_str().unwrap()]).stdout);
    assert_eq!(inspect.matches("FULLY_CONNECTED").count(), 1, "{inspect}");
    assert!(inspect.contains("[1, 1]"), "{inspect}");
}

#[test]
fn help_lists_the_commands_and_each_has_an_example() {
    let help = text(&mote(&["--help"]).stdout);
    // The names under "Commands:", up to the blank line.
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    for expected in ["demo", "inspect", "run"] {
        assert!(commands.iter().any(|c| c == expected), "{help}");
    }
    for command in &commands {
        let sub = text(&mote(&[command, "--help"]).stdout);
        assert!(
            sub.contains("Examples:"),
            "`mote {command} --help` has no example: {sub}"
        );
    }
}

#[test]
fn run_refuses_bad_input_with_one_clear_line() {
    let dir = scratch("run");
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mote-runtime/tests/data/line.tflite");
    let model = model.to_str().unwrap();
    let out_path = dir.join("y.npy");
    let out = out_path.to_str().unwrap();
    let good = dir.join("x.npy");
    npy_f32(&good, &[1, 1], &[10.0]);

    assert_one_line_error(
        &mote(&["run", "missing.tflite", "-i", good.to_str().unwrap()]),
        "missing.tflite",
    );
    let not_a_model = dir.join("notes.txt");
    std::fs::write(&not_a_model, "hello, this is not a model").unwrap();
    assert_one_line_error(
        &mote(&[
            "run",
            not_a_model.to_str().unwrap(),
            "-i",
            good.to_str().unwrap(),
        ]),
        "not a .tflite model",
    );
    assert_one_line_error(
        &mote(&["run", model, "-i", dir.join("nope.npy").to_str().unwrap()]),
        "nope.npy",
    );
    let wrong_shape = dir.join("wrong_shape.npy");
    npy_f32(&wrong_shape, &[1, 3], &[1.0, 2.0, 3.0]);
    assert_one_line_error(
        &mote(&["run", model, "-i", wrong_shape.to_str().unwrap(), "-o", out]),
        "wrong_shape.npy: shape [1, 3]",
    );
    let wrong_type = dir.join("wrong_type.npy");
    let array = mote_train::npy::Array {
        shape: vec![1, 1],
        dtype: mote_runtime::TensorType::Float64,
        data: 10f64.to_le_bytes().to_vec(),
    };
    mote_train::npy::write(&wrong_type, &array).unwrap();
    assert_one_line_error(
        &mote(&["run", model, "-i", wrong_type.to_str().unwrap(), "-o", out]),
        "wrong_type.npy: dtype float64",
    );
    let garbage = dir.join("garbage.npy");
    std::fs::write(&garbage, b"\x93NUMPY\x01\x00garbage").unwrap();
    assert_one_line_error(
        &mote(&["run", model, "-i", garbage.to_str().unwrap(), "-o", out]),
        "garbage.npy",
    );
    assert!(!out_path.exists(), "a failed run leaves no output file");
    assert_eq!(
        std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
            .count(),
        0
    );

    // And a good run writes y = 2 * 10 - 1.
    let ok = mote(&["run", model, "-i", good.to_str().unwrap(), "-o", out]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(
        mote_train::npy::read(&out_path).unwrap().to_f64(),
        vec![19.0]
    );
}

#[test]
fn run_batches_an_input_with_a_leading_dimension() {
    let dir = scratch("batch");
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mote-runtime/tests/data/line.tflite");
    let x = dir.join("x.npy");
    npy_f32(&x, &[3, 1], &[0.0, 1.0, 2.0]);
    let y = dir.join("y.npy");
    let out = mote(&[
        "run",
        model.to_str().unwrap(),
        "-i",
        x.to_str().unwrap(),
        "-o",
        y.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let y = mote_train::npy::read(&y).unwrap();
    assert_eq!(
        (y.shape.clone(), y.to_f64()),
        (vec![3, 1], vec![-1.0, 1.0, 3.0])
    );
}
