//! Conv2D over NHWC data: `y = activation(conv(x, K) + b)`, computed as one
//! matrix product of the input patches (im2col) with the kernel.

use super::geometry::{Geometry, Padding, Window};
use super::{glorot_uniform, Context, Op, Param};
use crate::activation::Activation;
use crate::linalg::matmul;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// 2-D convolution, Keras' `Conv2D`: input `[h, w, c]`, kernel
/// `[kh, kw, c, filters]` (Glorot-uniform; TFLite's CONV_2D wants OHWI),
/// bias `[filters]` (zeros).
#[derive(Clone, Debug)]
pub struct Conv2D {
    filters: usize,
    kernel_size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    activation: Activation,
    use_bias: bool,
    input_shape: Option<Vec<usize>>,
    params: Vec<Param>,
    geometry: Geometry,
    /// Input patches of the last forward pass.
    cols: Vec<f32>,
    /// Gradient of the patches (backward scratch).
    grad_cols: Vec<f32>,
    pre_activation: Tensor,
    /// Backward skips the softmax (the loss gave dL/d(pre-softmax)).
    fused_softmax: bool,
}

impl Conv2D {
    /// `filters` output channels with a `kernel_size` window (`3` or `[3, 3]`),
    /// stride 1, valid padding, no activation, with bias.
    pub fn new(filters: usize, kernel_size: impl Window) -> Self {
        Conv2D {
            filters,
            kernel_size: kernel_size.pair(),
            strides: [1, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            input_shape: None,
            params: Vec::new(),
            geometry: Geometry::default(),
            cols: Vec::new(),
            grad_cols: Vec::new(),
            pre_activation: Tensor::default(),
            fused_softmax: false,
        }
    }

    /// Strides (`2` or `[2, 1]`).
    pub fn strides(mut self, strides: impl Window) -> Self {
        self.strides = strides.pair();
        self
    }

    /// Border handling (default valid).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Activation applied to the output.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether to add a bias (default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Declares the per-sample input shape `[h, w, c]` (first layer of a model).
    pub fn input_shape(mut self, shape: impl AsRef<[usize]>) -> Self {
        self.input_shape = Some(shape.as_ref().to_vec());
        self
    }

    /// Number of output channels.
    pub fn filters(&self) -> usize {
        self.filters
    }

    /// Window `[kh, kw]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        self.kernel_size
    }

    /// Strides `[sh, sw]`.
    pub fn stride(&self) -> [usize; 2] {
        self.strides
    }

    /// Border handling.
    pub fn padding_mode(&self) -> Padding {
        self.padding
    }

    /// The activation applied to the output.
    pub fn activation_function(&self) -> Activation {
        self.activation
    }

    /// Kernel `[kh, kw, c, filters]`, once built.
    pub fn kernel(&self) -> Option<&Tensor> {
        self.params.first().map(Param::value)
    }

    /// Bias `[filters]`, once built (and if used).
    pub fn bias(&self) -> Option<&Tensor> {
        self.params.get(1).map(Param::value)
    }

    /// Builds on `[h, w, c]`; shared with Conv1D (which passes `h = 1`).
    pub(crate) fn build_2d(
        &mut self,
        shape: &[usize],
        rng: &mut Rng,
    ) -> Result<Vec<usize>, String> {
        let g = Geometry::new(shape, self.kernel_size, self.strides, self.padding)?;
        if self.filters == 0 {
            return Err("filters must be > 0".into());
        }
        self.geometry = g;
        let patch = g.patch_len();
        let receptive = g.kernel_h * g.kernel_w;
        let kernel_shape = [g.kernel_h, g.kernel_w, g.channels, self.filters];
        let kernel = glorot_uniform(&kernel_shape, patch, receptive * self.filters, rng);
        self.params = vec![Param::new("kernel", kernel)];
        if self.use_bias {
            self.params
                .push(Param::new("bias", Tensor::zeros([self.filters])));
        }
        Ok(vec![g.out_h, g.out_w, self.filters])
    }

    /// Reshapes the kernel parameter (Conv1D keeps Keras' `[k, c, filters]`).
    pub(crate) fn reshape_kernel(&mut self, shape: &[usize]) {
        if let Some(kernel) = self.params.first_mut() {
            kernel.reshape(shape);
        }
    }
}

