//! Shared by the integration tests: the assets folder and the digits task.

use std::path::PathBuf;

use mote_train::data::{read_csv, LabelColumn};
use mote_train::Tensor;

/// The assets folder: `$MOTE_ASSETS`, or `../shared/assets` beside the
/// workspace root. Panics with a clear message when it is missing.
pub fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    assert!(
        dir.is_dir(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

/// scikit-learn's digits: pixels / 16 as `[n, 64]`, labels `[n]`; test rows are
/// those whose index % 5 == 0 (360), train the other 1437.
pub struct Digits {
    pub train_x: Tensor,
    pub train_y: Tensor,
    pub test_x: Tensor,
    pub test_y: Tensor,
}

pub fn digits() -> Digits {
    let path = assets().join("data/digits.csv.gz");
    let (x, y) = read_csv(&path, LabelColumn::Last)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let rows = x.rows();
    let x = Tensor::new(x.data().iter().map(|v| v / 16.0).collect(), x.shape()).unwrap();
    let test: Vec<usize> = (0..rows).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..rows).filter(|i| i % 5 != 0).collect();
    Digits {
        train_x: x.select_rows(&train),
        train_y: y.select_rows(&train),
        test_x: x.select_rows(&test),
        test_y: y.select_rows(&test),
    }
}
