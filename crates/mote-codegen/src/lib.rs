//! mote's ahead-of-time compiler: a .tflite model becomes Rust source calling mote-runtime's kernels.
#![deny(missing_docs)]
