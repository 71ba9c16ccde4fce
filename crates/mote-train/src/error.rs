//! The crate's error type: every failure names what it was working on.

use std::path::PathBuf;

/// Everything that can go wrong while building, training or running a model,
/// or while reading and writing data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor's data does not fill its shape.
    #[error("tensor data has {len} values but shape {shape:?} needs {expected}")]
    DataLength {
        /// Number of values given.
        len: usize,
        /// The shape asked for.
        shape: Vec<usize>,
        /// Product of the shape.
        expected: usize,
    },
    /// Shapes that must agree do not.
    #[error("{context}: expected shape {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Where it happened, e.g. `layer 'dense_1' (Dense)`.
        context: String,
        /// The shape wanted (`0` stands for "any size" in a batch axis).
        expected: Vec<usize>,
        /// The shape given.
        found: Vec<usize>,
    },
    /// A layer cannot be built on the shapes it receives.
    #[error("layer '{layer}' ({kind}): {message}")]
    Layer {
        /// The layer's name in the model.
        layer: String,
        /// The layer's kind, e.g. `Dense`.
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
    /// NaN or infinity found in input data.
    #[error("{what} has a non-finite value (NaN or infinity) in row {row}")]
    NonFiniteData {
        /// Which data: `x`, `y`, `validation x` ...
        what: &'static str,
        /// The first offending row (sample index along axis 0).
        row: usize,
    },
    /// The loss became NaN or infinite; training stopped.
    #[error("loss became {value} at epoch {epoch}, batch {batch}; training stopped (try a smaller learning rate or normalized inputs)")]
    NonFiniteLoss {
        /// The loss value.
        value: f32,
        /// Epoch (1-based).
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
    },
    /// `fit` or `evaluate` was called before `compile`.
    #[error("the model is not compiled: call compile(optimizer, loss) before {0}")]
    NotCompiled(&'static str),
    /// The model has no known input shape yet.
    #[error("the model's input shape is unknown: give the first layer an input_shape, or call fit/predict first")]
    NotBuilt,
    /// A configuration value is out of range.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The setting, e.g. `batch_size`.
        what: &'static str,
        /// Why it is rejected.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A file's content is malformed.
    #[error("{path}: {message}")]
    Format {
        /// The file (or a description of the stream).
        path: PathBuf,
        /// What is wrong, with the line or byte where known.
        message: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub(crate) fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            message: message.into(),
        }
    }
}
