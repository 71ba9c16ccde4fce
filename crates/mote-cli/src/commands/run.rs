//! `mote run`: the no_std interpreter on the host, `.npy` in and out.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_runtime::{Interpreter, Model, OpResolver};

use mote_train::npy::{self, Array};

/// Arguments of `mote run`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote run model.tflite -i x.npy -o y.npy\n  mote run model.tflite -i x.npy            # prints the output\n\n\
An input may carry a batch: for a model input [1, ...], an array [N, ...] runs N times and the\n\
outputs are stacked to [N, ...]."
)]
pub struct RunArgs {
    /// The .tflite model to run.
    pub model: PathBuf,
    /// An input array (.npy), one per model input, in order.
    #[arg(short, long = "input", value_name = "IN.npy", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write each output (.npy), in order; without it outputs are printed.
    #[arg(short, long = "output", value_name = "OUT.npy")]
    pub outputs: Vec<PathBuf>,
    /// Arena size in bytes (default: 64 MiB; the bytes used are reported by `inspect`).
    #[arg(long, default_value_t = 64 << 20)]
    pub arena: usize,
}

/// Runs `mote run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let bytes = crate::read_model(&args.model)?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let mut arena = vec![0u8; args.arena];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())
        .with_context(|| format!("{}", args.model.display()))?;
    if args.inputs.len() != interpreter.input_count() {
        bail!(
            "{}: the model has {} input(s), {} given",
            args.model.display(),
            interpreter.input_count(),
            args.inputs.len()
        );
    }
    if args.outputs.len() > interpreter.output_count() {
        bail!(
            "{}: the model has {} output(s), {} -o given",
            args.model.display(),
            interpreter.output_count(),
            args.outputs.len()
        );
    }
    // Read and check every input before running anything.
    let mut arrays = Vec::new();
    let mut batches = None;
    for (i, path) in args.inputs.iter().enumerate() {
        let array = npy::read(path).with_context(|| format!("{}", path.display()))?;
        let tensor = interpreter.input_tensor(i)?;
        let want = tensor.shape().dims().to_vec();
        if array.dtype != tensor.dtype() {
            bail!(
                "{}: dtype {} but input {i} ('{}') is {} (convert with x.astype(np.{}))",
                path.display(),
                array.dtype,
                tensor.name(),
                tensor.dtype(),
                tensor.dtype()
            );
        }
        let n = batch_count(&array.shape, &want).with_context(|| {
            format!(
                "{}: shape {:?} does not fit input {i} ('{}') of shape {:?}",
                path.display(),
                array.shape,
                tensor.name(),
                want
            )
        })?;
        if batches.is_some_and(|b| b != n) {
            bail!(
                "{}: batch of {n} differs from the other inputs' {}",
                path.display(),
                batches.unwrap_or(0)
            );
        }
        batches = Some(n);
        arrays.push(array);
    }
    let batches = batches.unwrap_or(1);
    let mut results: Vec<Vec<u8>> = vec![Vec::new(); interpreter.output_count()];
    for b in 0..batches {
        for (i, array) in arrays.iter().enumerate() {
            let slot = interpreter.input_bytes_mut(i)?;
            let len = slot.len();
            slot.copy_from_slice(&array.data[b * len..(b + 1) * len]);
        }
        interpreter
            .invoke()
            .with_context(|| format!("{}", args.model.display()))?;
        for (o, out) in results.iter_mut().enumerate() {
            out.extend_from_slice(interpreter.output_bytes(o)?);
        }
    }
    for (o, data) in results.into_iter().enumerate() {
        let tensor = interpreter.output_tensor(o)?;
        let mut shape = tensor.shape().dims().to_vec();
        if batches > 1 {
            shape = std::iter::once(batches)
                .chain(shape.into_iter().skip(1))
                .collect();
        }
        let array = Array {
            shape,
            dtype: tensor.dtype(),
            data,
        };
        match args.outputs.get(o) {
            Some(path) => npy::write(path, &array)
                .with_context(|| format!("{}: cannot write", path.display()))?,
            None => println!(
                "output {o} '{}' {}{:?}: {:?}",
                tensor.name(),
                array.dtype,
                array.shape,
                array.to_f64()
            ),
        }
    }
    Ok(())
}

/// How many runs an array of `given` shape makes for an input of shape `want`:
/// 1 for the same shape; N for `[N, ...]` when the input is `[1, ...]`.
fn batch_count(given: &[usize], want: &[usize]) -> Option<usize> {
    if given == want {
        return Some(1);
    }
    match (given.split_first(), want.split_first()) {
        (Some((n, rest)), Some((1, want_rest))) if rest == want_rest && *n > 0 => Some(*n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::batch_count;

    #[test]
    fn batches() {
        assert_eq!(batch_count(&[1, 4], &[1, 4]), Some(1));
        assert_eq!(batch_count(&[6, 4], &[1, 4]), Some(6));
        assert_eq!(batch_count(&[6, 5], &[1, 4]), None);
        assert_eq!(batch_count(&[4], &[1, 4]), None);
    }
}
