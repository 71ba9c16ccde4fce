//! The runtime's one error type.

use crate::model::{BuiltinOperator, Fault, TensorType};

/// Where in a model a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The model's root table.
    Model,
    /// An entry of the model's operator-code table.
    OperatorCode(u32),
    /// A subgraph.
    Subgraph(u32),
    /// A tensor of the main subgraph (or of the subgraph being read).
    Tensor(u32),
    /// An operator, by its position in the subgraph's execution order.
    Operator(u32),
    /// A buffer.
    Buffer(u32),
    /// A metadata entry.
    Metadata(u32),
    /// A signature definition.
    SignatureDef(u32),
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Model => f.write_str("model"),
            Self::OperatorCode(i) => write!(f, "operator code {i}"),
            Self::Subgraph(i) => write!(f, "subgraph {i}"),
            Self::Tensor(i) => write!(f, "tensor {i}"),
            Self::Operator(i) => write!(f, "operator {i}"),
            Self::Buffer(i) => write!(f, "buffer {i}"),
            Self::Metadata(i) => write!(f, "metadata {i}"),
            Self::SignatureDef(i) => write!(f, "signature def {i}"),
        }
    }
}

/// An operator's name, held inline so errors need no allocation: a builtin code,
/// or the first bytes of a custom op's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpName {
    /// A builtin operator.
    Builtin(BuiltinOperator),
    /// A custom operator; `len` bytes of `bytes` hold (the start of) its name.
    Custom {
        /// The name's first bytes.
        bytes: [u8; 24],
        /// How many of `bytes` are used.
        len: u8,
    },
}

impl OpName {
    /// The name of a custom op, truncated to 24 bytes on a character boundary.
    pub fn custom(name: &str) -> Self {
        let mut end = name.len().min(24);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 24];
        let src = name.as_bytes().get(..end).unwrap_or(&[]);
        if let Some(dst) = bytes.get_mut(..end) {
            dst.copy_from_slice(src);
        }
        OpName::Custom {
            bytes,
            len: end as u8,
        }
    }
}

impl core::fmt::Display for OpName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Builtin(op) => write!(f, "{op}"),
            Self::Custom { bytes, len } => {
                let name = bytes.get(..usize::from(*len)).unwrap_or(&[]);
                write!(f, "CUSTOM:{}", core::str::from_utf8(name).unwrap_or("?"))
            }
        }
    }
}

