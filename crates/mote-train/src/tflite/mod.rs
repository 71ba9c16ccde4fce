//! `.tflite` export: an owned description of a model ([`ModelDef`]) and the
//! FlatBuffer serializer that writes it; and import of float32 models.

pub mod builder;
mod export;
mod import;
pub mod options;
mod writer;

pub use export::{export, ExportError};
pub use import::{import, import_bytes, ImportError};
pub use writer::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef, WriteError};
