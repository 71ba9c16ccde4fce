//! Rescaling: `y = x * scale + offset` element-wise (Keras' `Rescaling`).

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Multiplies every value by a constant and adds another (Keras'
/// `Rescaling(scale, offset)`), e.g. logits divided by a temperature.
#[derive(Clone, Debug)]
pub struct Rescaling {
    scale: f32,
    offset: f32,
}

impl Rescaling {
    /// `y = x * scale + offset`.
    pub fn new(scale: f32, offset: f32) -> Self {
        Rescaling { scale, offset }
    }

    /// The factor.
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// The added constant.
    pub fn offset(&self) -> f32 {
        self.offset
    }
}

impl Op for Rescaling {
    fn kind(&self) -> &'static str {
        "Rescaling"
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        if !self.scale.is_finite() || !self.offset.is_finite() {
            return Err(format!(
                "scale {} and offset {} must be finite",
                self.scale, self.offset
            ));
        }
        Ok(shape.to_vec())
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        // y = x * scale + offset
        for (y, &x) in output.data_mut().iter_mut().zip(inputs[0].data()) {
            *y = x * self.scale + self.offset;
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
        // dy/dx = scale
        if need_input_grads {
            for (g, &d) in grad_inputs[0].data_mut().iter_mut().zip(grad_output.data()) {
                *g = d * self.scale;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn scales_shifts_and_passes_scaled_gradients() {
        // [1, -2] * 0.25 + 1 = [1.25, 0.5]
        let x = Tensor::new(vec![1.0, -2.0], [1, 2]).unwrap();
        let mut y = Tensor::zeros([1, 2]);
        let mut layer = Rescaling::new(0.25, 1.0);
        layer.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[1.25, 0.5]);
        assert!(Rescaling::new(f32::NAN, 0.0)
            .build(&[&[2]], &mut Rng::new(0))
            .is_err());
        gradcheck::check(&mut Rescaling::new(0.25, 1.0), &[&[2, 3]], 2, true);
    }
}
