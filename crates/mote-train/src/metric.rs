//! Metrics tracked during `fit` and `evaluate`, accumulated batch by batch.

use crate::loss::Loss;
use crate::tensor::{argmax, Tensor};

/// A metric reported each epoch beside the loss (Keras' `metrics=[...]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Metric {
    /// Fraction of samples classified right. Like Keras' `"accuracy"` it
    /// follows the targets: integer labels compare with the argmax of the
    /// prediction, one-hot targets with their own argmax, and single outputs
    /// are thresholded at 0.5 (at 0 when the loss works on logits).
    Accuracy,
    /// Mean absolute error.
    MeanAbsoluteError,
    /// Mean squared error.
    MeanSquaredError,
    /// Square root of the mean squared error over all samples seen.
    RootMeanSquaredError,
    /// Of the outputs predicted positive (above 0.5; above 0 for logits), the
    /// fraction that are. Every output is a yes/no decision (Keras' micro
    /// average): a single sigmoid output, or each class of a one-hot or
    /// integer label.
    Precision,
    /// Of the positive outputs, the fraction predicted positive (as `Precision`).
    Recall,
    /// Area under the ROC curve of the outputs as scores, exact (Mann-Whitney;
    /// Keras approximates it with 200 thresholds); 0 while only one class has
    /// been seen.
    Auc,
}

impl Metric {
    /// The key in logs and history: `accuracy`, `mae`, `mse`, `rmse`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MeanAbsoluteError => "mae",
            Metric::MeanSquaredError => "mse",
            Metric::RootMeanSquaredError => "rmse",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Auc => "auc",
        }
    }
}

/// Running sums of one metric over the batches of an epoch.
#[derive(Clone, Debug)]
pub(crate) struct Accumulator {
    metric: Metric,
    sum: f64,
    count: f64,
    /// (score, positive) of every output, for `Auc`.
    scores: Vec<(f32, bool)>,
}

/// Calls `f(score, positive)` for every output of every row: each output is
/// a yes/no decision against a same-shaped target, or (several outputs, one
/// integer label) against "this output is the label".
fn decisions(pred: &Tensor, target: &Tensor, mut f: impl FnMut(f32, bool)) {
    let width = pred.row_len().max(1);
    let target_width = target.row_len().max(1);
    for (r, row) in pred.data().chunks_exact(width).enumerate() {
        let tr = &target.data()[r * target_width..(r + 1) * target_width];
        for (c, &score) in row.iter().enumerate() {
            let positive = if target_width == width {
                tr[c] > 0.5
            } else {
                tr[0] as usize == c
            };
            f(score, positive);
        }
    }
}

impl Accumulator {
    pub fn new(metric: Metric) -> Self {
        Accumulator {
            metric,
            sum: 0.0,
            count: 0.0,
            scores: Vec::new(),
        }
    }

    pub fn reset(&mut self) {
        self.sum = 0.0;
        self.count = 0.0;
        self.scores.clear();
    }

    /// Adds one batch of predictions and targets (targets checked by the loss).
    pub fn update(&mut self, pred: &Tensor, target: &Tensor, loss: Loss) {
        let width = pred.row_len().max(1);
        let p = pred.data();
        let t = target.data();
        match self.metric {
            Metric::Accuracy => {
                let threshold = match loss {
                    Loss::BinaryCrossentropy { from_logits: true } => 0.0,
                    _ => 0.5,
                };
                let target_width = target.row_len().max(1);
                for r in 0..pred.rows() {
                    let pr = &p[r * width..(r + 1) * width];
                    let tr = &t[r * target_width..(r + 1) * target_width];
                    if width == 1 {
                        let hit = (pr[0] > threshold) == (tr[0] > 0.5);
                        self.sum += f64::from(u8::from(hit));
                        self.count += 1.0;
                    } else if target_width == 1 {
                        self.sum += f64::from(u8::from(argmax(pr) == tr[0] as usize));
                        self.count += 1.0;
                    } else {
                        self.sum += f64::from(u8::from(argmax(pr) == argmax(tr)));
                        self.count += 1.0;
                    }
                }
            }
            Metric::MeanAbsoluteError => {
                self.sum += p
                    .iter()
                    .zip(t)
                    .map(|(p, t)| f64::from((p - t).abs()))
                    .sum::<f64>();
                self.count += p.len() as f64;
            }
            Metric::Precision | Metric::Recall => {
                let threshold = match loss {
                    Loss::BinaryCrossentropy { from_logits: true }
                    | Loss::CategoricalCrossentropy { from_logits: true }
                    | Loss::SparseCategoricalCrossentropy { from_logits: true } => 0.0,
                    _ => 0.5,
                };
                let precision = self.metric == Metric::Precision;
                let (sum, count) = (&mut self.sum, &mut self.count);
                // precision = tp / (tp + fp), recall = tp / (tp + fn)
                decisions(pred, target, |score, positive| {
                    let predicted = score > threshold;
                    if predicted && positive {
                        *sum += 1.0;
                    }
                    if (precision && predicted) || (!precision && positive) {
                        *count += 1.0;
                    }
                });
            }
            Metric::Auc => {
                let scores = &mut self.scores;
                decisions(pred, target, |score, positive| {
                    scores.push((score, positive))
                });
            }
            Metric::MeanSquaredError | Metric::RootMeanSquaredError => {
                self.sum += p
                    .iter()
                    .zip(t)
                    .map(|(p, t)| f64::from((p - t) * (p - t)))
                    .sum::<f64>();
                self.count += p.len() as f64;
            }
        }
    }

