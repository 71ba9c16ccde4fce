//! Optimizers (one file each), learning-rate schedules and gradient clipping.

mod adam;
mod rmsprop;
mod schedule;
mod sgd;

pub use adam::Adam;
pub use rmsprop::RmsProp;
pub use schedule::Schedule;
pub use sgd::Sgd;

use crate::layers::Param;

/// `1 - decay` as Keras computes it for a decay rate given as a Python
/// float: in double precision from the decimal, then rounded to f32 when it
/// meets a float32 tensor. `1 - 0.999` so is 0.001 exactly rounded, where the
/// subtraction in f32 gives 0.0010000467 (0.999 is not exact in f32: Adam's
/// second moment came out 4.7e-5 larger than Keras'). The decimal is the
/// shortest one that reads back as `decay` (what `Display` prints): the number
/// the user wrote.
pub(crate) fn complement(decay: f32) -> f32 {
    let decimal: f64 = decay.to_string().parse().unwrap_or(f64::from(decay));
    (1.0 - decimal) as f32
}

/// Gradient clipping applied before an optimizer's update (Keras' `clipnorm`,
/// `clipvalue`, `global_clipnorm`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clipping {
    /// Largest L2 norm of each parameter's gradient.
    pub norm: Option<f32>,
    /// Largest absolute value of each gradient element.
    pub value: Option<f32>,
    /// Largest L2 norm of all gradients taken together.
    pub global_norm: Option<f32>,
}

/// An optimizer: how parameters move given their gradients.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Optimizer {
    /// Stochastic gradient descent.
    Sgd(Sgd),
    /// Adam or AdamW.
    Adam(Adam),
    /// RMSprop.
    RmsProp(RmsProp),
}

impl From<Sgd> for Optimizer {
    fn from(o: Sgd) -> Self {
        Optimizer::Sgd(o)
    }
}

impl From<Adam> for Optimizer {
    fn from(o: Adam) -> Self {
        Optimizer::Adam(o)
    }
}

impl From<RmsProp> for Optimizer {
    fn from(o: RmsProp) -> Self {
        Optimizer::RmsProp(o)
    }
}

impl Optimizer {
    /// The learning-rate schedule.
    pub fn learning_rate(&self) -> Schedule {
        match self {
            Optimizer::Sgd(o) => o.learning_rate,
            Optimizer::Adam(o) => o.learning_rate,
            Optimizer::RmsProp(o) => o.learning_rate,
        }
    }

    /// The gradient clipping settings.
    pub fn clipping(&self) -> Clipping {
        match self {
            Optimizer::Sgd(o) => o.clipping,
            Optimizer::Adam(o) => o.clipping,
            Optimizer::RmsProp(o) => o.clipping,
        }
    }

    /// The same optimizer with gradient clipping.
    pub fn with_clipping(mut self, clipping: Clipping) -> Self {
        match &mut self {
            Optimizer::Sgd(o) => o.clipping = clipping,
            Optimizer::Adam(o) => o.clipping = clipping,
            Optimizer::RmsProp(o) => o.clipping = clipping,
        }
        self
    }
}

/// Per-parameter moments and the step count, kept between updates.
#[derive(Clone, Debug, Default)]
pub(crate) struct OptimizerState {
    /// Updates applied so far.
    pub iterations: u64,
    slots: Vec<[Vec<f32>; 2]>,
    /// Scale for all gradients this step (global norm clipping).
    global_scale: f32,
    next_slot: usize,
}

impl OptimizerState {
    /// Starts a step: counts it and resets the slot cursor; `global_norm` is the
    /// L2 norm of all gradients (only used with global-norm clipping).
    pub fn begin(&mut self, optimizer: &Optimizer, global_norm: f32) {
        self.iterations += 1;
        self.next_slot = 0;
        self.global_scale = match optimizer.clipping().global_norm {
            Some(max) if global_norm > max => max / global_norm,
            _ => 1.0,
        };
    }

    /// Updates one parameter (call in the same order at every step).
    pub fn update(&mut self, optimizer: &Optimizer, param: &mut Param) {
        if !param.trainable() {
            return;
        }
        let index = self.next_slot;
        self.next_slot += 1;
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, Default::default);
        }
        let len = param.value().len();
        let [a, b] = &mut self.slots[index];
        a.resize(len, 0.0);
        b.resize(len, 0.0);
        clip(
            optimizer.clipping(),
            self.global_scale,
            param.grad_mut().data_mut(),
        );
        let lr = optimizer.learning_rate().at(self.iterations - 1);
        let (w, g) = param.value_and_grad();
        match optimizer {
            Optimizer::Sgd(o) => o.update(lr, w, g, a),
            Optimizer::Adam(o) => o.update(lr, self.iterations, w, g, a, b),
            Optimizer::RmsProp(o) => o.update(lr, w, g, a, b),
        }
    }
}

fn clip(clipping: Clipping, global_scale: f32, grad: &mut [f32]) {
    let mut scale = global_scale;
    if let Some(max) = clipping.norm {
        let norm = grad.iter().map(|g| g * g).sum::<f32>().sqrt();
        if norm > max {
            scale *= max / norm;
        }
    }
    if scale != 1.0 {
        grad.iter_mut().for_each(|g| *g *= scale);
    }
    if let Some(max) = clipping.value {
        grad.iter_mut().for_each(|g| *g = g.clamp(-max, max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complement_rounds_as_keras() {
        // Python: float32(1 - 0.999) = 0.001, float32(1 - 0.9) = 0.1
        assert_eq!(complement(0.999), 0.001);
        assert_eq!(complement(0.9), 0.1);
        assert_eq!(complement(0.5), 0.5);
        // the same subtraction in f32 is off by 4.7e-5 (relative)
        assert_ne!(1.0 - 0.999f32, 0.001);
    }

    #[test]
    fn clipping() {
        // g = [3, 4] has norm 5; clipnorm 1 gives [0.6, 0.8]; clipvalue 0.7 then [0.6, 0.7]
        let mut g = [3.0, 4.0];
        clip(
            Clipping {
                norm: Some(1.0),
                value: Some(0.7),
                global_norm: None,
            },
            1.0,
            &mut g,
        );
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.7).abs() < 1e-6);
    }
}
