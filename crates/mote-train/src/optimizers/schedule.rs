//! Learning-rate schedules, evaluated at each training step (batch), as Keras does.

/// A learning rate that may change with the step count (batches seen).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Schedule {
    /// The same rate at every step.
    Constant(f32),
    /// `initial * factor^floor(step / every)`.
    Step {
        /// Rate at step 0.
        initial: f32,
        /// Steps between drops.
        every: u64,
        /// Multiplier at each drop.
        factor: f32,
    },
    /// `initial * rate^(step / decay_steps)` (floored exponent when `staircase`).
    Exponential {
        /// Rate at step 0.
        initial: f32,
        /// Steps per decay of `rate`.
        decay_steps: u64,
        /// Multiplier per `decay_steps`.
        rate: f32,
        /// Decay in whole periods.
        staircase: bool,
    },
    /// Cosine decay from `initial` to `initial * alpha` over `decay_steps`, then flat.
    Cosine {
        /// Rate at step 0.
        initial: f32,
        /// Length of the decay.
        decay_steps: u64,
        /// Final rate as a fraction of `initial`.
        alpha: f32,
    },
}

impl Schedule {
    /// The learning rate at `step` (0-based count of batches already applied).
    pub fn at(&self, step: u64) -> f32 {
        match *self {
            Schedule::Constant(rate) => rate,
            Schedule::Step {
                initial,
                every,
                factor,
            } => initial * factor.powi((step / every.max(1)) as i32),
            Schedule::Exponential {
                initial,
                decay_steps,
                rate,
                staircase,
            } => {
                let mut p = step as f32 / decay_steps.max(1) as f32;
                if staircase {
                    p = p.floor();
                }
                initial * rate.powf(p)
            }
            Schedule::Cosine {
                initial,
                decay_steps,
                alpha,
            } => {
                let p = (step.min(decay_steps) as f32) / decay_steps.max(1) as f32;
                let cosine = 0.5 * (1.0 + (std::f32::consts::PI * p).cos());
                initial * ((1.0 - alpha) * cosine + alpha)
            }
        }
    }
}

impl From<f32> for Schedule {
    fn from(rate: f32) -> Self {
        Schedule::Constant(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        // step: 0.1 * 0.5^floor(25/10) = 0.025
        let step = Schedule::Step {
            initial: 0.1,
            every: 10,
            factor: 0.5,
        };
        assert!((step.at(25) - 0.025).abs() < 1e-7);
        // exponential: 0.1 * 0.5^(5/10) = 0.1 / sqrt 2; staircase gives 0.1
        let exp = Schedule::Exponential {
            initial: 0.1,
            decay_steps: 10,
            rate: 0.5,
            staircase: false,
        };
        assert!((exp.at(5) - 0.1 / 2f32.sqrt()).abs() < 1e-6);
        let stairs = Schedule::Exponential {
            initial: 0.1,
            decay_steps: 10,
            rate: 0.5,
            staircase: true,
        };
        assert!((stairs.at(5) - 0.1).abs() < 1e-7);
        // cosine: half way is (1 + cos(pi/2)) / 2 = 1/2 of the way to alpha
        let cos = Schedule::Cosine {
            initial: 1.0,
            decay_steps: 100,
            alpha: 0.0,
        };
        assert!((cos.at(50) - 0.5).abs() < 1e-6);
        assert!(cos.at(100).abs() < 1e-6 && cos.at(1000).abs() < 1e-6);
    }
}
