//! Preparing data: splits, normalization fitted on training data, one-hot
//! labels and sliding windows over time series.

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Row indices shuffled with `seed` and cut into train, validation and test
/// parts of the given fractions (test gets the rest).
pub fn split_indices(
    rows: usize,
    validation: f32,
    test: f32,
    seed: u64,
) -> Result<[Vec<usize>; 3]> {
    if validation < 0.0 || test < 0.0 || validation + test >= 1.0 {
        return Err(Error::invalid(
            "split",
            format!("fractions {validation} + {test} must be >= 0 and < 1"),
        ));
    }
    let mut order: Vec<usize> = (0..rows).collect();
    Rng::new(seed).shuffle(&mut order);
    let n_test = (rows as f64 * f64::from(test)).round() as usize;
    let n_val = (rows as f64 * f64::from(validation)).round() as usize;
    let test_part = order.split_off(rows - n_test);
    let val_part = order.split_off(order.len() - n_val);
    Ok([order, val_part, test_part])
}

/// Per-feature standardization `(x - mean) / std`, fitted on training data
/// (the last axis is the feature axis).
#[derive(Clone, Debug, PartialEq)]
pub struct Normalizer {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalizer {
    /// Mean and standard deviation of each feature of `x` (constant features get std 1).
    pub fn fit(x: &Tensor) -> Normalizer {
        let features = x.shape().last().copied().unwrap_or(1).max(1);
        let rows = (x.len() / features).max(1) as f64;
        let mut sum = vec![0.0f64; features];
        let mut sum_sq = vec![0.0f64; features];
        for row in x.data().chunks_exact(features) {
            for (i, &v) in row.iter().enumerate() {
                sum[i] += f64::from(v);
                sum_sq[i] += f64::from(v) * f64::from(v);
            }
        }
        let mean: Vec<f32> = sum.iter().map(|s| (s / rows) as f32).collect();
        let std = sum
            .iter()
            .zip(&sum_sq)
            .map(|(s, q)| {
                let var = (q / rows - (s / rows).powi(2)).max(0.0);
                if var > 1e-12 {
                    var.sqrt() as f32
                } else {
                    1.0
                }
            })
            .collect();
        Normalizer { mean, std }
    }

    /// `x` standardized with the fitted statistics.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        if x.shape().last() != Some(&self.mean.len()) {
            return Err(Error::ShapeMismatch {
                context: "normalizer input (last axis)".into(),
                expected: vec![self.mean.len()],
                found: x.shape().to_vec(),
            });
        }
        let mut out = x.clone();
        for row in out.data_mut().chunks_exact_mut(self.mean.len()) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        Ok(out)
    }

    /// Per-feature means.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-feature standard deviations.
    pub fn std(&self) -> &[f32] {
        &self.std
    }
}

/// Integer labels `[n]` (or `[n, 1]`) as one-hot rows `[n, classes]`.
pub fn one_hot(labels: &Tensor, classes: usize) -> Result<Tensor> {
    let mut out = Tensor::zeros([labels.len(), classes]);
    for (i, &label) in labels.data().iter().enumerate() {
        if label < 0.0 || label.fract() != 0.0 || label as usize >= classes {
            return Err(Error::invalid(
                "labels",
                format!("row {i} has label {label}, not an integer in 0..{classes}"),
            ));
        }
        out.data_mut()[i * classes + label as usize] = 1.0;
    }
    Ok(out)
}

/// Sliding windows over a series `[steps, features]` (or `[steps]`): inputs
/// `[n, window, features]` and as targets the row `horizon` steps after each
/// window (`[n, features]`), with windows starting every `stride` steps.
pub fn time_windows(
    series: &Tensor,
    window: usize,
    horizon: usize,
    stride: usize,
) -> Result<(Tensor, Tensor)> {
    let steps = series.rows();
    let features = series.row_len().max(1);
    if window == 0 || horizon == 0 || stride == 0 || steps < window + horizon {
        return Err(Error::invalid(
            "time windows",
            format!("window {window}, horizon {horizon}, stride {stride} do not fit {steps} steps"),
        ));
    }
    let starts: Vec<usize> = (0..=steps - window - horizon).step_by(stride).collect();
    let data = series.data();
    let mut x = Vec::with_capacity(starts.len() * window * features);
    let mut y = Vec::with_capacity(starts.len() * features);
    for &s in &starts {
        x.extend_from_slice(&data[s * features..(s + window) * features]);
        let t = s + window + horizon - 1;
        y.extend_from_slice(&data[t * features..(t + 1) * features]);
    }
    Ok((
        Tensor::new(x, [starts.len(), window, features])?,
        Tensor::new(y, [starts.len(), features])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cover_every_row_once() {
        let [train, val, test] = split_indices(10, 0.2, 0.3, 1).unwrap();
        assert_eq!((train.len(), val.len(), test.len()), (5, 2, 3));
        let mut all: Vec<usize> = train.iter().chain(&val).chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(split_indices(10, 0.5, 0.5, 1).is_err());
    }

    #[test]
    fn normalizer_uses_train_statistics() {
        // feature 0: [1, 3] -> mean 2, std 1; feature 1 constant -> std 1
        let train = Tensor::new(vec![1.0, 5.0, 3.0, 5.0], [2, 2]).unwrap();
        let n = Normalizer::fit(&train);
        assert_eq!((n.mean(), n.std()), (&[2.0, 5.0][..], &[1.0, 1.0][..]));
        let test = Tensor::new(vec![4.0, 6.0], [1, 2]).unwrap();
        assert_eq!(n.transform(&test).unwrap().data(), &[2.0, 1.0]);
    }

    #[test]
    fn one_hot_and_windows() {
        let labels = Tensor::new(vec![2.0, 0.0], [2]).unwrap();
        assert_eq!(
            one_hot(&labels, 3).unwrap().data(),
            &[0., 0., 1., 1., 0., 0.]
        );
        assert!(one_hot(&labels, 2).is_err());
        // series 0..6, window 3, next step: [0,1,2]->3, [1,2,3]->4, [2,3,4]->5
        let series = Tensor::from_fn([6], |i| i as f32);
        let (x, y) = time_windows(&series, 3, 1, 1).unwrap();
        assert_eq!(x.shape(), &[3, 3, 1]);
        assert_eq!(y.data(), &[3.0, 4.0, 5.0]);
        assert_eq!(x.row(2), &[2.0, 3.0, 4.0]);
    }
}
