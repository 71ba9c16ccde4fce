//! mote's training engine: a float graph IR with shape inference and autodiff,
//! Keras-like layers, losses, optimizers and `fit`, and `.tflite` import/export.
//!
//! ```
//! use mote_train::{Dense, Fit, Loss, Sequential, Sgd, Tensor};
//! let xs = Tensor::new(vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], [6, 1])?;
//! let ys = Tensor::new(vec![-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], [6, 1])?;
//! let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
//! model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
//! let history = model.fit(&xs, &ys, Fit::epochs(500).verbose(0))?;
//! let y = model.predict(&Tensor::new(vec![10.0], [1, 1])?)?; // ~18.98
//! # assert!((y.data()[0] - 19.0).abs() < 0.05);
//! # Ok::<(), mote_train::Error>(())
//! ```
#![deny(missing_docs)]

mod activation;
mod callbacks;
pub mod classification;
pub mod data;
mod error;
pub mod files;
mod fit;
mod history;
pub mod layers;
mod linalg;
mod loss;
mod metric;
mod model;
pub mod npy;
mod optimizers;
mod plot;
mod progress;
mod rng;
pub mod spec;
mod tensor;
pub mod tflite;
mod vector;

pub use activation::Activation;
pub use callbacks::{Control, EarlyStopping};
pub use error::{Error, Result};
pub use fit::{EpochCallback, Fit, DEFAULT_SEED};
pub use history::{History, Logs};
pub use layers::{
    ActivationLayer, Add, AveragePooling1D, AveragePooling2D, BatchNormalization, Concatenate,
    Conv1D, Conv2D, Dense, DepthwiseConv2D, Dropout, Flatten, GlobalAveragePooling1D,
    GlobalAveragePooling2D, Input, Layer, MaxPooling1D, MaxPooling2D, Padding, Param, Rescaling,
    Reshape, SeparableConv2D, Window,
};
pub use loss::Loss;
pub use metric::Metric;
pub use model::{Graph, Model, NodeId, Sequential};
pub use optimizers::{Adam, Clipping, Optimizer, RmsProp, Schedule, Sgd};
pub use progress::Verbosity;
pub use rng::Rng;
pub use tensor::Tensor;
