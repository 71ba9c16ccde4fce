//! `.tflite` export: an owned description of a model ([`ModelDef`]) and the
//! FlatBuffer serializer that writes it.

pub mod builder;
mod export;
pub mod options;
mod writer;

pub use export::{export, ExportError};
pub use writer::{ModelDef, OperatorDef, OptionsDef, QuantizationDef, TensorDef, WriteError};
