//! When masks update and to what sparsity: TensorFlow Model Optimization's
//! polynomial decay, `s(t) = s_f + (s_i - s_f) (1 - p)^power` with
//! `p = (t - begin) / (end - begin)` clamped to `[0, 1]`.

/// A polynomial-decay sparsity schedule over training steps (batches).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolynomialDecay {
    /// Sparsity at `begin_step`.
    pub initial_sparsity: f32,
    /// Sparsity from `end_step` on.
    pub final_sparsity: f32,
    /// The first step that prunes.
    pub begin_step: usize,
    /// The step by which `final_sparsity` is reached.
    pub end_step: usize,
    /// The decay's exponent (3 in TensorFlow Model Optimization).
    pub power: f32,
    /// Masks update every `frequency` steps between begin and end.
    pub frequency: usize,
}

impl PolynomialDecay {
    /// From 0 to `final_sparsity` over steps `0..=end_step`, power 3, updating every `frequency` steps.
    pub fn to(final_sparsity: f32, end_step: usize, frequency: usize) -> Self {
        PolynomialDecay {
            initial_sparsity: 0.0,
            final_sparsity,
            begin_step: 0,
            end_step,
            power: 3.0,
            frequency: frequency.max(1),
        }
    }

    /// The target sparsity at `step`.
    pub fn sparsity(&self, step: usize) -> f32 {
        let span = self.end_step.saturating_sub(self.begin_step).max(1) as f32;
        let p = (step.saturating_sub(self.begin_step) as f32 / span).clamp(0.0, 1.0);
        self.final_sparsity
            + (self.initial_sparsity - self.final_sparsity) * (1.0 - p).powf(self.power)
    }

    /// The sparsity to prune to at `step`, if masks update then: every
    /// `frequency` steps from `begin_step`, and at `end_step`.
    pub fn update_at(&self, step: usize) -> Option<f32> {
        let on_beat = step >= self.begin_step
            && step <= self.end_step
            && (step - self.begin_step).is_multiple_of(self.frequency.max(1));
        (on_beat || step == self.end_step).then(|| self.sparsity(step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparsity_decays_polynomially_to_the_target() {
        // 0 -> 0.8 over 100 steps, power 3: s(50) = 0.8 + (0 - 0.8) * 0.5^3 = 0.7.
        let s = PolynomialDecay::to(0.8, 100, 10);
        assert_eq!(s.sparsity(0), 0.0);
        assert!((s.sparsity(50) - 0.7).abs() < 1e-6);
        assert_eq!(s.sparsity(100), 0.8);
        assert_eq!(s.sparsity(1000), 0.8);
    }

    #[test]
    fn masks_update_on_the_beat_and_at_the_end() {
        let s = PolynomialDecay {
            end_step: 25,
            ..PolynomialDecay::to(0.5, 25, 10)
        };
        let steps: Vec<usize> = (0..40).filter(|&t| s.update_at(t).is_some()).collect();
        assert_eq!(steps, vec![0, 10, 20, 25]);
    }
}
