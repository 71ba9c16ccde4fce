//! Adam and AdamW (Adam with decoupled weight decay).

use super::{complement, Clipping, Schedule};

/// Adam as Keras defines it: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
/// `w -= lr sqrt(1-b2^t) / (1-b1^t) * m / (sqrt(v) + eps)`; with a weight decay
/// (AdamW) `w -= lr * decay * w` first. Rounded as Keras rounds it: `1 - b`
/// from the decimal `b` (see [`complement`]), `b^t` by `powf` in f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub(crate) learning_rate: Schedule,
    beta_1: f32,
    beta_2: f32,
    /// `1 - beta_1` and `1 - beta_2`, as Keras rounds them.
    one_minus: [f32; 2],
    epsilon: f32,
    weight_decay: f32,
    pub(crate) clipping: Clipping,
}

impl Adam {
    /// Adam with Keras' defaults (beta_1 0.9, beta_2 0.999, epsilon 1e-7).
    pub fn new(learning_rate: impl Into<Schedule>) -> Self {
        Adam {
            learning_rate: learning_rate.into(),
            beta_1: 0.9,
            beta_2: 0.999,
            one_minus: [complement(0.9), complement(0.999)],
            epsilon: 1e-7,
            weight_decay: 0.0,
            clipping: Clipping::default(),
        }
    }

    /// AdamW: Adam with decoupled weight decay (Keras' default decay 0.004).
    pub fn adamw(learning_rate: impl Into<Schedule>) -> Self {
        Adam::new(learning_rate).weight_decay(0.004)
    }

    /// Decay of the first moment (default 0.9).
    pub fn beta_1(mut self, beta_1: f32) -> Self {
        self.beta_1 = beta_1;
        self.one_minus[0] = complement(beta_1);
        self
    }

    /// Decay of the second moment (default 0.999).
    pub fn beta_2(mut self, beta_2: f32) -> Self {
        self.beta_2 = beta_2;
        self.one_minus[1] = complement(beta_2);
        self
    }

    /// Added to the denominator (default 1e-7).
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Decoupled weight decay (0 is plain Adam).
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// One update at step `t` (1-based).
    pub(crate) fn update(
        &self,
        lr: f32,
        t: u64,
        w: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
    ) {
        // Keras: local_step = iterations + 1 as a float, beta^local_step by pow
        let t = t as f32;
        let lr_t = lr * (1.0 - self.beta_2.powf(t)).sqrt() / (1.0 - self.beta_1.powf(t));
        let decay = 1.0 - lr * self.weight_decay;
        let eps = self.epsilon;
        let [c1, c2] = self.one_minus;
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m += (g - *m) * c1;
            *v += (g * g - *v) * c2;
            *w = *w * decay - lr_t * *m / (v.sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_lr() {
        // t = 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1,
        // so the step is lr * g / |g| (up to eps) = 0.01 against the gradient.
        let adam = Adam::new(0.01);
        let (mut w, mut m, mut v) = ([1.0f32, 1.0], [0.0f32; 2], [0.0f32; 2]);
        adam.update(0.01, 1, &mut w, &[4.0, -0.5], &mut m, &mut v);
        assert!(
            (w[0] - 0.99).abs() < 1e-5 && (w[1] - 1.01).abs() < 1e-5,
            "{w:?}"
        );
    }

    #[test]
    fn moments_scaled_by_one_minus_beta_as_keras_rounds_it() {
        // Keras: m = (g - 0) * float32(1 - 0.9), v = (g^2 - 0) * float32(1 - 0.999),
        // i.e. 0.1f32 and 0.001f32; 1 - 0.999f32 would be 0.0010000467
        let adam = Adam::new(0.001);
        let (mut w, mut m, mut v) = ([0.0f32], [0.0f32], [0.0f32]);
        adam.update(0.001, 1, &mut w, &[2.0], &mut m, &mut v);
        assert_eq!(m[0], 2.0 * 0.1f32);
        assert_eq!(v[0], 4.0 * 0.001f32);
    }

    #[test]
    fn weight_decay_shrinks() {
        // zero gradient: w = w (1 - lr * decay) = 1 - 0.1 * 0.5
        let adamw = Adam::adamw(0.1).weight_decay(0.5);
        let (mut w, mut m, mut v) = ([1.0f32], [0.0f32], [0.0f32]);
        adamw.update(0.1, 1, &mut w, &[0.0], &mut m, &mut v);
        assert!((w[0] - 0.95).abs() < 1e-6);
    }
}
