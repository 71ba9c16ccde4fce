//! BatchNormalization over the last axis: in training, normalize with the
//! batch's statistics and update moving averages; in inference, use those.

use super::{Context, Op, Param};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Keras' `BatchNormalization(axis=-1)`: `y = gamma (x - mean) / sqrt(var + eps) + beta`;
/// params `gamma` (ones), `beta` (zeros), `moving_mean` (zeros), `moving_variance` (ones).
#[derive(Clone, Debug)]
pub struct BatchNormalization {
    momentum: f32,
    epsilon: f32,
    channels: usize,
    params: Vec<Param>,
    /// Normalized input of the last training pass.
    normalized: Vec<f32>,
    /// 1 / sqrt(var + eps) per channel, from the last training pass.
    inv_std: Vec<f32>,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        BatchNormalization::new()
    }
}

impl BatchNormalization {
    /// Keras' defaults: momentum 0.99, epsilon 1e-3.
    pub fn new() -> Self {
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            channels: 0,
            params: Vec::new(),
            normalized: Vec::new(),
            inv_std: Vec::new(),
        }
    }

    /// Weight of the old value in the moving averages.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Added to the variance before the square root.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// The epsilon in use.
    pub fn variance_epsilon(&self) -> f32 {
        self.epsilon
    }
}

impl Op for BatchNormalization {
    fn kind(&self) -> &'static str {
        "BatchNormalization"
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        let Some(&channels) = shape.last() else {
            return Err("needs an input of rank >= 1 per sample".into());
        };
        self.channels = channels;
        let ones = || Tensor::from_fn([channels], |_| 1.0);
        self.params = vec![
            Param::new("gamma", ones()),
            Param::new("beta", Tensor::zeros([channels])),
            Param::frozen("moving_mean", Tensor::zeros([channels])),
            Param::frozen("moving_variance", ones()),
        ];
        Ok(shape.to_vec())
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, context: &mut Context) {
        let c = self.channels;
        let x = inputs[0].data();
        let rows = x.len() / c;
        let (gamma_beta, moving) = self.params.split_at_mut(2);
        let gamma = gamma_beta[0].value().data();
        let beta = gamma_beta[1].value().data();
        if !context.training {
            // y = gamma (x - moving_mean) / sqrt(moving_var + eps) + beta
            let mean = moving[0].value().data();
            let var = moving[1].value().data();
            for (out, px) in output.data_mut().chunks_exact_mut(c).zip(x.chunks_exact(c)) {
                for ch in 0..c {
                    out[ch] = gamma[ch] * (px[ch] - mean[ch]) / (var[ch] + self.epsilon).sqrt()
                        + beta[ch];
                }
            }
            return;
        }
        // batch statistics per channel (biased variance, as Keras)
        let mut mean = vec![0.0f32; c];
        for px in x.chunks_exact(c) {
            mean.iter_mut().zip(px).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= rows as f32);
        let mut var = vec![0.0f32; c];
        for px in x.chunks_exact(c) {
            for ch in 0..c {
                let d = px[ch] - mean[ch];
                var[ch] += d * d;
            }
        }
        var.iter_mut().for_each(|v| *v /= rows as f32);
        self.inv_std.clear();
        self.inv_std
            .extend(var.iter().map(|v| 1.0 / (v + self.epsilon).sqrt()));
        self.normalized.resize(x.len(), 0.0);
        for ((out, norm), px) in output
            .data_mut()
            .chunks_exact_mut(c)
            .zip(self.normalized.chunks_exact_mut(c))
            .zip(x.chunks_exact(c))
        {
            for ch in 0..c {
                norm[ch] = (px[ch] - mean[ch]) * self.inv_std[ch];
                out[ch] = gamma[ch] * norm[ch] + beta[ch];
            }
        }
        // moving = momentum * moving + (1 - momentum) * batch, 1 - momentum
        // rounded as Keras rounds it
        let (m, one_minus_m) = (self.momentum, crate::optimizers::complement(self.momentum));
        for (param, batch) in moving.iter_mut().zip([&mean, &var]) {
            let (value, _) = param.value_and_grad();
            value
                .iter_mut()
                .zip(batch.iter())
                .for_each(|(v, b)| *v = m * *v + one_minus_m * b);
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
        let c = self.channels;
        let dy = grad_output.data();
        let rows = (dy.len() / c) as f32;
        // dbeta = sum dy, dgamma = sum dy * xhat
        let mut sum_dy = vec![0.0f32; c];
        let mut sum_dy_xhat = vec![0.0f32; c];
        for (d, n) in dy.chunks_exact(c).zip(self.normalized.chunks_exact(c)) {
            for ch in 0..c {
                sum_dy[ch] += d[ch];
                sum_dy_xhat[ch] += d[ch] * n[ch];
            }
        }
        self.params[0]
            .grad_mut()
            .data_mut()
            .copy_from_slice(&sum_dy_xhat);
        self.params[1]
            .grad_mut()
            .data_mut()
            .copy_from_slice(&sum_dy);
        if need_input_grads {
            // dx = gamma inv_std / N (N dy - sum dy - xhat sum(dy xhat))
            let gamma = self.params[0].value().data();
            for ((dx, d), n) in grad_inputs[0]
                .data_mut()
                .chunks_exact_mut(c)
                .zip(dy.chunks_exact(c))
                .zip(self.normalized.chunks_exact(c))
            {
                for ch in 0..c {
                    dx[ch] = gamma[ch] * self.inv_std[ch] / rows
                        * (rows * d[ch] - sum_dy[ch] - n[ch] * sum_dy_xhat[ch]);
                }
            }
        }
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
    fn normalizes_and_tracks_moving_stats() {
        // one channel, batch [1, 3]: mean 2, var 1 -> y = [-1, 1] / sqrt(1 + 1e-3)
        let mut bn = BatchNormalization::new();
        bn.build(&[&[1]], &mut Rng::new(0)).unwrap();
        let x = Tensor::new(vec![1.0, 3.0], [2, 1]).unwrap();
        let mut y = Tensor::zeros([2, 1]);
        bn.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: true,
                rng: &mut Rng::new(0),
            },
        );
        let s = 1.0 / 1.001f32.sqrt();
        assert!((y.data()[0] + s).abs() < 1e-6 && (y.data()[1] - s).abs() < 1e-6);
        // moving mean = 0.99 * 0 + 0.01 * 2, moving var = 0.99 * 1 + 0.01 * 1
        assert!((bn.params()[2].value().data()[0] - 0.02).abs() < 1e-6);
        assert!((bn.params()[3].value().data()[0] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn gradients() {
        gradcheck::check(&mut BatchNormalization::new(), &[&[2, 3]], 4, true);
    }
}