    pub fn value(&self) -> f32 {
        let mean = if self.count > 0.0 {
            self.sum / self.count
        } else {
            0.0
        };
        match self.metric {
            Metric::RootMeanSquaredError => mean.sqrt() as f32,
            Metric::Auc => {
                let (scores, labels): (Vec<f32>, Vec<bool>) = self.scores.iter().copied().unzip();
                crate::classification::roc_auc(&scores, &labels).unwrap_or(0.0)
            }
            _ => mean as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::new(data.to_vec(), shape).unwrap()
    }

    #[test]
    fn accuracy_modes() {
        let probs = t(&[0.1, 0.9, 0.8, 0.2, 0.3, 0.7], &[3, 2]); // argmax 1, 0, 1
        let ce = Loss::SparseCategoricalCrossentropy { from_logits: false };
        // labels 1, 1, 1: 2 of 3 right
        let mut acc = Accumulator::new(Metric::Accuracy);
        acc.update(&probs, &t(&[1.0, 1.0, 1.0], &[3]), ce);
        assert!((acc.value() - 2.0 / 3.0).abs() < 1e-6);
        // one-hot [1,0],[1,0],[0,1]: rows 2 and 3 right
        let mut acc = Accumulator::new(Metric::Accuracy);
        acc.update(&probs, &t(&[1., 0., 1., 0., 0., 1.], &[3, 2]), ce);
        assert!((acc.value() - 2.0 / 3.0).abs() < 1e-6);
        // binary: 0.7 > 0.5 is class 1, 0.2 is class 0 -> both right
        let mut acc = Accumulator::new(Metric::Accuracy);
        acc.update(
            &t(&[0.7, 0.2], &[2, 1]),
            &t(&[1.0, 0.0], &[2, 1]),
            Loss::MeanSquaredError,
        );
        assert_eq!(acc.value(), 1.0);
    }

    #[test]
    fn precision_recall_auc() {
        // sigmoid scores 0.9 0.6 0.4 0.2 against 1 0 1 0:
        // predicted positive 0.9 (right) and 0.6 (wrong): precision 1/2;
        // positives 0.9 (found) and 0.4 (missed): recall 1/2;
        // pairs (pos, neg): (0.9, 0.6) (0.9, 0.2) (0.4, 0.6)x (0.4, 0.2): AUC 3/4
        let (p, y) = (
            t(&[0.9, 0.6, 0.4, 0.2], &[4, 1]),
            t(&[1.0, 0.0, 1.0, 0.0], &[4, 1]),
        );
        let bce = Loss::BinaryCrossentropy { from_logits: false };
        for (metric, want) in [
            (Metric::Precision, 0.5),
            (Metric::Recall, 0.5),
            (Metric::Auc, 0.75),
        ] {
            let mut acc = Accumulator::new(metric);
            acc.update(&p, &y, bce);
            assert!((acc.value() - want).abs() < 1e-6, "{metric:?}");
        }
        // two classes, integer labels 1 and 0: outputs [0.3, 0.7] and [0.6, 0.4]
        // are 4 decisions, all right: precision 1
        let mut acc = Accumulator::new(Metric::Precision);
        let ce = Loss::SparseCategoricalCrossentropy { from_logits: false };
        acc.update(
            &t(&[0.3, 0.7, 0.6, 0.4], &[2, 2]),
            &t(&[1.0, 0.0], &[2]),
            ce,
        );
        assert_eq!(acc.value(), 1.0);
    }

    #[test]
    fn error_metrics() {
        // errors 1 and -3: MAE 2, MSE 5, RMSE sqrt 5
        let (p, y) = (t(&[1.0, 0.0], &[2, 1]), t(&[0.0, 3.0], &[2, 1]));
        for (metric, want) in [
            (Metric::MeanAbsoluteError, 2.0),
            (Metric::MeanSquaredError, 5.0),
            (Metric::RootMeanSquaredError, 5f32.sqrt()),
        ] {
            let mut acc = Accumulator::new(metric);
            acc.update(&p, &y, Loss::MeanSquaredError);
            assert!((acc.value() - want).abs() < 1e-6, "{metric:?}");
        }
    }
}
