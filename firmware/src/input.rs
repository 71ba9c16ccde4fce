//! The seeded input of a firmware run, made the same way on the device and on
//! the host: `xtask` includes this file to make the input it runs the host's
//! interpreter on, and the firmware fills its input tensor with it before each
//! `invoke()`, so the firmware carries no input data in flash (VWW's would be
//! 27,648 bytes). The firmware's outputs equal the host's only if both made
//! the same bytes.

/// How input 0 is filled.
#[allow(dead_code)] // a firmware build makes one of the three
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fill {
    /// All zero bytes.
    Zeros,
    /// A pseudo-random byte each (integer inputs of any width).
    Bytes,
    /// A pseudo-random `f32` in `[low, high)` each (float inputs).
    Floats {
        /// Smallest value.
        low: f32,
        /// Bound above the values.
        high: f32,
    },
}

/// Fills `input` as `how` says, from the same seed every call.
#[inline(always)]
pub fn fill(input: &mut [u8], how: Fill) {
    // A 64-bit linear congruential generator (Knuth's MMIX constants), its
    // high 31 bits per draw.
    let mut state = 0x853c_49e6_748f_ea9bu64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    match how {
        Fill::Zeros => input.fill(0),
        Fill::Bytes => input.iter_mut().for_each(|b| *b = next() as u8),
        Fill::Floats { low, high } => {
            // The same f32 operations in the same order on both machines
            // (IEEE single precision, no fused multiply-add): the same bits.
            for word in input.chunks_exact_mut(4) {
                let unit = next() as f32 / (1u64 << 31) as f32;
                word.copy_from_slice(&(low + (high - low) * unit).to_le_bytes());
            }
        }
    }
}
