//! Global average pooling: the mean over every axis but the channels (last).

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Mean over the positions of `[positions..., channels]`; shared by the 1-D and 2-D layers.
fn build(inputs: &[&[usize]], rank: usize) -> Result<(usize, usize), String> {
    let [shape] = inputs else {
        return Err(format!("takes one input, got {}", inputs.len()));
    };
    if shape.len() != rank + 1 {
        return Err(format!(
            "needs a per-sample input of rank {} (positions and channels), got {shape:?}",
            rank + 1
        ));
    }
    let channels = shape[rank];
    Ok((shape[..rank].iter().product(), channels))
}

// y[c] = (1/P) sum_p x[p, c]
fn forward(x: &[f32], y: &mut [f32], positions: usize, channels: usize) {
    let inv = 1.0 / positions as f32;
    for (sample, out) in x
        .chunks_exact(positions * channels)
        .zip(y.chunks_exact_mut(channels))
    {
        out.fill(0.0);
        for px in sample.chunks_exact(channels) {
            out.iter_mut().zip(px).for_each(|(o, v)| *o += v);
        }
        out.iter_mut().for_each(|o| *o *= inv);
    }
}

// dx[p, c] = dy[c] / P
fn backward(dy: &[f32], dx: &mut [f32], positions: usize, channels: usize) {
    let inv = 1.0 / positions as f32;
    for (sample, d) in dx
        .chunks_exact_mut(positions * channels)
        .zip(dy.chunks_exact(channels))
    {
        for px in sample.chunks_exact_mut(channels) {
            px.iter_mut().zip(d).for_each(|(x, g)| *x = g * inv);
        }
    }
}

macro_rules! global_average_pooling {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $rank:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            positions: usize,
            channels: usize,
        }

        impl $name {
            /// The layer.
            pub fn new() -> Self {
                Self::default()
            }
        }

        impl Op for $name {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
                (self.positions, self.channels) = build(inputs, $rank)?;
                Ok(vec![self.channels])
            }

            fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
                forward(inputs[0].data(), output.data_mut(), self.positions, self.channels);
            }

            fn backward(
                &mut self,
                _inputs: &[&Tensor],
                _output: &Tensor,
                grad_output: &mut Tensor,
                grad_inputs: &mut [Tensor],
                need_input_grads: bool,
            ) {
                if need_input_grads {
                    backward(grad_output.data(), grad_inputs[0].data_mut(), self.positions, self.channels);
                }
            }
        }
    };
}

global_average_pooling!(
    /// Keras' `GlobalAveragePooling2D`: `[h, w, c]` -> `[c]`.
    GlobalAveragePooling2D, "GlobalAveragePooling2D", 2
);
global_average_pooling!(
    /// Keras' `GlobalAveragePooling1D`: `[steps, c]` -> `[c]`.
    GlobalAveragePooling1D, "GlobalAveragePooling1D", 1
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn means_per_channel() {
        // 2x2 pixels of (c0, c1): (1, 0), (2, 0), (3, 4), (6, 8) -> (3, 3)
        let mut gap = GlobalAveragePooling2D::new();
        assert_eq!(gap.build(&[&[2, 2, 2]], &mut Rng::new(0)).unwrap(), vec![2]);
        let x = Tensor::new(vec![1.0, 0.0, 2.0, 0.0, 3.0, 4.0, 6.0, 8.0], [1, 2, 2, 2]).unwrap();
        let mut y = Tensor::zeros([1, 2]);
        gap.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[3.0, 3.0]);
        gradcheck::check(&mut GlobalAveragePooling2D::new(), &[&[2, 3, 2]], 2, true);
        gradcheck::check(&mut GlobalAveragePooling1D::new(), &[&[4, 3]], 2, true);
        assert!(GlobalAveragePooling1D::new()
            .build(&[&[2, 2, 2]], &mut Rng::new(0))
            .is_err());
    }
}
