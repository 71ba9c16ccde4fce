//! Loss functions, reduced as Keras does: per-sample loss averaged over the batch.

use crate::activation::{sigmoid, softmax_row};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Keras' clipping of probabilities before taking logarithms.
const EPSILON: f32 = 1e-7;

/// A loss function. Every loss is the mean over samples of a per-sample loss.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Loss {
    /// mean((pred - target)^2) over all values.
    MeanSquaredError,
    /// mean(|pred - target|) over all values.
    MeanAbsoluteError,
    /// Quadratic within `delta` of the target, linear beyond (Keras default delta 1.0).
    Huber {
        /// Where the loss turns from quadratic to linear.
        delta: f32,
    },
    /// Binary cross-entropy on probabilities (or logits) against 0/1 targets.
    BinaryCrossentropy {
        /// True when predictions are logits (no sigmoid applied).
        from_logits: bool,
    },
    /// Cross-entropy against one-hot (or soft) targets of the same shape.
    CategoricalCrossentropy {
        /// True when predictions are logits (no softmax applied).
        from_logits: bool,
    },
    /// Cross-entropy against integer class labels, one per sample.
    SparseCategoricalCrossentropy {
        /// True when predictions are logits (no softmax applied).
        from_logits: bool,
    },
}

impl Loss {
    /// Keras' name for it, used in the history (`loss` is always the key).
    pub fn name(&self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber { .. } => "huber",
            Loss::BinaryCrossentropy { .. } => "binary_crossentropy",
            Loss::CategoricalCrossentropy { .. } => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
        }
    }

    /// The loss of `pred` against `target` (both with the batch axis first).
    ///
    /// ```
    /// # use mote_train::{Loss, Tensor};
    /// // ((1-0)^2 + (2-4)^2) / 2 = 2.5
    /// let pred = Tensor::new(vec![1.0, 2.0], [2, 1])?;
    /// let target = Tensor::new(vec![0.0, 4.0], [2, 1])?;
    /// assert_eq!(Loss::MeanSquaredError.compute(&pred, &target)?, 2.5);
    /// # Ok::<(), mote_train::Error>(())
    /// ```
    pub fn compute(&self, pred: &Tensor, target: &Tensor) -> Result<f32> {
        self.check_targets(pred.shape(), target)?;
        Ok(self.value_and_grad(pred, target, None))
    }

    /// Checks that `target` fits predictions of shape `pred_shape` (batch axis
    /// first) and holds valid values (finite, labels in range).
    pub(crate) fn check_targets(&self, pred_shape: &[usize], target: &Tensor) -> Result<()> {
        let rows = pred_shape.first().copied().unwrap_or(0);
        let classes: usize = pred_shape.iter().skip(1).product();
        let sparse = matches!(self, Loss::SparseCategoricalCrossentropy { .. });
        let fits = if sparse {
            target.rows() == rows && target.row_len() == 1
        } else {
            target.shape() == pred_shape || (target.rows() == rows && target.row_len() == classes)
        };
        if !fits {
            let mut expected = pred_shape.to_vec();
            if sparse {
                expected.truncate(1);
            }
            return Err(Error::ShapeMismatch {
                context: format!("targets for loss {}", self.name()),
                expected,
                found: target.shape().to_vec(),
            });
        }
        if let Some(row) = target.first_non_finite_row() {
            return Err(Error::NonFiniteData { what: "y", row });
        }
        if sparse {
            if let Some(row) = target
                .data()
                .iter()
                .position(|&v| v < 0.0 || v.fract() != 0.0 || v as usize >= classes)
            {
                return Err(Error::invalid(
                    "labels",
                    format!(
                        "row {row} has label {} but the model predicts {classes} classes (labels must be integers 0..{classes})",
                        target.data()[row]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// True for the cross-entropies on probabilities, whose gradient can be
    /// taken through a final softmax at once.
    pub(crate) fn fuses_with_softmax(&self) -> bool {
        matches!(
            self,
            Loss::CategoricalCrossentropy { from_logits: false }
                | Loss::SparseCategoricalCrossentropy { from_logits: false }
        )
    }

    /// For `p = softmax(z)` in `probs`: writes dLoss/dz = (T p - t) / rows
    /// (T = sum of the row's targets) into `grad`, the exact gradient of the
    /// cross-entropy through the softmax, with values below 1e-30 flushed to
    /// zero (subnormal floats are slow and carry nothing).
    pub(crate) fn softmax_cross_entropy_grad(
        &self,
        probs: &Tensor,
        target: &Tensor,
        grad: &mut [f32],
    ) {
        let sparse = matches!(self, Loss::SparseCategoricalCrossentropy { .. });
        let width = probs.row_len().max(1);
        let scale = 1.0 / probs.rows().max(1) as f32;
        for (r, (g, p)) in grad
            .chunks_exact_mut(width)
            .zip(probs.data().chunks_exact(width))
            .enumerate()
        {
            if sparse {
                let label = target.data()[r] as usize;
                for (c, (g, &p)) in g.iter_mut().zip(p).enumerate() {
                    *g = (p - f32::from(u8::from(c == label))) * scale;
                }
            } else {
                let t = &target.data()[r * width..(r + 1) * width];
                let t_sum: f32 = t.iter().sum();
                for ((g, &p), &t) in g.iter_mut().zip(p).zip(t) {
                    *g = (t_sum * p - t) * scale;
                }
            }
            g.iter_mut()
                .filter(|g| g.abs() < 1e-30)
                .for_each(|g| *g = 0.0);
        }
    }

    /// The loss, and when `grad` is given, dLoss/dpred written into it.
    /// Targets must have passed [`Loss::check_targets`].
    pub(crate) fn value_and_grad(
        &self,
        pred: &Tensor,
        target: &Tensor,
        mut grad: Option<&mut [f32]>,
    ) -> f32 {
        let rows = pred.rows().max(1);
        let width = pred.row_len().max(1);
        let p = pred.data();
        let t = target.data();
        let mut total = 0.0f64;
        match *self {
            Loss::MeanSquaredError | Loss::MeanAbsoluteError | Loss::Huber { .. } => {
                let scale = 1.0 / (rows * width) as f32;
                for i in 0..p.len() {
                    let e = p[i] - t[i];
                    let (value, slope) = match *self {
                        // (p - t)^2, d/dp = 2 (p - t)
                        Loss::MeanSquaredError => (e * e, 2.0 * e),
                        // |p - t|, d/dp = sign(p - t)
                        Loss::MeanAbsoluteError => (
                            e.abs(),
                            if e > 0.0 {
                                1.0
                            } else if e < 0.0 {
                                -1.0
                            } else {
                                0.0
                            },
                        ),
                        // e^2/2 within delta, else delta (|e| - delta/2)
                        Loss::Huber { delta } => {
                            if e.abs() <= delta {
                                (0.5 * e * e, e)
                            } else {
                                (delta * (e.abs() - 0.5 * delta), delta * e.signum())
                            }
                        }
                        _ => unreachable!("outer match admits regression losses only"),
                    };
                    total += f64::from(value);
                    if let Some(g) = grad.as_deref_mut() {
                        g[i] = slope * scale;
                    }
                }
                (total / (rows * width) as f64) as f32
            }
            Loss::BinaryCrossentropy { from_logits } => {
                let scale = 1.0 / (rows * width) as f32;
                for i in 0..p.len() {
                    let (value, slope) = if from_logits {
                        // max(z, 0) - z t + ln(1 + e^-|z|), d/dz = sigmoid(z) - t
                        let z = p[i];
                        (
                            z.max(0.0) - z * t[i] + (-z.abs()).exp().ln_1p(),
                            sigmoid(z) - t[i],
                        )
                    } else {
                        // -(t ln p + (1-t) ln(1-p)), d/dp = (p - t) / (p (1 - p))
                        let q = p[i].clamp(EPSILON, 1.0 - EPSILON);
                        (
                            -(t[i] * q.ln() + (1.0 - t[i]) * (1.0 - q).ln()),
                            (q - t[i]) / (q * (1.0 - q)),
                        )
                    };
                    total += f64::from(value);
                    if let Some(g) = grad.as_deref_mut() {
                        g[i] = slope * scale;
                    }
                }
                (total / (rows * width) as f64) as f32
            }
            Loss::CategoricalCrossentropy { from_logits }
            | Loss::SparseCategoricalCrossentropy { from_logits } => {
                let sparse = matches!(self, Loss::SparseCategoricalCrossentropy { .. });
                let scale = 1.0 / rows as f32;
                for r in 0..rows.min(pred.rows()) {
                    let pr = &p[r * width..(r + 1) * width];
                    let target_of = |c: usize| -> f32 {
                        if sparse {
                            f32::from(t[r] as usize == c)
                        } else {
                            t[r * width + c]
                        }
                    };
                    let mut g_row = grad
                        .as_deref_mut()
                        .map(|g| &mut g[r * width..(r + 1) * width]);
                    if from_logits {
                        // L = T lse(z) - sum t z with T = sum t; dL/dz = T softmax(z) - t
                        let max = pr.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let sum_exp: f32 = pr.iter().map(|z| (z - max).exp()).sum();
                        let lse = max + sum_exp.ln();
                        let mut t_sum = 0.0;
                        let mut value = 0.0;
                        for (c, &z) in pr.iter().enumerate() {
                            let tc = target_of(c);
                            t_sum += tc;
                            value -= tc * z;
                        }
                        value += t_sum * lse;
                        total += f64::from(value);
                        if let Some(g) = g_row.as_deref_mut() {
                            g.copy_from_slice(pr);
                            softmax_row(g);
                            for (c, gc) in g.iter_mut().enumerate() {
                                *gc = (t_sum * *gc - target_of(c)) * scale;
                            }
                        }
                    } else {
                        // L = -sum t ln(p / S) with S = sum p (Keras normalizes);
                        // dL/dp_j = -t_j / p_j + T / S
                        let s: f32 = pr.iter().sum::<f32>().max(EPSILON);
                        let mut t_sum = 0.0;
                        let mut value = 0.0;
                        for (c, &pc) in pr.iter().enumerate() {
                            let tc = target_of(c);
                            if tc != 0.0 {
                                value -= tc * (pc / s).clamp(EPSILON, 1.0 - EPSILON).ln();
                            }
                            t_sum += tc;
                        }
                        total += f64::from(value);
                        if let Some(g) = g_row {
                            for (c, gc) in g.iter_mut().enumerate() {
                                let tc = target_of(c);
                                let term = if tc != 0.0 {
                                    tc / pr[c].max(EPSILON * s)
                                } else {
                                    0.0
                                };
                                *gc = (t_sum / s - term) * scale;
                            }
                        }
                    }
                }
                (total / rows as f64) as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn t(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::new(data.to_vec(), shape).unwrap()
    }

    #[test]
    fn known_values() {
        let pred = t(&[0.5, 3.0], &[2, 1]);
        let target = t(&[0.0, 1.0], &[2, 1]);
        // MAE = (0.5 + 2) / 2
        assert_eq!(
            Loss::MeanAbsoluteError.compute(&pred, &target).unwrap(),
            1.25
        );
        // Huber(1): (0.5 * 0.25 + 1 * (2 - 0.5)) / 2 = 0.8125
        assert_eq!(
            Loss::Huber { delta: 1.0 }.compute(&pred, &target).unwrap(),
            0.8125
        );
        // sparse CE of p = [0.25, 0.75] at label 1 is -ln 0.75
        let probs = t(&[0.25, 0.75], &[1, 2]);
        let ce = Loss::SparseCategoricalCrossentropy { from_logits: false };
        assert!((ce.compute(&probs, &t(&[1.0], &[1])).unwrap() + 0.75f32.ln()).abs() < 1e-6);
        // the same from logits [0, ln 3] (softmax = [0.25, 0.75])
        let logits = t(&[0.0, 3f32.ln()], &[1, 2]);
        let ce = Loss::CategoricalCrossentropy { from_logits: true };
        assert!(
            (ce.compute(&logits, &t(&[0.0, 1.0], &[1, 2])).unwrap() + 0.75f32.ln()).abs() < 1e-6
        );
        // BCE of p = 0.5 is ln 2 whatever the target
        let bce = Loss::BinaryCrossentropy { from_logits: false };
        assert!(
            (bce.compute(&t(&[0.5], &[1, 1]), &t(&[1.0], &[1, 1]))
                .unwrap()
                - 2f32.ln())
            .abs()
                < 1e-6
        );
    }

    #[test]
    fn target_checks_name_the_problem() {
        let ce = Loss::SparseCategoricalCrossentropy { from_logits: false };
        let err = ce
            .compute(&t(&[0.5, 0.5], &[1, 2]), &t(&[2.0], &[1]))
            .unwrap_err();
        assert!(err.to_string().contains("label 2"), "{err}");
        let err = Loss::MeanSquaredError
            .compute(&t(&[0.5, 0.5], &[1, 2]), &t(&[2.0], &[1]))
            .unwrap_err();
        assert!(err.to_string().contains("expected shape [1, 2]"), "{err}");
        let err = Loss::MeanSquaredError
            .compute(&t(&[0.5, 0.5], &[2, 1]), &t(&[2.0, f32::NAN], &[2, 1]))
            .unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
    }

    #[test]
    fn gradients_match_finite_differences() {
        // dL/dp_i = (L(p + h e_i) - L(p - h e_i)) / 2h
        let mut rng = Rng::new(4);
        let probs: Vec<f32> = (0..6).map(|_| rng.uniform(0.1, 0.9)).collect();
        let logits: Vec<f32> = (0..6).map(|_| rng.uniform(-2.0, 2.0)).collect();
        let soft: Vec<f32> = (0..6).map(|_| rng.uniform(0.0, 1.0)).collect();
        let cases = [
            (Loss::MeanSquaredError, &logits, t(&soft, &[2, 3])),
            (Loss::MeanAbsoluteError, &logits, t(&soft, &[2, 3])),
            (Loss::Huber { delta: 0.7 }, &logits, t(&soft, &[2, 3])),
            (
                Loss::BinaryCrossentropy { from_logits: false },
                &probs,
                t(&soft, &[2, 3]),
            ),
            (
                Loss::BinaryCrossentropy { from_logits: true },
                &logits,
                t(&soft, &[2, 3]),
            ),
            (
                Loss::CategoricalCrossentropy { from_logits: false },
                &probs,
                t(&soft, &[2, 3]),
            ),
            (
                Loss::CategoricalCrossentropy { from_logits: true },
                &logits,
                t(&soft, &[2, 3]),
            ),
            (
                Loss::SparseCategoricalCrossentropy { from_logits: false },
                &probs,
                t(&[2.0, 0.0], &[2]),
            ),
            (
                Loss::SparseCategoricalCrossentropy { from_logits: true },
                &logits,
                t(&[1.0, 2.0], &[2, 1]),
            ),
        ];
        for (loss, p, target) in cases {
            let pred = t(p, &[2, 3]);
            let mut grad = vec![0.0; 6];
            loss.value_and_grad(&pred, &target, Some(&mut grad));
            for (i, &analytic) in grad.iter().enumerate() {
                let h = 1e-3;
                let mut plus = pred.clone();
                plus.data_mut()[i] += h;
                let mut minus = pred.clone();
                minus.data_mut()[i] -= h;
                let numeric = (loss.compute(&plus, &target).unwrap()
                    - loss.compute(&minus, &target).unwrap())
                    / (2.0 * h);
                assert!(
                    (numeric - analytic).abs() < 2e-3 + 1e-2 * numeric.abs(),
                    "{loss:?}[{i}]: numeric {numeric}, analytic {}",
                    analytic
                );
            }
        }
    }
}
