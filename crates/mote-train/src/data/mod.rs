//! Data: CSV and `.npy` files, splits, normalization, one-hot labels and
//! time-series windows.

mod csv;

pub use csv::{read_csv, LabelColumn};
