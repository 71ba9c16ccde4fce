//! `compile`, `fit` and `evaluate`: the training loop.

use std::time::Instant;

use super::{Compiled, Model, INFERENCE_BATCH};
use crate::callbacks::Control;
use crate::error::{Error, Result};
use crate::fit::{Fit, Validation};
use crate::history::{History, Logs};
use crate::loss::Loss;
use crate::metric::{Accumulator, Metric};
use crate::optimizers::{Optimizer, OptimizerState};
use crate::progress::Progress;
use crate::rng::{Rng, Stream};
use crate::tensor::Tensor;

impl Model {
    /// Sets the optimizer and the loss (Keras' `compile`); resets optimizer state.
    /// Chain [`Model::metrics`] to track metrics.
    pub fn compile(&mut self, optimizer: impl Into<Optimizer>, loss: Loss) -> &mut Self {
        let metrics = self.compiled.take().map(|c| c.metrics).unwrap_or_default();
        self.compiled = Some(Compiled {
            optimizer: optimizer.into(),
            loss,
            metrics,
            state: OptimizerState::default(),
        });
        self
    }

    /// Metrics reported beside the loss by `fit` and `evaluate` (after `compile`).
    pub fn metrics(&mut self, metrics: impl IntoIterator<Item = Metric>) -> &mut Self {
        if let Some(compiled) = &mut self.compiled {
            compiled.metrics = metrics.into_iter().collect();
        }
        self
    }

    /// The weights of every layer in order (Keras' `get_weights`).
    pub fn weights(&self) -> Vec<Tensor> {
        self.layers()
            .flat_map(|l| l.params())
            .map(|p| p.value().clone())
            .collect()
    }

    /// Replaces every weight, in the order of [`Model::weights`].
    pub fn set_weights(&mut self, weights: Vec<Tensor>) -> Result<()> {
        let count = self.layers().map(|l| l.params().len()).sum::<usize>();
        if weights.len() != count {
            return Err(Error::invalid(
                "weights",
                format!("model has {count} weight tensors, got {}", weights.len()),
            ));
        }
        let mut weights = weights.into_iter();
        for layer in self.layers_mut() {
            for param in layer.params_mut() {
                if let Some(w) = weights.next() {
                    param.set_value(w)?;
                }
            }
        }
        Ok(())
    }

