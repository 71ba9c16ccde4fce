//! `.npy` files as `f32` tensors, over [`crate::npy`] (which reads and writes
//! every numeric dtype exactly as `numpy.save` does).

use std::path::Path;

use crate::error::{Error, Result};
use crate::npy::{self, Array, NpyError};
use crate::tensor::Tensor;

/// Reads a `.npy` file of any numeric dtype (C order) into an `f32` tensor.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let array = npy::read(path).map_err(|e| match e {
        NpyError::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        NpyError::Format(message) => Error::Format {
            path: path.to_path_buf(),
            message,
        },
    })?;
    to_tensor(&array).map_err(|message| Error::Format {
        path: path.to_path_buf(),
        message,
    })
}

/// Writes `tensor` as a float32 `.npy` file byte for byte as `numpy.save`
/// would, through a temporary file renamed into place.
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    let path = path.as_ref();
    crate::files::write_atomic(path, &npy_bytes(tensor)).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The bytes of `tensor` in `.npy` format 1.0 (`<f4`, C order).
pub fn npy_bytes(tensor: &Tensor) -> Vec<u8> {
    let array = Array::from_f32(tensor.shape().to_vec(), tensor.data());
    // A float32 array always has a numpy descr, so this cannot fail.
    npy::to_bytes(&array).unwrap_or_default()
}

/// An array of any numeric dtype as an `f32` tensor.
pub fn to_tensor(array: &Array) -> std::result::Result<Tensor, String> {
    let values: Vec<f32> = array.to_f64().into_iter().map(|v| v as f32).collect();
    if values.len() != array.elements() {
        return Err(format!(
            "{} arrays cannot be read as float tensors",
            array.dtype
        ));
    }
    Tensor::new(values, &array.shape).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_numpy_writes() {
        // numpy.save of np.array([[1, 2], [3, 4]], dtype=np.float32): a 128-byte
        // header block, then 16 data bytes
        let t = Tensor::new(vec![1.0, 2.0, 3.0, 4.0], [2, 2]).unwrap();
        let bytes = npy_bytes(&t);
        assert_eq!(bytes.len(), 128 + 16);
        assert_eq!(&bytes[8..10], &118u16.to_le_bytes());
        assert_eq!(to_tensor(&npy::parse(&bytes).unwrap()).unwrap(), t);
    }

    #[test]
    fn reads_other_dtypes_as_floats() {
        // int16 [258, -1] -> [258.0, -1.0]
        let array = Array {
            shape: vec![2],
            dtype: mote_runtime::TensorType::Int16,
            data: vec![2, 1, 0xff, 0xff],
        };
        assert_eq!(to_tensor(&array).unwrap().data(), &[258.0, -1.0]);
    }
}
