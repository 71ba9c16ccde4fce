//! `mote eval`: a `.tflite` model run by the no_std interpreter over labelled
//! `.npy` data: loss, accuracy, confusion matrix, per-class precision/recall.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::classification::{roc_auc, ConfusionMatrix};
use mote_train::data::read_npy;

/// Arguments of `mote eval`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote eval mlp.tflite --x data/digits/x_test.npy --y data/digits/y_test.npy\n  \
mote eval mlp_int8.tflite --x data/digits/x_test.npy --y data/digits/y_test.npy --json\n\n\
Float inputs are quantized with the model input's scale and zero point when the model is int8/uint8,\n\
and outputs are dequantized. Several outputs per sample: classes (loss = cross-entropy, on a softmax of\n\
the outputs when they are not probabilities). One output: a 0/1 score when the labels are 0/1\n\
(binary cross-entropy, threshold 0.5, ROC AUC), else a regression (mean squared and absolute error)."
)]
pub struct EvalArgs {
    /// The .tflite model.
    pub model: PathBuf,
    /// Inputs (.npy, [N, ...] with the model input's values per row).
    #[arg(long, value_name = "X.npy")]
    pub x: PathBuf,
    /// Targets (.npy): integer labels [N], one-hot [N, classes], or values [N] / [N, 1].
    #[arg(long, value_name = "Y.npy")]
    pub y: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Arena size in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    pub arena: usize,
}

/// `real = scale * (q - zero_point)` of a tensor, or `None` for float tensors.
fn affine(tensor: &mote_runtime::Tensor) -> Option<(f32, i64)> {
    let q = tensor.quantization()?;
    (q.scale_count() > 0).then(|| (q.scale(0), q.zero_point(0)))
}

/// `q = round(v / scale) + zero_point`, clamped to `[low, high]` (TFLite's
/// input quantization; ties round away from zero).
fn quantize(v: f32, scale: f32, zero_point: i64, low: i64, high: i64) -> i64 {
    ((v / scale).round() as i64 + zero_point).clamp(low, high)
}

/// `v = scale * (q - zero_point)`.
fn dequantize(q: i64, scale: f32, zero_point: i64) -> f32 {
    scale * (q - zero_point) as f32
}

/// Runs the model on every row of `x`, returning `[rows][outputs]` floats.
fn predict(args: &EvalArgs) -> Result<(Vec<Vec<f32>>, usize)> {
    let bytes = crate::read_model(&args.model)?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let mut arena = vec![0u8; args.arena];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())
        .with_context(|| format!("{}", args.model.display()))?;
    let input = interpreter.input_tensor(0)?;
    let (in_type, in_quant, in_len) = (input.dtype(), affine(&input), input.shape().elements());
    let output = interpreter.output_tensor(0)?;
    let (out_type, out_quant) = (output.dtype(), affine(&output));
    let x = read_npy(&args.x)?;
    if x.shape().len() < 2 || x.row_len() != in_len {
        bail!(
            "{}: shape {:?} does not fit the model input {:?} ({in_len} values per row)",
            args.x.display(),
            x.shape(),
            input.shape().dims()
        );
    }
    let mut rows = Vec::with_capacity(x.rows());
    for r in 0..x.rows() {
        let row = x.row(r);
        let slot = interpreter.input_bytes_mut(0)?;
        match (in_type, in_quant) {
            (TensorType::Float32, _) => slot
                .chunks_exact_mut(4)
                .zip(row)
                .for_each(|(s, v)| s.copy_from_slice(&v.to_le_bytes())),
            (TensorType::Int8, Some((scale, zp))) => slot
                .iter_mut()
                .zip(row)
                .for_each(|(s, &v)| *s = quantize(v, scale, zp, -128, 127) as i8 as u8),
            (TensorType::UInt8, Some((scale, zp))) => slot
                .iter_mut()
                .zip(row)
                .for_each(|(s, &v)| *s = quantize(v, scale, zp, 0, 255) as u8),
            (dtype, _) => bail!(
                "{}: input type {dtype} (without scale) is not supported by eval",
                args.model.display()
            ),
        }
        interpreter
            .invoke()
            .with_context(|| format!("{}: sample {r}", args.model.display()))?;
        let out = interpreter.output_bytes(0)?;
        let values: Vec<f32> = match (out_type, out_quant) {
            (TensorType::Float32, _) => out
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            (TensorType::Int8, Some((scale, zp))) => out
                .iter()
                .map(|&b| dequantize(i64::from(b as i8), scale, zp))
                .collect(),
            (TensorType::UInt8, Some((scale, zp))) => out
                .iter()
                .map(|&b| dequantize(i64::from(b), scale, zp))
                .collect(),
            (dtype, _) => bail!(
                "{}: output type {dtype} (without scale) is not supported by eval",
                args.model.display()
            ),
        };
        rows.push(values);
    }
    let width = rows.first().map_or(0, Vec::len);
    Ok((rows, width))
}

fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// Runs `mote eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (outputs, width) = predict(args)?;
    let y = read_npy(&args.y)?;
    if y.shape().is_empty() || y.rows() != outputs.len() {
        bail!(
            "{}: shape {:?} has not one row per input row ({})",
            args.y.display(),
            y.shape(),
            outputs.len()
        );
    }
    if let Some(row) = (0..y.rows()).find(|&r| y.row(r).iter().any(|v| !v.is_finite())) {
        bail!(
            "{}: row {row} has a NaN or infinite value",
            args.y.display()
        );
    }
    let mut report = serde_json::Map::new();
    report.insert("samples".into(), outputs.len().into());
    let labels_01 = y.row_len() == 1 && y.data().iter().all(|&v| v == 0.0 || v == 1.0);
    if width > 1 {
        let truth: Vec<usize> = if y.row_len() == width {
            (0..y.rows()).map(|r| argmax(y.row(r))).collect()
        } else if y.row_len() == 1 {
            let mut labels = Vec::new();
            for (r, &v) in y.data().iter().enumerate() {
                if v < 0.0 || v.fract() != 0.0 || v as usize >= width {
                    bail!(
                        "{}: row {r} has label {v} but the model predicts {width} classes (labels must be integers 0..{width})",
                        args.y.display()
                    );
                }
                labels.push(v as usize);
            }
            labels
        } else {
            bail!(
                "{}: {} values per row; expected a label or {width} (one-hot)",
                args.y.display(),
                y.row_len()
            );
        };
        let mut loss = 0.0f64;
        for (out, &t) in outputs.iter().zip(&truth) {
            let is_probability =
                out.iter().all(|&p| p >= 0.0) && (out.iter().sum::<f32>() - 1.0).abs() < 1e-3;
            let p = if is_probability {
                out[t]
            } else {
                let top = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = out.iter().map(|v| (v - top).exp()).sum();
                (out[t] - top).exp() / sum
            };
            loss -= f64::from(p.clamp(1e-7, 1.0)).ln();
        }
        let predicted: Vec<usize> = outputs.iter().map(|o| argmax(o)).collect();
        let matrix = ConfusionMatrix::new(width, &truth, &predicted);
        report.insert("loss".into(), (loss / outputs.len().max(1) as f64).into());
        report.insert("accuracy".into(), f64::from(matrix.accuracy()).into());
        add_matrix(&mut report, &matrix);
    } else if labels_01 {
        let scores: Vec<f32> = outputs.iter().map(|o| o[0]).collect();
        let truth: Vec<usize> = y.data().iter().map(|&v| v as usize).collect();
        let predicted: Vec<usize> = scores.iter().map(|&s| usize::from(s > 0.5)).collect();
        let loss: f64 = scores
            .iter()
            .zip(&truth)
            .map(|(&s, &t)| {
                let p = f64::from(s.clamp(1e-7, 1.0 - 1e-7));
                if t == 1 {
                    -p.ln()
                } else {
                    -(1.0 - p).ln()
                }
            })
            .sum();
        let matrix = ConfusionMatrix::new(2, &truth, &predicted);
        report.insert("loss".into(), (loss / scores.len().max(1) as f64).into());
        report.insert("accuracy".into(), f64::from(matrix.accuracy()).into());
        let positive: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
        report.insert(
            "roc_auc".into(),
            roc_auc(&scores, &positive).map(f64::from).into(),
        );
        add_matrix(&mut report, &matrix);
    } else {
        if y.row_len() != width {
            bail!(
                "{}: {} values per row but the model gives {width}",
                args.y.display(),
                y.row_len()
            );
        }
        let (mut se, mut ae) = (0.0f64, 0.0f64);
        for (out, t) in outputs.iter().zip(y.data()) {
            let e = f64::from(out[0] - t);
            se += e * e;
            ae += e.abs();
        }
        let n = outputs.len().max(1) as f64;
        report.insert("loss".into(), (se / n).into());
        report.insert("mse".into(), (se / n).into());
        report.insert("mae".into(), (ae / n).into());
    }
    if args.json {
        println!("{}", serde_json::Value::Object(report));
    } else {
        print_text(&report);
    }
    Ok(())
}

