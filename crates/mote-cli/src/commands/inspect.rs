//! `mote inspect`: what a model is made of, like Keras' `model.summary()`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mote_runtime::Model;

use crate::summary::{summarize, Summary};

/// Arguments of `mote inspect`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote inspect model.tflite\n  mote inspect model.tflite --verbose\n  mote inspect model.tflite --json | jq .op_counts"
)]
pub struct InspectArgs {
    /// The .tflite model to describe.
    pub model: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also list every operator's options and every tensor with its type and quantization.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs `mote inspect`.
pub fn run(args: &InspectArgs) -> Result<()> {
    let bytes = crate::read_model(&args.model)?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let summary = summarize(&model);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    print_table(&args.model.display().to_string(), &summary);
    if args.verbose {
        print_options(&summary);
        print_tensors(&model);
    }
    Ok(())
}

fn shapes(list: &[Vec<usize>]) -> String {
    list.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_table(name: &str, s: &Summary) {
    println!(
        "Model: {name}  ({} operators, {} tensors)",
        s.operators.len(),
        s.tensors
    );
    if !s.description.is_empty() {
        println!("Description: {}", s.description);
    }
    let rule = "-".repeat(100);
    println!("{rule}");
    println!(
        "{:>3}  {:<26} {:<22} {:<16} {:>9} {:>10} {:>10}",
        "#", "Operator", "Inputs", "Outputs", "Params", "Weight B", "MACs"
    );
    println!("{rule}");
    for r in &s.operators {
        println!(
            "{:>3}  {:<26} {:<22} {:<16} {:>9} {:>10} {:>10}",
            r.index,
            r.op,
            shapes(&r.inputs),
            shapes(&r.outputs),
            r.params,
            r.weight_bytes,
            r.macs
        );
    }
    println!("{rule}");
    let arena = match (s.arena_bytes, &s.arena_error) {
        (Some(bytes), _) => format!("{bytes} bytes"),
        (None, Some(why)) => format!("n/a ({why})"),
        (None, None) => "n/a".into(),
    };
    println!(
        "Total params: {}   Weight bytes: {}   MACs: {}",
        s.params, s.weights_bytes, s.macs
    );
    println!("Planned arena: {arena}");
    for (label, list) in [("Input", &s.inputs), ("Output", &s.outputs)] {
        for t in list {
            let quant = match (t.scale, t.zero_point) {
                (Some(scale), Some(zp)) => format!(" q=(scale {scale}, zero point {zp})"),
                _ => String::new(),
            };
            println!(
                "{label} {}: '{}' {}{:?}{quant}",
                t.index, t.name, t.dtype, t.shape
            );
        }
    }
}

fn print_options(s: &Summary) {
    println!("\nOperator options:");
    for r in &s.operators {
        println!("{:>3}  {:<26} {}", r.index, r.op, r.options);
    }
}

fn print_tensors(model: &Model<'_>) {
    let graph = model.main();
    println!("\nTensors:");
    for i in 0..graph.tensor_count() {
        let Some(t) = graph.tensor(i) else { continue };
        let quant = match t.quantization() {
            Some(q) if q.scale_count() == 1 => {
                format!("q=(scale {}, zero point {})", q.scale(0), q.zero_point(0))
            }
            Some(q) => format!(
                "q=per-channel {} scales on axis {}",
                q.scale_count(),
                q.quantized_dimension()
            ),
            None => String::new(),
        };
        let data = if t.is_constant() {
            format!("const {} B", t.data().len())
        } else {
            String::new()
        };
        println!(
            "{i:>4}  {:<8} {:<18} {:<12} {:<40} {quant}",
            t.dtype().name(),
            t.shape().to_string(),
            data,
            t.name()
        );
    }
}
