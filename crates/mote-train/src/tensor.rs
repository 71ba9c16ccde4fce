//! A dense, row-major (C order) `f32` tensor; axis 0 is the batch.

use crate::error::{Error, Result};

/// A dense row-major `f32` tensor. Axis 0 is the batch axis wherever a model
/// consumes or produces one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor over `data` with `shape`; fails when the lengths disagree.
    ///
    /// ```
    /// # use mote_train::Tensor;
    /// let t = Tensor::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2])?;
    /// assert_eq!(t.row(1), &[3.0, 4.0]);
    /// # Ok::<(), mote_train::Error>(())
    /// ```
    pub fn new(data: Vec<f32>, shape: impl AsRef<[usize]>) -> Result<Self> {
        let shape = shape.as_ref().to_vec();
        let expected: usize = shape.iter().product();
        if data.len() != expected {
            return Err(Error::DataLength {
                len: data.len(),
                shape,
                expected,
            });
        }
        Ok(Tensor { shape, data })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl AsRef<[usize]>) -> Self {
        let shape = shape.as_ref().to_vec();
        let len = shape.iter().product();
        Tensor {
            shape,
            data: vec![0.0; len],
        }
    }

    /// A tensor whose value at flat index `i` is `f(i)`.
    pub fn from_fn(shape: impl AsRef<[usize]>, f: impl FnMut(usize) -> f32) -> Self {
        let shape = shape.as_ref().to_vec();
        let len = shape.iter().product();
        Tensor {
            shape,
            data: (0..len).map(f).collect(),
        }
    }

    /// The shape, batch axis first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values in row-major order, writable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The values, consuming the tensor.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no value.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Size of axis 0 (the number of samples); 0 for a scalar.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Values per row (product of the axes after the first).
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// Row `i` (sample `i`) as a flat slice.
    pub fn row(&self, i: usize) -> &[f32] {
        let n = self.row_len();
        &self.data[i * n..(i + 1) * n]
    }

    /// The same values under another shape with the same number of values.
    pub fn reshape(mut self, shape: impl AsRef<[usize]>) -> Result<Self> {
        let shape = shape.as_ref();
        let expected: usize = shape.iter().product();
        if expected != self.data.len() {
            return Err(Error::DataLength {
                len: self.data.len(),
                shape: shape.to_vec(),
                expected,
            });
        }
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        Ok(self)
    }

    /// The rows listed in `indices`, in that order.
    pub fn select_rows(&self, indices: &[usize]) -> Tensor {
        let mut out = Tensor::default();
        out.gather_rows_from(self, indices);
        out
    }

    /// Index of the largest value of each row (ties: the first).
    pub fn argmax_rows(&self) -> Vec<usize> {
        (0..self.rows()).map(|i| argmax(self.row(i))).collect()
    }

    /// Resizes to `shape`, keeping the allocation; values are unspecified.
    pub(crate) fn resize(&mut self, shape: &[usize]) {
        if self.shape != shape {
            self.shape.clear();
            self.shape.extend_from_slice(shape);
        }
        let len = shape.iter().product();
        self.data.resize(len, 0.0);
    }

    /// Resizes to `[batch, sample...]`, keeping the allocation.
    pub(crate) fn resize_batch(&mut self, batch: usize, sample: &[usize]) {
        let same = self.shape.len() == sample.len() + 1
            && self.shape[0] == batch
            && self.shape[1..] == *sample;
        if !same {
            self.shape.clear();
            self.shape.push(batch);
            self.shape.extend_from_slice(sample);
        }
        self.data
            .resize(batch * sample.iter().product::<usize>(), 0.0);
    }

    /// Overwrites `self` with the rows of `source` listed in `indices`.
    pub(crate) fn gather_rows_from(&mut self, source: &Tensor, indices: &[usize]) {
        let n = source.row_len();
        self.resize_batch(indices.len(), &source.shape[1..]);
        for (dst, &i) in self.data.chunks_exact_mut(n.max(1)).zip(indices) {
            dst.copy_from_slice(source.row(i));
        }
    }

    /// The first row holding NaN or infinity, if any.
    pub(crate) fn first_non_finite_row(&self) -> Option<usize> {
        let n = self.row_len().max(1);
        self.data.iter().position(|v| !v.is_finite()).map(|i| i / n)
    }
}

/// Index of the largest value (ties: the first); 0 for an empty slice.
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_length() {
        // 5 values cannot fill a 2x3 shape (6 values).
        let err = Tensor::new(vec![0.0; 5], [2, 3]).unwrap_err();
        assert!(err.to_string().contains("5 values"), "{err}");
        assert!(Tensor::new(vec![0.0; 6], [2, 3]).is_ok());
    }

    #[test]
    fn rows_and_gather() {
        // rows of [[0,1],[2,3],[4,5]]; picking rows 2,0 gives [[4,5],[0,1]].
        let t = Tensor::from_fn([3, 2], |i| i as f32);
        assert_eq!(t.rows(), 3);
        assert_eq!(t.row_len(), 2);
        let picked = t.select_rows(&[2, 0]);
        assert_eq!(picked.shape(), &[2, 2]);
        assert_eq!(picked.data(), &[4.0, 5.0, 0.0, 1.0]);
        assert_eq!(picked.argmax_rows(), vec![1, 1]);
    }

    #[test]
    fn non_finite_row_is_found() {
        let t = Tensor::new(vec![0.0, 1.0, 2.0, f32::NAN], [2, 2]).unwrap();
        assert_eq!(t.first_non_finite_row(), Some(1));
    }
}