/// Everything that can go wrong in the runtime. Small and `Copy`: no strings are
/// allocated, and every variant says what and where.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed FlatBuffer at this place.
    Malformed {
        /// The object being read.
        at: Location,
        /// The field being read.
        field: &'static str,
        /// What is wrong.
        fault: Fault,
    },
    /// The model uses a schema version other than 3.
    UnsupportedSchemaVersion {
        /// The version the file declares.
        version: u32,
    },
    /// The model has no subgraph to run.
    NoSubgraph,
    /// An index in the model names something that does not exist.
    IndexOutOfRange {
        /// The object holding the index.
        at: Location,
        /// The field holding the index.
        field: &'static str,
        /// The index.
        index: i64,
        /// How many there are.
        count: usize,
    },
    /// A tensor uses a type code the format does not define.
    UnknownTensorType {
        /// The tensor.
        tensor: u32,
        /// Its type code.
        code: u8,
    },
    /// A tensor's shape has a negative dimension, too many dimensions, or more
    /// elements than fit in memory.
    BadShape {
        /// The tensor.
        tensor: u32,
    },
    /// A constant tensor's buffer holds a different number of bytes than its
    /// shape and type need.
    BufferSize {
        /// The tensor.
        tensor: u32,
        /// Bytes in its buffer.
        has: usize,
        /// Bytes its shape needs.
        needs: usize,
    },
    /// The `COMPRESSION_METADATA` (TensorFlow Lite Micro's LUT compression)
    /// does not fit the model.
    BadCompression {
        /// The tensor it describes, if the fault is about one.
        tensor: Option<u32>,
        /// What is wrong, in words.
        reason: &'static str,
    },
    /// A tensor's quantization parameters do not fit its shape.
    BadQuantization {
        /// The tensor.
        tensor: u32,
    },
    /// The model needs an operator this build of the runtime does not include.
    UnsupportedOp {
        /// The operator's index.
        index: u32,
        /// Its name.
        op: OpName,
    },
    /// An operator's inputs, outputs or options are not what its kernel accepts.
    InvalidOp {
        /// The operator's index.
        index: u32,
        /// Its name.
        op: BuiltinOperator,
        /// What is wrong, in words.
        reason: &'static str,
    },
    /// A tensor has a type the operator using it does not support.
    UnsupportedType {
        /// The operator's index.
        index: u32,
        /// The operator.
        op: BuiltinOperator,
        /// The type found.
        dtype: TensorType,
    },
    /// The arena cannot hold the model's tensors and per-op data.
    ArenaTooSmall {
        /// Bytes the model needs.
        needed: usize,
        /// Bytes the arena has.
        available: usize,
    },
    /// A model input or output index is out of range.
    NoSuchTensor {
        /// The index asked for.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// Data handed to or asked of a tensor has the wrong size.
    WrongSize {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// Data handed to or asked of a tensor has the wrong element type.
    WrongType {
        /// The tensor's type.
        expected: TensorType,
        /// The type asked for.
        got: TensorType,
    },
}

impl Error {
    /// `self` with `op` as the operator of an error about operator `index`:
    /// the interpreter looks an operator's code up only when an error names it.
    pub(crate) fn naming_op(self, index: u32, op: BuiltinOperator) -> Error {
        match self {
            Error::InvalidOp {
                index: i, reason, ..
            } if i == index => Error::InvalidOp { index, op, reason },
            Error::UnsupportedType {
                index: i, dtype, ..
            } if i == index => Error::UnsupportedType { index, op, dtype },
            other => other,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Malformed { at, field, fault } => {
                write!(f, "malformed model: {at}, field `{field}`: {fault}")
            }
            Self::UnsupportedSchemaVersion { version } => {
                write!(f, "unsupported .tflite schema version {version} (mote reads version 3)")
            }
            Self::NoSubgraph => f.write_str("the model has no subgraph"),
            Self::IndexOutOfRange { at, field, index, count } => {
                write!(f, "{at}, field `{field}`: index {index} is out of range (there are {count})")
            }
            Self::UnknownTensorType { tensor, code } => {
                write!(f, "tensor {tensor} has unknown type code {code}")
            }
            Self::BadShape { tensor } => write!(
                f,
                "tensor {tensor} has an invalid shape (negative dimension, rank over {}, or too many elements)",
                crate::model::MAX_RANK
            ),
            Self::BufferSize { tensor, has, needs } => write!(
                f,
                "tensor {tensor}'s buffer has {has} bytes, its shape and type need {needs}"
            ),
            Self::BadCompression { tensor: Some(t), reason } => {
                write!(f, "COMPRESSION_METADATA, tensor {t}: {reason}")
            }
            Self::BadCompression { tensor: None, reason } => {
                write!(f, "COMPRESSION_METADATA: {reason}")
            }
            Self::BadQuantization { tensor } => write!(
                f,
                "tensor {tensor}'s quantization does not fit its shape (scale/zero-point counts or quantized dimension)"
            ),
            Self::UnsupportedOp { index, op } => {
                write!(f, "operator {index} ({op}) is not supported by this build of mote")
            }
            Self::InvalidOp { index, op, reason } => write!(f, "operator {index} ({op}): {reason}"),
            Self::UnsupportedType { index, op, dtype } => {
                write!(f, "operator {index} ({op}) does not support {dtype} tensors")
            }
            Self::ArenaTooSmall { needed, available } => write!(
                f,
                "arena too small: the model needs {needed} bytes, the arena has {available}"
            ),
            Self::NoSuchTensor { index, count } => {
                write!(f, "no tensor at index {index} (there are {count})")
            }
            Self::WrongSize { expected, got } => {
                write!(f, "wrong data size: expected {expected} bytes, got {got}")
            }
            Self::WrongType { expected, got } => {
                write!(f, "wrong element type: the tensor is {expected}, not {got}")
            }
        }
    }
}

impl core::error::Error for Error {}

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Fault::OutOfBounds => "offset or length points outside the file",
            Fault::BadVtable => "invalid vtable",
            Fault::BadString => "string is not zero-terminated UTF-8",
            Fault::TooComplex => "too many objects to verify for the file's size",
        })
    }
}