    /// Trains on `x`, `y` (batch axis first) and returns the per-epoch history.
    ///
    /// ```
    /// use mote_train::{Dense, Fit, Loss, Sequential, Sgd, Tensor};
    /// let xs = Tensor::new(vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], [6, 1])?;
    /// let ys = Tensor::new(vec![-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], [6, 1])?;
    /// let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
    /// model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
    /// let history = model.fit(&xs, &ys, Fit::epochs(500).verbose(0))?;
    /// assert!(history.loss()[499] < history.loss()[0]);
    /// let y = model.predict(&Tensor::new(vec![10.0], [1, 1])?)?;
    /// assert!((y.data()[0] - 19.0).abs() < 0.05);
    /// # Ok::<(), mote_train::Error>(())
    /// ```
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, settings: Fit<'_>) -> Result<History> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled("fit"));
        }
        self.build_for(x, "fit x")?;
        self.check_data(x, y, "x", "y")?;
        if settings.batch_size == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        let Fit {
            epochs,
            batch_size,
            seed,
            shuffle,
            verbosity,
            output,
            validation,
            early_stopping,
            mut callbacks,
        } = settings;
        let mut split_data = None;
        let mut train_rows = x.rows();
        let validation = match validation {
            Validation::None => None,
            Validation::Data(vx, vy) => {
                self.build_for(vx, "validation x")?;
                self.check_data(vx, vy, "validation x", "validation y")?;
                Some((vx, vy))
            }
            Validation::Split(fraction) => {
                if !(0.0..1.0).contains(&fraction) {
                    return Err(Error::invalid(
                        "validation_split",
                        format!("{fraction} is not in [0, 1)"),
                    ));
                }
                // Keras holds out the last rows, before any shuffling.
                train_rows = (x.rows() as f64 * (1.0 - f64::from(fraction))).floor() as usize;
                let held: Vec<usize> = (train_rows..x.rows()).collect();
                split_data = Some((x.select_rows(&held), y.select_rows(&held)));
                split_data.as_ref().map(|(a, b)| (a, b))
            }
        };
        if train_rows == 0 {
            return Err(Error::invalid("fit x", "no training rows"));
        }

        // softmax output + cross-entropy on probabilities: take the gradient
        // through both at once (p - t), as Keras does
        let fuses = self
            .compiled
            .as_ref()
            .is_some_and(|c| c.loss.fuses_with_softmax());
        let last = self.nodes.len() - 1;
        self.fused_softmax = self.nodes[last].layer.op_mut().fuse_softmax(fuses) && fuses;
        let mut shuffler = Rng::stream(seed, Stream::Shuffle);
        self.work.rng = Rng::stream(seed, Stream::Dropout);
        let mut order: Vec<usize> = (0..train_rows).collect();
        let mut progress = Progress::new(verbosity, output, epochs);
        let mut history = History::default();
        let mut tracker = early_stopping.as_ref().map(|rule| rule.tracker());
        let mut best_weights: Option<Vec<Tensor>> = None;
        let metrics = self
            .compiled
            .as_ref()
            .map(|c| c.metrics.clone())
            .unwrap_or_default();
        let mut accumulators: Vec<Accumulator> =
            metrics.iter().map(|&m| Accumulator::new(m)).collect();

        for epoch in 1..=epochs {
            let started = Instant::now();
            if shuffle {
                shuffler.shuffle(&mut order);
            }
            accumulators.iter_mut().for_each(Accumulator::reset);
            let mut loss_sum = 0.0f64;
            for (b, batch) in order.chunks(batch_size).enumerate() {
                let loss = self.train_batch(x, y, batch, &mut accumulators);
                if !loss.is_finite() {
                    progress.note("training stopped: the loss is not finite");
                    return Err(Error::NonFiniteLoss {
                        value: loss,
                        epoch,
                        batch: b + 1,
                    });
                }
                loss_sum += f64::from(loss) * batch.len() as f64;
            }
            let mut logs = Logs::default();
            logs.push("loss", (loss_sum / train_rows as f64) as f32);
            for (metric, acc) in metrics.iter().zip(&accumulators) {
                logs.push(metric.name(), acc.value());
            }
            if let Some((vx, vy)) = validation {
                let values = self.evaluate_values(vx, vy)?;
                for (name, value) in values.iter() {
                    logs.push(format!("val_{name}"), value);
                }
            }
            history.record(&logs);
            progress.epoch_end(epoch, &logs, started.elapsed());

            let mut stop = false;
            if let (Some(rule), Some(tracker)) = (&early_stopping, &mut tracker) {
                let verdict = tracker.observe(rule, &logs).ok_or_else(|| {
                    Error::invalid(
                        "early stopping monitor",
                        format!(
                            "'{}' is not logged (logged: {:?})",
                            rule.monitor(),
                            logs.iter().map(|(k, _)| k).collect::<Vec<_>>()
                        ),
                    )
                })?;
                if verdict.improved && rule.restores() {
                    best_weights = Some(self.weights());
                }
                if verdict.stop {
                    progress.note(&format!(
                        "early stopping at epoch {epoch}: '{}' did not improve",
                        rule.monitor()
                    ));
                    stop = true;
                }
            }
            for callback in &mut callbacks {
                if callback(epoch, &logs) == Control::Stop {
                    stop = true;
                }
            }
            if stop {
                break;
            }
        }
        if let Some(weights) = best_weights {
            self.set_weights(weights)?;
        }
        drop(split_data);
        Ok(history)
    }

    /// One gradient step on the rows `batch` of `x`, `y`; returns the batch loss.
    fn train_batch(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        batch: &[usize],
        accumulators: &mut [Accumulator],
    ) -> f32 {
        self.work.outputs[0].gather_rows_from(x, batch);
        self.work.targets.gather_rows_from(y, batch);
        self.forward(true);
        let Some(compiled) = self.compiled.as_mut() else {
            return f32::NAN;
        };
        let last = self.nodes.len() - 1;
        let work = &mut self.work;
        work.grads[last].resize(work.outputs[last].shape());
        let loss = if self.fused_softmax {
            let loss = compiled
                .loss
                .value_and_grad(&work.outputs[last], &work.targets, None);
            compiled.loss.softmax_cross_entropy_grad(
                &work.outputs[last],
                &work.targets,
                work.grads[last].data_mut(),
            );
            loss
        } else {
            compiled.loss.value_and_grad(
                &work.outputs[last],
                &work.targets,
                Some(work.grads[last].data_mut()),
            )
        };
        if !loss.is_finite() {
            return loss;
        }
        for acc in accumulators.iter_mut() {
            acc.update(&work.outputs[last], &work.targets, compiled.loss);
        }
        self.backward();
        let Some(compiled) = self.compiled.as_mut() else {
            return f32::NAN;
        };
        let global_norm = if compiled.optimizer.clipping().global_norm.is_some() {
            self.nodes
                .iter()
                .flat_map(|n| n.layer.params())
                .filter(|p| p.trainable())
                .flat_map(|p| p.grad().data())
                .map(|g| g * g)
                .sum::<f32>()
                .sqrt()
        } else {
            0.0
        };
        compiled.state.begin(&compiled.optimizer, global_norm);
        for node in &mut self.nodes {
            for param in node.layer.params_mut() {
                compiled.state.update(&compiled.optimizer, param);
            }
        }
        loss
    }

    /// Loss and metrics on `x`, `y` in inference mode (Keras' `evaluate`).
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor) -> Result<Logs> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled("evaluate"));
        }
        self.build_for(x, "evaluate x")?;
        self.check_data(x, y, "x", "y")?;
        self.evaluate_values(x, y)
    }

    /// `evaluate` on data already checked.
    fn evaluate_values(&mut self, x: &Tensor, y: &Tensor) -> Result<Logs> {
        let Some(compiled) = self.compiled.as_ref() else {
            return Err(Error::NotCompiled("evaluate"));
        };
        let (loss, metrics) = (compiled.loss, compiled.metrics.clone());
        let mut accumulators: Vec<Accumulator> =
            metrics.iter().map(|&m| Accumulator::new(m)).collect();
        let rows = x.rows();
        let target_len = y.row_len();
        let mut loss_sum = 0.0f64;
        for start in (0..rows).step_by(INFERENCE_BATCH) {
            let end = (start + INFERENCE_BATCH).min(rows);
            self.load_rows(x, start, end);
            self.forward(false);
            let targets = &mut self.work.targets;
            targets.resize_batch(end - start, &y.shape()[1..]);
            targets
                .data_mut()
                .copy_from_slice(&y.data()[start * target_len..end * target_len]);
            let out = &self.work.outputs[self.nodes.len() - 1];
            loss_sum += f64::from(loss.value_and_grad(out, targets, None)) * (end - start) as f64;
            for acc in &mut accumulators {
                acc.update(out, targets, loss);
            }
        }
        let mut logs = Logs::default();
        logs.push("loss", (loss_sum / rows.max(1) as f64) as f32);
        for (metric, acc) in metrics.iter().zip(&accumulators) {
            logs.push(metric.name(), acc.value());
        }
        Ok(logs)
    }

    /// Checks sample counts, finiteness and the targets against the loss.
    fn check_data(
        &self,
        x: &Tensor,
        y: &Tensor,
        x_name: &'static str,
        y_name: &'static str,
    ) -> Result<()> {
        if x.rows() != y.rows() {
            return Err(Error::invalid(
                y_name,
                format!(
                    "{} has {} rows but {x_name} has {}",
                    y_name,
                    y.rows(),
                    x.rows()
                ),
            ));
        }
        if let Some(row) = x.first_non_finite_row() {
            return Err(Error::NonFiniteData { what: x_name, row });
        }
        if let Some(compiled) = &self.compiled {
            let mut pred_shape = vec![x.rows()];
            pred_shape.extend_from_slice(self.output_shape().unwrap_or(&[]));
            compiled
                .loss
                .check_targets(&pred_shape, y)
                .map_err(|e| match e {
                    Error::NonFiniteData { row, .. } => Error::NonFiniteData { what: y_name, row },
                    other => other,
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        Activation, Adam, Dense, EarlyStopping, Fit, Loss, Metric, Sequential, Sgd, Tensor,
    };

    fn line_data() -> (Tensor, Tensor) {
        // y = 2x - 1
        let xs = Tensor::new(vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], [6, 1]).unwrap();
        let ys = Tensor::new(vec![-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], [6, 1]).unwrap();
        (xs, ys)
    }

    #[test]
    fn learns_the_line_deterministically() {
        let (xs, ys) = line_data();
        let run = || {
            let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
            model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
            let history = model.fit(&xs, &ys, Fit::epochs(500).verbose(0)).unwrap();
            let y = model
                .predict(&Tensor::new(vec![10.0], [1, 1]).unwrap())
                .unwrap();
            (history, y.data()[0])
        };
        let (history, y10) = run();
        // 2 * 10 - 1 = 19
        assert!((y10 - 19.0).abs() < 0.05, "predict(10) = {y10}");
        assert_eq!(history.epochs(), 500);
        assert!(history.loss()[499] < 1e-3, "{}", history.loss()[499]);
        assert_eq!(run(), (history, y10));
    }

    #[test]
    fn first_epoch_loss_is_mse_of_initial_model() {
        // one full batch: the logged loss is the MSE before the first update
        let (xs, ys) = line_data();
        let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
        model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
        let before = model.predict(&xs).unwrap();
        let mse = Loss::MeanSquaredError.compute(&before, &ys).unwrap();
        let history = model.fit(&xs, &ys, Fit::epochs(1).verbose(0)).unwrap();
        assert!((history.loss()[0] - mse).abs() < 1e-5);
    }

    #[test]
    fn errors_have_context() {
        let (xs, ys) = line_data();
        let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
        assert!(model
            .fit(&xs, &ys, Fit::epochs(1))
            .unwrap_err()
            .to_string()
            .contains("compile"));
        model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
        let mut bad = xs.clone();
        bad.data_mut()[4] = f32::NAN;
        let err = model.fit(&bad, &ys, Fit::epochs(1).verbose(0)).unwrap_err();
        assert!(
            err.to_string().contains("x has a non-finite value")
                && err.to_string().contains("row 4"),
            "{err}"
        );
        // a learning rate of 1e6 makes the loss blow up
        model.compile(Sgd::new(1e6), Loss::MeanSquaredError);
        let err = model
            .fit(&xs, &ys, Fit::epochs(100).verbose(0))
            .unwrap_err();
        assert!(err.to_string().contains("loss became"), "{err}");
        // a second Dense expecting 3 features cannot follow a 1-feature input
        let wide = Tensor::zeros([6, 3]);
        let err = model
            .fit(&wide, &ys, Fit::epochs(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[0, 1]") && err.contains("[6, 3]"), "{err}");
    }

    #[test]
    fn classifier_with_validation_and_early_stopping() {
        // two separable blobs: class = (x0 + x1 > 0)
        let n = 200;
        let mut rng = crate::rng::Rng::new(3);
        let x = Tensor::from_fn([n, 2], |_| rng.uniform(-1.0, 1.0));
        let y = Tensor::from_fn([n], |i| {
            f32::from(u8::from(x.row(i)[0] + x.row(i)[1] > 0.0))
        });
        let mut model = Sequential::new([
            Dense::new(8).activation(Activation::Relu).input_shape([2]),
            Dense::new(2).activation(Activation::Softmax),
        ]);
        model
            .compile(
                Adam::new(0.01),
                Loss::SparseCategoricalCrossentropy { from_logits: false },
            )
            .metrics([Metric::Accuracy]);
        let rule = EarlyStopping::new("val_loss")
            .patience(3)
            .restore_best_weights(true);
        let history = model
            .fit(
                &x,
                &y,
                Fit::epochs(200)
                    .batch_size(16)
                    .validation_split(0.25)
                    .early_stopping(rule)
                    .verbose(0),
            )
            .unwrap();
        let keys: Vec<&str> = history.keys().collect();
        assert_eq!(keys, ["loss", "accuracy", "val_loss", "val_accuracy"]);
        let logs = model.evaluate(&x, &y).unwrap();
        assert!(logs.get("accuracy").unwrap() > 0.95, "{logs:?}");
        // restored weights give the best val_loss seen
        let best = history
            .get("val_loss")
            .unwrap()
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        let held: Vec<usize> = (150..200).collect();
        let val = model
            .evaluate(&x.select_rows(&held), &y.select_rows(&held))
            .unwrap();
        assert!((val.get("loss").unwrap() - best).abs() < 1e-5);
    }
}
