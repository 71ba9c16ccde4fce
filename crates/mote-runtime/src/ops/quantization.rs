//! A tensor's per-tensor quantization as the kernels read it.

use crate::model::Tensor;

/// `real = scale * (q - zero_point)` of a tensor quantized per tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "codegen", derive(mote_derive::Literal))]
pub struct PerTensor {
    /// The scale.
    pub scale: f32,
    /// The zero point.
    pub zero_point: i32,
}

/// The tensor's first scale and zero point, as TensorFlow Lite Micro's
/// `TfLiteTensor::params` holds them; scale 0 and zero point 0 when the tensor
/// is not quantized. `None` if the zero point does not fit an `i32`.
pub fn per_tensor(tensor: &Tensor<'_>) -> Option<PerTensor> {
    match tensor.quantization() {
        Some(q) if q.scale_count() > 0 => Some(PerTensor {
            scale: q.scale(0),
            zero_point: i32::try_from(q.zero_point(0)).ok()?,
        }),
        _ => Some(PerTensor {
            scale: 0.0,
            zero_point: 0,
        }),
    }
}
