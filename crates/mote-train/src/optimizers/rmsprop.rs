//! RMSprop.

use super::{complement, Clipping, Schedule};

/// RMSprop as Keras defines it: `v = rho v + (1-rho) g^2`,
/// `w -= lr g / sqrt(v + eps)` (with momentum: `mom = momentum mom + that step`).
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    pub(crate) learning_rate: Schedule,
    rho: f32,
    /// `1 - rho`, as Keras rounds it.
    one_minus_rho: f32,
    momentum: f32,
    epsilon: f32,
    pub(crate) clipping: Clipping,
}

impl RmsProp {
    /// RMSprop with Keras' defaults (rho 0.9, no momentum, epsilon 1e-7).
    pub fn new(learning_rate: impl Into<Schedule>) -> Self {
        RmsProp {
            learning_rate: learning_rate.into(),
            rho: 0.9,
            one_minus_rho: complement(0.9),
            momentum: 0.0,
            epsilon: 1e-7,
            clipping: Clipping::default(),
        }
    }

    /// Decay of the squared-gradient average (default 0.9).
    pub fn rho(mut self, rho: f32) -> Self {
        self.rho = rho;
        self.one_minus_rho = complement(rho);
        self
    }

    /// Momentum (default 0).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    pub(crate) fn update(&self, lr: f32, w: &mut [f32], g: &[f32], v: &mut [f32], mom: &mut [f32]) {
        let (rho, one_minus_rho) = (self.rho, self.one_minus_rho);
        for (((w, &g), v), mom) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(mom.iter_mut()) {
            *v = rho * *v + one_minus_rho * g * g;
            let step = lr * g / (*v + self.epsilon).sqrt();
            if self.momentum > 0.0 {
                *mom = self.momentum * *mom + step;
                *w -= *mom;
            } else {
                *w -= step;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step() {
        // v = 0.1 * 4 = 0.4; step = 0.1 * 2 / sqrt(0.4) = 0.3162
        let rms = RmsProp::new(0.1);
        let (mut w, mut v, mut mom) = ([0.0f32], [0.0f32], [0.0f32]);
        rms.update(0.1, &mut w, &[2.0], &mut v, &mut mom);
        assert!((w[0] + 0.2 / 0.4f32.sqrt()).abs() < 1e-5);
    }
}
