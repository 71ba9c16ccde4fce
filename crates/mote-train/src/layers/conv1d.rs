//! Conv1D over `[steps, channels]`: a Conv2D of height 1 whose kernel keeps
//! Keras' `[k, channels, filters]` shape.

use super::conv2d::Conv2D;
use super::geometry::Padding;
use super::{Context, Op, Param};
use crate::activation::Activation;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// 1-D convolution, Keras' `Conv1D`: input `[steps, c]`, kernel `[k, c, filters]`,
/// bias `[filters]`.
#[derive(Clone, Debug)]
pub struct Conv1D {
    inner: Conv2D,
    input_shape: Option<Vec<usize>>,
}

impl Conv1D {
    /// `filters` output channels over windows of `kernel_size` steps, stride 1,
    /// valid padding, no activation, with bias.
    pub fn new(filters: usize, kernel_size: usize) -> Self {
        Conv1D {
            inner: Conv2D::new(filters, [1, kernel_size]),
            input_shape: None,
        }
    }

    /// Stride in steps.
    pub fn strides(mut self, stride: usize) -> Self {
        self.inner = self.inner.strides([1, stride]);
        self
    }

    /// Border handling (default valid).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.inner = self.inner.padding(padding);
        self
    }

    /// Activation applied to the output.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.inner = self.inner.activation(activation);
        self
    }

    /// Whether to add a bias (default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.inner = self.inner.use_bias(use_bias);
        self
    }

    /// Declares the per-sample input shape `[steps, c]` (first layer of a model).
    pub fn input_shape(mut self, shape: impl AsRef<[usize]>) -> Self {
        self.input_shape = Some(shape.as_ref().to_vec());
        self
    }

    /// The same computation as a Conv2D of height 1 (kernel `[k, c, filters]`
    /// holds the values of `[1, k, c, filters]`).
    pub fn as_conv2d(&self) -> &Conv2D {
        &self.inner
    }

    /// Kernel `[k, c, filters]`, once built.
    pub fn kernel(&self) -> Option<&Tensor> {
        self.inner.kernel()
    }

    /// Bias `[filters]`, once built (and if used).
    pub fn bias(&self) -> Option<&Tensor> {
        self.inner.bias()
    }
}

impl Op for Conv1D {
    fn kind(&self) -> &'static str {
        "Conv1D"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        let &[steps, channels] = *shape else {
            return Err(format!(
                "needs a per-sample input [steps, channels], got {shape:?}"
            ));
        };
        let out = self.inner.build_2d(&[1, steps, channels], rng)?;
        let [_, k] = self.inner.kernel_size();
        self.inner
            .reshape_kernel(&[k, channels, self.inner.filters()]);
        Ok(vec![out[1], out[2]])
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, context: &mut Context) {
        self.inner.forward(inputs, output, context);
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    ) {
        self.inner
            .backward(inputs, output, grad_output, grad_inputs, need_input_grads);
    }

    fn fuse_softmax(&mut self, fused: bool) -> bool {
        self.inner.fuse_softmax(fused)
    }

    fn params(&self) -> &[Param] {
        self.inner.params()
    }

    fn params_mut(&mut self) -> &mut [Param] {
        self.inner.params_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn shapes_and_gradients() {
        // same padding, stride 2 over 7 steps: ceil(7/2) = 4
        let mut conv = Conv1D::new(3, 3).strides(2).padding(Padding::Same);
        assert_eq!(
            conv.build(&[&[7, 2]], &mut Rng::new(0)).unwrap(),
            vec![4, 3]
        );
        assert_eq!(conv.kernel().unwrap().shape(), &[3, 2, 3]);
        gradcheck::check(&mut conv, &[&[7, 2]], 2, true);
        gradcheck::check(
            &mut Conv1D::new(2, 2).activation(Activation::Sigmoid),
            &[&[4, 3]],
            2,
            true,
        );
    }
}
