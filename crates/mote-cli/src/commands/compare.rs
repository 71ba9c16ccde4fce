//! `mote compare`: the compression report of several variants of a model.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_compress::report::{accuracy, cost, mse, run_float, Cost};
use mote_train::data::read_npy;
use serde::Serialize;

/// Arguments of `mote compare`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote compare mlp.tflite mlp_sparse.tflite mlp_int8.tflite\n  \
mote compare mlp.tflite mlp_int8.tflite --data x_test.npy --labels y_test.npy --json\n\n\
With --data every model runs on every row (int8 edges are quantized with the model's own\n\
parameters); the report gives each model's output MSE against the first model, and with\n\
--labels its accuracy (argmax of the output)."
)]
pub struct CompareArgs {
    /// The models, the reference first.
    #[arg(required = true, num_args = 1..)]
    pub models: Vec<PathBuf>,
    /// Inputs to run (.npy, [N, ...]).
    #[arg(long, visible_alias = "x", value_name = "X.npy")]
    pub data: Option<PathBuf>,
    /// Class labels of the inputs (.npy, [N]).
    #[arg(long, visible_alias = "y", value_name = "Y.npy", requires = "data")]
    pub labels: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Row {
    model: String,
    file_bytes: usize,
    gzip_bytes: usize,
    weights: usize,
    zero_weights: usize,
    sparsity: f64,
    weight_bytes: usize,
    weight_type: String,
    arena_bytes: usize,
    accuracy: Option<f64>,
    mse_vs_first: Option<f64>,
}

/// Runs `mote compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let data = args.data.as_ref().map(read_npy).transpose()?;
    let labels = args.labels.as_ref().map(read_npy).transpose()?;
    if let (Some(x), Some(y)) = (&data, &labels) {
        if x.rows() != y.len() {
            bail!("{} rows of data but {} labels", x.rows(), y.len());
        }
    }
    let mut rows = Vec::new();
    let mut reference: Option<Vec<f32>> = None;
    for path in &args.models {
        let name = path.display().to_string();
        let bytes = crate::read_model(path)?;
        let Cost {
            file_bytes,
            gzip_bytes,
            weights,
            zero_weights,
            weight_bytes,
            weight_type,
            arena_bytes,
        } = cost(&bytes).with_context(|| name.clone())?;
        let (mut acc, mut diff) = (None, None);
        if let Some(x) = &data {
            let outputs = run_float(&bytes, x.data(), x.row_len()).with_context(|| name.clone())?;
            if let Some(y) = &labels {
                acc = Some(accuracy(
                    &outputs,
                    outputs.len() / x.rows().max(1),
                    y.data(),
                ));
            }
            match &reference {
                Some(first) if first.len() == outputs.len() => diff = Some(mse(first, &outputs)),
                Some(_) => bail!("{name}: its outputs differ in size from the first model's"),
                None => {
                    diff = Some(0.0);
                    reference = Some(outputs);
                }
            }
        }
        rows.push(Row {
            model: name,
            file_bytes,
            gzip_bytes,
            weights,
            zero_weights,
            sparsity: zero_weights as f64 / weights.max(1) as f64,
            weight_bytes,
            weight_type,
            arena_bytes,
            accuracy: acc,
            mse_vs_first: diff,
        });
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "models": rows }))?
        );
        return Ok(());
    }
    let width = rows.iter().map(|r| r.model.len()).max().unwrap_or(5).max(5);
    println!(
        "{:<width$} {:>8} {:>10} {:>10} {:>8} {:>10} {:>10} {:>9} {:>12}",
        "model",
        "weights",
        "file B",
        "gzip B",
        "zeros",
        "weight B",
        "arena B",
        "accuracy",
        "MSE vs 1st"
    );
    for r in &rows {
        let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("-".into(), f);
        println!(
            "{:<width$} {:>8} {:>10} {:>10} {:>7.1}% {:>10} {:>10} {:>9} {:>12}",
            r.model,
            r.weight_type,
            r.file_bytes,
            r.gzip_bytes,
            100.0 * r.sparsity,
            r.weight_bytes,
            r.arena_bytes,
            opt(r.accuracy, &|a| format!("{:.2}%", 100.0 * a)),
            opt(r.mse_vs_first, &|m| format!("{m:.3e}")),
        );
    }
    Ok(())
}
