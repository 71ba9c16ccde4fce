//! Concatenate: joins inputs along the last axis.

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Joins inputs along the last axis (Keras' `Concatenate(axis=-1)`); the other
/// axes must agree.
#[derive(Clone, Debug, Default)]
pub struct Concatenate {
    widths: Vec<usize>,
}

impl Concatenate {
    /// A concatenation along the last axis.
    pub fn new() -> Self {
        Concatenate::default()
    }
}

impl Op for Concatenate {
    fn kind(&self) -> &'static str {
        "Concatenate"
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        let Some(first) = inputs.first() else {
            return Err("needs at least one input".into());
        };
        let Some((_, leading)) = first.split_last() else {
            return Err("inputs need rank >= 1 per sample".into());
        };
        if inputs
            .iter()
            .any(|s| s.len() != first.len() || &s[..s.len() - 1] != leading)
        {
            return Err("inputs must agree on every axis but the last".into());
        }
        self.widths = inputs.iter().map(|s| s[s.len() - 1]).collect();
        let mut out = leading.to_vec();
        out.push(self.widths.iter().sum());
        Ok(out)
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        let total: usize = self.widths.iter().sum();
        let mut offset = 0;
        for (input, &w) in inputs.iter().zip(&self.widths) {
            for (dst, src) in output
                .data_mut()
                .chunks_exact_mut(total)
                .zip(input.data().chunks_exact(w))
            {
                dst[offset..offset + w].copy_from_slice(src);
            }
            offset += w;
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
        if !need_input_grads {
            return;
        }
        // each input gets back its own slice of the output gradient
        let total: usize = self.widths.iter().sum();
        let mut offset = 0;
        for (grad, &w) in grad_inputs.iter_mut().zip(&self.widths) {
            for (dst, src) in grad
                .data_mut()
                .chunks_exact_mut(w)
                .zip(grad_output.data().chunks_exact(total))
            {
                dst.copy_from_slice(&src[offset..offset + w]);
            }
            offset += w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn joins_last_axis() {
        // [[1], [2]] ++ [[3, 4], [5, 6]] = [[1, 3, 4], [2, 5, 6]]
        let a = Tensor::new(vec![1.0, 2.0], [1, 2, 1]).unwrap();
        let b = Tensor::new(vec![3.0, 4.0, 5.0, 6.0], [1, 2, 2]).unwrap();
        let mut c = Concatenate::new();
        assert_eq!(
            c.build(&[&[2, 1], &[2, 2]], &mut Rng::new(0)).unwrap(),
            vec![2, 3]
        );
        let mut y = Tensor::zeros([1, 2, 3]);
        c.forward(
            &[&a, &b],
            &mut y,
            &mut Context {
                training: false,
                rng: &mut Rng::new(0),
            },
        );
        assert_eq!(y.data(), &[1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
        assert!(c.build(&[&[2, 1], &[3, 2]], &mut Rng::new(0)).is_err());
        gradcheck::check(&mut Concatenate::new(), &[&[2, 1], &[2, 3]], 2, true);
    }
}
