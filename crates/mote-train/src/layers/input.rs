//! The input placeholder of a model.

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The model's input: declares the per-sample shape (Keras `Input(shape=...)`).
#[derive(Clone, Debug)]
pub struct Input {
    shape: Vec<usize>,
}

impl Input {
    /// An input of per-sample `shape` (batch axis excluded), e.g. `[8, 8, 1]`.
    pub fn new(shape: impl AsRef<[usize]>) -> Self {
        Input {
            shape: shape.as_ref().to_vec(),
        }
    }

    /// The per-sample shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

impl Op for Input {
    fn kind(&self) -> &'static str {
        "InputLayer"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        Some(&self.shape)
    }

    fn build(&mut self, _inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        Ok(self.shape.clone())
    }

    fn forward(&mut self, _inputs: &[&Tensor], _output: &mut Tensor, _context: &mut Context) {}

    fn backward(
        &mut self,
        _inputs: &[&Tensor],
        _output: &Tensor,
        _grad_output: &mut Tensor,
        _grad_inputs: &mut [Tensor],
        _need_input_grads: bool,
    ) {
    }
}
