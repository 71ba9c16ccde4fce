//! Post-training int8 quantization (TensorFlow Lite's int8 scheme).
//!
//! 1. [`import`](import::import) reads the float `.tflite` into a [`ModelDef`]
//!    and refuses, by index and name, an op the rewrite does not handle.
//! 2. [`calibrate`](calibrate::calibrate) runs it on representative inputs with
//!    mote-runtime's float kernels and records every activation's values.
//! 3. [`range`] turns each tensor's values into an asymmetric int8
//!    `(scale, zero_point)` by min/max, percentile or least squared error.
//! 4. [`rewrite`](rewrite::rewrite) writes the int8 model: per-channel
//!    symmetric int8 weights ([`weights`]), int32 biases at
//!    `input_scale * weight_scale`, fused activations kept, and each op's
//!    output as TensorFlow Lite's int8 spec has it ([`rewrite::output_rule`]):
//!    calibrated (FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL,
//!    MEAN, RELU, LEAKY_RELU, HARD_SWISH), fixed (SOFTMAX/LOGISTIC 1/256, -128;
//!    TANH 1/128, 0), the input's (RESHAPE, MAX_POOL_2D, AVERAGE_POOL_2D, PAD,
//!    PADV2, SQUEEZE, EXPAND_DIMS, TRANSPOSE, STRIDED_SLICE, RELU6) or shared
//!    with the inputs (CONCATENATION, MAXIMUM, MINIMUM; an input that cannot
//!    share is requantized by an int8 QUANTIZE); QUANTIZE and DEQUANTIZE at
//!    the edges when the caller wants float I/O. UNIDIRECTIONAL_SEQUENCE_LSTM
//!    follows its own int8 scheme ([`lstm`]).

pub mod calibrate;
mod error;
pub mod import;
pub mod lstm;
pub mod range;
pub mod rewrite;
pub mod weights;

pub use calibrate::Calibration;
pub use error::QuantizeError;
pub use range::RangeMethod;
pub use weights::WeightType;

use mote_train::tflite::ModelDef;

/// The element type of the quantized model's inputs and outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Io {
    /// int8 inputs and outputs, quantized as calibrated (what a device wants).
    #[default]
    Int8,
    /// float32 inputs and outputs, with QUANTIZE and DEQUANTIZE at the edges.
    Float,
}

/// How to quantize.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizeConfig {
    /// The range method of every activation tensor without an override.
    pub method: RangeMethod,
    /// Per-tensor range methods, by tensor name.
    pub overrides: Vec<(String, RangeMethod)>,
    /// One weight scale per output channel (else one per tensor). int4
    /// FULLY_CONNECTED weights always take one (TensorFlow Lite Micro runs no
    /// other).
    pub per_channel: bool,
    /// How weights are stored.
    pub weights: WeightType,
    /// The input and output element type.
    pub io: Io,
}

impl Default for QuantizeConfig {
    fn default() -> Self {
        QuantizeConfig {
            method: RangeMethod::MinMax,
            overrides: Vec::new(),
            per_channel: true,
            weights: WeightType::Int8,
            io: Io::Int8,
        }
    }
}

impl QuantizeConfig {
    /// The range method of the tensor named `name`.
    pub fn method_for(&self, name: &str) -> RangeMethod {
        self.overrides
            .iter()
            .find(|(n, _)| n == name)
            .map_or(self.method, |(_, m)| *m)
    }
}

/// Quantizes the float32 `.tflite` model `bytes` to int8 with `calibration`
/// as representative inputs.
pub fn quantize(
    bytes: &[u8],
    calibration: &Calibration,
    config: &QuantizeConfig,
) -> Result<ModelDef, QuantizeError> {
    let float = import::import(bytes)?;
    rewrite::check_weights(&float)?;
    let needs_histogram = config.method != RangeMethod::MinMax
        || config
            .overrides
            .iter()
            .any(|(_, m)| *m != RangeMethod::MinMax);
    let bins = if needs_histogram { range::BINS } else { 1 };
    let observed = calibrate::calibrate(&float, calibration, bins)?;
    rewrite::rewrite(&float, &observed, config)
}
