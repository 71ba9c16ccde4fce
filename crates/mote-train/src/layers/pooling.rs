//! Max and average pooling, 2-D over `[h, w, c]` and 1-D over `[steps, c]`
//! (a 2-D pass of height 1).

use super::geometry::{Geometry, Padding, Window};
use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::vector::avx2_multiversion;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduce {
    Max,
    Average,
}

/// The shared pooling computation.
#[derive(Clone, Debug)]
struct Pool {
    reduce: Reduce,
    pool_size: [usize; 2],
    strides: Option<[usize; 2]>,
    padding: Padding,
    geometry: Geometry,
}

impl Pool {
    fn new(reduce: Reduce, pool_size: [usize; 2]) -> Self {
        Pool {
            reduce,
            pool_size,
            strides: None,
            padding: Padding::Valid,
            geometry: Geometry::default(),
        }
    }

    fn build(&mut self, shape: &[usize]) -> Result<Vec<usize>, String> {
        let strides = self.strides.unwrap_or(self.pool_size);
        let g = Geometry::new(shape, self.pool_size, strides, self.padding)?;
        self.geometry = g;
        Ok(vec![g.out_h, g.out_w, g.channels])
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32]) {
        forward(&self.geometry, self.reduce, x, y);
    }

    fn backward(&self, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        backward(&self.geometry, self.reduce, x, y, dy, dx);
    }
}

avx2_multiversion! {
    /// Pools `x` into `y` (both NHWC, channels innermost).
    fn forward(g: &Geometry, reduce: Reduce, x: &[f32], y: &mut [f32]) {
        let g = *g;
        let c = g.channels;
        let batch = x.len() / g.input_len();
        let mut at = 0;
        for b in 0..batch {
            let base = b * g.input_len();
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let out = &mut y[at..at + c];
                    match reduce {
                        Reduce::Max => {
                            // y = max over the window (where it was is found again in backward)
                            out.fill(f32::NEG_INFINITY);
                            for ky in 0..g.kernel_h {
                                for kx in 0..g.kernel_w {
                                    let Some((iy, ix)) = g.source(oy, ox, ky, kx) else {
                                        continue;
                                    };
                                    let from = base + (iy * g.in_w + ix) * c;
                                    out.iter_mut()
                                        .zip(&x[from..from + c])
                                        .for_each(|(o, &v)| *o = o.max(v));
                                }
                            }
                        }
                        Reduce::Average => {
                            // y = mean over the window's pixels inside the input
                            out.fill(0.0);
                            let mut count = 0;
                            for ky in 0..g.kernel_h {
                                for kx in 0..g.kernel_w {
                                    let Some((iy, ix)) = g.source(oy, ox, ky, kx) else {
                                        continue;
                                    };
                                    let from = base + (iy * g.in_w + ix) * c;
                                    out.iter_mut()
                                        .zip(&x[from..from + c])
                                        .for_each(|(o, v)| *o += v);
                                    count += 1;
                                }
                            }
                            let inv = 1.0 / count.max(1) as f32;
                            out.iter_mut().for_each(|o| *o *= inv);
                        }
                    }
                    at += c;
                }
            }
        }
    }

}