fn add_matrix(report: &mut serde_json::Map<String, serde_json::Value>, m: &ConfusionMatrix) {
    let rows: Vec<Vec<usize>> = m.rows().map(<[usize]>::to_vec).collect();
    report.insert("confusion_matrix".into(), serde_json::json!(rows));
    let per_class: Vec<serde_json::Value> = (0..m.classes())
        .map(|c| {
            serde_json::json!({
                "class": c,
                "precision": m.precision(c),
                "recall": m.recall(c),
                "support": m.support(c),
            })
        })
        .collect();
    report.insert("per_class".into(), per_class.into());
}

fn print_text(report: &serde_json::Map<String, serde_json::Value>) {
    let number = |k: &str| report.get(k).and_then(serde_json::Value::as_f64);
    println!(
        "samples {}",
        report
            .get("samples")
            .map_or(String::new(), ToString::to_string)
    );
    for key in ["loss", "accuracy", "roc_auc", "mse", "mae"] {
        if let Some(v) = number(key) {
            println!("{key:<9}{v:.4}");
        }
    }
    let Some(rows) = report.get("confusion_matrix").and_then(|v| v.as_array()) else {
        return;
    };
    println!("\nconfusion matrix (rows: true class, columns: predicted)");
    let header: Vec<String> = (0..rows.len()).map(|c| format!("{c:>5}")).collect();
    println!("{:>5} {}", "", header.join(""));
    for (c, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| format!("{:>5}", v.as_u64().unwrap_or(0)))
            .collect();
        println!("{c:>5} {}", cells.join(""));
    }
    println!("\nclass  precision  recall  support");
    for entry in report
        .get("per_class")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let show = |k: &str| {
            entry
                .get(k)
                .and_then(serde_json::Value::as_f64)
                .map_or("-".to_string(), |v| format!("{v:.4}"))
        };
        println!(
            "{:>5}  {:>9}  {:>6}  {:>7}",
            entry
                .get("class")
                .map_or(String::new(), ToString::to_string),
            show("precision"),
            show("recall"),
            entry
                .get("support")
                .map_or(String::new(), ToString::to_string)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_round_trips_on_the_grid_and_clamps() {
        // scale 0.5, zero point -1: 3.0 -> 6 - 1 = 5 -> 0.5 * (5 + 1) = 3.0
        assert_eq!(quantize(3.0, 0.5, -1, -128, 127), 5);
        assert_eq!(dequantize(5, 0.5, -1), 3.0);
        // 0.3 / 0.5 = 0.6 rounds to 1
        assert_eq!(quantize(0.3, 0.5, 0, -128, 127), 1);
        // out of range saturates
        assert_eq!(quantize(1000.0, 0.5, -1, -128, 127), 127);
        assert_eq!(quantize(-1.0, 0.1, 0, 0, 255), 0);
    }

    #[test]
    fn argmax_takes_the_first_largest() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
    }
}
