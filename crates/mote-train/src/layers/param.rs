//! A layer's parameter: its value and the gradient of the loss with respect to it.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// One parameter tensor of a layer (a kernel, a bias, a moving mean ...), in
/// Keras' layout, with its gradient from the last backward pass.
#[derive(Clone, Debug)]
pub struct Param {
    name: &'static str,
    value: Tensor,
    grad: Tensor,
    trainable: bool,
}

impl Param {
    /// A trainable parameter holding `value`.
    pub(crate) fn new(name: &'static str, value: Tensor) -> Self {
        let grad = Tensor::zeros(value.shape());
        Param {
            name,
            value,
            grad,
            trainable: true,
        }
    }

    /// A parameter updated by the layer itself, not by the optimizer
    /// (e.g. batch normalization's moving mean).
    pub(crate) fn frozen(name: &'static str, value: Tensor) -> Self {
        Param {
            trainable: false,
            ..Param::new(name, value)
        }
    }

    /// Keras' name for it: `kernel`, `bias`, `gamma`, `moving_mean` ...
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its value.
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// dLoss/dvalue from the last training step.
    pub fn grad(&self) -> &Tensor {
        &self.grad
    }

    /// True when the optimizer updates it.
    pub fn trainable(&self) -> bool {
        self.trainable
    }

    /// Replaces its value by one of the same shape (e.g. weights loaded from a file).
    pub fn set_value(&mut self, value: Tensor) -> Result<()> {
        if value.shape() != self.value.shape() {
            return Err(Error::ShapeMismatch {
                context: format!("setting parameter '{}'", self.name),
                expected: self.value.shape().to_vec(),
                found: value.shape().to_vec(),
            });
        }
        self.value = value;
        Ok(())
    }

    /// Gives value and gradient a new shape with the same number of values
    /// (Conv1D keeps Keras' kernel shape over the Conv2D computation).
    pub(crate) fn reshape(&mut self, shape: &[usize]) {
        if shape.iter().product::<usize>() == self.value.len() {
            self.value = std::mem::take(&mut self.value)
                .reshape(shape)
                .unwrap_or_default();
            self.grad = Tensor::zeros(shape);
        }
    }

    #[cfg(test)]
    pub(crate) fn value_mut(&mut self) -> &mut Tensor {
        &mut self.value
    }

    pub(crate) fn grad_mut(&mut self) -> &mut Tensor {
        &mut self.grad
    }

    /// Gradient (writable) and value at once, for backward passes.
    pub(crate) fn grad_and_value(&mut self) -> (&mut [f32], &[f32]) {
        (self.grad.data_mut(), self.value.data())
    }

    /// Value and gradient at once (value writable), for optimizers.
    pub(crate) fn value_and_grad(&mut self) -> (&mut [f32], &[f32]) {
        (self.value.data_mut(), self.grad.data())
    }
}
