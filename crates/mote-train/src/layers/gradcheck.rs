//! Finite-difference gradient checks shared by every layer's tests.
//!
//! With fixed random weights w, L = sum_i w_i * y_i(x, params). backward with
//! dL/dy = w must give dL/dx and dL/dparam equal to the central difference
//! (L(v + h) - L(v - h)) / 2h for every input value and parameter value.

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn loss(
    op: &mut dyn Op,
    inputs: &[Tensor],
    weights: &[f32],
    out_shape: &[usize],
    training: bool,
) -> f64 {
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let mut out = Tensor::zeros(out_shape);
    let mut rng = Rng::new(99);
    op.forward(
        &refs,
        &mut out,
        &mut Context {
            training,
            rng: &mut rng,
        },
    );
    out.data()
        .iter()
        .zip(weights)
        .map(|(y, w)| f64::from(*y) * f64::from(*w))
        .sum()
}

/// Builds `op` on `input_shapes` (per sample), runs it on a batch of `batch`
/// random inputs and checks every gradient by central differences.
pub(crate) fn check(op: &mut dyn Op, input_shapes: &[&[usize]], batch: usize, training: bool) {
    let mut rng = Rng::new(1234);
    let out_sample = op.build(input_shapes, &mut rng).expect("build");
    let mut out_shape = vec![batch];
    out_shape.extend_from_slice(&out_sample);
    let mut inputs: Vec<Tensor> = input_shapes
        .iter()
        .map(|s| {
            let mut shape = vec![batch];
            shape.extend_from_slice(s);
            Tensor::from_fn(&shape, |_| rng.uniform(-1.5, 1.5))
        })
        .collect();
    let out_len: usize = out_shape.iter().product();
    let weights: Vec<f32> = (0..out_len).map(|_| rng.uniform(-1.0, 1.0)).collect();

    // analytic gradients
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let mut out = Tensor::zeros(&out_shape);
    let mut fwd_rng = Rng::new(99);
    op.forward(
        &refs,
        &mut out,
        &mut Context {
            training,
            rng: &mut fwd_rng,
        },
    );
    let mut grad_out = Tensor::new(weights.clone(), &out_shape).unwrap();
    let mut grad_inputs: Vec<Tensor> = inputs.iter().map(|t| Tensor::zeros(t.shape())).collect();
    op.backward(&refs, &out, &mut grad_out, &mut grad_inputs, true);
    let param_grads: Vec<Tensor> = op.params().iter().map(|p| p.grad().clone()).collect();

    let h = 1e-2f32;
    let kind = op.kind();
    let close = |numeric: f64, analytic: f32, what: &str| {
        let tolerance = 3e-3 + 1e-2 * numeric.abs().max(f64::from(analytic.abs()));
        assert!(
            (numeric - f64::from(analytic)).abs() < tolerance,
            "{kind} {what}: numeric {numeric}, analytic {analytic}"
        );
    };
    for k in 0..inputs.len() {
        for i in 0..inputs[k].len() {
            let v = inputs[k].data()[i];
            inputs[k].data_mut()[i] = v + h;
            let plus = loss(op, &inputs, &weights, &out_shape, training);
            inputs[k].data_mut()[i] = v - h;
            let minus = loss(op, &inputs, &weights, &out_shape, training);
            inputs[k].data_mut()[i] = v;
            let numeric = (plus - minus) / (2.0 * f64::from(h));
            close(
                numeric,
                grad_inputs[k].data()[i],
                &format!("input {k}[{i}]"),
            );
        }
    }
    for (p, grad) in param_grads.iter().enumerate() {
        if !op.params()[p].trainable() {
            continue;
        }
        for i in 0..grad.len() {
            let v = op.params()[p].value().data()[i];
            op.params_mut()[p].value_mut().data_mut()[i] = v + h;
            let plus = loss(op, &inputs, &weights, &out_shape, training);
            op.params_mut()[p].value_mut().data_mut()[i] = v - h;
            let minus = loss(op, &inputs, &weights, &out_shape, training);
            op.params_mut()[p].value_mut().data_mut()[i] = v;
            let numeric = (plus - minus) / (2.0 * f64::from(h));
            let name = op.params()[p].name();
            close(numeric, grad.data()[i], &format!("param {name}[{i}]"));
        }
    }
}
