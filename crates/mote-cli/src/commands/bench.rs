//! `mote bench`: host latency of the no_std interpreter on one model.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use mote_runtime::{Interpreter, Model, OpResolver};

/// Arguments of `mote bench`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote bench model.tflite\n  mote bench model.tflite --json\n  mote bench model.tflite --invokes 1000\n\n\
Inputs are seeded pseudo-random bytes. Latency is per invoke, after one warm-up invoke; compare it\n\
with a peer (e.g. TensorFlow Lite Micro) measured on the same machine, not as an absolute number."
)]
pub struct BenchArgs {
    /// The .tflite model to time.
    pub model: PathBuf,
    /// Number of timed invokes (default: as many as fit in about one second, 5 to 10000).
    #[arg(long)]
    pub invokes: Option<usize>,
    /// Arena size in bytes (the bytes actually used are reported).
    #[arg(long, default_value_t = 64 << 20)]
    pub arena: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `mote bench` measured.
#[derive(Debug, serde::Serialize)]
struct Report {
    model: String,
    invokes: usize,
    median_us: f64,
    min_us: f64,
    mean_us: f64,
    arena_bytes: usize,
    /// The optimized kernels this CPU runs (`mote_runtime::kernels`).
    kernels: &'static str,
}

/// Runs `mote bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    let bytes = crate::read_model(&args.model)?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let mut arena = vec![0u8; args.arena];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())
        .with_context(|| format!("{}", args.model.display()))?;
    // Seeded inputs (xorshift): every run times the same work.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..interpreter.input_count() {
        for byte in interpreter.input_bytes_mut(i)? {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 24) as u8;
        }
    }
    let time_one = |interpreter: &mut Interpreter<'_, '_>| -> Result<Duration> {
        let start = Instant::now();
        interpreter.invoke()?;
        Ok(start.elapsed())
    };
    let warm_up = time_one(&mut interpreter)?;
    let invokes = args.invokes.unwrap_or_else(|| {
        let per = warm_up.as_secs_f64().max(1e-7);
        ((1.0 / per) as usize).clamp(5, 10_000)
    });
    let mut times = Vec::with_capacity(invokes);
    for _ in 0..invokes.max(1) {
        times.push(time_one(&mut interpreter)?.as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let report = Report {
        model: args.model.display().to_string(),
        invokes: times.len(),
        median_us: median(&times),
        min_us: times.first().copied().unwrap_or(0.0),
        mean_us: times.iter().sum::<f64>() / times.len() as f64,
        arena_bytes: interpreter.arena_used(),
        kernels: mote_runtime::kernels(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{}: median {:.1} µs, min {:.1} µs per invoke ({} invokes); arena {} bytes; {} kernels",
            report.model,
            report.median_us,
            report.min_us,
            report.invokes,
            report.arena_bytes,
            report.kernels
        );
    }
    Ok(())
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[1.0, 2.0, 10.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
    }
}
