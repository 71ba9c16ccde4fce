//! `mote prune`: magnitude pruning of a float `.tflite` (Dense, Conv2D and
//! DepthwiseConv2D kernels), fine-tuned on data.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use mote_compress::prune::structured::{prune_structured, shrink};
use mote_compress::prune::{loss_for, prune, PruneConfig, Scope};
use mote_train::tflite::import_bytes;

use super::train::{read_inputs, read_targets};

/// Where the sparsity target applies, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// Each kernel reaches the sparsity (the last one `--final-scale` times it).
    Layer,
    /// The sparsity holds over all kernels together.
    Global,
}

/// Arguments of `mote prune`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote prune mlp.tflite --x x_train.npy --y y_train.npy --sparsity 0.8 -o mlp_sparse.tflite\n  \
mote prune cnn.tflite --x x_train.npy --y y_train.npy --sparsity 0.5 --epochs 10 -o cnn_sparse.tflite\n  \
mote prune mlp.tflite --x x_train.npy --y y_train.npy --sparsity 0.9 --scope layer --final-scale 1 -o out.tflite\n  \
mote prune cnn.tflite --x x_train.npy --y y_train.npy --sparsity 0.5 --structured -o cnn_small.tflite\n\n\
Kernels of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D are pruned by magnitude; biases are not.\n\
The sparsity ramps up from 0 with TensorFlow Model Optimization's polynomial decay (power 3) over\n\
the first half of the fine-tuning steps (--ramp), masks updating 10 times an epoch; Adam restarts at\n\
each update, and after the ramp the learning rate decays to 0 along a cosine. Pruned weights stay 0.\n\
Weights are ranked by |w| times the RMS of the input they multiply over the training rows.\n\
Per layer, the last kernel is pruned at --final-scale times the target and the others take up its\n\
zeros, so that --sparsity is the fraction of all kernel weights that are 0.\n\
--structured removes whole neurons and channels instead: --sparsity of the outputs of every Dense or\n\
Conv2D that feeds another one (through activations, pooling or a depthwise convolution), ranked by\n\
the norms of their weights in and out, masked on the same schedule; the written model is smaller.\n\
The model must be a float chain of the operators `mote train` writes; a softmax output trains with\n\
cross-entropy on integer (or one-hot) labels, others with mean squared error."
)]
pub struct PruneArgs {
    /// The float .tflite model.
    pub model: PathBuf,
    /// Training inputs (.npy, [N, ...] with the model input's values per row).
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
    #[arg(long, value_enum, default_value = "global")]
    pub scope: ScopeArg,
    /// Per layer: the last kernel's sparsity as a fraction of the target (1 = as hard).
    #[arg(long, default_value_t = 0.5)]
    pub final_scale: f32,
    /// Fraction of the fine-tuning steps over which the sparsity ramps up.
    #[arg(long, default_value_t = 0.5)]
    pub ramp: f32,
    /// Fine-tuning epochs.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Rows per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-2)]
    pub learning_rate: f32,
    /// Seed of the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Remove whole neurons / channels (the model gets smaller) instead of single weights.
    #[arg(long)]
    pub structured: bool,
}

/// Runs `mote prune`.
pub fn run(args: &PruneArgs) -> Result<()> {
    if !(0.0..1.0).contains(&args.sparsity) {
        bail!("--sparsity {} is not in [0, 1)", args.sparsity);
    }
    if args.epochs == 0 || args.batch_size == 0 {
        bail!("--epochs and --batch-size must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.final_scale) || !(0.0..=1.0).contains(&args.ramp) {
        bail!("--final-scale and --ramp must be in [0, 1]");
    }
    let bytes = crate::read_model(&args.model)?;
    let mut model = import_bytes(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let shape = model.input_shape().unwrap_or(&[]).to_vec();
    let x = read_inputs(&args.data, &shape)?;
    let y = read_targets(&args.labels, x.rows())?;
    if x.rows() == 0 {
        bail!("{}: no rows", args.data.display());
    }
    let config = PruneConfig {
        scope: match args.scope {
            ScopeArg::Layer => Scope::PerLayer,
            ScopeArg::Global => Scope::Global,
        },
        final_scale: args.final_scale,
        ramp: args.ramp,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seed: args.seed,
        ..PruneConfig::new(args.sparsity, args.epochs)
    };
    let loss = loss_for(&model, &y);
    if args.structured {
        if mote_compress::prune::structured::segments(&model).is_empty() {
            bail!(
                "{}: no Dense or Conv2D layer feeds another one through per-channel layers; nothing to remove",
                args.model.display()
            );
        }
        let report = prune_structured(&mut model, &x, &y, loss, &config).context("fine-tuning")?;
        let mut def = mote_train::tflite::export(&model)?;
        shrink(&mut def)?;
        let out = def.to_bytes()?;
        mote_train::files::write_atomic(&args.output, &out)
            .with_context(|| format!("{}: cannot write", args.output.display()))?;
        for (name, kept, channels) in &report.kept {
            println!("{name}: {kept} of {channels} outputs kept");
        }
        println!(
            "{} ({} bytes) -> {} ({} bytes): final training loss {:.4}",
            args.model.display(),
            bytes.len(),
            args.output.display(),
            out.len(),
            report.loss.last().copied().unwrap_or(f32::NAN)
        );
        return Ok(());
    }
    let report = prune(&mut model, &x, &y, loss, &config).context("fine-tuning")?;
    let out = mote_train::tflite::export(&model)?.to_bytes()?;
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    for (name, sparsity) in &report.sparsity {
        println!("{name}: {:.1} % zeros", 100.0 * sparsity);
    }
    println!(
        "{} -> {}: {:.1} % of kernel weights are 0, final training loss {:.4}",
        args.model.display(),
        args.output.display(),
        100.0 * report.total_sparsity,
        report.loss.last().copied().unwrap_or(f32::NAN)
    );
    Ok(())
}
