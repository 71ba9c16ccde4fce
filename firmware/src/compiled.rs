//! The model compiled ahead of time by mote-codegen (`MOTE_CODEGEN=1`): no
//! .tflite file, no parsing, the arena (the generated struct) in `.bss`.

use core::ptr::addr_of_mut;

use mote_runtime::Error;

#[allow(dead_code)] // the generated API is more than the firmware uses
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

static mut MODEL: model::Model = model::Model::new();

/// The generated model.
pub struct Engine(&'static mut model::Model);

impl Engine {
    /// The static model. Called once.
    #[inline(always)]
    pub fn new() -> Result<Self, Error> {
        // SAFETY: called once, from `main`; this is the only reference to MODEL.
        Ok(Engine(unsafe { &mut *addr_of_mut!(MODEL) }))
    }

    /// The bytes of input 0.
    #[inline(always)]
    pub fn input(&mut self) -> Result<&mut [u8], Error> {
        self.0.input_bytes_mut(0)
    }

    /// Runs the model once.
    #[inline(always)]
    pub fn invoke(&mut self) -> Result<(), Error> {
        self.0.invoke()
    }

    /// Number of outputs.
    #[inline(always)]
    pub fn output_count(&self) -> usize {
        model::Model::OUTPUTS
    }

    /// The bytes of output `o`.
    #[inline(always)]
    pub fn output(&self, o: usize) -> Result<&[u8], Error> {
        self.0.output_bytes(o)
    }

    /// Arena bytes: the generated constant.
    #[inline(always)]
    pub fn arena_used(&self) -> usize {
        model::Model::ARENA_BYTES
    }
}
