//! Activations as layers (Keras' `ReLU`, `LeakyReLU`, `Softmax`, `Activation`).

use super::{Context, Op};
use crate::activation::Activation;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// An activation applied as its own layer, e.g.
/// `ActivationLayer::new(Activation::HardSwish)`.
#[derive(Clone, Debug)]
pub struct ActivationLayer {
    activation: Activation,
    last_axis: usize,
    input: Tensor,
    fused_softmax: bool,
}

impl ActivationLayer {
    /// A layer applying `activation` (softmax over the last axis).
    pub fn new(activation: Activation) -> Self {
        ActivationLayer {
            activation,
            last_axis: 1,
            input: Tensor::default(),
            fused_softmax: false,
        }
    }

    /// The activation applied.
    pub fn activation_function(&self) -> Activation {
        self.activation
    }
}

impl From<Activation> for ActivationLayer {
    fn from(activation: Activation) -> Self {
        ActivationLayer::new(activation)
    }
}

impl Op for ActivationLayer {
    fn fuse_softmax(&mut self, fused: bool) -> bool {
        let softmax = self.activation == Activation::Softmax;
        self.fused_softmax = fused && softmax;
        softmax
    }

    fn kind(&self) -> &'static str {
        match self.activation {
            Activation::Relu | Activation::Relu6 => "ReLU",
            Activation::LeakyRelu(_) => "LeakyReLU",
            Activation::Softmax => "Softmax",
            _ => "Activation",
        }
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        self.last_axis = shape.last().copied().unwrap_or(1);
        Ok(shape.to_vec())
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        output.data_mut().copy_from_slice(inputs[0].data());
        if self.activation.needs_input() {
            self.input.clone_from(inputs[0]);
        }
        self.activation
            .forward_in_place(output.data_mut(), self.last_axis);
    }

    fn backward(
        &mut self,
        _inputs: &[&Tensor],
        output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    ) {
        if need_input_grads {
            let grad = grad_inputs[0].data_mut();
            grad.copy_from_slice(grad_output.data());
            self.activation.backward_in_place(
                output.data(),
                self.input.data(),
                grad,
                self.last_axis,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn gradients_and_kinds() {
        for activation in [
            Activation::Sigmoid,
            Activation::HardSwish,
            Activation::Softmax,
            Activation::LeakyRelu(0.3),
        ] {
            gradcheck::check(&mut ActivationLayer::new(activation), &[&[2, 3]], 2, true);
        }
        assert_eq!(ActivationLayer::new(Activation::Relu6).kind(), "ReLU");
    }
}
