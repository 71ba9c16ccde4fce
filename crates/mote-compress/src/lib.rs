//! mote's model compression: pruning, int8 quantization (PTQ and QAT) and knowledge distillation.
//!
//! Post-training quantization turns a float32 `.tflite` into TensorFlow Lite's
//! int8 scheme from a few representative inputs:
//!
//! ```no_run
//! use mote_compress::quantize::{quantize, Calibration, QuantizeConfig};
//! let float = std::fs::read("model.tflite")?;
//! let samples = Calibration::new(vec![100, 64], vec![0.0; 6400])?;
//! let int8 = quantize(&float, &samples, &QuantizeConfig::default())?;
//! std::fs::write("model_int8.tflite", int8.to_bytes()?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod cluster;
pub mod distill;
pub mod lut;
pub mod mlp;
pub mod prune;
pub mod qat;
pub mod quantize;
pub mod report;