avx2_multiversion! {
    /// dL/dx from dL/dy: a window's maximum takes all of its gradient, an
    /// average spreads it evenly.
    fn backward(g: &Geometry, reduce: Reduce, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        let g = *g;
        let c = g.channels;
        dx.fill(0.0);
        match reduce {
            // dy flows to the (first) position of the maximum only
            Reduce::Max => {
                let batch = dx.len() / g.input_len();
                // taken[ch] = 1 once channel ch's maximum has been found
                let mut taken = vec![0.0f32; c];
                let mut at = 0;
                for b in 0..batch {
                    let base = b * g.input_len();
                    for oy in 0..g.out_h {
                        for ox in 0..g.out_w {
                            taken.fill(0.0);
                            let (ys, dys) = (&y[at..at + c], &dy[at..at + c]);
                            for ky in 0..g.kernel_h {
                                for kx in 0..g.kernel_w {
                                    let Some((iy, ix)) = g.source(oy, ox, ky, kx) else {
                                        continue;
                                    };
                                    let from = base + (iy * g.in_w + ix) * c;
                                    let (xs, dxs) = (&x[from..from + c], &mut dx[from..from + c]);
                                    // branch-free: hit = (x == y) and not taken yet
                                    for ((((d, t), &xv), &yv), &gv) in dxs
                                        .iter_mut()
                                        .zip(taken.iter_mut())
                                        .zip(xs)
                                        .zip(ys)
                                        .zip(dys)
                                    {
                                        let hit = f32::from(u8::from(xv == yv)) * (1.0 - *t);
                                        *t += hit;
                                        *d += hit * gv;
                                    }
                                }
                            }
                            at += c;
                        }
                    }
                }
            }
            // dy / count flows to each pixel of the window
            Reduce::Average => {
                let batch = dx.len() / g.input_len();
                let mut at = 0;
                for b in 0..batch {
                    let base = b * g.input_len();
                    for oy in 0..g.out_h {
                        for ox in 0..g.out_w {
                            let taps = || {
                                (0..g.kernel_h).flat_map(move |ky| {
                                    (0..g.kernel_w).filter_map(move |kx| g.source(oy, ox, ky, kx))
                                })
                            };
                            let inv = 1.0 / taps().count().max(1) as f32;
                            for (iy, ix) in taps() {
                                let from = base + (iy * g.in_w + ix) * c;
                                dx[from..from + c]
                                    .iter_mut()
                                    .zip(&dy[at..at + c])
                                    .for_each(|(d, g)| *d += g * inv);
                            }
                            at += c;
                        }
                    }
                }
            }
        }
    }
}

macro_rules! pooling_layer {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $reduce:expr, $rank:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pool: Pool,
        }

        impl $name {
            /// Sets the strides (default: the pool size).
            pub fn strides(mut self, strides: impl Window) -> Self {
                let [h, w] = strides.pair();
                self.pool.strides = Some(if $rank == 1 { [1, w.max(h)] } else { [h, w] });
                self
            }

            /// Border handling (default valid).
            pub fn padding(mut self, padding: Padding) -> Self {
                self.pool.padding = padding;
                self
            }

            /// Window size, `[h, w]` (`[1, steps]` for 1-D).
            pub fn pool_size(&self) -> [usize; 2] {
                self.pool.pool_size
            }

            /// Strides, `[h, w]` (`[1, steps]` for 1-D).
            pub fn stride(&self) -> [usize; 2] {
                self.pool.strides.unwrap_or(self.pool.pool_size)
            }

            /// Border handling.
            pub fn padding_mode(&self) -> Padding {
                self.pool.padding
            }
        }

        impl Op for $name {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
                let [shape] = inputs else {
                    return Err(format!("takes one input, got {}", inputs.len()));
                };
                if $rank == 1 {
                    let &[steps, c] = *shape else {
                        return Err(format!("needs a per-sample input [steps, channels], got {shape:?}"));
                    };
                    let out = self.pool.build(&[1, steps, c])?;
                    Ok(vec![out[1], out[2]])
                } else {
                    self.pool.build(shape)
                }
            }

            fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
                self.pool.forward(inputs[0].data(), output.data_mut());
            }

            fn backward(
                &mut self,
                inputs: &[&Tensor],
                output: &Tensor,
                grad_output: &mut Tensor,
                grad_inputs: &mut [Tensor],
                need_input_grads: bool,
            ) {
                if need_input_grads {
                    self.pool.backward(inputs[0].data(), output.data(), grad_output.data(), grad_inputs[0].data_mut());
                }
            }
        }
    };
}

