//! mote's training engine: a float graph IR with shape inference and autodiff,
//! Keras-like layers, losses, optimizers and `fit`, and `.tflite` import/export.
#![deny(missing_docs)]
pub mod files;
pub mod npy;
pub mod tflite;
