//! Early stopping and user callbacks run at the end of each epoch.

use crate::history::Logs;

/// What a callback asks of the training loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// Stops training when a monitored value stops improving (Keras' `EarlyStopping`).
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    monitor: String,
    patience: usize,
    min_delta: f32,
    restore_best_weights: bool,
    maximize: bool,
}

impl EarlyStopping {
    /// Watches `monitor` (e.g. `"val_loss"`); values whose name contains
    /// `acc` or `auc` are maximized, others minimized. Patience 0, no restore.
    pub fn new(monitor: impl Into<String>) -> Self {
        let monitor = monitor.into();
        let maximize = monitor.contains("acc") || monitor.contains("auc");
        EarlyStopping {
            monitor,
            patience: 0,
            min_delta: 0.0,
            restore_best_weights: false,
            maximize,
        }
    }

    /// Epochs without improvement tolerated before stopping.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Smallest change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f32) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// At the end of training, put back the weights of the best epoch.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// The value watched.
    pub fn monitor(&self) -> &str {
        &self.monitor
    }

    pub(crate) fn restores(&self) -> bool {
        self.restore_best_weights
    }

    pub(crate) fn tracker(&self) -> Tracker {
        Tracker {
            best: None,
            wait: 0,
        }
    }

    /// Whether `value` improves on `best`.
    fn improves(&self, value: f32, best: f32) -> bool {
        if self.maximize {
            value - self.min_delta > best
        } else {
            value + self.min_delta < best
        }
    }
}

/// Early stopping's running state during one `fit`.
pub(crate) struct Tracker {
    best: Option<f32>,
    wait: usize,
}

/// The verdict on one epoch.
pub(crate) struct Verdict {
    /// This epoch is the best so far (snapshot its weights).
    pub improved: bool,
    /// Patience is exhausted.
    pub stop: bool,
}

impl Tracker {
    /// Judges an epoch; `None` when the monitored value is not in `logs`.
    pub fn observe(&mut self, rule: &EarlyStopping, logs: &Logs) -> Option<Verdict> {
        let value = logs.get(&rule.monitor)?;
        let improved = self.best.is_none_or(|best| rule.improves(value, best));
        if improved {
            self.best = Some(value);
            self.wait = 0;
        } else {
            self.wait += 1;
        }
        Some(Verdict {
            improved,
            stop: self.wait > rule.patience,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_patience() {
        // val_loss 1.0, 0.5, 0.6, 0.7: best at epoch 2, patience 1 -> stop at epoch 4
        let rule = EarlyStopping::new("val_loss").patience(1);
        let mut tracker = rule.tracker();
        let mut verdicts = Vec::new();
        for v in [1.0, 0.5, 0.6, 0.7] {
            let mut logs = Logs::default();
            logs.push("val_loss", v);
            let verdict = tracker.observe(&rule, &logs).unwrap();
            verdicts.push((verdict.improved, verdict.stop));
        }
        assert_eq!(
            verdicts,
            [(true, false), (true, false), (false, false), (false, true)]
        );
    }

    #[test]
    fn accuracy_is_maximized() {
        let rule = EarlyStopping::new("val_accuracy");
        let mut tracker = rule.tracker();
        let mut logs = Logs::default();
        logs.push("val_accuracy", 0.5);
        assert!(tracker.observe(&rule, &logs).unwrap().improved);
        let mut logs = Logs::default();
        logs.push("val_accuracy", 0.6);
        assert!(tracker.observe(&rule, &logs).unwrap().improved);
    }
}
