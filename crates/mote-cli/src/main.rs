//! `mote`: TinyML in Rust, from data to a microcontroller.

mod commands;
mod summary;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

/// TinyML in Rust: train, compress, inspect and run neural networks for microcontrollers.
#[derive(Parser, Debug)]
#[command(name = "mote", version, about, long_about = None,
    after_help = "Start with `mote demo`, the guided tour. Every command has --help with examples.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Time a .tflite model on the host: median and min latency per invoke, arena bytes.
    Bench(commands::bench::BenchArgs),
    /// Compile a .tflite model into Rust source: constant arena size, only the kernels it uses.
    Codegen(commands::codegen::CodegenArgs),
    /// Compare variants of a model: size, gzip size, sparsity, arena, accuracy, output MSE.
    Compare(commands::compare::CompareArgs),
    /// The guided tour: learn y = 2x - 1 from six points, export it, run it on the device runtime.
    Demo(commands::demo::DemoArgs),
    /// Cluster an int8 model's filters to at most K values per channel (dense int8 out; LUT sizes shown).
    Cluster(commands::cluster::ClusterArgs),
    /// Train a small MLP student from a teacher model's softened probabilities and labels.
    Distill(commands::distill::DistillArgs),
    /// Describe a .tflite model: operators, shapes, parameters, MACs, arena bytes.
    Inspect(commands::inspect::InspectArgs),
    /// Spot keywords in a WAV file: a front-end model makes features, a classifier labels them.
    Listen(commands::listen::ListenArgs),
    /// Prune a float model (Dense, Conv2D, DepthwiseConv2D kernels) by weight magnitude, fine-tuning on data.
    Prune(commands::prune::PruneArgs),
    /// Fine-tune a float classifier with simulated int8 rounding (QAT); write it as int8.
    Qat(commands::qat::QatArgs),
    /// Quantize a float .tflite model to int8 from representative inputs.
    Quantize(commands::quantize::QuantizeArgs),
    /// Run a .tflite model on .npy inputs with the no_std interpreter.
    Run(commands::run::RunArgs),
    /// Train a model from a TOML spec and .npy data; write it as .tflite.
    Train(commands::train::TrainArgs),
    /// Evaluate a .tflite model on labelled .npy data: loss, accuracy, confusion matrix.
    Eval(commands::eval::EvalArgs),
    /// Write a reference data set (digits, iris) as .npy files, split for training and testing.
    Data(commands::data::DataArgs),
}

/// Reads a model file with an error that names it.
pub(crate) fn read_model(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let tagged = bytes.get(4..8) == Some(b"TFL3".as_slice());
    if !tagged && mote_runtime::Model::parse(&bytes).is_err() {
        bail!(
            "{}: not a .tflite model (no TFL3 identifier)",
            path.display()
        );
    }
    Ok(bytes)
}

/// Lets a closed pipe (`mote inspect m.tflite | head`) end the process quietly,
/// as it does other command-line tools, instead of a panic in `println!`.
#[cfg(unix)]
fn restore_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: resetting a signal to its default action has no preconditions.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Bench(args) => commands::bench::run(args),
        Command::Codegen(args) => commands::codegen::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Distill(args) => commands::distill::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Listen(args) => commands::listen::run(args),
        Command::Cluster(args) => commands::cluster::run(args),
        Command::Prune(args) => commands::prune::run(args),
        Command::Qat(args) => commands::qat::run(args),
        Command::Quantize(args) => commands::quantize::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Data(args) => commands::data::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain joined by ": ".
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
