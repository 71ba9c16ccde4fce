//! DepthwiseConv2D: each input channel convolved with its own
//! `depth_multiplier` filters; direct loops over NHWC (channels innermost).

use super::geometry::{Geometry, Padding, Window};
use super::{glorot_uniform, Context, Op, Param};
use crate::activation::Activation;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Depthwise 2-D convolution, Keras' `DepthwiseConv2D`: input `[h, w, c]`,
/// kernel `[kh, kw, c, depth_multiplier]` (Glorot-uniform), bias
/// `[c * depth_multiplier]`; output channel `c * depth_multiplier + m`.
#[derive(Clone, Debug)]
pub struct DepthwiseConv2D {
    kernel_size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    depth_multiplier: usize,
    activation: Activation,
    use_bias: bool,
    input_shape: Option<Vec<usize>>,
    params: Vec<Param>,
    geometry: Geometry,
    pre_activation: Tensor,
    /// For depth multiplier 1 and horizontal stride 1: per tap, the kernel's
    /// channel vector repeated for every output column, so that a run of
    /// pixels is one flat multiply-add (`[kh * kw, out_w * c]`).
    tiled: Vec<f32>,
    /// Per tap, dL/dK summed per output column before the final reduction.
    tiled_grad: Vec<f32>,
    /// Backward skips the softmax (the loss gave dL/d(pre-softmax)).
    fused_softmax: bool,
}

