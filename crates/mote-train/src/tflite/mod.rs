//! `.tflite` import and export: an owned description of a model
//! ([`ModelDef`]), its importer from a parsed model (`ModelDef::from_model`),
//! the export of a trained model into it and the import of a float32 model
//! into a trainable one, and the FlatBuffer serializer that writes it.

pub mod builder;
mod export;
mod import;
pub mod options;
mod reader;
mod writer;

pub use export::{export, ExportError};
pub use import::{import, import_bytes, ImportError as ModelImportError};
pub use reader::ImportError;
pub use writer::{
    ModelDef, OperatorDef, OptionsDef, QuantizationDef, SignatureDefDef, TensorDef, WriteError,
};
