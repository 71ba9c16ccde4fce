//! Layers: one file per layer with its shape inference, forward and backward
//! pass, and one line per layer in the table below.

mod activation_layer;
mod add;
mod batch_normalization;
mod concatenate;
mod conv1d;
mod conv2d;
mod dense;
mod depthwise_conv2d;
mod dropout;
mod geometry;
mod global_average_pooling;
mod input;
mod param;
mod pooling;
mod rescaling;
mod reshape;
mod separable_conv2d;

pub use activation_layer::ActivationLayer;
pub use add::Add;
pub use batch_normalization::BatchNormalization;
pub use concatenate::Concatenate;
pub use conv1d::Conv1D;
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use depthwise_conv2d::DepthwiseConv2D;
pub use dropout::Dropout;
pub use geometry::{Padding, Window};
pub use global_average_pooling::{GlobalAveragePooling1D, GlobalAveragePooling2D};
pub use input::Input;
pub use param::Param;
pub use pooling::{AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D};
pub use rescaling::Rescaling;
pub use reshape::{Flatten, Reshape};
pub use separable_conv2d::SeparableConv2D;

use crate::rng::Rng;
use crate::tensor::Tensor;

/// What a forward pass may need besides its inputs.
pub(crate) struct Context<'a> {
    /// True in `fit`; false in `evaluate` and `predict`.
    pub training: bool,
    /// Randomness (dropout masks), seeded from `Fit::seed`.
    pub rng: &'a mut Rng,
}

/// The contract every layer fulfils. Shapes exclude the batch axis.
pub(crate) trait Op {
    /// Keras' class name, e.g. `Dense`.
    fn kind(&self) -> &'static str;

    /// The per-sample input shape given by `input_shape(...)`, if any.
    fn declared_input_shape(&self) -> Option<&[usize]> {
        None
    }

    /// Checks the input shapes, creates and initializes the parameters, and
    /// returns the output shape. Building again re-initializes.
    fn build(&mut self, inputs: &[&[usize]], rng: &mut Rng) -> Result<Vec<usize>, String>;

    /// Writes the output for `inputs`; `output` already has the built shape
    /// with the batch axis of the inputs.
    fn forward(&mut self, inputs: &[&Tensor], output: &mut Tensor, context: &mut Context);

    /// Given dL/doutput in `grad_output` (which it may overwrite), sets every
    /// parameter's gradient and, when `need_input_grads`, writes dL/dinput k
    /// into `grad_inputs[k]` (already shaped like input k).
    fn backward(
        &mut self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad_output: &mut Tensor,
        grad_inputs: &mut [Tensor],
        need_input_grads: bool,
    );

    /// When this layer ends in softmax and `fused` is true, its backward pass
    /// takes dL/d(pre-softmax) directly (the loss computes the fused softmax
    /// cross-entropy gradient `p - t`). Returns whether the layer ends in softmax.
    fn fuse_softmax(&mut self, _fused: bool) -> bool {
        false
    }

    /// Parameters in Keras' order.
    fn params(&self) -> &[Param] {
        &[]
    }

    /// Parameters in Keras' order, writable.
    fn params_mut(&mut self) -> &mut [Param] {
        &mut []
    }
}

macro_rules! layer_table {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// A layer of a model: one variant per kind, so an exporter can match on
        /// it and read each kind's settings and parameters.
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum Layer {
            $($(#[$doc])* $variant($ty),)*
        }

        $(impl From<$ty> for Layer {
            fn from(layer: $ty) -> Self {
                Layer::$variant(layer)
            }
        })*

        impl Layer {
            pub(crate) fn op(&self) -> &dyn Op {
                match self {
                    $(Layer::$variant(layer) => layer,)*
                }
            }

            pub(crate) fn op_mut(&mut self) -> &mut dyn Op {
                match self {
                    $(Layer::$variant(layer) => layer,)*
                }
            }
        }
    };
}

layer_table! {
    /// The model's input placeholder (Keras `InputLayer`).
    Input(Input),
    /// Fully connected layer over the last axis.
    Dense(Dense),
    /// Element-wise sum of inputs.
    Add(Add),
    /// Join along the last axis.
    Concatenate(Concatenate),
    /// Random zeroing in training.
    Dropout(Dropout),
    /// 1-D convolution.
    Conv1D(Conv1D),
    /// 2-D convolution.
    Conv2D(Conv2D),
    /// Depthwise 2-D convolution.
    DepthwiseConv2D(DepthwiseConv2D),
    /// Depthwise then pointwise 2-D convolution.
    SeparableConv2D(SeparableConv2D),
    /// Batch normalization over the last axis.
    BatchNormalization(BatchNormalization),
    /// 2-D max pooling.
    MaxPooling2D(MaxPooling2D),
    /// 2-D average pooling.
    AveragePooling2D(AveragePooling2D),
    /// 1-D max pooling.
    MaxPooling1D(MaxPooling1D),
    /// 1-D average pooling.
    AveragePooling1D(AveragePooling1D),
    /// Mean over height and width.
    GlobalAveragePooling2D(GlobalAveragePooling2D),
    /// Mean over steps.
    GlobalAveragePooling1D(GlobalAveragePooling1D),
    /// Collapse to one axis.
    Flatten(Flatten),
    /// New per-sample shape.
    Reshape(Reshape),
    /// An activation as a layer.
    Activation(ActivationLayer),
    /// `x * scale + offset`.
    Rescaling(Rescaling),
}

impl Layer {
    /// Keras' class name of the layer, e.g. `Dense`.
    pub fn kind(&self) -> &'static str {
        self.op().kind()
    }

    /// The parameters in Keras' order and layout (Dense: kernel `[in, out]`, bias `[out]`).
    pub fn params(&self) -> &[Param] {
        self.op().params()
    }

    /// The parameters, writable (to load weights with [`Param::set_value`]).
    pub fn params_mut(&mut self) -> &mut [Param] {
        self.op_mut().params_mut()
    }

    /// Number of scalar parameters.
    pub fn param_count(&self) -> usize {
        self.params().iter().map(|p| p.value().len()).sum()
    }
}

/// Glorot (Xavier) uniform initialization, Keras' default for kernels:
/// U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)).
pub(crate) fn glorot_uniform(
    shape: &[usize],
    fan_in: usize,
    fan_out: usize,
    rng: &mut Rng,
) -> Tensor {
    let limit = (6.0 / (fan_in + fan_out).max(1) as f32).sqrt();
    Tensor::from_fn(shape, |_| rng.uniform(-limit, limit))
}

#[cfg(test)]
pub(crate) mod gradcheck;
