//! `mote train`: a model from a TOML spec and `.npy` data, trained and
//! written as a float32 `.tflite` file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_train::data::read_npy;
use mote_train::spec::Spec;
use mote_train::tflite::export;
use mote_train::{Fit, Tensor};

/// Arguments of `mote train`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  mote data digits -o data/digits\n  \
mote train examples/specs/digits_mlp.toml --x data/digits/x_train.npy --y data/digits/y_train.npy -o mlp.tflite\n  \
mote train examples/specs/digits_cnn.toml --x data/digits/x_train.npy --y data/digits/y_train.npy \\\n      \
--val-x data/digits/x_test.npy --val-y data/digits/y_test.npy -o cnn.tflite --history cnn.csv --plot cnn.svg\n\n\
The spec format is documented in examples/specs/README.md. x may hold flat rows: [N, 64] fits an\n\
input_shape of [8, 8, 1]. Training stops, and writes no model, if the loss becomes NaN.")]
pub struct TrainArgs {
    /// The training spec (.toml): input shape, layers, optimizer, loss, metrics, epochs, batch size, seed.
    pub spec: PathBuf,
    /// Training inputs (.npy, [N, ...]).
    #[arg(long, value_name = "X.npy")]
    pub x: PathBuf,
    /// Training targets (.npy): integer labels [N] or one-hot/values [N, ...].
    #[arg(long, value_name = "Y.npy")]
    pub y: PathBuf,
    /// Validation inputs (.npy), evaluated after each epoch.
    #[arg(long, value_name = "X.npy", requires = "val_y")]
    pub val_x: Option<PathBuf>,
    /// Validation targets (.npy).
    #[arg(long, value_name = "Y.npy", requires = "val_x")]
    pub val_y: Option<PathBuf>,
    /// Where to write the trained model (.tflite, float32).
    #[arg(short, long, value_name = "MODEL.tflite")]
    pub output: PathBuf,
    /// Where to write the loss and metrics per epoch (.csv, or .json for any other extension).
    #[arg(long, value_name = "H.csv")]
    pub history: Option<PathBuf>,
    /// Where to draw the loss and metrics per epoch (.svg).
    #[arg(long, value_name = "H.svg")]
    pub plot: Option<PathBuf>,
    /// Print one JSON object with the final values instead of text (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// Progress on stderr: 0 none, 1 a bar, 2 a line per epoch.
    #[arg(long, default_value_t = 2)]
    pub verbose: u8,
}

/// Reads `path` as inputs for a model of per-sample `shape`: `[N, ...]` with
/// the same number of values per row.
pub fn read_inputs(path: &Path, shape: &[usize]) -> Result<Tensor> {
    let x = read_npy(path)?;
    let per_sample: usize = shape.iter().product();
    if x.shape().len() < 2 || x.row_len() != per_sample {
        bail!(
            "{}: shape {:?} does not fit the model input [N, {}] ({} values per row)",
            path.display(),
            x.shape(),
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            per_sample
        );
    }
    let mut full = vec![x.rows()];
    full.extend_from_slice(shape);
    Ok(x.reshape(full)?)
}

/// Reads targets and checks they have one row per input row.
pub fn read_targets(path: &Path, rows: usize) -> Result<Tensor> {
    let y = read_npy(path)?;
    if y.shape().is_empty() || y.rows() != rows {
        bail!(
            "{}: shape {:?} has not one row per input row ({rows})",
            path.display(),
            y.shape()
        );
    }
    Ok(y)
}

/// Runs `mote train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.spec)
        .with_context(|| format!("{}: cannot read", args.spec.display()))?;
    let spec = Spec::parse(&text).with_context(|| format!("{}", args.spec.display()))?;
    let mut model = spec
        .model()
        .with_context(|| format!("{}", args.spec.display()))?;
    let x = read_inputs(&args.x, &spec.input_shape)?;
    let y = read_targets(&args.y, x.rows())?;
    let validation = match (&args.val_x, &args.val_y) {
        (Some(vx), Some(vy)) => {
            let x = read_inputs(vx, &spec.input_shape)?;
            let y = read_targets(vy, x.rows())?;
            Some((x, y))
        }
        _ => None,
    };
    let mut fit = Fit::epochs(spec.epochs)
        .batch_size(spec.batch_size)
        .seed(spec.seed)
        .shuffle(spec.shuffle)
        .verbose(if args.json { 0 } else { args.verbose });
    if let Some((vx, vy)) = &validation {
        fit = fit.validation_data(vx, vy);
    }
    let files = match &validation {
        Some(_) => format!(
            "{} / {} (validation {} / {})",
            args.x.display(),
            args.y.display(),
            args.val_x.as_deref().unwrap_or(Path::new("")).display(),
            args.val_y.as_deref().unwrap_or(Path::new("")).display()
        ),
        None => format!("{} / {}", args.x.display(), args.y.display()),
    };
    let history = model.fit(&x, &y, fit).with_context(|| files)?;
    let bytes = export(&model)?.to_bytes()?;
    mote_train::files::write_atomic(&args.output, &bytes)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    if let Some(path) = &args.history {
        history.save(path)?;
    }
    if let Some(path) = &args.plot {
        history.save_svg(path)?;
    }
    let last: Vec<(String, f32)> = history
        .keys()
        .filter_map(|k| Some((k.to_string(), *history.get(k)?.last()?)))
        .collect();
    if args.json {
        let mut object = serde_json::Map::new();
        object.insert("model".into(), args.output.display().to_string().into());
        object.insert("epochs".into(), history.epochs().into());
        object.insert("params".into(), model.param_count().into());
        object.insert("bytes".into(), bytes.len().into());
        for (k, v) in &last {
            object.insert(k.clone(), serde_json::json!(v));
        }
        println!("{}", serde_json::Value::Object(object));
    } else {
        let values: Vec<String> = last.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        println!(
            "trained {} epochs: {}\nwrote {} ({} parameters, {} bytes)",
            history.epochs(),
            values.join(", "),
            args.output.display(),
            model.param_count(),
            bytes.len()
        );
    }
    Ok(())
}