pooling_layer!(
    /// Keras' `MaxPooling2D`: the maximum of each window (default 2x2, stride = window, valid).
    MaxPooling2D, "MaxPooling2D", Reduce::Max, 2
);
pooling_layer!(
    /// Keras' `AveragePooling2D`: the mean of each window (padding excluded).
    AveragePooling2D, "AveragePooling2D", Reduce::Average, 2
);
pooling_layer!(
    /// Keras' `MaxPooling1D` over `[steps, channels]`.
    MaxPooling1D, "MaxPooling1D", Reduce::Max, 1
);
pooling_layer!(
    /// Keras' `AveragePooling1D` over `[steps, channels]`.
    AveragePooling1D, "AveragePooling1D", Reduce::Average, 1
);

impl MaxPooling2D {
    /// Max pooling over `pool_size` windows (`2` or `[2, 2]`).
    pub fn new(pool_size: impl Window) -> Self {
        MaxPooling2D {
            pool: Pool::new(Reduce::Max, pool_size.pair()),
        }
    }
}

impl AveragePooling2D {
    /// Average pooling over `pool_size` windows (`2` or `[2, 2]`).
    pub fn new(pool_size: impl Window) -> Self {
        AveragePooling2D {
            pool: Pool::new(Reduce::Average, pool_size.pair()),
        }
    }
}

impl MaxPooling1D {
    /// Max pooling over windows of `pool_size` steps.
    pub fn new(pool_size: usize) -> Self {
        MaxPooling1D {
            pool: Pool::new(Reduce::Max, [1, pool_size]),
        }
    }
}

impl AveragePooling1D {
    /// Average pooling over windows of `pool_size` steps.
    pub fn new(pool_size: usize) -> Self {
        AveragePooling1D {
            pool: Pool::new(Reduce::Average, [1, pool_size]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    fn run(op: &mut dyn Op, input_shape: &[usize], x: &[f32]) -> Vec<f32> {
        let out = op.build(&[input_shape], &mut Rng::new(0)).unwrap();
        let mut shape = vec![1];
        shape.extend_from_slice(input_shape);
        let x = Tensor::new(x.to_vec(), &shape).unwrap();
        shape.truncate(1);
        shape.extend_from_slice(&out);
        let mut y = Tensor::zeros(&shape);
        op.forward(
            &[&x],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        y.into_data()
    }

    #[test]
    fn by_hand() {
        // 4x4 input 0..15 in 2x2 windows: maxima 5, 7, 13, 15; means 2.5, 4.5, 10.5, 12.5
        let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
        assert_eq!(
            run(&mut MaxPooling2D::new(2), &[4, 4, 1], &x),
            [5.0, 7.0, 13.0, 15.0]
        );
        assert_eq!(
            run(&mut AveragePooling2D::new(2), &[4, 4, 1], &x),
            [2.5, 4.5, 10.5, 12.5]
        );
        // 1-D: [1, 5, 2, 0, 3] in windows of 2 (valid): max [5, 2], mean [3, 1]
        let x = [1.0, 5.0, 2.0, 0.0, 3.0];
        assert_eq!(run(&mut MaxPooling1D::new(2), &[5, 1], &x), [5.0, 2.0]);
        assert_eq!(run(&mut AveragePooling1D::new(2), &[5, 1], &x), [3.0, 1.0]);
        // same padding: average of a border window counts only inside pixels
        // 3 steps [2, 4, 6], window 2 stride 2 same -> [3, 6]
        let mut same = AveragePooling1D::new(2).padding(Padding::Same);
        assert_eq!(run(&mut same, &[3, 1], &[2.0, 4.0, 6.0]), [3.0, 6.0]);
    }

    #[test]
    fn gradients() {
        gradcheck::check(&mut MaxPooling2D::new(2), &[&[4, 4, 2]], 2, true);
        gradcheck::check(
            &mut AveragePooling2D::new(3).strides(2).padding(Padding::Same),
            &[&[5, 4, 2]],
            2,
            true,
        );
        gradcheck::check(&mut MaxPooling1D::new(3).strides(1), &[&[6, 2]], 2, true);
        gradcheck::check(&mut AveragePooling1D::new(2), &[&[5, 3]], 2, true);
    }
}
