//! Flatten and Reshape: the same values under another per-sample shape.

use super::{Context, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn copy_forward(inputs: &[&Tensor], output: &mut Tensor) {
    output.data_mut().copy_from_slice(inputs[0].data());
}

fn copy_backward(grad_output: &Tensor, grad_inputs: &mut [Tensor], need: bool) {
    if need {
        grad_inputs[0]
            .data_mut()
            .copy_from_slice(grad_output.data());
    }
}

/// Keras' `Flatten`: `[d1, d2, ...]` -> `[d1 * d2 * ...]` per sample.
#[derive(Clone, Debug, Default)]
pub struct Flatten {
    input_shape: Option<Vec<usize>>,
}

impl Flatten {
    /// The layer.
    pub fn new() -> Self {
        Flatten::default()
    }

    /// Declares the per-sample input shape (first layer of a model).
    pub fn input_shape(mut self, shape: impl AsRef<[usize]>) -> Self {
        self.input_shape = Some(shape.as_ref().to_vec());
        self
    }
}

impl Op for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        match inputs {
            [shape] => Ok(vec![shape.iter().product()]),
            _ => Err(format!("takes one input, got {}", inputs.len())),
        }
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        copy_forward(inputs, output);
    }

    fn backward(
        &mut self,
        _: &[&Tensor],
        _: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need: bool,
    ) {
        copy_backward(grad_output, grad_inputs, need);
    }
}

/// Keras' `Reshape`: a new per-sample shape; one axis may be `-1` (inferred).
#[derive(Clone, Debug)]
pub struct Reshape {
    target: Vec<isize>,
    input_shape: Option<Vec<usize>>,
}

impl Reshape {
    /// Reshape each sample to `target` (e.g. `[8, 8, 1]` or `[-1, 4]`).
    pub fn new(target: impl AsRef<[isize]>) -> Self {
        Reshape {
            target: target.as_ref().to_vec(),
            input_shape: None,
        }
    }

    /// Declares the per-sample input shape (first layer of a model).
    pub fn input_shape(mut self, shape: impl AsRef<[usize]>) -> Self {
        self.input_shape = Some(shape.as_ref().to_vec());
        self
    }

    /// The target shape as given (`-1` for the inferred axis).
    pub fn target_shape(&self) -> &[isize] {
        &self.target
    }
}

impl Op for Reshape {
    fn kind(&self) -> &'static str {
        "Reshape"
    }

    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    fn build(&mut self, inputs: &[&[usize]], _rng: &mut Rng) -> Result<Vec<usize>, String> {
        let [shape] = inputs else {
            return Err(format!("takes one input, got {}", inputs.len()));
        };
        let total: usize = shape.iter().product();
        let known: usize = self
            .target
            .iter()
            .filter(|&&d| d > 0)
            .map(|&d| d as usize)
            .product();
        let unknown = self.target.iter().filter(|&&d| d == -1).count();
        let bad = self.target.iter().any(|&d| d == 0 || d < -1) || unknown > 1;
        let inferred = if unknown == 1 && known > 0 && total.is_multiple_of(known) {
            total / known
        } else {
            0
        };
        let out: Vec<usize> = self
            .target
            .iter()
            .map(|&d| if d == -1 { inferred } else { d as usize })
            .collect();
        if bad || out.iter().product::<usize>() != total {
            return Err(format!(
                "cannot reshape {shape:?} ({total} values) to {:?}",
                self.target
            ));
        }
        Ok(out)
    }

    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, _context: &mut Context) {
        copy_forward(inputs, output);
    }

    fn backward(
        &mut self,
        _: &[&Tensor],
        _: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need: bool,
    ) {
        copy_backward(grad_output, grad_inputs, need);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck;

    #[test]
    fn shapes() {
        let mut rng = Rng::new(0);
        assert_eq!(
            Flatten::new().build(&[&[2, 3, 4]], &mut rng).unwrap(),
            vec![24]
        );
        assert_eq!(
            Reshape::new([-1, 4])
                .build(&[&[2, 3, 4]], &mut rng)
                .unwrap(),
            vec![6, 4]
        );
        assert!(Reshape::new([5, -1]).build(&[&[2, 3]], &mut rng).is_err());
        assert!(Reshape::new([-1, -1]).build(&[&[2, 3]], &mut rng).is_err());
        gradcheck::check(&mut Flatten::new(), &[&[2, 3]], 2, true);
        gradcheck::check(&mut Reshape::new([3, 2]), &[&[2, 3]], 2, true);
    }
}
