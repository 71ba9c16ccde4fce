//! `mote quantize` as a user meets it: a float model in, an int8 model out that
//! `mote run` takes; one clear line and no output file on bad input.

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

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mote-compress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn asset(path: &str) -> String {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    let path = dir.join(path);
    assert!(
        path.is_file(),
        "test asset {} not found (set MOTE_ASSETS to the shared assets folder)",
        path.display()
    );
    path.to_str().unwrap().to_string()
}

fn npy_f32(path: &Path, shape: &[usize], values: &[f32]) {
    mote_train::npy::write(
        path,
        &mote_train::npy::Array::from_f32(shape.to_vec(), values),
    )
    .unwrap();
}

/// Runs `mote quantize` expecting failure: one line naming `what`, no output file.
fn assert_refused(args: &[&str], out_path: &Path, what: &str) {
    let out = mote(args);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "expected failure: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(
        err.starts_with("error: ") && err.contains(what),
        "'{what}' expected in: {err}"
    );
    assert!(
        !out_path.exists(),
        "a failed command left {}",
        out_path.display()
    );
}

#[test]
fn quantize_writes_an_int8_model_that_runs() {
    let dir = scratch("ok");
    let x = dir.join("x.npy");
    // 200 points over [0, 2π], the sine model's domain.
    let xs: Vec<f32> = (0..200)
        .map(|i| i as f32 * std::f32::consts::TAU / 199.0)
        .collect();
    npy_f32(&x, &[200, 1], &xs);
    let model = asset("tflm/hello_world/hello_world_float.tflite");
    for (io, dtype) in [("int8", "int8"), ("float", "float32")] {
        let out_path = dir.join(format!("sine_{io}.tflite"));
        let out = mote(&[
            "quantize",
            &model,
            "--calibration",
            x.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
            "--io",
            io,
            "--method",
            "percentile",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("200 calibration samples"));
        let info = mote(&["inspect", out_path.to_str().unwrap(), "--json"]);
        let json: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        assert_eq!(json["inputs"][0]["dtype"], dtype);
        assert_eq!(json["op_counts"]["FULLY_CONNECTED"], 3);
    }
    // The float-edged model computes sin(π/2) = 1 within int8 error.
    let one = dir.join("half_pi.npy");
    npy_f32(&one, &[1, 1], &[std::f32::consts::FRAC_PI_2]);
    let out = mote(&[
        "run",
        dir.join("sine_float.tflite").to_str().unwrap(),
        "-i",
        one.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    let y: f64 = stdout
        .rsplit('[')
        .next()
        .unwrap()
        .trim()
        .trim_end_matches(']')
        .parse()
        .unwrap();
    assert!((y - 1.0).abs() < 0.1, "{stdout}");
}

#[test]
fn bad_input_gets_one_line_and_no_file() {
    let dir = scratch("bad");
    let out_path = dir.join("out.tflite");
    let out = out_path.to_str().unwrap();
    let sine = asset("tflm/hello_world/hello_world_float.tflite");
    let wrong = dir.join("wrong.npy");
    npy_f32(&wrong, &[4, 3], &[0.0; 12]);
    let wrong = wrong.to_str().unwrap();
    assert_refused(
        &["quantize", &sine, "--calibration", wrong, "-o", out],
        &out_path,
        "calibration data of shape [4, 3] does not match the model input [1, 1]",
    );
    let empty = dir.join("empty.npy");
    npy_f32(&empty, &[0, 1], &[]);
    assert_refused(
        &[
            "quantize",
            &sine,
            "--calibration",
            empty.to_str().unwrap(),
            "-o",
            out,
        ],
        &out_path,
        "the calibration set is empty",
    );
    let lstm = asset("tflm/mnist_lstm/trained_lstm.tflite");
    assert_refused(
        &["quantize", &lstm, "--calibration", wrong, "-o", out],
        &out_path,
        "operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM) cannot be quantized to int8",
    );
    let int8 = asset("tflm/hello_world/hello_world_int8.tflite");
    assert_refused(
        &["quantize", &int8, "--calibration", wrong, "-o", out],
        &out_path,
        "is int8, not float32",
    );
}

/// Trains the digits MLP briefly and writes its float model, pixels and labels.
fn digits_mlp(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use mote_train::data::{read_csv, write_npy, LabelColumn};
    use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};
    let (x, y) = read_csv(asset("data/digits.csv.gz"), LabelColumn::Last).unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let mut model = Sequential::new([
        Dense::new(32)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ]);
    model.compile(
        Adam::new(1e-3),
        Loss::SparseCategoricalCrossentropy { from_logits: false },
    );
    model.fit(&x, &y, Fit::epochs(10).verbose(0)).unwrap();
    let paths = (dir.join("mlp.tflite"), dir.join("x.npy"), dir.join("y.npy"));
    let bytes = mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap();
    std::fs::write(&paths.0, bytes).unwrap();
    write_npy(&paths.1, &x).unwrap();
    write_npy(&paths.2, &y).unwrap();
    paths
}

#[test]
fn prune_zeroes_the_target_fraction_of_each_kernel() {
    let dir = scratch("prune");
    let (model, x, y) = digits_mlp(&dir);
    let out_path = dir.join("sparse.tflite");
    let (model, x, y, out) = (
        model.to_str().unwrap(),
        x.to_str().unwrap(),
        y.to_str().unwrap(),
        out_path.to_str().unwrap(),
    );
    let run = mote(&[
        "prune",
        model,
        "--data",
        x,
        "--labels",
        y,
        "--sparsity",
        "0.5",
        "--epochs",
        "2",
        "-o",
        out,
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let stdout = text(&run.stdout);
    // Kernels of 64 x 32 and 32 x 10: exactly half of each is zero.
    assert!(stdout.contains("dense/kernel: 50.0 % zeros"), "{stdout}");
    assert!(stdout.contains("dense_1/kernel: 50.0 % zeros"), "{stdout}");
    let bytes = std::fs::read(&out_path).unwrap();
    let parsed = mote_runtime::Model::parse(&bytes).unwrap();
    let kernel = parsed.main().tensor(1).unwrap();
    let zeros = kernel
        .data()
        .chunks_exact(4)
        .filter(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) == 0.0)
        .count();
    assert_eq!(zeros, 1024);

    // Bad input: one line, no output.
    let bad_out = dir.join("bad.tflite");
    let bad = bad_out.to_str().unwrap();
    assert_refused(
        &[
            "prune",
            model,
            "--data",
            x,
            "--labels",
            y,
            "--sparsity",
            "1.5",
            "-o",
            bad,
        ],
        &bad_out,
        "--sparsity 1.5 is not in [0, 1)",
    );
    let int8 = asset("tflm/hello_world/hello_world_int8.tflite");
    assert_refused(
        &[
            "prune",
            &int8,
            "--data",
            x,
            "--labels",
            y,
            "--sparsity",
            "0.5",
            "-o",
            bad,
        ],
        &bad_out,
        "weights are not a float32 constant matrix",
    );
}
