//! Dropout: in training, zeroes each value with probability `rate` and scales
//! the rest by `1 / (1 - rate)`; in inference, the identity.

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Keras' `Dropout(rate)` (inverted dropout, seeded by `Fit::seed`).
#[derive(Clone, Debug)]
pub struct Dropout {
    rate: f32,
    /// Per value: 0 (dropped) or 1 / (1 - rate) (kept), from the last training pass.
    mask: Vec<f32>,
}

impl Dropout {
    /// Drops each value with probability `rate` in `[0, 1)`.
    pub fn new(rate: f32) -> Self {
        Dropout {
            rate,
            mask: Vec::new(),
        }
    }

    /// The drop probability.
    pub fn rate(&self) -> f32 {
        self.rate
    }
}

impl Op for Dropout {
    fn kind(&self) -> &'static str {
        "Dropout"
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(format!("rate {} is not in [0, 1)", self.rate));
        }
        match inputs {
            [shape] => Ok(shape.to_vec()),
            _ => Err(format!("takes one input, got {}", inputs.len())),
        }
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, context: &mut Context) {
        let x = inputs[0].data();
        let y = output.data_mut();
        self.mask.resize(x.len(), 1.0);
        if !context.training || self.rate == 0.0 {
            self.mask.fill(1.0);
            y.copy_from_slice(x);
            return;
        }
        let keep = 1.0 / (1.0 - self.rate);
        for ((y, &x), m) in y.iter_mut().zip(x).zip(self.mask.iter_mut()) {
            *m = if context.rng.next_f32() < self.rate {
                0.0
            } else {
                keep
            };
            *y = x * *m;
        }
    }

    fn backward(
        &mut self,
        _inputs: &[&Tensor],
        _output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    ) {
        // y = x * mask, dy/dx = mask
        if need_input_grads {
            for ((g, &go), &m) in grad_inputs[0]
                .data_mut()
                .iter_mut()
                .zip(grad_output.data())
                .zip(&self.mask)
            {
                *g = go * m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn drops_about_rate_and_keeps_the_mean() {
        // rate 0.25: about 1/4 zeros; the kept values are 1 / 0.75
        let mut d = Dropout::new(0.25);
        d.build(&[&[1000]], &mut Rng::new(0)).unwrap();
        let x = Tensor::from_fn([1, 1000], |_| 1.0);
        let mut y = Tensor::zeros([1, 1000]);
        d.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: true,
                rng: &mut Rng::new(1),
            },
        );
        let zeros = y.data().iter().filter(|&&v| v == 0.0).count();
        assert!((200..300).contains(&zeros), "{zeros}");
        assert!(y
            .data()
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
        // inference: identity
        d.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(1),
            },
        );
        assert_eq!(y.data(), x.data());
        // the same mask (same rng seed) in every forward of the check
        gradcheck::check(&mut Dropout::new(0.5), &[&[6]], 2, true);
    }
}
