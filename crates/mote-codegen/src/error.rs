//! What can go wrong while generating code.

use mote_runtime::Error;

/// Why a model cannot be compiled.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodegenError {
    /// The struct name is not a Rust identifier.
    BadName(String),
    /// The file is not a valid model.
    Malformed(Error),
    /// The runtime has no kernel for operator `index`.
    UnsupportedOp {
        /// The operator's index in execution order.
        index: u32,
        /// Its name (`CONV_2D`, `CUSTOM:ethos-u`).
        op: String,
    },
    /// An operator's `prepare` refused the model (a type, a shape, options).
    Prepare(Error),
    /// Something the generated code cannot express (a constant graph
    /// output, a graph input of an unsupported type).
    Unsupported(String),
}

impl CodegenError {
    /// The error of building the host interpreter, sorted by kind.
    pub(crate) fn from_prepare(error: Error) -> Self {
        match error {
            Error::UnsupportedOp { index, op } => CodegenError::UnsupportedOp {
                index,
                op: op.to_string(),
            },
            other => CodegenError::Prepare(other),
        }
    }
}

impl core::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CodegenError::BadName(name) => {
                write!(
                    f,
                    "`{name}` is not a Rust type name (letters, digits, `_`; a letter first)"
                )
            }
            CodegenError::Malformed(e) => write!(f, "not a valid model: {e}"),
            CodegenError::UnsupportedOp { index, op } => {
                write!(
                    f,
                    "operator {index} ({op}) is not supported by mote-runtime"
                )
            }
            CodegenError::Prepare(e) => write!(f, "{e}"),
            CodegenError::Unsupported(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for CodegenError {}
