//! Dense (fully connected) layer: `y = activation(x W + b)` over the last axis.

use super::{glorot_uniform, Context, Op, Param};
use crate::activation::Activation;
use crate::linalg::matmul;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Fully connected layer over the last axis, Keras' `Dense`: kernel `[in, units]`
/// (Glorot-uniform), bias `[units]` (zeros).
#[derive(Clone, Debug)]
pub struct Dense {
    units: usize,
    activation: Activation,
    use_bias: bool,
    input_shape: Option<Vec<usize>>,
    params: Vec<Param>,
    inputs: usize,
    pre_activation: Tensor,
    /// Backward skips the softmax (the loss gave dL/d(pre-softmax)).
    fused_softmax: bool,
}

impl Dense {
    /// A dense layer with `units` outputs, no activation and a bias.
    pub fn new(units: usize) -> Self {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            input_shape: None,
            params: Vec::new(),
            inputs: 0,
            pre_activation: Tensor::default(),
            fused_softmax: false,
        }
    }

    /// Sets the activation applied to the output, e.g. `Activation::Relu`.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether the layer adds a bias (default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Declares the per-sample input shape (for the first layer of a model).
    pub fn input_shape(mut self, shape: impl AsRef<[usize]>) -> Self {
        self.input_shape = Some(shape.as_ref().to_vec());
        self
    }

    /// Number of outputs.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The activation applied to the output.
    pub fn activation_function(&self) -> Activation {
        self.activation
    }

    /// The kernel, shape `[in, units]` (Keras layout; TFLite's FULLY_CONNECTED
    /// wants its transpose). `None` before the layer is built.
    pub fn kernel(&self) -> Option<&Tensor> {
        self.params.first().map(Param::value)
    }

    /// The bias, shape `[units]`; `None` before building or without bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.params.get(1).map(Param::value)
    }
}

impl Op for Dense {
    fn kind(&self) -> &'static str {
        "Dense"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        let Some((&features, leading)) = shape.split_last() else {
            return Err("needs an input of rank >= 1 per sample".into());
        };
        if self.units == 0 || features == 0 {
            return Err(format!(
                "units ({}) and input features ({features}) must be > 0",
                self.units
            ));
        }
        self.inputs = features;
        let kernel = glorot_uniform(&[features, self.units], features, self.units, rng);
        self.params = vec![Param::new("kernel", kernel)];
        if self.use_bias {
            self.params
                .push(Param::new("bias", Tensor::zeros([self.units])));
        }
        let mut out = leading.to_vec();
        out.push(self.units);
        Ok(out)
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        let x = inputs[0];
        let rows = x.len() / self.inputs;
        let y = output.data_mut();
        match self.params.get(1) {
            Some(bias) => y
                .chunks_exact_mut(self.units)
                .for_each(|row| row.copy_from_slice(bias.value().data())),
            None => y.fill(0.0),
        }
        let w = self.params[0].value().data();
        matmul(
            x.data(),
            false,
            w,
            false,
            y,
            rows,
            self.inputs,
            self.units,
            true,
        );
        if self.activation.needs_input() {
            self.pre_activation.clone_from(output);
        }
        self.activation
            .forward_in_place(output.data_mut(), self.units);
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    ) {
        let x = inputs[0];
        let rows = x.len() / self.inputs;
        if !self.fused_softmax {
            // dL/dz = dL/dy * activation'(z)
            self.activation.backward_in_place(
                output.data(),
                self.pre_activation.data(),
                grad_output.data_mut(),
                self.units,
            );
        }
        let dz = grad_output.data();
        // dL/dW = x^T dz   ([in, rows] x [rows, units])
        let (kernel, rest) = self.params.split_at_mut(1);
        matmul(
            x.data(),
            true,
            dz,
            false,
            kernel[0].grad_mut().data_mut(),
            self.inputs,
            rows,
            self.units,
            false,
        );
        // dL/db = sum over rows of dz
        if let Some(bias) = rest.first_mut() {
            let db = bias.grad_mut().data_mut();
            db.fill(0.0);
            for row in dz.chunks_exact(self.units) {
                db.iter_mut().zip(row).for_each(|(d, g)| *d += g);
            }
        }
        // dL/dx = dz W^T   ([rows, units] x [units, in])
        if need_input_grads {
            let w = kernel[0].value().data();
            matmul(
                dz,
                false,
                w,
                true,
                grad_inputs[0].data_mut(),
                rows,
                self.units,
                self.inputs,
                false,
            );
        }
    }

    fn fuse_softmax(&mut self, fused: bool) -> bool {
        let softmax = self.activation == Activation::Softmax;
        self.fused_softmax = fused && softmax;
        softmax
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
    fn forward_is_x_w_plus_b() {
        // x = [1, 2], W = [[1, 2, 3], [4, 5, 6]], b = [0.5, 0, -1]
        // y = [1*1 + 2*4 + 0.5, 1*2 + 2*5, 1*3 + 2*6 - 1] = [9.5, 12, 14]
        let mut dense = Dense::new(3);
        dense.build(&[&[2]], &mut Rng::new(0)).unwrap();
        dense.params[0]
            .set_value(Tensor::new(vec![1., 2., 3., 4., 5., 6.], [2, 3]).unwrap())
            .unwrap();
        dense.params[1]
            .set_value(Tensor::new(vec![0.5, 0., -1.], [3]).unwrap())
            .unwrap();
        let x = Tensor::new(vec![1., 2.], [1, 2]).unwrap();
        let mut y = Tensor::zeros([1, 3]);
        dense.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[9.5, 12.0, 14.0]);
    }

    #[test]
    fn glorot_bounds_and_zero_bias() {
        // limit = sqrt(6 / (64 + 32)) = 0.25
        let mut dense = Dense::new(32);
        dense.build(&[&[64]], &mut Rng::new(0)).unwrap();
        let k = dense.kernel().unwrap();
        assert_eq!(k.shape(), &[64, 32]);
        assert!(k.data().iter().all(|v| v.abs() <= 0.25));
        assert!(k.data().iter().any(|v| v.abs() > 0.2));
        assert!(dense.bias().unwrap().data().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn gradients() {
        for activation in [
            Activation::Linear,
            Activation::Tanh,
            Activation::HardSwish,
            Activation::Softmax,
        ] {
            gradcheck::check(&mut Dense::new(4).activation(activation), &[&[3]], 5, true);
        }
        // rank-3 input: Dense acts on the last axis of each [2, 3] sample
        gradcheck::check(&mut Dense::new(2).use_bias(false), &[&[2, 3]], 2, true);
    }
}
