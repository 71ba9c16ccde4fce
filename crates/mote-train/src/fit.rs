//! The settings of one `fit` call, built like Keras' keyword arguments:
//! `Fit::epochs(50).batch_size(32).seed(1).shuffle(true).verbose(0)`.

use std::io::Write;

use crate::callbacks::{Control, EarlyStopping};
use crate::history::Logs;
use crate::progress::Verbosity;
use crate::tensor::Tensor;

/// The seed used when none is given, for weights, shuffling and dropout.
pub const DEFAULT_SEED: u64 = 42;

/// A user callback, run after each epoch with its number (1-based) and logs.
pub type EpochCallback<'a> = Box<dyn FnMut(usize, &Logs) -> Control + 'a>;

/// Where validation data comes from.
pub(crate) enum Validation<'a> {
    None,
    Split(f32),
    Data(&'a Tensor, &'a Tensor),
}

/// Settings of one `fit` call.
pub struct Fit<'a> {
    pub(crate) epochs: usize,
    pub(crate) batch_size: usize,
    pub(crate) seed: u64,
    pub(crate) shuffle: bool,
    pub(crate) verbosity: Verbosity,
    pub(crate) output: Option<Box<dyn Write + 'a>>,
    pub(crate) validation: Validation<'a>,
    pub(crate) early_stopping: Option<EarlyStopping>,
    pub(crate) callbacks: Vec<EpochCallback<'a>>,
}

impl<'a> Fit<'a> {
    /// Train for `epochs` epochs, with Keras' defaults otherwise: batches of 32,
    /// shuffled each epoch, seed [`DEFAULT_SEED`], progress on stderr.
    pub fn epochs(epochs: usize) -> Self {
        Fit {
            epochs,
            batch_size: 32,
            seed: DEFAULT_SEED,
            shuffle: true,
            verbosity: Verbosity::Auto,
            output: None,
            validation: Validation::None,
            early_stopping: None,
            callbacks: Vec::new(),
        }
    }

    /// Samples per gradient step (the last batch may be smaller).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Seed of the shuffling and dropout randomness.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Shuffle the samples before each epoch (default true).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// How much to print: `0` nothing, `1` an updating bar, `2` a line per
    /// epoch, or a [`Verbosity`].
    pub fn verbose(mut self, verbosity: impl Into<Verbosity>) -> Self {
        self.verbosity = verbosity.into();
        self
    }

    /// Print progress to `out` instead of stderr.
    pub fn progress_to(mut self, out: impl Write + 'a) -> Self {
        self.output = Some(Box::new(out));
        self
    }

    /// Hold out the last `fraction` of the samples (before shuffling) for validation.
    pub fn validation_split(mut self, fraction: f32) -> Self {
        self.validation = Validation::Split(fraction);
        self
    }

    /// Validate on `x`, `y` after each epoch.
    pub fn validation_data(mut self, x: &'a Tensor, y: &'a Tensor) -> Self {
        self.validation = Validation::Data(x, y);
        self
    }

    /// Stop when a monitored value stops improving.
    pub fn early_stopping(mut self, rule: EarlyStopping) -> Self {
        self.early_stopping = Some(rule);
        self
    }

    /// Run `callback` after each epoch; returning [`Control::Stop`] ends training.
    pub fn on_epoch_end(mut self, callback: impl FnMut(usize, &Logs) -> Control + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }
}
