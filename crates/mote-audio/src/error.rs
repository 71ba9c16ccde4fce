//! The audio pipeline's error type.

use mote_runtime::{Shape, TensorType};

/// What can go wrong when assembling or running the pipeline. Small and `Copy`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum AudioError {
    /// The runtime failed (parsing, preparing or invoking a model).
    Runtime(mote_runtime::Error),
    /// The front-end does not take one window of int16 samples.
    FrontEndInput {
        /// Its input's shape.
        shape: Shape,
        /// Its input's type.
        dtype: TensorType,
        /// Samples per window the pipeline feeds.
        window: usize,
    },
    /// The front-end's output frames do not tile the classifier's input.
    ShapeMismatch {
        /// The front-end's output shape (one frame).
        frontend_output: Shape,
        /// The classifier's input shape (a window of frames).
        classifier_input: Shape,
    },
    /// A tensor the pipeline passes along is not int8.
    NotInt8 {
        /// Which tensor.
        what: &'static str,
        /// Its type.
        dtype: TensorType,
    },
    /// The feature storage is not the size of the classifier's input.
    StorageSize {
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The classifier has more classes than the detector tracks.
    TooManyClasses {
        /// Classes of the model.
        classes: usize,
        /// Most supported.
        max: usize,
    },
}

impl From<mote_runtime::Error> for AudioError {
    fn from(e: mote_runtime::Error) -> Self {
        AudioError::Runtime(e)
    }
}

impl core::fmt::Display for AudioError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Runtime(e) => write!(f, "{e}"),
            Self::FrontEndInput { shape, dtype, window } => write!(
                f,
                "the front-end's input is {dtype}{shape}, not one window of {window} int16 samples"
            ),
            Self::ShapeMismatch {
                frontend_output,
                classifier_input,
            } => write!(
                f,
                "the front-end's output {frontend_output} does not fit the classifier's input {classifier_input} (its size must be a whole number of front-end frames)"
            ),
            Self::NotInt8 { what, dtype } => write!(f, "the {what} is {dtype}, not int8"),
            Self::StorageSize { expected, got } => write!(
                f,
                "feature storage has {got} bytes, the classifier's input needs {expected}"
            ),
            Self::TooManyClasses { classes, max } => {
                write!(f, "the classifier has {classes} classes, at most {max} are supported")
            }
        }
    }
}

impl core::error::Error for AudioError {}
