//! mote's ahead-of-time compiler: a `.tflite` model becomes Rust source that
//! calls mote-runtime's kernels directly.
//!
//! The generator runs the runtime's own `prepare` for every operator on the
//! host (by building an [`Interpreter`](mote_runtime::Interpreter)), then
//! emits what it computed: each operator's params as a `const` of the op's
//! own params type, the constants as aligned `static` byte arrays, the
//! activations' offsets as [`Step`](mote_runtime::compiled::Step)s, the
//! persistent bytes `prepare` left as an initial image, and a straight-line
//! `invoke` that calls the same `eval` functions the interpreter calls. No
//! flatbuffer is parsed on the device and no kernel the model does not use
//! is linked; the arena is a constant, `ARENA_BYTES`.
//!
//! ```
//! # let bytes: &[u8] = include_bytes!("../../mote-runtime/tests/data/line.tflite");
//! let source = mote_codegen::generate(bytes, "Line")?;
//! assert!(source.contains("pub struct Line"));
//! assert!(source.contains("pub const ARENA_BYTES: usize"));
//! # Ok::<(), mote_codegen::CodegenError>(())
//! ```
#![deny(missing_docs)]

mod emit;
mod error;
mod plan;

pub use error::CodegenError;
pub use plan::{OpPlan, PersistentAt, Place, Plan, TensorPlan};

/// Generates the Rust source of model `bytes` as a struct named `name`.
/// The source refers to the runtime as `mote_runtime`, which must be in
/// scope where it is included (a dependency, or a `use ... as mote_runtime`).
pub fn generate(bytes: &[u8], name: &str) -> Result<String, CodegenError> {
    check_name(name)?;
    let plan = Plan::new(bytes)?;
    Ok(emit::source(&plan, name))
}

/// A Rust type name: an ASCII letter, then letters, digits or underscores.
fn check_name(name: &str) -> Result<(), CodegenError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(CodegenError::BadName(name.to_string()))
    }
}
