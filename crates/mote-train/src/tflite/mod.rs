//! `.tflite` import and export: an owned description of a model
//! ([`ModelDef`]), its importer from a parsed model, the export of a trained
//! model into it, and the FlatBuffer serializer that writes it.

pub mod builder;
mod export;
mod reader;
mod writer;

pub use export::{export, ExportError};
pub use reader::ImportError;
pub use writer::{
    ModelDef, OperatorDef, OptionsDef, QuantizationDef, SignatureDefDef, TensorDef, WriteError,
};
