//! Data: CSV and `.npy` files, splits, normalization, one-hot labels and
//! time-series windows.

mod csv;
mod npy;
mod prepare;

pub use csv::{read_csv, LabelColumn};
pub use npy::{npy_bytes, read_npy, write_npy};
pub use prepare::{one_hot, split_indices, time_windows, Normalizer};
