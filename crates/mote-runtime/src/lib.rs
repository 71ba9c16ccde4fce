//! mote's on-device half: a verified, zero-copy `.tflite` reader and a `no_std`,
//! no-heap interpreter that runs a model in one caller-owned arena.
//!
//! ```
//! # fn main() -> Result<(), mote_runtime::Error> {
//! # let bytes: &[u8] = include_bytes!("../tests/data/line.tflite");
//! use mote_runtime::{Interpreter, Model, OpResolver};
//!
//! let model = Model::parse(bytes)?;           // verifies every byte once
//! let mut arena = [0u8; 1024];
//! let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())?;
//! interpreter.input_mut::<f32>(0)?.copy_from_slice(&[10.0]);
//! interpreter.invoke()?;
//! assert_eq!(interpreter.output::<f32>(0)?, &[19.0]);
//! # Ok(()) }
//! ```
//!
//! Every input byte is untrusted: parsing verifies the file, `Interpreter::new`
//! checks every operator, and nothing in this crate panics.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod arch;
mod arena;
pub mod compiled;
pub mod error;
pub mod flexbuffer;
pub mod interpreter;
#[cfg(feature = "codegen")]
pub mod literal;
pub mod model;
pub mod ops;
mod planner;
pub mod quant;
#[cfg(test)]
mod testing;

pub use error::{Error, Location, OpName};

pub use model::{BuiltinOperator, Model, Shape, Tensor, TensorType};

pub use interpreter::{Element, Interpreter};
pub use ops::OpResolver;

/// The Cortex-M4 kernels' entry points for `firmware/kernel-check` (not an API).
#[cfg(mote_dsp)]
#[doc(hidden)]
pub use arch::check;
pub use arch::kernels;
