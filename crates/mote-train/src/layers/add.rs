//! Add: the element-wise sum of inputs of one shape (residual connections).

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Element-wise sum of two or more inputs of the same shape (Keras' `Add`).
#[derive(Clone, Debug, Default)]
pub struct Add;

impl Add {
    /// An add layer.
    pub fn new() -> Self {
        Add
    }
}

impl Op for Add {
    fn kind(&self) -> &'static str {
        "Add"
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        let Some(first) = inputs.first() else {
            return Err("needs at least one input".into());
        };
        if inputs.len() < 2 || inputs.iter().any(|s| s != first) {
            return Err("needs two or more inputs of the same shape".into());
        }
        Ok(first.to_vec())
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        // y = x_1 + x_2 + ...
        let out = output.data_mut();
        out.copy_from_slice(inputs[0].data());
        for input in &inputs[1..] {
            out.iter_mut().zip(input.data()).for_each(|(y, x)| *y += x);
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
        // dy/dx_k = 1 for every input
        if need_input_grads {
            for grad in grad_inputs {
                grad.data_mut().copy_from_slice(grad_output.data());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn sums_and_gradients() {
        // [1, 2] + [10, 20] = [11, 22]
        let a = Tensor::new(vec![1.0, 2.0], [1, 2]).unwrap();
        let b = Tensor::new(vec![10.0, 20.0], [1, 2]).unwrap();
        let mut y = Tensor::zeros([1, 2]);
        Add.forward(
            &[&a, &b],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[11.0, 22.0]);
        assert!(Add.build(&[&[2], &[3]], &mut Rng::new(0)).is_err());
        gradcheck::check(&mut Add, &[&[2, 3], &[2, 3], &[2, 3]], 2, true);
    }
}
