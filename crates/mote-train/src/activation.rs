//! Element-wise activations (and softmax over the last axis), used both as
//! layers and as the `activation` of Dense and convolution layers.

/// An activation function, as Keras names them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// `y = x`.
    #[default]
    Linear,
    /// `y = max(x, 0)`.
    Relu,
    /// `y = min(max(x, 0), 6)`.
    Relu6,
    /// `y = x` for `x >= 0`, else `alpha * x`.
    LeakyRelu(f32),
    /// `y = 1 / (1 + e^-x)`.
    Sigmoid,
    /// `y = tanh(x)`.
    Tanh,
    /// `y = x * relu6(x + 3) / 6`.
    HardSwish,
    /// `y_i = e^x_i / sum_j e^x_j` over the last axis.
    Softmax,
}

impl Activation {
    /// Keras' name for it (`"relu"`, `"softmax"` ...).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::HardSwish => "hard_swish",
            Activation::Softmax => "softmax",
        }
    }

    /// True when the backward pass needs the input `x` besides the output `y`.
    pub(crate) fn needs_input(self) -> bool {
        matches!(self, Activation::HardSwish)
    }

    /// Applies the activation in place; `last_axis` is the softmax axis length.
    pub(crate) fn forward_in_place(self, values: &mut [f32], last_axis: usize) {
        match self {
            Activation::Linear => {}
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Relu6 => values.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
            Activation::LeakyRelu(alpha) => values
                .iter_mut()
                .for_each(|v| *v = if *v >= 0.0 { *v } else { alpha * *v }),
            Activation::Sigmoid => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::HardSwish => values
                .iter_mut()
                .for_each(|v| *v = *v * (*v + 3.0).clamp(0.0, 6.0) / 6.0),
            Activation::Softmax => {
                for row in values.chunks_exact_mut(last_axis.max(1)) {
                    softmax_row(row);
                }
            }
        }
    }

    /// Turns `grad` = dL/dy into dL/dx in place, given the output `y` and, when
    /// [`Activation::needs_input`], the input `x`.
    pub(crate) fn backward_in_place(
        self,
        y: &[f32],
        x: &[f32],
        grad: &mut [f32],
        last_axis: usize,
    ) {
        match self {
            Activation::Linear => {}
            Activation::Relu => zip_apply(grad, y, |g, y| if y > 0.0 { g } else { 0.0 }),
            Activation::Relu6 => {
                zip_apply(grad, y, |g, y| if y > 0.0 && y < 6.0 { g } else { 0.0 })
            }
            // y >= 0 exactly when x >= 0 (alpha > 0), so y tells the branch.
            Activation::LeakyRelu(alpha) => {
                zip_apply(grad, y, |g, y| if y >= 0.0 { g } else { alpha * g })
            }
            // dy/dx = y (1 - y)
            Activation::Sigmoid => zip_apply(grad, y, |g, y| g * y * (1.0 - y)),
            // dy/dx = 1 - y^2
            Activation::Tanh => zip_apply(grad, y, |g, y| g * (1.0 - y * y)),
            // dy/dx = 0 below -3, 1 above 3, (2x + 3) / 6 between
            Activation::HardSwish => zip_apply(grad, x, |g, x| {
                if x <= -3.0 {
                    0.0
                } else if x >= 3.0 {
                    g
                } else {
                    g * (2.0 * x + 3.0) / 6.0
                }
            }),
            // dx_i = y_i (g_i - sum_j g_j y_j)
            Activation::Softmax => {
                let n = last_axis.max(1);
                for (g, y) in grad.chunks_exact_mut(n).zip(y.chunks_exact(n)) {
                    let dot: f32 = g.iter().zip(y).map(|(g, y)| g * y).sum();
                    g.iter_mut().zip(y).for_each(|(g, y)| *g = y * (*g - dot));
                }
            }
        }
    }
}

fn zip_apply(grad: &mut [f32], other: &[f32], f: impl Fn(f32, f32) -> f32) {
    grad.iter_mut().zip(other).for_each(|(g, &o)| *g = f(*g, o));
}

/// `1 / (1 + e^-x)`, computed without overflow for large |x|.
pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Softmax of one row in place, shifted by the row's maximum for stability.
pub(crate) fn softmax_row(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 8] = [
        Activation::Linear,
        Activation::Relu,
        Activation::Relu6,
        Activation::LeakyRelu(0.3),
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::HardSwish,
        Activation::Softmax,
    ];

    #[test]
    fn known_values() {
        // relu6(7) = 6, leaky(-2) = -0.6, sigmoid(0) = 1/2, hard_swish(1) = 1*4/6
        let mut v = [7.0];
        Activation::Relu6.forward_in_place(&mut v, 1);
        assert_eq!(v, [6.0]);
        let mut v = [-2.0];
        Activation::LeakyRelu(0.3).forward_in_place(&mut v, 1);
        assert!((v[0] + 0.6).abs() < 1e-6);
        assert_eq!(sigmoid(0.0), 0.5);
        let mut v = [1.0];
        Activation::HardSwish.forward_in_place(&mut v, 1);
        assert!((v[0] - 4.0 / 6.0).abs() < 1e-6);
        // softmax([0, ln 3]) = [1/4, 3/4]
        let mut v = [0.0, 3f32.ln()];
        Activation::Softmax.forward_in_place(&mut v, 2);
        assert!((v[0] - 0.25).abs() < 1e-6 && (v[1] - 0.75).abs() < 1e-6);
    }

    #[test]
    fn gradients_match_finite_differences() {
        // L = sum_i w_i y_i(x) with fixed weights w; dL/dx_i by central
        // differences (f(x+h) - f(x-h)) / 2h must match backward_in_place.
        let x = [-3.5, -1.2, -0.4, 0.3, 0.9, 2.2, 4.0, 6.5];
        let w = [0.3, -1.1, 0.7, 0.5, -0.2, 0.9, 1.3, -0.6];
        let n = x.len();
        for act in ALL {
            let loss = |x: &[f32]| {
                let mut y = x.to_vec();
                act.forward_in_place(&mut y, n);
                y.iter().zip(&w).map(|(y, w)| y * w).sum::<f32>()
            };
            let mut y = x.to_vec();
            act.forward_in_place(&mut y, n);
            let mut grad = w.to_vec();
            act.backward_in_place(&y, &x, &mut grad, n);
            for i in 0..n {
                let h = 1e-2;
                let mut xp = x.to_vec();
                xp[i] += h;
                let mut xm = x.to_vec();
                xm[i] -= h;
                let numeric = (loss(&xp) - loss(&xm)) / (2.0 * h);
                assert!(
                    (numeric - grad[i]).abs() < 2e-3,
                    "{act:?} at x={}: numeric {numeric}, analytic {}",
                    x[i],
                    grad[i]
                );
            }
        }
    }
}
