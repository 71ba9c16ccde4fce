//! `mote quantize`: post-training int8 quantization of a float `.tflite`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use mote_compress::quantize::{quantize, Calibration, Io, QuantizeConfig, RangeMethod, WeightType};
use mote_runtime::TensorType;
use mote_train::npy;

/// A range method, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// The smallest and largest value seen.
    Minmax,
    /// The 0.01th and 99.99th percentiles (outliers clip).
    Percentile,
    /// The clipping with the least mean squared quantization error.
    Mse,
}

impl From<Method> for RangeMethod {
    fn from(m: Method) -> Self {
        match m {
            Method::Minmax => RangeMethod::MinMax,
            Method::Percentile => RangeMethod::Percentile,
            Method::Mse => RangeMethod::Mse,
        }
    }
}

/// The element type of the quantized model's inputs and outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IoType {
    /// int8, quantized as calibrated.
    Int8,
    /// float32, with QUANTIZE/DEQUANTIZE inside the model.
    Float,
}

/// How weights are stored, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Weights {
    /// int8, symmetric in [-127, 127].
    Int8,
    /// int4 (TFLite INT4, two a byte), symmetric in [-7, 7]; FULLY_CONNECTED takes one scale.
    Int4,
}

impl From<Weights> for WeightType {
    fn from(w: Weights) -> Self {
        match w {
            Weights::Int8 => WeightType::Int8,
            Weights::Int4 => WeightType::Int4,
        }
    }
}

/// Arguments of `mote quantize`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  mote quantize model.tflite --calibration x_train.npy -o model_int8.tflite\n  \
mote quantize model.tflite --calibration x.npy -o out.tflite --io float --method percentile\n  \
mote quantize model.tflite --calibration x.npy -o out.tflite --method-for dense/linear=mse\n  \
mote quantize model.tflite --calibration x.npy -o model_int4.tflite --weights int4\n\n\
The calibration array stacks representative inputs along its first axis: [N, ...] where ... is\n\
the model input's shape without its batch dimension (float32 or float64)."
)]
pub struct QuantizeArgs {
    /// The float32 .tflite model.
    pub model: PathBuf,
    /// Representative inputs (.npy, [N, ...]).
    #[arg(long, value_name = "X.npy")]
    pub calibration: PathBuf,
    /// Where to write the int8 model.
    #[arg(short, long, value_name = "OUT.tflite")]
    pub output: PathBuf,
    /// One weight scale per tensor instead of per output channel.
    #[arg(long)]
    pub per_tensor: bool,
    /// Input and output type of the quantized model.
    #[arg(long, value_enum, default_value = "int8")]
    pub io: IoType,
    /// How activation ranges are chosen.
    #[arg(long, value_enum, default_value = "minmax")]
    pub method: Method,
    /// How weights are stored: int8, or int4 packed two a byte (half the weight bytes).
    #[arg(long, value_enum, default_value = "int8")]
    pub weights: Weights,
    /// A range method for one tensor, by name: NAME=minmax|percentile|mse (repeatable).
    #[arg(long, value_name = "NAME=METHOD")]
    pub method_for: Vec<String>,
}

/// Runs `mote quantize`.
pub fn run(args: &QuantizeArgs) -> Result<()> {
    let bytes = crate::read_model(&args.model)?;
    let array =
        npy::read(&args.calibration).with_context(|| format!("{}", args.calibration.display()))?;
    let values: Vec<f32> = match array.dtype {
        TensorType::Float32 | TensorType::Float64 => {
            array.to_f64().into_iter().map(|v| v as f32).collect()
        }
        other => bail!(
            "{}: dtype {other}, but calibration data must be float32 (x.astype(np.float32))",
            args.calibration.display()
        ),
    };
    let calibration = Calibration::new(array.shape.clone(), values)
        .with_context(|| format!("{}", args.calibration.display()))?;
    let mut overrides = Vec::new();
    for spec in &args.method_for {
        let Some((name, method)) = spec.rsplit_once('=') else {
            bail!("--method-for {spec}: expected NAME=minmax|percentile|mse");
        };
        let method = Method::from_str(method, true)
            .map_err(|_| anyhow::anyhow!("--method-for {spec}: unknown method '{method}'"))?;
        overrides.push((name.to_string(), method.into()));
    }
    let config = QuantizeConfig {
        method: args.method.into(),
        overrides,
        per_channel: !args.per_tensor,
        weights: args.weights.into(),
        io: match args.io {
            IoType::Int8 => Io::Int8,
            IoType::Float => Io::Float,
        },
    };
    let int8 = quantize(&bytes, &calibration, &config)
        .with_context(|| format!("{}", args.model.display()))?;
    let out = int8
        .to_bytes()
        .with_context(|| format!("{}", args.output.display()))?;
    mote_train::files::write_atomic(&args.output, &out)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    println!(
        "{} -> {}: {} -> {} bytes, {} calibration samples",
        args.model.display(),
        args.output.display(),
        bytes.len(),
        out.len(),
        calibration.len()
    );
    Ok(())
}
