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
    let preprocessor = asset("tflm/micro_speech/audio_preprocessor_float.tflite");
    assert_refused(
        &["quantize", &preprocessor, "--calibration", wrong, "-o", out],
        &out_path,
        "operator 0 (custom SignalWindow) cannot be quantized to int8",
    );
    let int8 = asset("tflm/hello_world/hello_world_int8.tflite");
    assert_refused(
        &["quantize", &int8, "--calibration", wrong, "-o", out],
        &out_path,
        "is int8, not float32",
    );
}

/// The digits MLP (64 -> 32 relu -> 10 softmax, Adam 1e-3, batch 32, 50 epochs,
/// seed 0) trained on rows with index % 5 != 0; writes its float model and the
/// train and test pixels (/ 16) and labels. Returns (model, x, y, x_test, y_test).
fn digits_mlp(dir: &Path) -> [PathBuf; 5] {
    use mote_train::data::{read_csv, write_npy, LabelColumn};
    use mote_train::{Activation, Adam, Dense, Fit, Loss, Sequential, Tensor};
    let (x, y) = read_csv(asset("data/digits.csv.gz"), LabelColumn::Last).unwrap();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let train: Vec<usize> = (0..x.rows()).filter(|i| i % 5 != 0).collect();
    let test: Vec<usize> = (0..x.rows()).filter(|i| i % 5 == 0).collect();
    let (train_x, train_y) = (x.select_rows(&train), y.select_rows(&train));
    let mut model = Sequential::new([
        Dense::new(32)
            .activation(Activation::Relu)
            .input_shape([64]),
        Dense::new(10).activation(Activation::Softmax),
    ])
    .seeded(0)
    .unwrap();
    model.compile(
        Adam::new(1e-3),
        Loss::SparseCategoricalCrossentropy { from_logits: false },
    );
    model
        .fit(
            &train_x,
            &train_y,
            Fit::epochs(50).batch_size(32).seed(0).verbose(0),
        )
        .unwrap();
    let paths = ["mlp.tflite", "x.npy", "y.npy", "x_test.npy", "y_test.npy"].map(|f| dir.join(f));
    let bytes = mote_train::tflite::export(&model)
        .unwrap()
        .to_bytes()
        .unwrap();
    std::fs::write(&paths[0], bytes).unwrap();
    write_npy(&paths[1], &train_x).unwrap();
    write_npy(&paths[2], &train_y).unwrap();
    write_npy(&paths[3], &x.select_rows(&test)).unwrap();
    write_npy(&paths[4], &y.select_rows(&test)).unwrap();
    paths
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn prune_quantize_and_compare_the_digits_mlp() {
    let dir = scratch("pipeline");
    let [model, x, y, x_test, y_test] = digits_mlp(&dir);
    let sparse = dir.join("sparse.tflite");
    let int8 = dir.join("int8.tflite");
    let sparse_int8 = dir.join("sparse_int8.tflite");
    let ok = |args: &[&str]| {
        let out = mote(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(&[
        "prune",
        s(&model),
        "--data",
        s(&x),
        "--labels",
        s(&y),
        "--sparsity",
        "0.8",
        "--epochs",
        "20",
        "-o",
        s(&sparse),
    ]);
    ok(&[
        "quantize",
        s(&model),
        "--calibration",
        s(&x),
        "-o",
        s(&int8),
    ]);
    ok(&[
        "quantize",
        s(&sparse),
        "--calibration",
        s(&x),
        "-o",
        s(&sparse_int8),
    ]);
    let models = [s(&model), s(&sparse), s(&int8), s(&sparse_int8)];
    let mut args = vec!["compare"];
    args.extend(models);
    args.extend(["--data", s(&x_test), "--labels", s(&y_test)]);
    println!("{}", ok(&args));
    args.push("--json");
    let json: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let rows = json["models"].as_array().unwrap();
    let field = |i: usize, f: &str| rows[i][f].as_f64().unwrap();
    // 2048 + 320 kernel weights; 80 % of each layer is zero after pruning,
    // and int8 rounding keeps those zeros (and may add a few).
    assert_eq!(field(0, "weights"), 2368.0);
    assert_eq!(field(1, "zero_weights"), 1638.0 + 256.0);
    assert!(field(3, "zero_weights") >= 1894.0);
    assert_eq!(rows[2]["weight_type"], "int8");
    // int8 weights take a quarter of the float bytes; sparse files gzip smaller.
    assert_eq!(field(2, "weight_bytes") * 4.0, field(0, "weight_bytes"));
    assert!(field(1, "gzip_bytes") < field(0, "gzip_bytes"));
    assert!(field(3, "gzip_bytes") < field(2, "gzip_bytes"));
    // The float model's own accuracy (MLP reference: ~97 %); int8 within 0.3 points.
    assert!(field(0, "accuracy") > 0.95);
    assert!(field(2, "accuracy") >= field(0, "accuracy") - 0.003);
    assert_eq!(field(0, "mse_vs_first"), 0.0);
}

#[test]
fn prune_zeroes_the_target_fraction_of_each_kernel() {
    let dir = scratch("prune");
    let [model, x, y, _, _] = digits_mlp(&dir);
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
        "--scope",
        "layer",
        "--final-scale",
        "1",
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
        "is int8 [1, 1]; float32 with batch 1 is supported",
    );
    let lstm = asset("tflm/mnist_lstm/trained_lstm.tflite");
    assert_refused(
        &[
            "prune",
            &lstm,
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
        "cannot import operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM)",
    );
    assert_refused(
        &[
            "prune",
            model,
            "--data",
            x,
            "--labels",
            y,
            "--sparsity=-0.1",
            "-o",
            bad,
        ],
        &bad_out,
        "--sparsity -0.1 is not in [0, 1)",
    );
    // A single Dense has no neuron to remove.
    let single = dir.join("single.tflite");
    let mut one = mote_train::Sequential::new([mote_train::Dense::new(10)
        .activation(mote_train::Activation::Softmax)
        .input_shape([64])]);
    one.predict(&mote_train::Tensor::zeros([1, 64])).unwrap();
    std::fs::write(
        &single,
        mote_train::tflite::export(&one)
            .unwrap()
            .to_bytes()
            .unwrap(),
    )
    .unwrap();
    assert_refused(
        &[
            "prune",
            single.to_str().unwrap(),
            "--data",
            x,
            "--labels",
            y,
            "--sparsity",
            "0.5",
            "--structured",
            "-o",
            bad,
        ],
        &bad_out,
        "no Dense or Conv2D layer feeds another one",
    );

    // --structured writes a smaller model: half of the 32 hidden units.
    let small = dir.join("small.tflite");
    let run = mote(&[
        "prune",
        model,
        "--data",
        x,
        "--labels",
        y,
        "--sparsity",
        "0.5",
        "--structured",
        "--epochs",
        "2",
        "-o",
        small.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("dense: 16 of 32 outputs kept"),
        "{}",
        text(&run.stdout)
    );
    let info = mote(&["inspect", small.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    // 64*16 + 16*10 MACs
    assert_eq!(json["macs"], 1184, "{json}");
}

#[test]
fn distill_trains_a_student_from_a_teacher_file() {
    let dir = scratch("distill");
    let [teacher, x, y, x_test, y_test] = digits_mlp(&dir);
    let spec = format!(
        "{}/../../examples/specs/digits_student.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let student = dir.join("student.tflite");
    let distill = |alpha: &str, temperature: &str, teacher: &str, out: &Path| {
        mote(&[
            "distill",
            "--teacher",
            teacher,
            "--student",
            &spec,
            "--x",
            s(&x),
            "--y",
            s(&y),
            "--alpha",
            alpha,
            "--temperature",
            temperature,
            "-o",
            s(out),
        ])
    };
    let out = distill("0.1", "4", s(&teacher), &student);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("distilled 50 epochs (alpha 0.1, T 4, teacher's logits before its softmax)"),
        "{}",
        text(&out.stdout)
    );
    let report = mote(&[
        "compare",
        s(&teacher),
        s(&student),
        "--data",
        s(&x_test),
        "--labels",
        s(&y_test),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    // 64 x 16 + 16 x 10 = 1184 student weights against the teacher's 2368.
    assert_eq!(json["models"][1]["weights"], 1184);
    assert!(
        json["models"][1]["accuracy"].as_f64().unwrap() > 0.9,
        "{json}"
    );

    // Bad settings, a teacher whose outputs do not fit the student: one line, no file.
    let bad_out = dir.join("bad.tflite");
    for (alpha, temperature, what) in [
        ("2", "4", "alpha 2 is not in [0, 1]"),
        ("-0.5", "4", "alpha -0.5 is not in [0, 1]"),
        ("0.1", "0", "temperature 0 must be a positive number"),
        ("0.1", "-2", "temperature -2 must be a positive number"),
    ] {
        let out = distill(alpha, temperature, s(&teacher), &bad_out);
        assert_one_error(&out, &bad_out, what);
    }
    // The sine model takes 1 value per example, the student 64.
    let sine = asset("tflm/hello_world/hello_world_float.tflite");
    let out = distill("0.1", "4", &sine, &bad_out);
    assert_one_error(&out, &bad_out, "teacher");
    // A 3-class teacher for the 10-class student.
    let three = dir.join("three.toml");
    std::fs::write(
        &three,
        std::fs::read_to_string(&spec)
            .unwrap()
            .replace("units = 10", "units = 3")
            .replace("epochs = 50", "epochs = 1"),
    )
    .unwrap();
    let labels3 = dir.join("y3.npy");
    let y3: Vec<f32> = (0..1437).map(|i| (i % 3) as f32).collect();
    npy_f32(&labels3, &[1437], &y3);
    let teacher3 = dir.join("teacher3.tflite");
    let out = mote(&[
        "train",
        three.to_str().unwrap(),
        "--x",
        s(&x),
        "--y",
        s(&labels3),
        "-o",
        s(&teacher3),
        "--verbose",
        "0",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = distill("0.1", "4", s(&teacher3), &bad_out);
    assert_one_error(
        &out,
        &bad_out,
        "the teacher gives 3 values per example, the student 10 classes",
    );
}

fn assert_one_error(out: &std::process::Output, out_path: &Path, what: &str) {
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

/// Whether `page` opens and closes its elements in order (void elements aside).
fn balanced(page: &str) -> bool {
    let mut open: Vec<String> = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').map(|e| start + e);
        let Some(end) = end else { return false };
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if ["meta", "br"].contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            if open.pop().as_deref() != Some(name.as_str()) {
                return false;
            }
        } else {
            open.push(name);
        }
    }
    open.is_empty()
}

#[test]
fn compare_writes_an_html_report_with_per_class_results() {
    let dir = scratch("report");
    let [model, x, _, x_test, y_test] = digits_mlp(&dir);
    let int8 = dir.join("int8.tflite");
    let out = mote(&[
        "quantize",
        s(&model),
        "--calibration",
        s(&x),
        "-o",
        s(&int8),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page_path = dir.join("report.html");
    let args = [
        "compare",
        s(&model),
        s(&int8),
        "--x",
        s(&x_test),
        "--y",
        s(&y_test),
        "--html",
        s(&page_path),
    ];
    let out = mote(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("per-class accuracy"), "{stdout}");
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(balanced(&page), "unbalanced tags: {page}");
    assert!(page.contains("<table id=\"per-class\">"));
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    // Ten digit classes, each a row of the per-class table.
    let table = &page[page.find("<table id=\"per-class\">").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 1 + 10, "{table}");
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "{external} in the page");
    }

    // The JSON's per-class deltas agree with the accuracies it gives.
    let mut json_args = args[..7].to_vec();
    json_args.push("--json");
    let out = mote(&json_args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let int8_row = &json["models"][1];
    let classes = int8_row["per_class"].as_array().unwrap();
    assert_eq!(classes.len(), 10);
    let examples: u64 = classes
        .iter()
        .map(|c| c["examples"].as_u64().unwrap())
        .sum();
    assert_eq!(examples, 360);
    let lost = int8_row["regressions"].as_array().unwrap().len() as f64;
    let fixed = int8_row["fixes"].as_f64().unwrap();
    let delta =
        int8_row["accuracy"].as_f64().unwrap() - json["models"][0]["accuracy"].as_f64().unwrap();
    assert!((delta * 360.0 - (fixed - lost)).abs() < 1e-6, "{int8_row}");
    for r in int8_row["regressions"].as_array().unwrap() {
        assert_eq!(r["label"], r["first_prediction"]);
        assert_ne!(r["label"], r["prediction"]);
    }

    // Bad input: one line, no page.
    let bad_page = dir.join("bad.html");
    let few = dir.join("few.npy");
    npy_f32(&few, &[3], &[0.0, 1.0, 2.0]);
    assert_refused(
        &[
            "compare",
            s(&model),
            "--x",
            s(&x_test),
            "--y",
            s(&few),
            "--html",
            s(&bad_page),
        ],
        &bad_page,
        "has 360 rows but",
    );
    let sine = asset("tflm/hello_world/hello_world_float.tflite");
    let ones = dir.join("ones.npy");
    npy_f32(&ones, &[3, 1], &[0.5, 1.0, 1.5]);
    let labels = dir.join("labels.npy");
    npy_f32(&labels, &[3], &[0.0, 0.0, 1.0]);
    assert_refused(
        &[
            "compare",
            &sine,
            "--x",
            s(&ones),
            "--y",
            s(&labels),
            "--html",
            s(&bad_page),
        ],
        &bad_page,
        "not a vector of class scores",
    );
    assert_refused(
        &[
            "compare",
            s(&model),
            "--x",
            s(&ones),
            "--html",
            s(&bad_page),
        ],
        &bad_page,
        "the examples have 1 value(s) each, but the model input has 64",
    );
}

#[test]
fn qat_writes_an_int8_model_at_least_as_accurate_as_ptq() {
    let dir = scratch("qat");
    let [model, x, y, x_test, y_test] = digits_mlp(&dir);
    let ptq = dir.join("int8.tflite");
    let qat = dir.join("qat.tflite");
    let out = mote(&["quantize", s(&model), "--calibration", s(&x), "-o", s(&ptq)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mote(&[
        "qat",
        s(&model),
        "--x",
        s(&x),
        "--y",
        s(&y),
        "--epochs",
        "10",
        "-o",
        s(&qat),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("10 epochs of 1437 rows"), "{stdout}");
    assert!(stdout.contains("range dense:"), "{stdout}");
    let info = mote(&["inspect", s(&qat), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(json["inputs"][0]["dtype"], "int8");
    assert_eq!(json["op_counts"]["FULLY_CONNECTED"], 2);
    let report = mote(&[
        "compare",
        s(&model),
        s(&ptq),
        s(&qat),
        "--x",
        s(&x_test),
        "--y",
        s(&y_test),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let acc = |i: usize| json["models"][i]["accuracy"].as_f64().unwrap();
    println!("float {:.4}, PTQ {:.4}, QAT {:.4}", acc(0), acc(1), acc(2));
    assert!(acc(2) >= acc(1), "QAT {} below PTQ {}", acc(2), acc(1));

    // Bad input: one line naming the problem, no output file.
    let bad_out = dir.join("bad.tflite");
    let few = dir.join("few.npy");
    npy_f32(&few, &[3], &[0.0, 1.0, 2.0]);
    assert_refused(
        &[
            "qat",
            s(&model),
            "--x",
            s(&x),
            "--y",
            s(&few),
            "-o",
            s(&bad_out),
        ],
        &bad_out,
        "has 1437 rows but",
    );
    let resnet = asset("mlperf-tiny/ic/resnet8_float.tflite");
    let images = dir.join("images.npy");
    npy_f32(&images, &[1, 32, 32, 3], &[0.0; 3072]);
    let one = dir.join("one.npy");
    npy_f32(&one, &[1], &[0.0]);
    assert_refused(
        &[
            "qat",
            &resnet,
            "--x",
            s(&images),
            "--y",
            s(&one),
            "-o",
            s(&bad_out),
        ],
        &bad_out,
        "operator 3 (ADD) is not supported by quantization-aware training",
    );
    let sine = asset("tflm/hello_world/hello_world_float.tflite");
    let xs = dir.join("xs.npy");
    npy_f32(&xs, &[1, 1], &[0.5]);
    assert_refused(
        &[
            "qat",
            &sine,
            "--x",
            s(&xs),
            "--y",
            s(&one),
            "-o",
            s(&bad_out),
        ],
        &bad_out,
        "does not end in SOFTMAX",
    );
    assert_refused(
        &[
            "qat",
            s(&model),
            "--x",
            s(&images),
            "--y",
            s(&one),
            "-o",
            s(&bad_out),
        ],
        &bad_out,
        "does not match the model input",
    );
}

#[test]
fn cluster_writes_a_clustered_model_and_refuses_bad_input() {
    let dir = scratch("cluster");
    let [model, x, _, x_test, y_test] = digits_mlp(&dir);
    let int8 = dir.join("int8.tflite");
    let out = mote(&[
        "quantize",
        s(&model),
        "--calibration",
        s(&x),
        "-o",
        s(&int8),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (clustered, lut) = (dir.join("c4.tflite"), dir.join("c4_lut.tflite"));
    let out = mote(&[
        "cluster",
        s(&int8),
        "--clusters",
        "4",
        "-o",
        s(&clustered),
        "--lut",
        s(&lut),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The table: 2 filters, 4 values -> 2-bit indices, and a total row.
    let table = text(&out.stdout);
    assert!(
        table.contains("dense/kernel") && table.contains("total"),
        "{table}"
    );
    assert!(std::fs::metadata(&lut).unwrap().len() < std::fs::metadata(&clustered).unwrap().len());
    let eval = mote(&["eval", s(&clustered), "--x", s(&x_test), "--y", s(&y_test)]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    assert!(text(&eval.stdout).contains("accuracy"));
    // Refused: K out of range, a float model, a missing file.
    let bad = dir.join("bad.tflite");
    assert_refused(
        &["cluster", s(&int8), "--clusters", "17", "-o", s(&bad)],
        &bad,
        "2..=16",
    );
    assert_refused(&["cluster", s(&model), "-o", s(&bad)], &bad, "no int8");
    assert_refused(
        &["cluster", s(&dir.join("none.tflite")), "-o", s(&bad)],
        &bad,
        "cannot read",
    );
}
