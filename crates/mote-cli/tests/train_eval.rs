//! `mote data`, `mote train` and `mote eval` as a user meets them: the
//! reference data, a trained model that evaluates well, and one clear line
//! (never a panic, never a half-written model) on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mote_runtime::{BuiltinOperator, TensorType};
use mote_train::npy::Array;
use mote_train::tflite::{ModelDef, OperatorDef, OptionsDef, TensorDef};

fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .expect("run mote")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mote-train-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spec(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/specs")
        .join(name)
        .display()
        .to_string()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn assert_one_line_error(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "expected failure: {err}");
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
    mote_train::npy::write(path, &Array::from_f32(shape.to_vec(), values)).unwrap();
}

/// `mote data iris -o dir`: 120 train rows and 30 test rows (index % 5 == 0).
fn iris(dir: &Path) -> PathBuf {
    let data = dir.join("iris");
    let out = mote(&["data", "iris", "-o", s(&data)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("train: 120 rows of 4 features"));
    data
}

#[test]
fn iris_trains_exports_and_evaluates_on_the_runtime() {
    let dir = scratch("iris");
    let data = iris(&dir);
    let model = dir.join("iris.tflite");
    let (history, plot) = (dir.join("h.csv"), dir.join("h.svg"));
    let train = |json: bool| {
        let mut args = vec![
            "train".to_string(),
            spec("iris.toml"),
            "--x".into(),
            s(&data.join("x_train.npy")).into(),
            "--y".into(),
            s(&data.join("y_train.npy")).into(),
            "-o".into(),
            s(&model).into(),
            "--history".into(),
            s(&history).into(),
            "--plot".into(),
            s(&plot).into(),
            "--verbose".into(),
            "0".into(),
        ];
        if json {
            args.push("--json".into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        mote(&refs)
    };
    let out = train(true);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["epochs"], 100);
    // 4 -> 16 -> 3: (4 + 1) * 16 + (16 + 1) * 3 = 131
    assert_eq!(summary["params"], 131);
    let csv = std::fs::read_to_string(&history).unwrap();
    assert!(csv.starts_with("epoch,loss,accuracy\n") && csv.lines().count() == 101);
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    // the same seed gives the same model, byte for byte
    let first = std::fs::read(&model).unwrap();
    assert!(train(false).status.success());
    assert_eq!(std::fs::read(&model).unwrap(), first);

    let out = mote(&[
        "eval",
        s(&model),
        "--x",
        s(&data.join("x_test.npy")),
        "--y",
        s(&data.join("y_test.npy")),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["samples"], 30);
    let accuracy = report["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.9, "iris test accuracy {accuracy}");
    // 10 flowers of each species: every confusion-matrix row sums to 10, and
    // the diagonal over 30 is the accuracy
    let matrix: Vec<Vec<u64>> = serde_json::from_value(report["confusion_matrix"].clone()).unwrap();
    assert!(matrix.iter().all(|row| row.iter().sum::<u64>() == 10));
    let diagonal: u64 = (0..3).map(|c| matrix[c][c]).sum();
    assert!((diagonal as f64 / 30.0 - accuracy).abs() < 1e-6);
    let recall0 = report["per_class"][0]["recall"].as_f64().unwrap();
    assert!((recall0 - matrix[0][0] as f64 / 10.0).abs() < 1e-6);
    let text_out = text(
        &mote(&[
            "eval",
            s(&model),
            "--x",
            s(&data.join("x_test.npy")),
            "--y",
            s(&data.join("y_test.npy")),
        ])
        .stdout,
    );
    assert!(
        text_out.contains("confusion matrix") && text_out.contains("precision"),
        "{text_out}"
    );
}

#[test]
fn bad_specs_and_data_fail_with_one_line_naming_the_problem() {
    let dir = scratch("bad");
    let data = iris(&dir);
    let (x, y) = (data.join("x_train.npy"), data.join("y_train.npy"));
    let model = dir.join("m.tflite");
    let train = |spec: &str, x: &Path, y: &Path| {
        mote(&[
            "train",
            spec,
            "--x",
            s(x),
            "--y",
            s(y),
            "-o",
            s(&model),
            "--verbose",
            "0",
        ])
    };
    let write_spec = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let head = "input_shape = [4]\nloss = \"sparse_categorical_crossentropy\"\nepochs = 2\n";
    let unknown = write_spec(
        "unknown.toml",
        &format!("{head}[[layers]]\ntype = \"Dense\"\nunits = 3\n[[layers]]\ntype = \"LSTM\"\n"),
    );
    assert_one_line_error(
        &train(s(&unknown), &x, &y),
        "layer 1: unknown layer type 'LSTM'",
    );
    let shape = write_spec(
        "shape.toml",
        &head.replace("[4]", "[5]").replace(
            "epochs = 2",
            "epochs = 2\n[[layers]]\ntype = \"Dense\"\nunits = 3",
        ),
    );
    assert_one_line_error(
        &train(s(&shape), &x, &y),
        "shape [120, 4] does not fit the model input [N, 5]",
    );
    let good = write_spec(
        "good.toml",
        &format!("{head}[[layers]]\ntype = \"Dense\"\nunits = 3\nactivation = \"softmax\"\n"),
    );
    // labels 0..3 against 2 classes
    let two = write_spec(
        "two.toml",
        &format!("{head}[[layers]]\ntype = \"Dense\"\nunits = 2\nactivation = \"softmax\"\n"),
    );
    assert_one_line_error(
        &train(s(&two), &x, &y),
        "has label 2 but the model predicts 2 classes",
    );
    // NaN in row 3 of x
    let nan_x = dir.join("nan.npy");
    let mut values = vec![0.5f32; 120 * 4];
    values[3 * 4 + 1] = f32::NAN;
    npy_f32(&nan_x, &[120, 4], &values);
    assert_one_line_error(&train(s(&good), &nan_x, &y), "row 3");
    // a learning rate that blows up: training stops, and no model is written
    let huge = dir.join("huge.npy");
    npy_f32(&huge, &[120, 4], &vec![3e37f32; 120 * 4]);
    let out = train(s(&good), &huge, &y);
    assert_one_line_error(&out, "training stopped");
    assert!(!model.exists(), "no model after a NaN loss");
    assert_one_line_error(
        &train(&dir.join("missing.toml").display().to_string(), &x, &y),
        "missing.toml",
    );
}

#[test]
fn eval_scores_logits_with_a_softmax() {
    // A float FULLY_CONNECTED with identity weights: the outputs are the
    // inputs, read as logits.
    let dir = scratch("logits");
    let def = ModelDef {
        description: "identity".into(),
        name: "main".into(),
        tensors: vec![
            TensorDef::new("x", &[1, 2], TensorType::Float32),
            TensorDef::constant_f32("w", &[2, 2], &[1.0, 0.0, 0.0, 1.0]),
            TensorDef::new("y", &[1, 2], TensorType::Float32),
        ],
        operators: vec![OperatorDef::new(
            BuiltinOperator::FULLY_CONNECTED,
            &[0, 1, -1],
            &[2],
            OptionsDef::fully_connected(0, false),
        )],
        inputs: vec![0],
        outputs: vec![2],
        metadata: vec![],
        signature_defs: vec![],
    };
    let model = dir.join("identity.tflite");
    std::fs::write(&model, def.to_bytes().unwrap()).unwrap();
    // rows (3, 1) (0, 2) (1, 0.5) with labels 0 1 1: the last is wrong
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    npy_f32(&x, &[3, 2], &[3.0, 1.0, 0.0, 2.0, 1.0, 0.5]);
    npy_f32(&y, &[3], &[0.0, 1.0, 1.0]);
    let out = mote(&["eval", s(&model), "--x", s(&x), "--y", s(&y), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["confusion_matrix"],
        serde_json::json!([[1, 0], [1, 1]])
    );
    // loss = mean of -ln softmax: ln(1 + e^-2) twice and ln(1 + e^0.5)
    let expected = ((1.0 + (-2.0f64).exp()).ln() * 2.0 + (1.0 + 0.5f64.exp()).ln()) / 3.0;
    let loss = report["loss"].as_f64().unwrap();
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
    // class 0 predicted twice, right once; class 1 present twice, found once
    assert_eq!(report["per_class"][0]["precision"], 0.5);
    assert_eq!(report["per_class"][1]["recall"], 0.5);
    assert_one_line_error(
        &mote(&["eval", s(&model), "--x", s(&y), "--y", s(&y)]),
        "does not fit the model input",
    );
    npy_f32(&y, &[3], &[0.0, 1.0, 2.0]);
    assert_one_line_error(
        &mote(&["eval", s(&model), "--x", s(&x), "--y", s(&y)]),
        "row 2 has label 2 but the model predicts 2 classes",
    );
}

#[test]
fn every_new_command_has_examples_in_its_help() {
    for command in ["train", "eval", "data"] {
        let out = mote(&[command, "--help"]);
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("Examples:"), "{command}");
    }
}

#[test]
fn every_example_spec_parses_and_builds() {
    // digits MLP: (64 + 1) * 32 + (32 + 1) * 10 = 2410 parameters;
    // digits CNN: 160 + 160 + 544 + 330 = 1194; iris: 131
    for (name, params) in [
        ("digits_mlp.toml", 2410),
        ("digits_cnn.toml", 1194),
        ("iris.toml", 131),
    ] {
        let text = std::fs::read_to_string(spec(name)).unwrap();
        let model = mote_train::spec::Spec::parse(&text)
            .and_then(|s| s.model())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.param_count(), params, "{name}");
    }
}

#[test]
fn ad01_data_is_the_anomaly_samples_196_windows() {
    let dir = scratch("ad01");
    let out = mote(&["data", "ad01", "-o", s(&dir)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("196 windows of 640 values"));
    let x = mote_train::npy::read(&dir.join("x.npy")).unwrap();
    assert_eq!(x.shape, vec![196, 640]);
    // Window 1 starts one frame (128 values) after window 0.
    let values = x.to_f64();
    assert_eq!(values[640..640 + 512], values[128..640]);
    assert!(values.iter().any(|&v| v != values[0]));
    // An assets folder without the sample: one line naming the file.
    let empty = scratch("ad01-assets");
    std::fs::write(empty.join("MANIFEST.md"), "").unwrap();
    let out = mote(&[
        "data",
        "ad01",
        "-o",
        s(&dir.join("o")),
        "--assets",
        s(&empty),
    ]);
    assert_one_line_error(&out, "normal_id_01_00000000_hist_librosa.bin");
}
