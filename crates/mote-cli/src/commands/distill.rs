//! `mote distill`: train a small MLP student from a teacher `.tflite` and labels.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_compress::distill::{distill, DistillConfig};
use mote_compress::report::run_float;
use mote_train::data::read_npy;

/// Arguments of `mote distill`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote distill teacher.tflite --data x.npy --labels y.npy --hidden 8 -o student.tflite\n  \
mote distill teacher.tflite --data x.npy --labels y.npy --hidden 32 --hidden 16 --alpha 0.3 --temperature 2 -o s.tflite\n\n\
loss = alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(softmax(teacher/T) || softmax(student/T)).\n\
The teacher is any one-input .tflite classifier whose output is probabilities (softmax; int8\n\
edges are dequantized); the student is a float MLP of ReLU layers and a softmax output."
)]
pub struct DistillArgs {
    /// The teacher model.
    pub teacher: PathBuf,
    /// Training inputs (.npy, [N, features]).
    #[arg(long, visible_alias = "x", value_name = "X.npy")]
    pub data: PathBuf,
    /// Class labels (.npy, [N]).
    #[arg(long, visible_alias = "y", value_name = "Y.npy")]
    pub labels: PathBuf,
    /// Units of each hidden layer of the student, in order (repeatable).
    #[arg(long, required = true)]
    pub hidden: Vec<usize>,
    /// Where to write the student (float .tflite).
    #[arg(short, long, value_name = "OUT.tflite")]
    pub output: PathBuf,
    /// Weight of the labels' cross-entropy, in [0, 1].
    #[arg(long, default_value_t = 0.1)]
    pub alpha: f32,
    /// Softmax temperature (a positive integer).
    #[arg(long, default_value_t = 4)]
    pub temperature: u32,
    /// Training epochs.
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    /// Rows per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f32,
    /// Seed of the weights and batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `mote distill`.
pub fn run(args: &DistillArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.alpha) {
        bail!("--alpha {} is not in [0, 1]", args.alpha);
    }
    if args.temperature == 0 || args.epochs == 0 || args.batch_size == 0 {
        bail!("--temperature, --epochs and --batch-size must be at least 1");
    }
    if args.hidden.contains(&0) {
        bail!("--hidden layers need at least one unit");
    }
    let teacher = crate::read_model(&args.teacher)?;
    let x = read_npy(&args.data)?;
    let y = read_npy(&args.labels)?;
    if x.rows() == 0 || x.rows() != y.len() {
        bail!(
            "{} rows of data and {} labels: they must match and not be empty",
            x.rows(),
            y.len()
        );
    }
    let probabilities = run_float(&teacher, x.data(), x.row_len())
        .with_context(|| format!("{}: running the teacher", args.teacher.display()))?;
    let classes = probabilities.len() / x.rows();
    let rows_sum_to_one = probabilities
        .chunks(classes.max(1))
        .all(|r| r.iter().all(|&p| p >= 0.0) && (r.iter().sum::<f32>() - 1.0).abs() < 0.05);
    if !rows_sum_to_one {
        bail!(
            "{}: its outputs are not probabilities (end the teacher with a softmax)",
            args.teacher.display()
        );
    }
    if let Some(&bad) = y.data().iter().find(|&&l| l < 0.0 || l as usize >= classes) {
        bail!("label {bad} is not a class of the teacher's {classes}");
    }
    let config = DistillConfig {
        alpha: args.alpha,
        temperature: args.temperature,
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seed: args.seed,
    };
    let student = distill(&x, &y, &probabilities, &args.hidden, &config).context("training")?;
    let out = mote_train::tflite::export(&student)?.to_bytes()?;
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    println!(
        "{} -> {}: student {} -> {:?} -> {classes}, {} -> {} bytes",
        args.teacher.display(),
        args.output.display(),
        x.row_len(),
        args.hidden,
        teacher.len(),
        out.len()
    );
    Ok(())
}
