//! Why a model cannot be quantized.

use mote_runtime::{BuiltinOperator, TensorType};

/// Why post-training quantization failed.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum QuantizeError {
    /// The input bytes are not a valid `.tflite` model.
    Model(mote_runtime::Error),
    /// The model has more than one subgraph or more than one input.
    Unsupported(&'static str),
    /// An operator has no int8 quantization here.
    UnsupportedOp {
        /// Its position in execution order.
        index: usize,
        /// Which operator.
        op: BuiltinOperator,
    },
    /// A custom operator (no int8 quantization here).
    UnsupportedCustomOp {
        /// Its position in execution order.
        index: usize,
        /// Its custom name.
        name: String,
    },
    /// A tensor that should be float32 is not (the model is not a float model).
    NotFloat {
        /// The tensor's name.
        tensor: String,
        /// Its type.
        dtype: TensorType,
    },
    /// An operator's weights are not constant.
    VariableWeights {
        /// The operator's position in execution order.
        index: usize,
    },
    /// The calibration set has no samples.
    EmptyCalibration,
    /// The calibration samples do not match the model's input shape.
    CalibrationShape {
        /// The model's input shape.
        expected: Vec<usize>,
        /// The calibration array's shape.
        found: Vec<usize>,
    },
    /// A calibration run produced NaN or infinity in a tensor.
    NonFinite {
        /// The tensor's name.
        tensor: String,
    },
    /// The float model failed to run during calibration.
    Calibration(mote_runtime::Error),
}

impl std::fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuantizeError::Model(e) => write!(f, "not a valid .tflite model: {e}"),
            QuantizeError::Unsupported(what) => write!(f, "cannot quantize {what}"),
            QuantizeError::UnsupportedOp { index, op } => {
                write!(f, "operator {index} ({op}) cannot be quantized to int8")
            }
            QuantizeError::UnsupportedCustomOp { index, name } => {
                write!(f, "operator {index} (custom {name}) cannot be quantized to int8")
            }
            QuantizeError::NotFloat { tensor, dtype } => write!(
                f,
                "tensor '{tensor}' is {dtype}, not float32: only float models can be quantized"
            ),
            QuantizeError::VariableWeights { index } => {
                write!(f, "operator {index} has non-constant weights")
            }
            QuantizeError::EmptyCalibration => f.write_str("the calibration set is empty"),
            QuantizeError::CalibrationShape { expected, found } => write!(
                f,
                "calibration data of shape {found:?} does not match the model input {expected:?} (expected [N, ...] with ... = the input shape without its batch dimension)"
            ),
            QuantizeError::NonFinite { tensor } => write!(
                f,
                "tensor '{tensor}' took a NaN or infinite value during calibration"
            ),
            QuantizeError::Calibration(e) => write!(f, "the float model failed to run: {e}"),
        }
    }
}

impl std::error::Error for QuantizeError {}