impl Op for Conv2D {
    fn kind(&self) -> &'static str {
        "Conv2D"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], rng: &mut Rng) -> Result<Vec<usize>, String> {
        match inputs {
            [shape] => self.build_2d(shape, rng),
            _ => Err(format!("takes one input, got {}", inputs.len())),
        }
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        let g = self.geometry;
        let x = inputs[0].data();
        let batch = x.len() / g.input_len();
        let rows = batch * g.out_h * g.out_w;
        let y = output.data_mut();
        match self.params.get(1) {
            Some(bias) => y
                .chunks_exact_mut(self.filters)
                .for_each(|r| r.copy_from_slice(bias.value().data())),
            None => y.fill(0.0),
        }
        let patches = if g.is_pointwise() {
            x
        } else {
            g.im2col(x, batch, &mut self.cols);
            &self.cols
        };
        // y[rows, filters] += patches[rows, patch] * K[patch, filters]
        let kernel = self.params[0].value().data();
        matmul(
            patches,
            false,
            kernel,
            false,
            y,
            rows,
            g.patch_len(),
            self.filters,
            true,
        );
        if self.activation.needs_input() {
            self.pre_activation.clone_from(output);
        }
        self.activation
            .forward_in_place(output.data_mut(), self.filters);
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    ) {
        let g = self.geometry;
        let x = inputs[0].data();
        let batch = x.len() / g.input_len();
        let rows = batch * g.out_h * g.out_w;
        let patch = g.patch_len();
        if !self.fused_softmax {
            self.activation.backward_in_place(
                output.data(),
                self.pre_activation.data(),
                grad_output.data_mut(),
                self.filters,
            );
        }
        let dz = grad_output.data();
        let patches = if g.is_pointwise() { x } else { &self.cols[..] };
        let (kernel, rest) = self.params.split_at_mut(1);
        // dK[patch, filters] = patches^T dz
        matmul(
            patches,
            true,
            dz,
            false,
            kernel[0].grad_mut().data_mut(),
            patch,
            rows,
            self.filters,
            false,
        );
        if let Some(bias) = rest.first_mut() {
            // db = sum over rows of dz
            let db = bias.grad_mut().data_mut();
            db.fill(0.0);
            for row in dz.chunks_exact(self.filters) {
                db.iter_mut().zip(row).for_each(|(d, g)| *d += g);
            }
        }
        if need_input_grads {
            let k = kernel[0].value().data();
            // dpatches[rows, patch] = dz K^T, then scattered back onto the input
            if g.is_pointwise() {
                matmul(
                    dz,
                    false,
                    k,
                    true,
                    grad_inputs[0].data_mut(),
                    rows,
                    self.filters,
                    patch,
                    false,
                );
            } else {
                self.grad_cols.resize(rows * patch, 0.0);
                matmul(
                    dz,
                    false,
                    k,
                    true,
                    &mut self.grad_cols,
                    rows,
                    self.filters,
                    patch,
                    false,
                );
                g.col2im(&self.grad_cols, batch, grad_inputs[0].data_mut());
            }
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
    fn forward_by_hand() {
        // 3x3 input 1..9, 2x2 kernel of ones, valid: each output sums a 2x2 block
        // [1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9] = [12, 16, 24, 28]
        let mut conv = Conv2D::new(1, 2);
        conv.build(&[&[3, 3, 1]], &mut Rng::new(0)).unwrap();
        conv.params[0]
            .set_value(Tensor::from_fn([2, 2, 1, 1], |_| 1.0))
            .unwrap();
        let x = Tensor::from_fn([1, 3, 3, 1], |i| i as f32 + 1.0);
        let mut y = Tensor::zeros([1, 2, 2, 1]);
        conv.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[12.0, 16.0, 24.0, 28.0]);
    }

    #[test]
    fn same_padding_shape() {
        // same, stride 2 over 5x5: ceil(5/2) = 3
        let mut conv = Conv2D::new(4, 3).strides(2).padding(Padding::Same);
        assert_eq!(
            conv.build(&[&[5, 5, 2]], &mut Rng::new(0)).unwrap(),
            vec![3, 3, 4]
        );
        assert_eq!(conv.kernel().unwrap().shape(), &[3, 3, 2, 4]);
    }

    #[test]
    fn gradients() {
        let mut same = Conv2D::new(3, [3, 2])
            .padding(Padding::Same)
            .strides([2, 1])
            .activation(Activation::Tanh);
        gradcheck::check(&mut same, &[&[4, 5, 2]], 2, true);
        gradcheck::check(&mut Conv2D::new(2, 2), &[&[3, 3, 2]], 2, true);
        // 1x1: the pointwise path without im2col
        gradcheck::check(
            &mut Conv2D::new(3, 1).use_bias(false),
            &[&[2, 2, 4]],
            2,
            true,
        );
    }
}
