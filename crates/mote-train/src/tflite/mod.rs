//! `.tflite` import and export: an owned description of a model
//! ([`ModelDef`]), its importer from a parsed model, and the FlatBuffer
//! serializer that writes it.

pub mod builder;
mod writer;

mod reader;

pub use reader::ImportError;
pub use writer::{
    ModelDef, OperatorDef, OptionsDef, QuantizationDef, SignatureDefDef, TensorDef, WriteError,
};
