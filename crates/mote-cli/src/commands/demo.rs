//! `mote demo`: the guided tour, offline, on built-in data.
//!
//! Part 1 is the course material's first program: the rule y = 2x - 1 is in
//! six points; guesses are measured with a loss, then an optimizer finds the
//! rule, and the learned model goes to a `.tflite` file and through the same
//! `no_std` interpreter a microcontroller runs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mote_runtime::{Interpreter, Model as Runtime, OpResolver};
use mote_train::tflite::export;
use mote_train::{Dense, Fit, Layer, Loss, Model, Sequential, Sgd, Tensor, Verbosity};

use crate::summary::summarize;

/// Arguments of `mote demo`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote demo\n  mote demo --out-dir ./demo   # keep the .tflite files there"
)]
pub struct DemoArgs {
    /// Where to write the models the tour makes (default: a `mote-demo` folder in the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Progress of training: 0 none, 1 a bar, 2 a line per epoch.
    #[arg(long, default_value_t = 1)]
    pub verbose: u8,
}

/// The six points of the course's first example: y = 2x - 1.
const XS: [f32; 6] = [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0];
const YS: [f32; 6] = [-3.0, -1.0, 1.0, 3.0, 5.0, 7.0];

/// Runs `mote demo`.
pub fn run(args: &DemoArgs) -> Result<()> {
    let dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("mote-demo"));
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    heading("1. The rule is in the data");
    println!("xs = {XS:?}\nys = {YS:?}\nA guess is a rule y = w*x + b; its loss measures how wrong it is.\n");
    for (w, b) in [(3.0, -1.0), (2.0, -2.0), (2.0, -1.0)] {
        loss_walk(w, b);
    }
    // The course material gives 5 and 2.23 for y = 2x - 2; every one of the six
    // points is off by exactly 1 there, so the sum is 6. We print what we compute.
    println!("(The course material quotes 5 and 2.23 for y = 2x - 2; each of the six points is off by 1, so the sum is 6.)");

    heading("2. Let an optimizer guess");
    let mut model = train(args.verbose)?;
    let (weight, bias) = weight_and_bias(&model);
    let predicted = model.predict(&Tensor::new(vec![10.0], [1, 1])?)?.data()[0];
    println!("Learned: weight {weight:.4}, bias {bias:.4}  (the rule is 2 and -1)");
    println!("model.predict(10) = {predicted:.4}  (the rule gives 19)");

    heading("3. To the device");
    let bytes = export(&model)?.to_bytes()?;
    let path = dir.join("line.tflite");
    mote_train::files::write_atomic(&path, &bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    println!(
        "Wrote {} ({} bytes): a standard .tflite file.",
        path.display(),
        bytes.len()
    );
    let runtime = Runtime::parse(&bytes)?;
    for row in summarize(&runtime).operators {
        println!(
            "  operator {}: {}  {:?} -> {:?}, {} parameters",
            row.index, row.op, row.inputs, row.outputs, row.params
        );
    }
    let mut arena = [0u8; 1024];
    let mut interpreter = Interpreter::new(&runtime, &mut arena, &OpResolver::all())?;
    interpreter.input_mut::<f32>(0)?[0] = 10.0;
    interpreter.invoke()?;
    let on_device = interpreter.output::<f32>(0)?[0];
    println!(
        "mote-runtime (no_std, no heap, {} bytes of arena): predict(10) = {on_device:.4}, {} the trained model",
        interpreter.arena_used(),
        if (on_device - predicted).abs() <= 1e-6 { "the same as" } else { "DIFFERENT from" }
    );
    println!(
        "\nNext: mote inspect {}   |   mote run {} -i x.npy",
        path.display(),
        path.display()
    );
    Ok(())
}

fn heading(title: &str) {
    println!(
        "\n== {title} {}",
        "=".repeat(60usize.saturating_sub(title.len()))
    );
}

/// Prints a guess's predictions, errors and squared errors, their sum and its root.
fn loss_walk(w: f32, b: f32) {
    let sign = if b < 0.0 { '-' } else { '+' };
    println!("Guess y = {w}x {sign} {}", b.abs());
    println!(
        "  {:>4} {:>4} {:>6} {:>6} {:>8}",
        "x", "y", "guess", "error", "error^2"
    );
    let mut sum = 0.0;
    for (x, y) in XS.iter().zip(YS) {
        let guess = w * x + b;
        let error = guess - y;
        sum += error * error;
        println!("  {x:>4} {y:>4} {guess:>6} {error:>6} {:>8}", error * error);
    }
    println!(
        "  sum of squared errors = {sum}, its square root = {:.2}\n",
        f32::sqrt(sum)
    );
}

/// One Dense unit, SGD with learning rate 0.01, mean squared error, 500 epochs
/// over the six points in one batch: the course's `model.fit(xs, ys, epochs=500)`.
fn train(verbose: u8) -> Result<Model> {
    let xs = Tensor::new(XS.to_vec(), [6, 1])?;
    let ys = Tensor::new(YS.to_vec(), [6, 1])?;
    let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
    model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
    println!("model = Sequential([Dense(1, input_shape=[1])]); SGD(0.01); mean squared error; 500 epochs");
    let verbosity = match verbose {
        0 => Verbosity::Silent,
        2 => Verbosity::Lines,
        _ => Verbosity::Auto,
    };
    // Progress goes to stdout so the tour reads in order.
    let history = model.fit(
        &xs,
        &ys,
        Fit::epochs(500)
            .verbose(verbosity)
            .progress_to(std::io::stdout()),
    )?;
    if let (Some(first), Some(last)) = (history.loss().first(), history.loss().last()) {
        println!("loss: {first:.4} at epoch 1 -> {last:.6} at epoch 500");
    }
    Ok(model)
}

fn weight_and_bias(model: &Model) -> (f32, f32) {
    match model.layers().next() {
        Some(Layer::Dense(dense)) => (
            dense.kernel().map_or(f32::NAN, |k| k.data()[0]),
            dense.bias().map_or(0.0, |b| b.data()[0]),
        ),
        _ => (f32::NAN, f32::NAN),
    }
}
