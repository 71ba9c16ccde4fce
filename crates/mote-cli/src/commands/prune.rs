//! `mote prune`: magnitude pruning of a float MLP `.tflite`, fine-tuned on data.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use mote_compress::mlp::read_mlp;
use mote_compress::prune::{prune, PruneConfig, Scope};
use mote_train::data::read_npy;
use mote_train::{Activation, Adam, Layer, Loss};

/// Where the sparsity target applies, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// Each kernel reaches the sparsity.
    Layer,
    /// The sparsity holds over all kernels together.
    Global,
}

/// Arguments of `mote prune`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote prune mlp.tflite --data x.npy --labels y.npy --sparsity 0.8 -o mlp_sparse.tflite\n  \
mote prune mlp.tflite --data x.npy --labels y.npy --sparsity 0.5 --scope global --epochs 20 -o out.tflite\n\n\
The sparsity ramps up from 0 with TensorFlow Model Optimization's polynomial decay (power 3)\n\
over the first two thirds of the fine-tuning steps; pruned weights stay 0 through fine-tuning.\n\
The model must be a float stack of FULLY_CONNECTED layers (as `mote train` writes); a softmax\n\
output trains with cross-entropy on integer (or one-hot) labels, others with mean squared error."
)]
pub struct PruneArgs {
    /// The float .tflite model.
    pub model: PathBuf,
    /// Training inputs (.npy, [N, features]).
    #[arg(long, visible_alias = "x", value_name = "X.npy")]
    pub data: PathBuf,
    /// Training targets (.npy, [N] class indices or [N, outputs]).
    #[arg(long, visible_alias = "y", value_name = "Y.npy")]
    pub labels: PathBuf,
    /// Where to write the pruned float model.
    #[arg(short, long, value_name = "OUT.tflite")]
    pub output: PathBuf,
    /// Fraction of kernel weights set to zero, in [0, 1).
    #[arg(long)]
    pub sparsity: f32,
    /// Per-layer or global sparsity.
    #[arg(long, value_enum, default_value = "layer")]
    pub scope: ScopeArg,
    /// Fine-tuning epochs.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Rows per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f32,
    /// Seed of the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `mote prune`.
pub fn run(args: &PruneArgs) -> Result<()> {
    if !(0.0..1.0).contains(&args.sparsity) {
        bail!("--sparsity {} is not in [0, 1)", args.sparsity);
    }
    if args.epochs == 0 || args.batch_size == 0 {
        bail!("--epochs and --batch-size must be at least 1");
    }
    let bytes = crate::read_model(&args.model)?;
    let mut model = read_mlp(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let x = read_npy(&args.data)?;
    let y = read_npy(&args.labels)?;
    if x.rows() == 0 {
        bail!("{}: no rows", args.data.display());
    }
    let last = model.layers().last().map(|l| match l {
        Layer::Dense(d) => d.activation_function(),
        _ => Activation::Linear,
    });
    let loss = match last {
        Some(Activation::Softmax) if y.shape().len() == 1 => {
            Loss::SparseCategoricalCrossentropy { from_logits: false }
        }
        Some(Activation::Softmax) => Loss::CategoricalCrossentropy { from_logits: false },
        Some(Activation::Sigmoid) => Loss::BinaryCrossentropy { from_logits: false },
        _ => Loss::MeanSquaredError,
    };
    model.compile(Adam::new(args.learning_rate), loss);
    let config = PruneConfig {
        scope: match args.scope {
            ScopeArg::Layer => Scope::PerLayer,
            ScopeArg::Global => Scope::Global,
        },
        seed: args.seed,
        ..PruneConfig::new(args.sparsity, args.epochs, x.rows(), args.batch_size)
    };
    let report = prune(&mut model, &x, &y, &config).context("fine-tuning")?;
    let out = mote_train::tflite::export(&model)?.to_bytes()?;
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    for (name, sparsity) in &report.sparsity {
        println!("{name}: {:.1} % zeros", 100.0 * sparsity);
    }
    println!(
        "{} -> {}: final training loss {:.4}",
        args.model.display(),
        args.output.display(),
        report.loss.last().copied().unwrap_or(f32::NAN)
    );
    Ok(())
}
