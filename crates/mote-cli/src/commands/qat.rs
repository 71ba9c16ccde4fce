//! `mote qat`: quantization-aware training of a float classifier, exported as int8.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_compress::qat::{qat, QatConfig};
use mote_compress::quantize::{Calibration, Io};
use mote_compress::report::{accuracy, run_float};
use mote_train::data::read_npy;
use mote_train::Tensor;

use super::quantize::{IoType, Weights};

/// Arguments of `mote qat`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote qat mlp.tflite --x x_train.npy --y y_train.npy -o mlp_qat.tflite\n  \
mote qat mlp.tflite --x x_train.npy --y y_train.npy --epochs 20 --calibration x_cal.npy -o out.tflite --io float\n  \
mote compare mlp.tflite mlp_int8.tflite mlp_qat.tflite --x x_test.npy --y y_test.npy\n\n\
Fine-tunes the float model with int8 rounding simulated in the forward pass (fake quantization,\n\
straight-through gradients): weights per output channel, symmetric, as `mote quantize` does;\n\
the input and every activation over a range calibrated on --calibration (default --x), then\n\
tracked as a moving average of each batch's min/max, frozen after half the epochs. The result\n\
is written by the same int8 rewrite as `mote quantize`, with the learned ranges. The model must\n\
be a float chain of FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D (fused NONE/RELU/RELU6),\n\
MAX_POOL_2D, AVERAGE_POOL_2D, MEAN (global average pooling), RESHAPE, RELU, RELU6, TANH, LOGISTIC\n\
ending in SOFTMAX (as `mote train` writes an MLP or a Sequential CNN); --y holds class indices."
)]
pub struct QatArgs {
    /// The float .tflite classifier.
    pub model: PathBuf,
    /// Training inputs (.npy, [N, features]).
    #[arg(long, visible_alias = "x", value_name = "X.npy")]
    pub data: PathBuf,
    /// Training labels (.npy, [N] class indices).
    #[arg(long, visible_alias = "y", value_name = "Y.npy")]
    pub labels: PathBuf,
    /// Inputs whose min/max start the activation ranges (.npy, [N, features]; default: --x).
    #[arg(long, value_name = "X.npy")]
    pub calibration: Option<PathBuf>,
    /// Where to write the int8 model.
    #[arg(short, long, value_name = "OUT.tflite")]
    pub output: PathBuf,
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
    /// Epochs after which activation ranges freeze (default: half of --epochs, rounded up).
    #[arg(long, value_name = "N")]
    pub freeze_after: Option<usize>,
    /// Input and output type of the int8 model.
    #[arg(long, value_enum, default_value = "int8")]
    pub io: IoType,
    /// How weights are stored and fake-quantized: int8, or int4 (one scale per FULLY_CONNECTED).
    #[arg(long, value_enum, default_value = "int8")]
    pub weights: Weights,
}

fn samples(tensor: &Tensor, path: &std::path::Path) -> Result<Calibration> {
    Calibration::new(tensor.shape().to_vec(), tensor.data().to_vec())
        .with_context(|| format!("{}", path.display()))
}

/// Runs `mote qat`.
pub fn run(args: &QatArgs) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size 0: a step needs at least one row");
    }
    if !(args.learning_rate > 0.0 && args.learning_rate.is_finite()) {
        bail!(
            "--learning-rate {} is not a positive number",
            args.learning_rate
        );
    }
    let bytes = crate::read_model(&args.model)?;
    let x = read_npy(&args.data)?;
    let y = read_npy(&args.labels)?;
    if x.rows() != y.len() {
        bail!(
            "{} has {} rows but {} has {} labels",
            args.data.display(),
            x.rows(),
            args.labels.display(),
            y.len()
        );
    }
    let train = samples(&x, &args.data)?;
    let calibration = match &args.calibration {
        Some(path) => Some(samples(&read_npy(path)?, path)?),
        None => None,
    };
    let config = QatConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seed: args.seed,
        freeze_after: args.freeze_after,
        io: match args.io {
            IoType::Int8 => Io::Int8,
            IoType::Float => Io::Float,
        },
        weights: args.weights.into(),
        ..QatConfig::default()
    };
    let (int8, report) = qat(&bytes, &train, y.data(), calibration.as_ref(), &config)
        .with_context(|| format!("{}", args.model.display()))?;
    let out = int8
        .to_bytes()
        .with_context(|| format!("{}", args.output.display()))?;
    // What the written model scores on the training data, before writing it.
    let outputs = run_float(&out, x.data(), x.row_len())
        .with_context(|| format!("{}: the int8 model", args.output.display()))?;
    let train_accuracy = accuracy(&outputs, outputs.len() / x.rows().max(1), y.data());
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    let loss = |i: Option<&f32>| i.map_or("-".into(), |l| format!("{l:.4}"));
    println!(
        "{} -> {}: {} epochs of {} rows, fake-quantized loss {} -> {}; int8 accuracy on --x {:.2} %; {} -> {} bytes",
        args.model.display(),
        args.output.display(),
        args.epochs,
        x.rows(),
        loss(report.loss.first()),
        loss(report.loss.last()),
        100.0 * train_accuracy,
        bytes.len(),
        out.len()
    );
    for (name, lo, hi) in &report.ranges {
        println!("  range {name}: [{lo:.4}, {hi:.4}]");
    }
    Ok(())
}
