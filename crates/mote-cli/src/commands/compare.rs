//! `mote compare`: the compression report of several variants of a model.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_compress::report::{
    class_deltas, cost, fixes, html, latency_us, mse, regressions, run_float, Evaluation, Variant,
};
use mote_runtime::Model;
use mote_train::data::read_npy;
use serde::Serialize;

/// Arguments of `mote compare`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote compare mlp.tflite mlp_sparse.tflite mlp_int8.tflite\n  \
mote compare mlp.tflite mlp_int8.tflite --x x_test.npy --y y_test.npy --html report.html\n  \
mote compare mlp.tflite mlp_int8.tflite mlp_qat.tflite --x x_test.npy --y y_test.npy --json\n\n\
The first model is the baseline. Each model's cost: file bytes (raw and gzip), weight bytes,\n\
sparsity, arena bytes, MACs and median host latency. With --x every model runs on every row\n\
(int8 edges are quantized with the model's own parameters) and the report gives its output\n\
MSE against the first model; with --y also its accuracy (argmax of the output), its accuracy\n\
per class with the change against the first model, the classes it hurts most, and the\n\
examples the first model got right and it gets wrong (true label, both predictions).\n\
--html writes all of it as one self-contained page with an accuracy-vs-size plot."
)]
pub struct CompareArgs {
    /// The models, the baseline first.
    #[arg(required = true, num_args = 1..)]
    pub models: Vec<PathBuf>,
    /// Inputs to run (.npy, [N, ...]).
    #[arg(long, visible_alias = "x", value_name = "X.npy")]
    pub data: Option<PathBuf>,
    /// Class labels of the inputs (.npy, [N]).
    #[arg(long, visible_alias = "y", value_name = "Y.npy", requires = "data")]
    pub labels: Option<PathBuf>,
    /// Also write the report as a self-contained HTML page.
    #[arg(long, value_name = "REPORT.html")]
    pub html: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct ClassRow {
    class: usize,
    examples: usize,
    accuracy: f64,
    /// Against the first model, in [-1, 1].
    delta_vs_first: f64,
}

#[derive(Serialize)]
struct ExampleRow {
    index: usize,
    label: usize,
    first_prediction: usize,
    prediction: usize,
    score: f32,
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
    macs: u64,
    latency_us: Option<f64>,
    accuracy: Option<f64>,
    mse_vs_first: Option<f64>,
    per_class: Option<Vec<ClassRow>>,
    /// Classes whose accuracy dropped against the first model, most first.
    hurt_classes: Option<Vec<usize>>,
    /// Examples the first model got right and this one gets wrong.
    regressions: Option<Vec<ExampleRow>>,
    /// Examples the first model got wrong and this one gets right.
    fixes: Option<usize>,
}

fn row(v: &Variant, base: Option<&Evaluation>) -> Row {
    let c = &v.cost;
    let e = v.evaluation.as_ref();
    let paired = e.zip(base);
    Row {
        model: v.name.clone(),
        file_bytes: c.file_bytes,
        gzip_bytes: c.gzip_bytes,
        weights: c.weights,
        zero_weights: c.zero_weights,
        sparsity: c.zero_weights as f64 / c.weights.max(1) as f64,
        weight_bytes: c.weight_bytes,
        weight_type: c.weight_type.clone(),
        arena_bytes: c.arena_bytes,
        macs: v.macs,
        latency_us: v.latency_us,
        accuracy: e.map(Evaluation::accuracy),
        mse_vs_first: v.mse_vs_first,
        per_class: paired.map(|(e, b)| {
            let mut rows: Vec<ClassRow> = class_deltas(b, e)
                .iter()
                .map(|d| ClassRow {
                    class: d.class,
                    examples: d.examples,
                    accuracy: d.variant,
                    delta_vs_first: d.delta(),
                })
                .collect();
            rows.sort_by_key(|r| r.class);
            rows
        }),
        hurt_classes: paired.map(|(e, b)| {
            class_deltas(b, e)
                .iter()
                .filter(|d| d.delta() < -1e-12)
                .map(|d| d.class)
                .collect()
        }),
        regressions: paired.map(|(e, b)| {
            regressions(b, e)
                .iter()
                .map(|r| ExampleRow {
                    index: r.index,
                    label: r.label,
                    first_prediction: r.baseline,
                    prediction: r.predicted,
                    score: r.score,
                })
                .collect()
        }),
        fixes: paired.map(|(e, b)| fixes(b, e)),
    }
}

/// Runs `mote compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let data = args.data.as_ref().map(read_npy).transpose()?;
    let labels = args.labels.as_ref().map(read_npy).transpose()?;
    if let (Some(x), Some(y)) = (&data, &labels) {
        if x.rows() != y.len() {
            bail!(
                "{} has {} rows but {} has {} labels",
                args.data
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
                x.rows(),
                args.labels
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
                y.len()
            );
        }
    }
    if let Some(x) = &data {
        if x.rows() == 0 {
            bail!("{}: no rows", args.data.as_ref().unwrap().display());
        }
    }
    // Everything is measured before anything is written.
    let mut variants: Vec<Variant> = Vec::new();
    let mut reference: Option<Vec<f32>> = None;
    for path in &args.models {
        let name = path.display().to_string();
        let bytes = crate::read_model(path)?;
        let model_cost = cost(&bytes).with_context(|| name.clone())?;
        let model = Model::parse(&bytes).with_context(|| name.clone())?;
        let macs = (0..model.main().operator_count())
            .map(|i| crate::summary::macs(&model, i))
            .fold(0u64, u64::saturating_add);
        let (mut evaluation, mut diff) = (None, None);
        if let Some(x) = &data {
            let outputs = run_float(&bytes, x.data(), x.row_len()).with_context(|| name.clone())?;
            if let Some(y) = &labels {
                let classes = outputs.len() / x.rows();
                evaluation = Some(
                    Evaluation::new(&outputs, classes, y.data()).with_context(|| name.clone())?,
                );
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
        let sample = data.as_ref().map(|x| &x.data()[..x.row_len()]);
        let latency = latency_us(&bytes, sample).with_context(|| name.clone())?;
        variants.push(Variant {
            name,
            cost: model_cost,
            macs,
            latency_us: Some(latency),
            mse_vs_first: diff,
            evaluation,
        });
    }
    if let Some(path) = &args.html {
        mote_train::files::write_atomic(path, html(&variants).as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let base = variants.first().and_then(|v| v.evaluation.as_ref());
    let rows: Vec<Row> = variants.iter().map(|v| row(v, base)).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "models": rows }))?
        );
        return Ok(());
    }
    print_table(&rows);
    if let Some(path) = &args.html {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn print_table(rows: &[Row]) {
    let width = rows.iter().map(|r| r.model.len()).max().unwrap_or(5).max(5);
    println!(
        "{:<width$} {:>8} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10}",
        "model",
        "weights",
        "file B",
        "gzip B",
        "zeros",
        "weight B",
        "arena B",
        "MACs",
        "µs",
        "accuracy",
        "MSE vs 1st"
    );
    let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("-".into(), f);
    for r in rows {
        println!(
            "{:<width$} {:>8} {:>8} {:>8} {:>6.1}% {:>8} {:>8} {:>8} {:>9} {:>9} {:>10}",
            r.model,
            r.weight_type,
            r.file_bytes,
            r.gzip_bytes,
            100.0 * r.sparsity,
            r.weight_bytes,
            r.arena_bytes,
            r.macs,
            opt(r.latency_us, &|l| format!("{l:.1}")),
            opt(r.accuracy, &|a| format!("{:.2}%", 100.0 * a)),
            opt(r.mse_vs_first, &|m| format!("{m:.3e}")),
        );
    }
    // Per-class accuracy: the first model's, then each variant's change in points.
    let Some(first) = rows.first().and_then(|r| r.per_class.as_ref()) else {
        return;
    };
    println!("\nper-class accuracy (first model) and change in points:");
    print!("{:>5} {:>8}", "class", "examples");
    for i in 1..=rows.len() {
        print!(" {:>10}", format!("#{i}"));
    }
    println!();
    for (c, base) in first.iter().enumerate() {
        print!(
            "{:>5} {:>8} {:>9.1}%",
            base.class,
            base.examples,
            100.0 * base.accuracy
        );
        for r in &rows[1..] {
            match r.per_class.as_ref().and_then(|p| p.get(c)) {
                Some(v) => print!(" {:>10}", format!("{:+.1}", 100.0 * v.delta_vs_first)),
                None => print!(" {:>10}", "-"),
            }
        }
        println!();
    }
    for (i, r) in rows.iter().enumerate().skip(1) {
        let (Some(hurt), Some(lost)) = (&r.hurt_classes, &r.regressions) else {
            continue;
        };
        let examples: Vec<String> = lost
            .iter()
            .take(8)
            .map(|e| format!("row {} ({} -> {})", e.index, e.label, e.prediction))
            .collect();
        println!(
            "#{} {}: hurts {}; {} right before, wrong now{}{}",
            i + 1,
            r.model,
            if hurt.is_empty() {
                "no class".to_string()
            } else {
                format!(
                    "class{} {}",
                    if hurt.len() > 1 { "es" } else { "" },
                    hurt.iter()
                        .take(3)
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            lost.len(),
            if examples.is_empty() { "" } else { ": " },
            examples.join(", ") + if lost.len() > 8 { ", ..." } else { "" }
        );
    }
}
