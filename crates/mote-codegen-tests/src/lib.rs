//! Tests only: every asset model compiled by mote-codegen at build time
//! (see `build.rs`), so `tests/equality.rs` can run each one beside the
//! interpreter.
#![allow(missing_docs)]

use mote_runtime::Error;

/// The tensors of one invoke: one byte vector per graph input or output.
pub type Tensors = Vec<Vec<u8>>;

/// A model compiled at build time.
pub struct Compiled {
    /// Its path under the assets folder.
    pub path: &'static str,
    /// Its `ARENA_BYTES`.
    pub arena_bytes: usize,
    /// Runs it `inputs.len()` times: each time writes the inputs, invokes,
    /// and collects the outputs (state carries over, as in a stream).
    pub run: fn(&[Tensors], usize) -> Result<Vec<Tensors>, Error>,
}

/// The loop every generated model's `run` shares.
pub fn run<M>(
    model: &mut M,
    inputs: &[Tensors],
    outputs: usize,
    input: impl Fn(&mut M, usize) -> Result<&mut [u8], Error>,
    invoke: impl Fn(&mut M) -> Result<(), Error>,
    output: impl Fn(&M, usize) -> Result<Vec<u8>, Error>,
) -> Result<Vec<Tensors>, Error> {
    let mut all = Vec::new();
    for invocation in inputs {
        for (i, bytes) in invocation.iter().enumerate() {
            let slot = input(model, i)?;
            if slot.len() != bytes.len() {
                return Err(Error::WrongSize {
                    expected: slot.len(),
                    got: bytes.len(),
                });
            }
            slot.copy_from_slice(bytes);
        }
        invoke(model)?;
        all.push(
            (0..outputs)
                .map(|o| output(model, o))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(all)
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));
