//! From sensor to answer: the audio half of keyword spotting.
//!
//! Samples arrive in chunks of any size. A [`Framer`] cuts them into 30 ms
//! windows every 20 ms (at 16 kHz), the front-end model (TFLM's
//! `audio_preprocessor_int8.tflite`, run by mote's signal ops) turns each window
//! into one feature frame, a [`FeatureWindow`] keeps the latest second of frames,
//! the classifier runs on it after every hop, and a [`Detector`] smooths its
//! scores and reports a detection when one crosses the threshold. [`Listener`]
//! ties these together. All of it is `no_std` and allocation-free; the WAV
//! reader ([`wav`], feature `std`) is for the host.
//!
//! ```
//! use mote_audio::Framer;
//! let mut framer = Framer::<480, 320>::new();
//! let mut frames = 0;
//! for _ in 0..16_000 {
//!     if framer.push(0).is_some() {
//!         frames += 1;
//!     }
//! }
//! assert_eq!(frames, 49); // one second of audio gives 49 frames
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
// AudioError names both shapes of a mismatch without allocating, so it is
// larger than clippy likes; it is only built while assembling a pipeline.
#![allow(clippy::result_large_err)]
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

mod classifier;
mod detector;
mod error;
mod features;
mod framer;
mod listener;
pub mod sww;
#[cfg(feature = "std")]
pub mod wav;

pub use detector::{Detection, Detector, DetectorConfig};
pub use error::AudioError;
pub use features::FeatureWindow;
pub use framer::Framer;
pub use listener::{Classification, Listener};
pub use sww::{SwwFrontEnd, SwwListener, SWW_BENCHMARK_DETECTOR, SWW_DETECTOR};

/// Sample rate of the micro_speech front-end, in Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per analysis window: 30 ms at 16 kHz.
pub const WINDOW_SAMPLES: usize = 480;
/// Samples between windows (one hop): 20 ms at 16 kHz.
pub const HOP_SAMPLES: usize = 320;
/// Milliseconds per hop.
pub const HOP_MS: u32 = 20;
