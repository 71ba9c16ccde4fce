//! int8 kernels with AVX-VNNI's `vpdpbusd` (chosen where CPUID has it):
//! 32 products of an unsigned and a signed byte per instruction, summed
//! four at a time into 32-bit lanes exactly — twice the products per
//! instruction of AVX2's `vpmaddwd`, and no widening of the weights.
//!
//! The unsigned operand is the input shifted by 128 (`x ^ 0x80`); the
//! reference's `(x + input_offset) * w` is then `(x + 128) * w +
//! (input_offset - 128) * w`, summed: the second term is the offset's
//! correction times the filter's sum, the same number modulo 2^32 (both
//! sides wrap in 32 bits and the identity holds in that ring).

mod conv;
mod fully_connected;

pub use conv::conv_i8;
pub use fully_connected::fully_connected_i8;
