//! Stochastic gradient descent, with optional (Nesterov) momentum.

use super::{Clipping, Schedule};

/// SGD as Keras defines it: `v = momentum * v - lr * g`, then `w += v`
/// (Nesterov: `w += momentum * v - lr * g`); plain `w -= lr * g` without momentum.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    pub(crate) learning_rate: Schedule,
    momentum: f32,
    nesterov: bool,
    pub(crate) clipping: Clipping,
}

impl Sgd {
    /// SGD with learning rate `learning_rate` (a number or a [`Schedule`]).
    pub fn new(learning_rate: impl Into<Schedule>) -> Self {
        Sgd {
            learning_rate: learning_rate.into(),
            momentum: 0.0,
            nesterov: false,
            clipping: Clipping::default(),
        }
    }

    /// Momentum factor in `[0, 1)` (default 0).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Use Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    pub(crate) fn update(&self, lr: f32, w: &mut [f32], g: &[f32], velocity: &mut [f32]) {
        if self.momentum == 0.0 {
            w.iter_mut().zip(g).for_each(|(w, g)| *w -= lr * g);
            return;
        }
        let m = self.momentum;
        for ((w, g), v) in w.iter_mut().zip(g).zip(velocity) {
            *v = m * *v - lr * g;
            *w += if self.nesterov { m * *v - lr * g } else { *v };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_steps() {
        // g = 1, lr = 0.1, m = 0.9: v1 = -0.1, w1 = -0.1; v2 = -0.19, w2 = -0.29
        let sgd = Sgd::new(0.1).momentum(0.9);
        let (mut w, mut v) = ([0.0f32], [0.0f32]);
        sgd.update(0.1, &mut w, &[1.0], &mut v);
        sgd.update(0.1, &mut w, &[1.0], &mut v);
        assert!((w[0] + 0.29).abs() < 1e-6);
        // Nesterov: v1 = -0.1, w1 = 0.9 * -0.1 - 0.1 = -0.19
        let nesterov = Sgd::new(0.1).momentum(0.9).nesterov(true);
        let (mut w, mut v) = ([0.0f32], [0.0f32]);
        nesterov.update(0.1, &mut w, &[1.0], &mut v);
        assert!((w[0] + 0.19).abs() < 1e-6);
    }
}
