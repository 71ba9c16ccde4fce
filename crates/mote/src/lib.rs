//! mote on a device: the `no_std` runtime and [`include_model!`], which
//! compiles a `.tflite` model into Rust while your crate builds: a struct
//! whose arena size is a constant, whose weights are in flash, and whose
//! `invoke` calls only the kernels the model uses.
//!
//! ```
//! mote::include_model!(Line, "../mote-runtime/tests/data/line.tflite");
//!
//! let mut line = Line::new();
//! let y = line.predict(&[10.0])?;                  // y = 2x - 1, learned
//! assert_eq!(y, &[19.0]);
//! assert!(Line::ARENA_BYTES < 512);
//! # Ok::<(), mote::runtime::Error>(())
//! ```
#![no_std]
#![deny(missing_docs)]

pub use mote_macros::include_model;
/// The runtime: the interpreter, the model reader, the kernels.
pub use mote_runtime as runtime;
