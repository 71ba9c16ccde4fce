//! PADV2: PAD with the pad value as input 2; the same kernel as [`super::pad`].

pub use super::pad::{eval, prepare, PadParams};
