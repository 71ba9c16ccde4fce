//! The model in mote-runtime's interpreter: the .tflite file in flash, parsed
//! and prepared at start, a resolver over exactly the model's kernels.

use core::ptr::addr_of_mut;

use mote_runtime::{Error, Interpreter, Model, OpResolver};

include!(concat!(env!("OUT_DIR"), "/arena.rs"));
include!(concat!(env!("OUT_DIR"), "/ops.rs"));

/// 16-byte alignment, so the model's buffers (16-aligned inside the file) are
/// aligned in flash and the runtime reads them in place.
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);

static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.tflite")));
static mut ARENA: Aligned<[u8; ARENA_BYTES]> = Aligned([0; ARENA_BYTES]);

/// The interpreter over the embedded model.
pub struct Engine(Interpreter<'static, 'static>);

impl Engine {
    /// Parses the model and prepares it in the static arena. Called once.
    #[inline(always)]
    pub fn new() -> Result<Self, Error> {
        let model = Model::parse(&MODEL.0)?;
        // SAFETY: called once, from `main`; this is the only reference to ARENA.
        let arena: &'static mut [u8] = unsafe { &mut (*addr_of_mut!(ARENA)).0 };
        Ok(Engine(Interpreter::new(
            &model,
            arena,
            &OpResolver::new(OPS),
        )?))
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
        self.0.output_count()
    }

    /// The bytes of output `o`.
    #[inline(always)]
    pub fn output(&self, o: usize) -> Result<&[u8], Error> {
        self.0.output_bytes(o)
    }

    /// Arena bytes in use.
    #[inline(always)]
    pub fn arena_used(&self) -> usize {
        self.0.arena_used()
    }
}