impl DepthwiseConv2D {
    /// A `kernel_size` window (`3` or `[3, 3]`), stride 1, valid padding,
    /// depth multiplier 1, no activation, with bias.
    pub fn new(kernel_size: impl Window) -> Self {
        DepthwiseConv2D {
            kernel_size: kernel_size.pair(),
            strides: [1, 1],
            padding: Padding::Valid,
            depth_multiplier: 1,
            activation: Activation::Linear,
            use_bias: true,
            input_shape: None,
            params: Vec::new(),
            geometry: Geometry::default(),
            pre_activation: Tensor::default(),
            tiled: Vec::new(),
            tiled_grad: Vec::new(),
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

    /// The window geometry of the last build.
    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Filters per input channel (default 1).
    pub fn depth_multiplier(mut self, depth_multiplier: usize) -> Self {
        self.depth_multiplier = depth_multiplier;
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

    /// Filters per input channel.
    pub fn multiplier(&self) -> usize {
        self.depth_multiplier
    }

    /// The activation applied to the output.
    pub fn activation_function(&self) -> Activation {
        self.activation
    }

    /// Kernel `[kh, kw, c, depth_multiplier]`, once built (TFLite's
    /// DEPTHWISE_CONV_2D wants `[1, kh, kw, c * depth_multiplier]`, the same values).
    pub fn kernel(&self) -> Option<&Tensor> {
        self.params.first().map(Param::value)
    }

    /// Bias `[c * depth_multiplier]`, once built (and if used).
    pub fn bias(&self) -> Option<&Tensor> {
        self.params.get(1).map(Param::value)
    }
}

impl Op for DepthwiseConv2D {
    fn kind(&self) -> &'static str {
        "DepthwiseConv2D"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        let g = Geometry::new(shape, self.kernel_size, self.strides, self.padding)?;
        let m = self.depth_multiplier;
        if m == 0 {
            return Err("depth_multiplier must be > 0".into());
        }
        self.geometry = g;
        let receptive = g.kernel_h * g.kernel_w;
        let kernel_shape = [g.kernel_h, g.kernel_w, g.channels, m];
        let kernel = glorot_uniform(&kernel_shape, receptive * g.channels, receptive * m, rng);
        self.params = vec![Param::new("depthwise_kernel", kernel)];
        if self.use_bias {
            self.params
                .push(Param::new("bias", Tensor::zeros([g.channels * m])));
        }
        Ok(vec![g.out_h, g.out_w, g.channels * m])
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        let g = self.geometry;
        let (c, m) = (g.channels, self.depth_multiplier);
        let out_c = c * m;
        let x = inputs[0].data();
        let kernel = self.params[0].value().data();
        let y = output.data_mut();
        match self.params.get(1) {
            Some(b) => y
                .chunks_exact_mut(out_c)
                .for_each(|px| px.copy_from_slice(b.value().data())),
            None => y.fill(0.0),
        }
        if m == 1 && g.stride_w == 1 {
            tile(kernel, c, g.out_w, &mut self.tiled);
            flat::forward(&g, x, y, &self.tiled);
        } else {
            let out_len = g.out_h * g.out_w * out_c;
            for (sample, out) in x
                .chunks_exact(g.input_len())
                .zip(y.chunks_exact_mut(out_len))
            {
                for_each_tap(&g, |oy, iy, ky, kx, lo, hi| {
                    let ks = &kernel[(ky * g.kernel_w + kx) * out_c..][..out_c];
                    for ox in lo..hi {
                        let ix = ox * g.stride_w + kx - g.pad_left;
                        let xs = &sample[(iy * g.in_w + ix) * c..][..c];
                        let o = &mut out[(oy * g.out_w + ox) * out_c..][..out_c];
                        // y[c*m + j] += x[c] * k[ky, kx, c, j]
                        for (ch, &xv) in xs.iter().enumerate() {
                            for j in 0..m {
                                o[ch * m + j] += xv * ks[ch * m + j];
                            }
                        }
                    }
                });
            }
        }
        if self.activation.needs_input() {
            self.pre_activation.clone_from(output);
        }
        self.activation.forward_in_place(output.data_mut(), out_c);
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
        let (c, m) = (g.channels, self.depth_multiplier);
        let out_c = c * m;
        if !self.fused_softmax {
            self.activation.backward_in_place(
                output.data(),
                self.pre_activation.data(),
                grad_output.data_mut(),
                out_c,
            );
        }
        let dz = grad_output.data();
        let x = inputs[0].data();
        let (kernel, rest) = self.params.split_at_mut(1);
        if let Some(bias) = rest.first_mut() {
            // db = sum of dz over batch and positions
            let db = bias.grad_mut().data_mut();
            db.fill(0.0);
            for px in dz.chunks_exact(out_c) {
                db.iter_mut().zip(px).for_each(|(d, g)| *d += g);
            }
        }
        let (dk, k) = kernel[0].grad_and_value();
        dk.fill(0.0);
        let out_len = g.out_h * g.out_w * out_c;
        if m == 1 && g.stride_w == 1 {
            // dK summed per output column first (independent sums that
            // vectorize), then over the columns
            let row = g.out_w * c;
            self.tiled_grad.clear();
            self.tiled_grad.resize(g.kernel_h * g.kernel_w * row, 0.0);
            flat::kernel_grad(&g, x, dz, &mut self.tiled_grad);
            for (dks, acc) in dk
                .chunks_exact_mut(c)
                .zip(self.tiled_grad.chunks_exact(row))
            {
                for column in acc.chunks_exact(c) {
                    dks.iter_mut().zip(column).for_each(|(d, a)| *d += a);
                }
            }
            if need_input_grads {
                tile(k, c, g.out_w, &mut self.tiled);
                let dx = grad_inputs[0].data_mut();
                dx.fill(0.0);
                flat::input_grad(&g, dx, dz, &self.tiled);
            }
            return;
        }
        // dK[ky, kx, c, j] += x[c] * dy[c*m + j]
        for (sample, dout) in x.chunks_exact(g.input_len()).zip(dz.chunks_exact(out_len)) {
            for_each_tap(&g, |oy, iy, ky, kx, lo, hi| {
                let dks = &mut dk[(ky * g.kernel_w + kx) * out_c..][..out_c];
                for ox in lo..hi {
                    let ix = ox * g.stride_w + kx - g.pad_left;
                    let xs = &sample[(iy * g.in_w + ix) * c..][..c];
                    let d = &dout[(oy * g.out_w + ox) * out_c..][..out_c];
                    for (ch, &xv) in xs.iter().enumerate() {
                        for j in 0..m {
                            dks[ch * m + j] += xv * d[ch * m + j];
                        }
                    }
                }
            });
        }
        if !need_input_grads {
            return;
        }
        // dx[c] += K[ky, kx, c, j] * dy[c*m + j]
        let dx_all = grad_inputs[0].data_mut();
        dx_all.fill(0.0);
        for (dx, dout) in dx_all
            .chunks_exact_mut(g.input_len())
            .zip(dz.chunks_exact(out_len))
        {
            for_each_tap(&g, |oy, iy, ky, kx, lo, hi| {
                let ks = &k[(ky * g.kernel_w + kx) * out_c..][..out_c];
                for ox in lo..hi {
                    let ix = ox * g.stride_w + kx - g.pad_left;
                    let dxs = &mut dx[(iy * g.in_w + ix) * c..][..c];
                    let d = &dout[(oy * g.out_w + ox) * out_c..][..out_c];
                    for (ch, acc) in dxs.iter_mut().enumerate() {
                        for j in 0..m {
                            *acc += ks[ch * m + j] * d[ch * m + j];
                        }
                    }
                }
            });
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

/// Writes `tiled[tap][ox * c + ch] = kernel[tap * c + ch]` for every output column `ox`.
fn tile(kernel: &[f32], c: usize, out_w: usize, tiled: &mut Vec<f32>) {
    tiled.clear();
    for ks in kernel.chunks_exact(c) {
        for _ in 0..out_w {
            tiled.extend_from_slice(ks);
        }
    }
}

/// Calls `f(oy, iy, ky, kx, lo, hi)` for every output row `oy` and window tap
/// `(ky, kx)` whose input row `iy` is inside the input, with the output
/// columns `lo..hi` whose input column is inside too.
#[inline(always)]
fn for_each_tap(g: &Geometry, mut f: impl FnMut(usize, usize, usize, usize, usize, usize)) {
    for oy in 0..g.out_h {
        for ky in 0..g.kernel_h {
            let Some(iy) = g.source_row(oy, ky) else {
                continue;
            };
            for kx in 0..g.kernel_w {
                let (lo, hi) = g.valid_columns(kx);
                f(oy, iy, ky, kx, lo, hi);
            }
        }
    }
}

/// Depth multiplier 1, horizontal stride 1: for every sample, output row
/// and tap, the valid output columns `lo..hi` read one contiguous run of
/// input pixels, so each pass is a flat `a[i] += b[i] * c[i]` over runs,
/// indexed in the input (`in`), the output (`out`) and the tiled kernel (`tap`).
mod flat {
    use super::Geometry;
    use crate::vector::{avx2_multiversion, mul_add};

    /// Calls `$body` with `(sample, in, out, tap, run)` offsets of every run.
    macro_rules! runs {
        ($g:expr, $batch:expr, |$b:ident, $at_in:ident, $at_out:ident, $at_tap:ident, $run:ident| $body:block) => {
            let g: &Geometry = $g;
            let c = g.channels;
            let row = g.out_w * c;
            for $b in 0..$batch {
                for oy in 0..g.out_h {
                    for ky in 0..g.kernel_h {
                        let Some(iy) = g.source_row(oy, ky) else {
                            continue;
                        };
                        for kx in 0..g.kernel_w {
                            let (lo, hi) = g.valid_columns(kx);
                            let $run = (hi - lo) * c;
                            let $at_in = (iy * g.in_w + lo + kx - g.pad_left) * c;
                            let $at_out = (oy * g.out_w + lo) * c;
                            let $at_tap = (ky * g.kernel_w + kx) * row + lo * c;
                            $body
                        }
                    }
                }
            }
        };
    }

    avx2_multiversion! {
        /// `y[out] += x[in] * tiled[tap]`.
        pub(super) fn forward(g: &Geometry, x: &[f32], y: &mut [f32], tiled: &[f32]) {
            let (in_len, out_len) = (g.input_len(), g.out_h * g.out_w * g.channels);
            runs!(g, x.len() / in_len, |b, at_in, at_out, at_tap, run| {
                mul_add(
                    &mut y[b * out_len + at_out..][..run],
                    &x[b * in_len + at_in..][..run],
                    &tiled[at_tap..][..run],
                );
            });
        }
    }

    avx2_multiversion! {
        /// `tiled_grad[tap] += x[in] * dy[out]`.
        pub(super) fn kernel_grad(g: &Geometry, x: &[f32], dy: &[f32], tiled_grad: &mut [f32]) {
            let (in_len, out_len) = (g.input_len(), g.out_h * g.out_w * g.channels);
            runs!(g, x.len() / in_len, |b, at_in, at_out, at_tap, run| {
                mul_add(
                    &mut tiled_grad[at_tap..][..run],
                    &x[b * in_len + at_in..][..run],
                    &dy[b * out_len + at_out..][..run],
                );
            });
        }
    }

    avx2_multiversion! {
        /// `dx[in] += tiled[tap] * dy[out]`.
        pub(super) fn input_grad(g: &Geometry, dx: &mut [f32], dy: &[f32], tiled: &[f32]) {
            let (in_len, out_len) = (g.input_len(), g.out_h * g.out_w * g.channels);
            runs!(g, dx.len() / in_len, |b, at_in, at_out, at_tap, run| {
                mul_add(
                    &mut dx[b * in_len + at_in..][..run],
                    &tiled[at_tap..][..run],
                    &dy[b * out_len + at_out..][..run],
                );
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn channels_stay_apart() {
        // 2x2 input with channels (1, 10) everywhere, 2x2 kernel: channel 0
        // weights 1, channel 1 weights 0.5 -> outputs 4 * 1 = 4 and 4 * 10 * 0.5 = 20
        let mut dw = DepthwiseConv2D::new(2).use_bias(false);
        dw.build(&[&[2, 2, 2]], &mut Rng::new(0)).unwrap();
        dw.params[0]
            .set_value(
                Tensor::new(vec![1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5], [2, 2, 2, 1]).unwrap(),
            )
            .unwrap();
        let x = Tensor::new(
            vec![1.0, 10.0, 1.0, 10.0, 1.0, 10.0, 1.0, 10.0],
            [1, 2, 2, 2],
        )
        .unwrap();
        let mut y = Tensor::zeros([1, 1, 1, 2]);
        dw.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[4.0, 20.0]);
    }

    #[test]
    fn gradients() {
        // smooth activation: a kink (relu) within the finite-difference step would spoil the check
        let mut same = DepthwiseConv2D::new(3)
            .padding(Padding::Same)
            .activation(Activation::Tanh);
        gradcheck::check(&mut same, &[&[4, 4, 3]], 2, true);
        let mut multiplied = DepthwiseConv2D::new([2, 3]).strides(2).depth_multiplier(2);
        gradcheck::check(&mut multiplied, &[&[4, 5, 2]], 2, true);
    }
}
