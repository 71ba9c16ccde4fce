//! SeparableConv2D: a depthwise convolution (no bias, no activation)
//! followed by a 1x1 convolution with bias and activation, as one layer.

use super::geometry::{Padding, Window};
use super::{Context, Conv2D, DepthwiseConv2D, Op, Param};
use crate::activation::Activation;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Keras' `SeparableConv2D`: parameters `depthwise_kernel [kh, kw, c, m]`,
/// `pointwise_kernel [1, 1, c * m, filters]` and `bias [filters]`, each
/// kernel Glorot-uniform with Keras' fans.
#[derive(Clone, Debug)]
pub struct SeparableConv2D {
    // boxed: the two parts would make every `Layer` as large as both
    depthwise: Box<DepthwiseConv2D>,
    pointwise: Box<Conv2D>,
    input_shape: Option<Vec<usize>>,
    /// The parameters of both parts, in Keras' order; lent to the parts for
    /// each pass so that `params()` is one slice.
    params: Vec<Param>,
    /// The depthwise part's output.
    middle: Tensor,
    middle_grad: Tensor,
    /// How many of `params` belong to the depthwise part (always 1).
    split: usize,
}

impl SeparableConv2D {
    /// `filters` outputs, a `kernel_size` window (`3` or `[3, 3]`), stride 1,
    /// valid padding, depth multiplier 1, no activation.
    pub fn new(filters: usize, kernel_size: impl Window) -> Self {
        SeparableConv2D {
            depthwise: Box::new(DepthwiseConv2D::new(kernel_size).use_bias(false)),
            pointwise: Box::new(Conv2D::new(filters, [1, 1])),
            input_shape: None,
            params: Vec::new(),
            middle: Tensor::default(),
            middle_grad: Tensor::default(),
            split: 1,
        }
    }

    /// Strides of the depthwise window (`2` or `[2, 1]`).
    pub fn strides(mut self, strides: impl Window) -> Self {
        self.depthwise = Box::new((*self.depthwise).strides(strides));
        self
    }

    /// Border handling (default valid).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.depthwise = Box::new((*self.depthwise).padding(padding));
        self
    }

    /// Depthwise filters per input channel (default 1).
    pub fn depth_multiplier(mut self, depth_multiplier: usize) -> Self {
        self.depthwise = Box::new((*self.depthwise).depth_multiplier(depth_multiplier));
        self
    }

    /// Activation applied after the pointwise convolution.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.pointwise = Box::new((*self.pointwise).activation(activation));
        self
    }

    /// Declares the per-sample input shape `[h, w, c]`.
    pub fn input_shape(mut self, shape: impl AsRef<[usize]>) -> Self {
        self.input_shape = Some(shape.as_ref().to_vec());
        self
    }

    /// The depthwise part (its kernel is `params()[0]` once built).
    pub fn depthwise(&self) -> &DepthwiseConv2D {
        &self.depthwise
    }

    /// The pointwise part (its kernel and bias are `params()[1..]` once built).
    pub fn pointwise(&self) -> &Conv2D {
        &self.pointwise
    }

    /// Lends the parameters to the parts (and takes them back: swapping twice).
    fn swap_params(&mut self) {
        let (dw, pw) = self.params.split_at_mut(self.split);
        dw.iter_mut()
            .zip(self.depthwise.params_mut())
            .for_each(|(a, b)| std::mem::swap(a, b));
        pw.iter_mut()
            .zip(self.pointwise.params_mut())
            .for_each(|(a, b)| std::mem::swap(a, b));
    }
}

impl Op for SeparableConv2D {
    fn kind(&self) -> &'static str {
        "SeparableConv2D"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], rng: &mut Rng) -> Result<Vec<usize>, String> {
        let middle = self.depthwise.build(inputs, rng)?;
        let out = self.pointwise.build(&[&middle], rng)?;
        self.split = self.depthwise.params().len();
        self.params = self
            .depthwise
            .params()
            .iter()
            .chain(self.pointwise.params())
            .map(|p| {
                let name = match p.name() {
                    "kernel" => "pointwise_kernel",
                    other => other,
                };
                Param::new(name, p.value().clone())
            })
            .collect();
        Ok(out)
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, context: &mut Context) {
        self.swap_params();
        let batch = inputs[0].rows();
        let g = self.depthwise.geometry();
        let channels = g.channels * self.depthwise.multiplier();
        self.middle
            .resize_batch(batch, &[g.out_h, g.out_w, channels]);
        self.depthwise.forward(inputs, &mut self.middle, context);
        self.pointwise.forward(&[&self.middle], output, context);
        self.swap_params();
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    ) {
        self.swap_params();
        self.middle_grad.resize(self.middle.shape());
        self.pointwise.backward(
            &[&self.middle],
            output,
            grad_output,
            std::slice::from_mut(&mut self.middle_grad),
            true,
        );
        self.depthwise.backward(
            inputs,
            &self.middle,
            &mut self.middle_grad,
            grad_inputs,
            need_input_grads,
        );
        self.swap_params();
    }

    fn fuse_softmax(&mut self, fused: bool) -> bool {
        self.pointwise.fuse_softmax(fused)
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn is_depthwise_then_pointwise() {
        // 1x1 input, channels (2, 3); depthwise weights (1, 10) give (2, 30);
        // pointwise [1, 1] weights (1, 1) and bias 0.5 give 32.5
        let mut sep = SeparableConv2D::new(1, 1);
        sep.build(&[&[1, 1, 2]], &mut Rng::new(0)).unwrap();
        let names: Vec<_> = sep.params.iter().map(Param::name).collect();
        assert_eq!(names, ["depthwise_kernel", "pointwise_kernel", "bias"]);
        sep.params[0]
            .set_value(Tensor::new(vec![1.0, 10.0], [1, 1, 2, 1]).unwrap())
            .unwrap();
        sep.params[1]
            .set_value(Tensor::new(vec![1.0, 1.0], [1, 1, 2, 1]).unwrap())
            .unwrap();
        sep.params[2]
            .set_value(Tensor::new(vec![0.5], [1]).unwrap())
            .unwrap();
        let x = Tensor::new(vec![2.0, 3.0], [1, 1, 1, 2]).unwrap();
        let mut y = Tensor::zeros([1, 1, 1, 1]);
        sep.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[32.5]);
    }

    #[test]
    fn gradients() {
        let mut sep = SeparableConv2D::new(3, 3)
            .padding(Padding::Same)
            .depth_multiplier(2)
            .activation(Activation::Tanh);
        gradcheck::check(&mut sep, &[&[4, 4, 2]], 2, true);
    }
}
