//! `mote distill`: train a student spec from a teacher `.tflite` and labels.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mote_compress::distill::{distill, teacher_logits, DistillConfig, LogitSource};
use mote_train::spec::Spec;

use super::train::{read_inputs, read_targets};

/// Arguments of `mote distill`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote train examples/specs/digits_teacher.toml --x d/x_train.npy --y d/y_train.npy -o teacher.tflite\n  \
mote distill --teacher teacher.tflite --student examples/specs/digits_student.toml --x d/x_train.npy --y d/y_train.npy -o student.tflite\n\n\
loss = alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(softmax(teacher/T) || softmax(student/T)),\n\
both averaged over the batch. The student is a training spec (as for `mote train`: layers, optimizer,\n\
epochs, batch size, seed), ending in softmax or in logits; `mote train` of the same spec is the same\n\
student trained on labels alone (same initial weights and batches). The teacher is any one-input\n\
.tflite classifier: a final SOFTMAX is cut off to read its logits; outputs that are probabilities\n\
give log-probabilities (the logits up to a constant); other outputs are taken as logits."
)]
pub struct DistillArgs {
    /// The teacher model (.tflite).
    #[arg(long, value_name = "TEACHER.tflite")]
    pub teacher: PathBuf,
    /// The student's training spec (.toml).
    #[arg(long, value_name = "SPEC.toml")]
    pub student: PathBuf,
    /// Training inputs (.npy, [N, ...]).
    #[arg(long, visible_alias = "data", value_name = "X.npy")]
    pub x: PathBuf,
    /// Class labels (.npy, [N]).
    #[arg(long, visible_alias = "labels", value_name = "Y.npy")]
    pub y: PathBuf,
    /// Where to write the student (float .tflite).
    #[arg(short, long, value_name = "OUT.tflite")]
    pub output: PathBuf,
    /// Weight of the labels' cross-entropy, in [0, 1].
    #[arg(long, default_value_t = 0.1, allow_hyphen_values = true)]
    pub alpha: f32,
    /// Softmax temperature T > 0.
    #[arg(long, default_value_t = 4.0, allow_hyphen_values = true)]
    pub temperature: f32,
}

/// Runs `mote distill`.
pub fn run(args: &DistillArgs) -> Result<()> {
    let config = DistillConfig {
        alpha: args.alpha,
        temperature: args.temperature,
    };
    config.check()?;
    let text = std::fs::read_to_string(&args.student)
        .with_context(|| format!("{}: cannot read", args.student.display()))?;
    let spec = Spec::parse(&text).with_context(|| format!("{}", args.student.display()))?;
    let teacher = crate::read_model(&args.teacher)?;
    let x = read_inputs(&args.x, &spec.input_shape)?;
    let y = read_targets(&args.y, x.rows())?;
    let (logits, source) = teacher_logits(&teacher, x.data(), x.data().len() / x.rows().max(1))
        .with_context(|| format!("{}", args.teacher.display()))?;
    let student = distill(&spec, &x, &y, &logits, &config)
        .with_context(|| format!("{} from {}", args.student.display(), args.teacher.display()))?;
    let out = mote_train::tflite::export(&student)?.to_bytes()?;
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    let source = match source {
        LogitSource::BeforeSoftmax => "logits before its softmax",
        LogitSource::LogProbabilities => "log-probabilities",
        LogitSource::Outputs => "outputs as logits",
    };
    println!(
        "distilled {} epochs (alpha {}, T {}, teacher's {source}): wrote {} ({} parameters, {} bytes)",
        spec.epochs,
        config.alpha,
        config.temperature,
        args.output.display(),
        student.param_count(),
        out.len()
    );
    Ok(())
}
